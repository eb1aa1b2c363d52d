/**
 * Reading the probe's JSON (docs/windows-probe.md) leniently where PowerShell 5.1's
 * ConvertTo-Json is known to bend it, strictly elsewhere: every wrong field is one
 * DecodeError naming its JSON path.
 */
import { DecodeError } from '../../firmware/errors.js';

export const PROBE_FORMAT = 'Windows probe capture';

export function bad(path: string, detail: string): DecodeError {
  // The offset of a JSON field is not meaningful after parsing: the path names it.
  return new DecodeError(PROBE_FORMAT, 0, path, detail);
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

/** 5.1 writes a too-deep level as the .NET type name. */
function truncated(v: Json): boolean {
  return typeof v === 'string' && /^System\.[A-Za-z.`[\]0-9]+$/.test(v);
}

export function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: Json | undefined, path: string): Obj | undefined {
  if (v === undefined) return undefined;
  if (truncated(v)) throw bad(path, `"${v as string}": the JSON was cut by ConvertTo-Json's depth limit (run the probe unchanged; it uses -Depth 12)`);
  if (!isObj(v)) throw bad(path, `expected an object, found ${describe(v)}`);
  return v;
}

/** An array where the format says array: a scalar is a one-element array, {value,Count} is unwrapped (5.1 quirks). */
export function arr(v: Json | undefined, path: string): Json[] | undefined {
  if (v === undefined) return undefined;
  if (v === null) return undefined;
  if (Array.isArray(v)) return v;
  if (truncated(v)) throw bad(path, `"${v as string}": the JSON was cut by ConvertTo-Json's depth limit (run the probe unchanged; it uses -Depth 12)`);
  if (isObj(v) && Array.isArray(v.value) && 'Count' in v) return v.value;
  return [v];
}

export function str(v: Json | undefined, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(path, `expected a string, found ${describe(v)}`);
  return v;
}

/** null stays null (Windows said Empty). */
export function strOrNull(v: Json | undefined, path: string): string | null | undefined {
  return v === null ? null : str(v, path);
}

export function num(v: Json | undefined, path: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(path, `expected a number, found ${describe(v)}`);
  return v;
}

/** A UINT32 property: a non-negative integer below 2^32; null stays null. */
export function u32OrNull(v: Json | undefined, path: string): number | null | undefined {
  if (v === null) return null;
  const n = num(v, path);
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw bad(path, `expected a UINT32, found ${n}`);
  return n;
}

export function boolOrNull(v: Json | undefined, path: string): boolean | null | undefined {
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'boolean') throw bad(path, `expected true or false, found ${describe(v)}`);
  return v;
}

/** A 64-bit quantity: a decimal string, or a number that is still exact. */
export function u64(v: Json | undefined, path: string): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw bad(path, `${v}: a 64-bit value must be a decimal string (this number lost precision)`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b > 0xffffffffffffffffn) throw bad(path, `${v} does not fit 64 bits`);
    return b;
  }
  throw bad(path, `expected a decimal string, found ${describe(v)}`);
}

export function strings(v: Json | undefined, path: string): string[] | null | undefined {
  if (v === null) return null;
  const a = arr(v, path);
  if (a === undefined) return undefined;
  return a.map((x, i) => str(x, `${path}[${i}]`)!);
}

function describe(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** UTF-8 (with or without BOM) or UTF-16LE with BOM (what `>` writes in Windows PowerShell 5.1). */
export function decodeProbeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder().decode(bytes.subarray(3));
  return new TextDecoder().decode(bytes);
}
