import { ByteView, hex, hex64 } from './bytes.js';

/**
 * Binary structures are described, not hand-walked: one table of fields per
 * structure (spec name, offset, size, decode), in the manner of ACPICA's
 * dmtbinfo descriptors. The same table drives decoding, the JSON keys and the
 * `--fields` listing (offset, length, spec name, value), so what we print can be
 * checked line by line against the spec and against `iasl -d`.
 */
/** What a field may need besides the bytes: SMBIOS string fields index the string set. */
export interface ReadContext {
  strings?: readonly string[];
}

export interface Field<T> {
  /** Name as the spec writes it. */
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Optional fields exist only when the structure is long enough (SMBIOS versions). */
  readonly optional: boolean;
  /** `full` is "<structure>.<field>", computed once per structure description, for errors. */
  read(v: ByteView, at: number, full: string, ctx?: ReadContext): T;
  show(value: T): string;
}

type ValueOf<F> = F extends Field<infer T> ? (F extends { optional: true } ? T | null : T) : never;
export type Decoded<S extends Record<string, Field<unknown>>> = { [K in keyof S]: ValueOf<S[K]> };

function field<T>(offset: number, size: number, name: string, read: Field<T>['read'], show: (v: T) => string): Field<T> {
  return { name, offset, size, optional: false, read, show };
}

export const u8 = (offset: number, name: string) =>
  field<number>(offset, 1, name, (v, at, full) => v.u8(at + offset, full), (x) => hex(x, 2));
export const u16 = (offset: number, name: string) =>
  field<number>(offset, 2, name, (v, at, full) => v.u16(at + offset, full), (x) => hex(x, 4));
export const u32 = (offset: number, name: string) =>
  field<number>(offset, 4, name, (v, at, full) => v.u32(at + offset, full), (x) => hex(x, 8));
export const u64 = (offset: number, name: string) =>
  field<bigint>(offset, 8, name, (v, at, full) => v.u64(at + offset, full), (x) => hex64(x));
export const ascii = (offset: number, size: number, name: string) =>
  field<string>(offset, size, name, (v, at, full) => v.ascii(at + offset, size, full), (x) => JSON.stringify(x));
/**
 * SMBIOS string reference: a 1-based index into the structure's string set; 0 means
 * "no string" (null). An index past the set is a firmware bug that dmidecode prints as
 * <BAD INDEX>; we give null too, since there is no string to report.
 */
export const sref = (offset: number, name: string) =>
  field<string | null>(
    offset,
    1,
    name,
    (v, at, full, ctx) => {
      const i = v.u8(at + offset, full);
      return i === 0 ? null : (ctx?.strings?.[i - 1] ?? null);
    },
    (x) => (x === null ? 'null' : JSON.stringify(x)),
  );
export const raw = (offset: number, size: number, name: string) =>
  field<Uint8Array>(offset, size, name, (v, at, full) => v.slice(at + offset, size, full), (x) =>
    Array.from(x, (b) => b.toString(16).padStart(2, '0')).join(' '),
  );

/** Marks a field that is present only when the structure's length covers it. */
export function opt<T>(f: Field<T>): Field<T> & { optional: true } {
  return { ...f, optional: true };
}

export interface FieldLine {
  offset: number;
  size: number;
  name: string;
  key: string;
  value: string;
}

export class Struct<S extends Record<string, Field<unknown>>> {
  /** Bytes needed for every non-optional field. */
  readonly minLength: number;
  private readonly entries: Array<[string, Field<unknown>, string]>;

  constructor(
    readonly label: string,
    readonly fields: S,
  ) {
    let min = 0;
    for (const f of Object.values(fields)) if (!f.optional) min = Math.max(min, f.offset + f.size);
    this.minLength = min;
    // Decoding is hot: resolve names once, not on every read.
    this.entries = Object.entries(fields).map(([k, f]) => [k, f, `${label}.${f.name}`]);
  }

  /**
   * Decode the structure at `at`. `length` is the structure's own length field when it
   * has one: optional fields past it read as null; required fields past it are an error.
   */
  read(v: ByteView, at: number, length = Infinity, ctx?: ReadContext): Decoded<S> {
    const out: Record<string, unknown> = {};
    for (const [key, f, full] of this.entries) {
      if (f.offset + f.size > length) {
        if (f.optional) {
          out[key] = null;
          continue;
        }
        v.fail(at + f.offset, full, `structure length ${length} is too short for this field`);
      }
      out[key] = f.read(v, at, full, ctx);
    }
    return out as Decoded<S>;
  }

  /** The fields present in one instance, with absolute offsets, for `--fields` output. */
  describe(v: ByteView, at: number, length = Infinity, ctx?: ReadContext): FieldLine[] {
    const lines: FieldLine[] = [];
    for (const [key, f, full] of this.entries) {
      if (f.offset + f.size > length || at + f.offset + f.size > v.length) continue;
      lines.push({
        offset: v.base + at + f.offset,
        size: f.size,
        name: f.name,
        key,
        value: f.show(f.read(v, at, full, ctx)),
      });
    }
    return lines;
  }
}

export function struct<S extends Record<string, Field<unknown>>>(label: string, fields: S): Struct<S> {
  return new Struct(label, fields);
}
