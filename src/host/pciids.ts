/**
 * The pci.ids database (pciutils/hwdata): "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem".
 * Nothing is parsed ahead: a vendor's line is found by searching the text for it (only vendor
 * lines start with four hex digits and two blanks), and its devices are read from its block
 * when the first of them is asked for. A survey names a few dozen devices of a handful of
 * vendors; splitting and scanning all 40,000 lines cost more than the rest of its work.
 */
import type { NameLookup } from './build.js';

interface Vendor {
  name: string;
  /** The vendor's block: from its line to the next vendor's (or the class section). */
  start: number;
  end: number;
  devices: Map<number, string>;
  indexed: boolean;
}

/** Where the vendor list ends: the device classes ("C 03  Display controller") follow it. */
function classSectionStart(text: string): number {
  const at = text.indexOf('\nC ');
  return at < 0 ? text.length : at;
}

/** The offset of the line that starts with `key`, searching [from, end), or -1. */
function lineStarting(text: string, key: string, from: number, end: number): number {
  if (from === 0 && text.startsWith(key)) return 0;
  // Within [from, end) only (a slice shares the text): a device absent from its vendor's block
  // must not cost a scan to the end of the file.
  const at = text.slice(from, end).indexOf(`\n${key}`);
  return at < 0 ? -1 : from + at + 1;
}

/** A vendor line: four hex digits and two blanks at the start of a line. */
const NEXT_VENDOR = /\n[0-9a-f]{4}  /g;

function vendorAt(text: string, start: number, end: number): Vendor {
  let eol = text.indexOf('\n', start);
  if (eol < 0 || eol > end) eol = end;
  NEXT_VENDOR.lastIndex = eol;
  const next = NEXT_VENDOR.exec(text);
  return { name: text.slice(start + 4, eol).trim(), start: eol, end: next && next.index < end ? next.index : end, devices: new Map(), indexed: false };
}

/** A device line: one tab, four hex digits, two blanks ("\t\t" lines are subsystems). */
const DEVICE_LINE = /\n\t([0-9a-f]{4})  ([^\n]*)/g;

/**
 * The vendor's devices, read in one pass over its block when the first of them is asked for:
 * a survey asks for dozens of one vendor's devices, and a search per device would scan the
 * block (Intel's is a sixth of the file) once each.
 */
function indexDevices(text: string, v: Vendor): void {
  DEVICE_LINE.lastIndex = v.start;
  for (let m = DEVICE_LINE.exec(text); m && m.index < v.end; m = DEVICE_LINE.exec(text)) {
    const id = parseInt(m[1]!, 16);
    // The first line of an ID wins, as a search from the block's start found it.
    if (!v.devices.has(id)) v.devices.set(id, m[2]!.trim());
  }
  v.indexed = true;
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
    if (!v.indexed) indexDevices(text, v);
    return { vendor: v.name, device: v.devices.get(deviceId) ?? null };
  };
}
