/** Small formatting helpers shared by the text reports. */
import { hex2 } from '../firmware/format.js';
import type { FieldLine } from '../firmware/struct.js';

export { byteSize, hex2, rangeSize } from '../firmware/format.js';

import { hex4 } from '../host/address.js';

export { hex4 };
export const hexn = (n: number | bigint) => '0x' + n.toString(16);

/** 16-bit PCI requester id → "bb:dd.f". */
export function rid(id: number): string {
  return `${hex2(id >> 8)}:${hex2((id >> 3) & 0x1f)}.${id & 7}`;
}

export function bdf(seg: number, bus: number, dev: number, fn: number): string {
  return `${hex4(seg)}:${hex2(bus)}:${hex2(dev)}.${fn}`;
}

/** Make firmware strings safe to print: control characters become ".", as dmidecode does. */
export function printable(s: string | null | undefined): string {
  if (s === null || s === undefined) return '-';
  return s.replace(/[\x00-\x1f\x7f]/g, '.');
}

/** `--fields`: one line per field, in the layout of `iasl -d`, so the two can be diffed. */
export function renderFields(lines: FieldLine[]): string {
  if (lines.length === 0) return '\n';
  let out = '';
  for (const l of lines) out += `[${hex3(l.offset)}h ${dec4(l.offset)} ${hex3(l.size)}h] ${paddedName(l.name)} : ${l.value}\n`;
  return out;
}

// `--fields` runs for every field of every table: the few offsets, sizes and spec names a
// table has are formatted once each and remembered.
const HEX3: string[] = [];
const DEC4: string[] = [];
const NAMES = new Map<string, string>();
const hex3 = (n: number) => (n < 0x1000 ? (HEX3[n] ??= n.toString(16).toUpperCase().padStart(3, '0')) : n.toString(16).toUpperCase());
const dec4 = (n: number) => (n < 10000 ? (DEC4[n] ??= String(n).padStart(4, '0')) : String(n));
function paddedName(name: string): string {
  let padded = NAMES.get(name);
  if (padded === undefined) {
    padded = name.padStart(28);
    // Names come from the spec tables, a bounded set; the bound only guards the cache.
    if (NAMES.size < 1000) NAMES.set(name, padded);
  }
  return padded;
}
