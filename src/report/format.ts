/** Small formatting helpers shared by the text reports. */
import type { FieldLine } from '../firmware/struct.js';

export const hex2 = (n: number) => n.toString(16).padStart(2, '0');
export const hex4 = (n: number) => n.toString(16).padStart(4, '0');
export const hexn = (n: number | bigint) => '0x' + n.toString(16);

/** 16-bit PCI requester id → "bb:dd.f". */
export function rid(id: number): string {
  return `${hex2(id >> 8)}:${hex2((id >> 3) & 0x1f)}.${id & 7}`;
}

export function bdf(seg: number, bus: number, dev: number, fn: number): string {
  return `${hex4(seg)}:${hex2(bus)}:${hex2(dev)}.${fn}`;
}

/** Inclusive range size, in the largest binary unit that keeps it readable: "12 KiB", "1.5 MiB". */
export function rangeSize(base: bigint, limit: bigint): string {
  if (limit < base) return 'invalid: end below base';
  return byteSize(limit - base + 1n);
}

export function byteSize(n: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let u = 0;
  let scaled = Number(n);
  while (scaled >= 1024 && u < units.length - 1) {
    scaled /= 1024;
    u++;
  }
  const text = Number.isInteger(scaled) ? String(scaled) : scaled.toFixed(scaled < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${text} ${units[u]}`;
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
