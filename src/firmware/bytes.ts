import { DecodeError } from './errors.js';

/**
 * A bounds-checked little-endian view of a firmware table. Every read names the
 * field it is for, so an out-of-range read becomes a DecodeError that says which
 * field ran past the end — never a RangeError or a silent undefined.
 */
export class ByteView {
  readonly length: number;
  private readonly dv: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly table: string,
    /** Offset of bytes[0] within the whole table, for error messages of sub-views. */
    readonly base = 0,
  ) {
    this.length = bytes.length;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(offset: number, field: string, detail: string): never {
    throw new DecodeError(this.table, this.base + offset, field, detail);
  }

  need(offset: number, size: number, field: string): void {
    if (offset < 0 || size < 0 || offset + size > this.length) {
      const have = Math.max(0, this.length - offset);
      this.fail(offset, field, `needs ${size} byte${size === 1 ? '' : 's'}, only ${have} left (truncated)`);
    }
  }

  u8(offset: number, field: string): number {
    this.need(offset, 1, field);
    return this.dv.getUint8(offset);
  }

  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    return this.dv.getUint16(offset, true);
  }

  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    return this.dv.getUint32(offset, true);
  }

  u64(offset: number, field: string): bigint {
    this.need(offset, 8, field);
    return this.dv.getBigUint64(offset, true);
  }

  slice(offset: number, size: number, field: string): Uint8Array {
    this.need(offset, size, field);
    return this.bytes.subarray(offset, offset + size);
  }

  /** A view of [offset, offset+size) whose errors still report table offsets. */
  sub(offset: number, size: number, field: string): ByteView {
    return new ByteView(this.slice(offset, size, field), this.table, this.base + offset);
  }

  /** Fixed-width ASCII field, as stored (no trimming: callers decide). NULs end the text. */
  ascii(offset: number, size: number, field: string): string {
    const b = this.slice(offset, size, field);
    let s = '';
    for (const c of b) {
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
}

/** 64-bit values are printed as lowercase 0x… strings everywhere (JSON and text). */
export function hex64(v: bigint): string {
  return '0x' + v.toString(16);
}

export function hex(v: number, width = 0): string {
  return '0x' + v.toString(16).padStart(width, '0');
}
