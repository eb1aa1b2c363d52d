/**
 * The JSON contract (docs/json.md): camelCase keys, 64-bit values as lowercase "0x…"
 * strings, byte arrays as hex, everything else plain JSON; a top-level "schema" names
 * the document kind and its version.
 */
import { hexBytes } from '../firmware/bytes.js';

export const SCHEMAS = {
  dmar: 'assignable/dmar/v1',
  ivrs: 'assignable/ivrs/v1',
  smbios: 'assignable/smbios/v1',
} as const;

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return '0x' + value.toString(16);
  if (value instanceof Uint8Array) return hexBytes(value);
  return value;
}

/**
 * The document as `JSON.stringify(doc, replacer, 2)` writes it, character for character,
 * without its cost: V8 calls a replacer from C++ once per key and value, which made it the
 * larger half of `--json` on an SMBIOS table. So the replacer's work is done first, on a copy
 * of only the objects that hold a bigint or a byte array, and JSON.stringify then runs
 * without one. A document holding anything but plain objects, arrays and primitives (a Date,
 * a Map, a toJSON method) takes the replacer path as before.
 */
export function toJson(schema: string, doc: object): string {
  const whole = { schema, ...doc };
  const ready = jsonReady(whole, 0);
  return ready === NOT_PLAIN ? JSON.stringify(whole, replacer, 2) : JSON.stringify(ready, null, 2);
}

const NOT_PLAIN = Symbol('not plain data');
/** Deeper than any document of ours: a cycle, which JSON.stringify itself then reports. */
const MAX_DEPTH = 1000;

/** `value` with the replacer applied throughout; the same object where nothing changes. */
function jsonReady(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') return replacer('', value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return replacer('', value);
  if (depth > MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = jsonReady(v, depth + 1);
      if (r === NOT_PLAIN) return NOT_PLAIN;
      if (r !== v) (copy ??= value.slice())[i] = r;
    }
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const o = value as Record<string, unknown>;
  let copy: Record<string, unknown> | null = null;
  for (const k in o) {
    const v = o[k];
    const r = jsonReady(v, depth + 1);
    if (r === NOT_PLAIN) return NOT_PLAIN;
    if (r !== v) (copy ??= { ...o })[k] = r;
  }
  return copy ?? value;
}
