/**
 * The pci.ids database (pciutils/hwdata): "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem".
 * Only the vendors looked up are parsed: a vendor's line is found by searching the text for it
 * (vendor lines are the only ones that start a line with four hex digits and two blanks), and
 * its block is read up to the next line that is not part of it. A survey names a few dozen
 * devices of a handful of vendors; splitting and scanning all 40,000 lines cost more than the rest.
 */
import type { NameLookup } from './build.js';

interface Vendor {
  name: string;
  devices: Map<number, string>;
}

/** Where the vendor list ends: the device classes ("C 03  Display controller") follow it. */
function classSectionStart(text: string): number {
  const at = text.indexOf('\nC ');
  return at < 0 ? text.length : at;
}

/** The offset of vendor `hex`'s line, or -1 (IDs are unique: the first match is the one). */
function vendorLine(text: string, hex: string, end: number): number {
  const key = `${hex}  `;
  if (text.startsWith(key)) return 0;
  const at = text.indexOf(`\n${key}`);
  return at >= 0 && at < end ? at + 1 : -1;
}

const HEX4 = /^[0-9a-f]{4}$/;

function parseVendor(text: string, start: number, end: number): Vendor {
  let eol = text.indexOf('\n', start);
  if (eol < 0 || eol > end) eol = end;
  const name = text.slice(start + 4, eol).trim();
  const devices = new Map<number, string>();
  // The block: device lines (one tab), subsystem lines (two tabs) and comments, up to the next vendor.
  for (let at = eol + 1; at < end; ) {
    let next = text.indexOf('\n', at);
    if (next < 0 || next > end) next = end;
    const c = text[at];
    if (c !== '\t' && c !== '#' && at !== next && text[at] !== '\r') break;
    if (c === '\t' && text[at + 1] !== '\t') {
      const id = text.slice(at + 1, at + 5);
      if (HEX4.test(id) && (text[at + 5] === ' ' || text[at + 5] === '\t')) devices.set(parseInt(id, 16), text.slice(at + 5, next).trim());
    }
    at = next + 1;
  }
  return { name, devices };
}

export function pciIdsLookup(text: string): NameLookup {
  const end = classSectionStart(text);
  const vendors = new Map<number, Vendor | null>();
  return (vendorId, deviceId) => {
    let v = vendors.get(vendorId);
    if (v === undefined) {
      const at = vendorLine(text, vendorId.toString(16).padStart(4, '0'), end);
      v = at < 0 ? null : parseVendor(text, at, end);
      vendors.set(vendorId, v);
    }
    if (!v) return { vendor: null, device: null };
    return { vendor: v.name, device: v.devices.get(deviceId) ?? null };
  };
}
