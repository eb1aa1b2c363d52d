/**
 * The JSON contract (docs/json.md): camelCase keys, 64-bit values as lowercase "0x…"
 * strings, byte arrays as hex, everything else plain JSON; a top-level "schema" names
 * the document kind and its version.
 */
export const SCHEMAS = {
  dmar: 'assignable/dmar/v1',
  ivrs: 'assignable/ivrs/v1',
  smbios: 'assignable/smbios/v1',
} as const;

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return '0x' + value.toString(16);
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');
  return value;
}

export function toJson(schema: string, doc: object): string {
  return JSON.stringify({ schema, ...doc }, replacer, 2);
}
