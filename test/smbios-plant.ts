/**
 * Test helper: an SMBIOS structure table rebuilt from a real `dmidecode --dump-bin` file with
 * planted strings and extra structures, and its entry point fixed up (length, count,
 * checksums, DSP0134 §5.2). Works on the bytes: strings are byte arrays, never re-encoded.
 */
export interface PlantStructure {
  formatted: Uint8Array;
  strings: Uint8Array[];
}

export function parseDump(dump: Uint8Array): { ep: Uint8Array; structures: PlantStructure[] } {
  const is3 = String.fromCharCode(...dump.subarray(0, 5)) === '_SM3_';
  const epLen = is3 ? dump[6]! : dump[5]!;
  const dv = new DataView(dump.buffer, dump.byteOffset, dump.byteLength);
  const start = is3 ? Number(dv.getBigUint64(0x10, true)) : dv.getUint32(0x18, true);
  const len = is3 ? dv.getUint32(0x0c, true) : dv.getUint16(0x16, true);
  const table = dump.subarray(start, start + len);
  const structures: PlantStructure[] = [];
  let at = 0;
  while (at + 4 <= table.length) {
    const type = table[at]!;
    const l = table[at + 1]!;
    const formatted = table.slice(at, at + l);
    let p = at + l;
    const strings: Uint8Array[] = [];
    while (table[p] !== 0) {
      const s = p;
      while (table[p] !== 0) p++;
      strings.push(table.slice(s, p));
      p++;
    }
    p += strings.length === 0 ? 2 : 1;
    structures.push({ formatted, strings });
    at = p;
    if (type === 127) break;
  }
  return { ep: dump.slice(0, epLen), structures };
}

function sum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  return s;
}

/** The table bytes and an entry point (table address 0x20, as in a dump) that describes them. */
export function buildSmbios(ep0: Uint8Array, structures: PlantStructure[]): { ep: Uint8Array; table: Uint8Array; dump: Uint8Array } {
  const parts: number[] = [];
  for (const s of structures) {
    parts.push(...s.formatted);
    for (const str of s.strings) parts.push(...str, 0);
    if (s.strings.length === 0) parts.push(0);
    parts.push(0);
  }
  const table = new Uint8Array(parts);
  const ep = ep0.slice();
  const dv = new DataView(ep.buffer);
  if (String.fromCharCode(...ep.subarray(0, 5)) === '_SM3_') {
    dv.setUint32(0x0c, table.length, true);
    dv.setBigUint64(0x10, 0x20n, true);
    ep[5] = 0;
    ep[5] = (0x100 - sum(ep.subarray(0, ep[6]!))) & 0xff;
  } else {
    dv.setUint16(0x16, table.length, true);
    dv.setUint32(0x18, 0x20, true);
    dv.setUint16(0x1c, structures.length, true);
    ep[0x15] = 0;
    ep[0x15] = (0x100 - sum(ep.subarray(0x10, 0x1f))) & 0xff;
    ep[4] = 0;
    ep[4] = (0x100 - sum(ep.subarray(0, ep[5]!))) & 0xff;
  }
  const dump = new Uint8Array(0x20 + table.length);
  dump.set(ep, 0);
  dump.set(table, 0x20);
  return { ep, table, dump };
}

const enc = new TextEncoder();
export const bytes = (s: string) => enc.encode(s);

/** Point the string field at `offset` to a new string (appended to the set). */
export function setString(s: PlantStructure, offset: number, value: Uint8Array): void {
  if (offset >= s.formatted.length) return;
  s.strings.push(value);
  s.formatted[offset] = s.strings.length;
}

/** A new structure: type, formatted-area length, handle, string fields → values. */
export function structure(type: number, length: number, handle: number, fields: Record<number, Uint8Array>, binary: Record<number, Uint8Array> = {}): PlantStructure {
  const formatted = new Uint8Array(length);
  formatted[0] = type;
  formatted[1] = length;
  formatted[2] = handle & 0xff;
  formatted[3] = handle >> 8;
  for (const [o, b] of Object.entries(binary)) formatted.set(b, Number(o));
  const s: PlantStructure = { formatted, strings: [] };
  for (const [o, v] of Object.entries(fields)) setString(s, Number(o), v);
  return s;
}
