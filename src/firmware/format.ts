/**
 * Text helpers every layer above the decoders shares (host attribution, checks, reports):
 * they live here so imports keep running one way, from report down to firmware.
 */
import type { DeviceScope } from './acpi/dmar.js';

import { hex2 } from './bytes.js';

/** Two lowercase hex digits (more when the value needs them). */
export { hex2 };

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

/** "00:1c.7 / 00.0": the start bus, then each (device, function) hop of a DMAR device scope path. */
export function scopePath(s: DeviceScope): string {
  if (s.path.length === 0) return `${hex2(s.startBus)}:(empty path)`;
  let out = `${hex2(s.startBus)}:${hex2(s.path[0]!.device)}.${s.path[0]!.function}`;
  for (let i = 1; i < s.path.length; i++) out += ` / ${hex2(s.path[i]!.device)}.${s.path[i]!.function}`;
  return out;
}
