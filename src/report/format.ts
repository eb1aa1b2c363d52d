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
  const out: string[] = [];
  for (const l of lines) {
    const off = l.offset.toString(16).toUpperCase().padStart(3, '0');
    const dec = String(l.offset).padStart(4, '0');
    const len = l.size.toString(16).toUpperCase().padStart(3, '0');
    out.push(`[${off}h ${dec} ${len}h] ${l.name.padStart(28)} : ${l.value}`);
  }
  return out.join('\n') + '\n';
}
