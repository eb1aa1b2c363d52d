import { ByteView, hex, hex64, hexBytes } from './bytes.js';

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

/** How a field's bytes become its value: the structure's compiled reader switches on this. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'ascii' | 'raw' | 'sref';

export interface Field<T> {
  /** Name as the spec writes it. */
  readonly name: string;
  readonly kind: FieldKind;
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

function field<T>(kind: FieldKind, offset: number, size: number, name: string, read: Field<T>['read'], show: (v: T) => string): Field<T> {
  return { name, kind, offset, size, optional: false, read, show };
}

export const u8 = (offset: number, name: string) =>
  field<number>('u8', offset, 1, name, (v, at, full) => v.u8(at + offset, full), (x) => hex(x, 2));
export const u16 = (offset: number, name: string) =>
  field<number>('u16', offset, 2, name, (v, at, full) => v.u16(at + offset, full), (x) => hex(x, 4));
export const u32 = (offset: number, name: string) =>
  field<number>('u32', offset, 4, name, (v, at, full) => v.u32(at + offset, full), (x) => hex(x, 8));
export const u64 = (offset: number, name: string) =>
  field<bigint>('u64', offset, 8, name, (v, at, full) => v.u64(at + offset, full), (x) => hex64(x));
export const ascii = (offset: number, size: number, name: string) =>
  field<string>('ascii', offset, size, name, (v, at, full) => v.ascii(at + offset, size, full), (x) => JSON.stringify(x));
/**
 * SMBIOS string reference: a 1-based index into the structure's string set; 0 means
 * "no string" (null). An index past the set is a firmware bug that dmidecode prints as
 * <BAD INDEX>; we give null too, since there is no string to report.
 */
export const sref = (offset: number, name: string) =>
  field<string | null>(
    'sref',
    offset,
    1,
    name,
    (v, at, full, ctx) => stringAt(v.u8(at + offset, full), ctx),
    (x) => (x === null ? 'null' : JSON.stringify(x)),
  );
function stringAt(index: number, ctx: ReadContext | undefined): string | null {
  return index === 0 ? null : (ctx?.strings?.[index - 1] ?? null);
}
export const raw = (offset: number, size: number, name: string) =>
  field<Uint8Array>('raw', offset, size, name, (v, at, full) => v.slice(at + offset, size, full), (x) => hexBytes(x, ' '));

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

type Reader<S extends Record<string, Field<unknown>>> = (v: ByteView, at: number, length?: number, ctx?: ReadContext) => Decoded<S>;

function tooShort(v: ByteView, offset: number, full: string, length: number): never {
  return v.fail(offset, full, `structure length ${length} is too short for this field`);
}

/** The ByteView call that reads one field of each kind, in the generated reader's source. */
const READ_CALL: Record<FieldKind, (at: string, size: number, label: string) => string> = {
  u8: (at, _size, label) => `v.u8(${at}, ${label})`,
  u16: (at, _size, label) => `v.u16(${at}, ${label})`,
  u32: (at, _size, label) => `v.u32(${at}, ${label})`,
  u64: (at, _size, label) => `v.u64(${at}, ${label})`,
  ascii: (at, size, label) => `v.ascii(${at}, ${size}, ${label})`,
  raw: (at, size, label) => `v.slice(${at}, ${size}, ${label})`,
  sref: (at, _size, label) => `stringAt(v.u8(${at}, ${label}), ctx)`,
};

/** What compileStruct makes of one structure description. */
interface Compiled<S extends Record<string, Field<unknown>>> {
  read: Reader<S>;
  describeInto: (lines: FieldLine[], v: ByteView, at: number, length?: number, ctx?: ReadContext) => void;
}

/**
 * The reader (and `--fields` describer) of one structure description, generated once, when
 * the description proves hot: one object literal with every key, each field read by its own
 * ByteView call in table order, errors and nulls exactly as the walk gives them. Decoding is the hot path of every firmware command (and of the
 * mutation suites); a generic loop over the table paid a closure call and a keyed store per
 * field, and built each result key by key. Only our own tables go into the source: keys as
 * JSON strings, offsets and sizes as integers; names and show functions are passed in and
 * reached by index, never pasted in as text.
 */
function compileStruct<S extends Record<string, Field<unknown>>>(entries: ReadonlyArray<readonly [string, Field<unknown>, string]>): Compiled<S> | null {
  const props: string[] = [];
  const described: string[] = [];
  entries.forEach(([key, f], i) => {
    if (!Number.isSafeInteger(f.offset) || !Number.isSafeInteger(f.size) || !Object.hasOwn(READ_CALL, f.kind)) throw new TypeError(`bad field ${key}`);
    const end = f.offset + f.size;
    const read = READ_CALL[f.kind](`at + ${f.offset}`, f.size, `labels[${i}]`);
    const short = f.optional ? 'null' : `tooShort(v, at + ${f.offset}, labels[${i}], length)`;
    props.push(`${JSON.stringify(key)}: ${end} > length ? ${short} : ${read}`);
    described.push(
      `if (!(${end} > length || at + ${end} > v.length)) lines.push({ offset: v.base + at + ${f.offset}, size: ${f.size}, name: names[${i}], key: keys[${i}], value: shows[${i}](${read}) });`,
    );
  });
  const source = `"use strict"; return {
    read: function read(v, at, length = Infinity, ctx) { return { ${props.join(', ')} }; },
    describeInto: function describeInto(lines, v, at, length = Infinity, ctx) { ${described.join('\n')} },
  };`;
  try {
    const make = new Function('labels', 'names', 'keys', 'shows', 'tooShort', 'stringAt', source) as (...args: unknown[]) => Compiled<S>;
    return make(
      entries.map(([, , full]) => full),
      entries.map(([, f]) => f.name),
      entries.map(([key]) => key),
      entries.map(([, f]) => f.show),
      tooShort,
      stringAt,
    );
  } catch {
    // A runtime that forbids code generation (--disallow-code-generation-from-strings) gets the table walk.
    return null;
  }
}

/** Reads (or --fields describes) of one structure description before it is compiled. */
let compileAfterUses = 1000;

/**
 * Compile every structure description after `uses` uses from now on (0: at its first use).
 * For tests, which hold both ways of decoding against the same oracles, and for batch tools
 * that know they will decode many tables.
 */
export function compileStructsAfter(uses: number): void {
  compileAfterUses = uses;
}

export class Struct<S extends Record<string, Field<unknown>>> {
  /** Bytes needed for every non-optional field. */
  readonly minLength: number;
  private readonly entries: Array<[string, Field<unknown>, string]>;
  /**
   * Decode the structure at `at`. `length` is the structure's own length field when it
   * has one: optional fields past it read as null; required fields past it are an error.
   */
  read: Reader<S>;
  /** Append the fields present in one instance, with absolute offsets, for `--fields` output. */
  describeInto: (lines: FieldLine[], v: ByteView, at: number, length?: number, ctx?: ReadContext) => void;
  /** Uses so far, until compiled. */
  private uses = 0;

  constructor(
    readonly label: string,
    readonly fields: S,
  ) {
    let min = 0;
    for (const f of Object.values(fields)) if (!f.optional) min = Math.max(min, f.offset + f.size);
    this.minLength = min;
    // Decoding is hot: resolve names once, not on every read.
    this.entries = Object.entries(fields).map(([k, f]) => [k, f, `${label}.${f.name}`]);
    // A structure is compiled once it proves hot. Compiling one costs a fraction of a
    // millisecond in a fresh process, more than walking its table the few times a command
    // decoding one table needs (survey, `dmar` of a host); batch work reaches the threshold
    // within a few dozen tables.
    this.read = (v, at, length, ctx) => {
      if (++this.uses > compileAfterUses) this.compile();
      return this.walk(v, at, length, ctx);
    };
    this.describeInto = (lines, v, at, length, ctx) => {
      if (++this.uses > compileAfterUses) this.compile();
      this.walkDescribe(lines, v, at, length, ctx);
    };
  }

  private compile(): void {
    // Once, even when a stub kept elsewhere is still called.
    if (this.compiled) return;
    this.compiled = true;
    const compiled = compileStruct<S>(this.entries);
    this.read = compiled?.read ?? ((v, at, length, ctx) => this.walk(v, at, length, ctx));
    this.describeInto = compiled?.describeInto ?? ((lines, v, at, length, ctx) => this.walkDescribe(lines, v, at, length, ctx));
  }
  private compiled = false;

  /** The same decoding as `read`, by walking the table: what runs until compiled, and where code generation is refused. */
  walk(v: ByteView, at: number, length = Infinity, ctx?: ReadContext): Decoded<S> {
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
    this.describeInto(lines, v, at, length, ctx);
    return lines;
  }

  /** The same lines as `describeInto`, by walking the table. */
  walkDescribe(lines: FieldLine[], v: ByteView, at: number, length = Infinity, ctx?: ReadContext): void {
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
  }
}

export function struct<S extends Record<string, Field<unknown>>>(label: string, fields: S): Struct<S> {
  return new Struct(label, fields);
}
