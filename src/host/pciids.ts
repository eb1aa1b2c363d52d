/**
 * The pci.ids database (pciutils/hwdata): "vvvv  Vendor", "\tdddd  Device". Parsed lazily
 * per vendor, so looking up a few devices does not cost parsing 30k lines eagerly.
 */
import type { NameLookup } from './build.js';

export function pciIdsLookup(text: string): NameLookup {
  const vendors = new Map<number, { name: string; start: number; end: number }>();
  const lines = text.split('\n');
  let cur: { name: string; start: number; end: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('C ')) break; // the class section ends the vendor list
    if (l.length > 6 && l[4] === ' ' && /^[0-9a-f]{4}$/.test(l.slice(0, 4))) {
      if (cur) cur.end = i;
      cur = { name: l.slice(4).trim(), start: i + 1, end: lines.length };
      vendors.set(parseInt(l.slice(0, 4), 16), cur);
    }
  }
  const devices = new Map<number, Map<number, string>>();
  return (vendorId, deviceId) => {
    const v = vendors.get(vendorId);
    if (!v) return { vendor: null, device: null };
    let d = devices.get(vendorId);
    if (!d) {
      d = new Map();
      for (let i = v.start; i < v.end; i++) {
        const l = lines[i]!;
        const m = /^\t([0-9a-f]{4})\s+(.*)$/.exec(l);
        if (m) d.set(parseInt(m[1]!, 16), m[2]!.trim());
      }
      devices.set(vendorId, d);
    }
    return { vendor: v.name, device: d.get(deviceId) ?? null };
  };
}
