import { DecodeError } from './errors.js';

/**
 * A bounds-checked little-endian view of a firmware table. Every read names the
 * field it is for, so an out-of-range read becomes a DecodeError that says which
 * field ran past the end — never a RangeError or a silent undefined.
 */
export class ByteView {
  readonly length: number;
  /** Made on the first 64-bit read only: views are cut per structure, most never need one. */
  private dv: DataView | null = null;

  constructor(
    readonly bytes: Uint8Array,
    readonly table: string,
    /** Offset of bytes[0] within the whole table, for error messages of sub-views. */
    readonly base = 0,
  ) {
    this.length = bytes.length;
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
    return this.bytes[offset]!;
  }

  u16(offset: number, field: string): number {
    this.need(offset, 2, field);
    const b = this.bytes;
    return b[offset]! | (b[offset + 1]! << 8);
  }

  u32(offset: number, field: string): number {
    this.need(offset, 4, field);
    const b = this.bytes;
    // `>>> 0`: bit 31 set must stay a positive number.
    return (b[offset]! | (b[offset + 1]! << 8) | (b[offset + 2]! << 16) | (b[offset + 3]! << 24)) >>> 0;
  }

  u64(offset: number, field: string): bigint {
    this.need(offset, 8, field);
    const b = this.bytes;
    this.dv ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
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
    this.need(offset, size, field);
    const b = this.bytes;
    let s = '';
    for (let i = offset; i < offset + size; i++) {
      const c = b[i]!;
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
  const digits = v.toString(16);
  return digits.length >= width ? '0x' + digits : '0x' + (ZEROS[width - digits.length] ?? '0'.repeat(width - digits.length)) + digits;
}
/** Zero padding for hex, made once: this runs for every field of `--fields`. */
const ZEROS = Array.from({ length: 17 }, (_, n) => '0'.repeat(n));

const HEX_LOWER = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UPPER = HEX_LOWER.map((h) => h.toUpperCase());

/** Two lowercase hex digits (more when the value needs them); bytes come from a table, made once. */
export const hex2 = (n: number): string => HEX_LOWER[n] ?? n.toString(16).padStart(2, '0');

/** Hex digit values by character code, -1 for anything else: either case, and a–f only. */
const HEX_DIGIT = new Int8Array(128).fill(-1);
const LOWER_HEX_DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  const lower = d.toString(16).charCodeAt(0);
  HEX_DIGIT[lower] = LOWER_HEX_DIGIT[lower] = d;
  HEX_DIGIT[d.toString(16).toUpperCase().charCodeAt(0)] = d;
}

/** The value of the hex digit with this character code (0–9, a–f, A–F), or -1. */
export const hexDigitValue = (c: number): number => (c >= 0 && c < 128 ? HEX_DIGIT[c]! : -1);
/** The same for lower-case digits only (what lspci and pci.ids write; "A" there is not a digit), or -1. */
export const lowerHexDigitValue = (c: number): number => (c >= 0 && c < 128 ? LOWER_HEX_DIGIT[c]! : -1);

/** Bytes as two-digit hex, joined by `separator`: "001b21", "00:1B:21" (upper case for MACs). */
export function hexBytes(b: Uint8Array, separator = '', upper = false): string {
  const digits = upper ? HEX_UPPER : HEX_LOWER;
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i === 0 ? '' : separator) + digits[b[i]!]!;
  return s;
}
