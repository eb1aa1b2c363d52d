/**
 * The pci.ids database (pciutils/hwdata): "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem".
 * Nothing is parsed ahead: a vendor's line is found by searching the text for it (only vendor
 * lines start with four hex digits and two blanks), and a device's line by searching that
 * vendor's block for it. A survey names a few dozen devices of a handful of vendors; splitting
 * and scanning all 40,000 lines cost more than the rest of its work.
 */
import type { NameLookup } from './build.js';

interface Vendor {
  name: string;
  /** The vendor's block: from its line to the next vendor's (or the class section). */
  start: number;
  end: number;
  devices: Map<number, string | null>;
}

/** Where the vendor list ends: the device classes ("C 03  Display controller") follow it. */
function classSectionStart(text: string): number {
  const at = text.indexOf('\nC ');
  return at < 0 ? text.length : at;
}

/** The offset of the line that starts with `key`, searching [from, end), or -1. */
function lineStarting(text: string, key: string, from: number, end: number): number {
  if (from === 0 && text.startsWith(key)) return 0;
  const at = text.indexOf(`\n${key}`, from);
  return at >= 0 && at < end ? at + 1 : -1;
}

/** A vendor line: four hex digits and two blanks at the start of a line. */
const NEXT_VENDOR = /\n[0-9a-f]{4}  /g;

function vendorAt(text: string, start: number, end: number): Vendor {
  let eol = text.indexOf('\n', start);
  if (eol < 0 || eol > end) eol = end;
  NEXT_VENDOR.lastIndex = eol;
  const next = NEXT_VENDOR.exec(text);
  return { name: text.slice(start + 4, eol).trim(), start: eol, end: next && next.index < end ? next.index : end, devices: new Map() };
}

/** A device line of the block: one tab, four hex digits, two blanks ("\t\t" lines are subsystems). */
function deviceName(text: string, v: Vendor, hex: string): string | null {
  const at = lineStarting(text, `\t${hex}  `, v.start, v.end);
  if (at < 0) return null;
  let eol = text.indexOf('\n', at);
  if (eol < 0 || eol > v.end) eol = v.end;
  return text.slice(at + 7, eol).trim();
}

export function pciIdsLookup(text: string): NameLookup {
  const end = classSectionStart(text);
  const vendors = new Map<number, Vendor | null>();
  return (vendorId, deviceId) => {
    let v = vendors.get(vendorId);
    if (v === undefined) {
      const at = lineStarting(text, `${vendorId.toString(16).padStart(4, '0')}  `, 0, end);
      v = at < 0 ? null : vendorAt(text, at, end);
      vendors.set(vendorId, v);
    }
    if (!v) return { vendor: null, device: null };
    let d = v.devices.get(deviceId);
    if (d === undefined) {
      d = deviceName(text, v, deviceId.toString(16).padStart(4, '0'));
      v.devices.set(deviceId, d);
    }
    return { vendor: v.name, device: d };
  };
}
