/**
 * The pci.ids database (pciutils/hwdata): "vvvv  Vendor", "\tdddd  Device", "\t\tssss ssss  Subsystem".
 * Nothing is parsed ahead: a vendor's line is found by a byte search of the file (only vendor
 * lines start with four hex digits and two blanks), a device's line by a search of its vendor's
 * block, and only the lines found are decoded. A survey names a few dozen devices of a handful
 * of vendors; decoding the 1.3 MB file (a two-byte string, since some names are not ASCII) and
 * scanning its 40,000 lines, or even Intel's sixth of them, cost more than the rest of its work.
 */
import { lowerHexDigitValue } from '../firmware/bytes.js';
import type { NameLookup } from './build.js';

interface Vendor {
  name: string;
  /** The vendor's block in the file: its device, subsystem and comment lines. */
  start: number;
  end: number;
  devices: Map<number, string | null>;
}

const LF = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;

/** Where the vendor list ends: the device classes ("C 03  Display controller") follow it. */
function classSectionStart(ids: Buffer): number {
  const at = ids.indexOf('\nC ', 0, 'latin1');
  return at < 0 ? ids.length : at;
}

/** "\n0" … "\nf": the start of a vendor line (device lines start with a tab, comments with "#"). */
const VENDOR_STARTS = Array.from('0123456789abcdef', (d) => Buffer.from(`\n${d}`, 'latin1'));

/** A vendor line at the LF `lf`: four lower-case hex digits and two blanks. */
function isVendorLine(ids: Buffer, lf: number): boolean {
  for (let k = 1; k < 5; k++) if (lowerHexDigitValue(ids[lf + k] ?? -1) < 0) return false;
  return ids[lf + 5] === SPACE && ids[lf + 6] === SPACE;
}

/**
 * The LF of the first vendor line after `from`, or `end`: where a vendor's block stops. One
 * native byte search per leading digit, each bounded by the nearest hit so far: Intel's block
 * is 370 kB, and scanning it as text (or byte by byte in JavaScript) cost more than every other
 * part of naming a host's devices.
 */
function nextVendorLine(ids: Buffer, from: number, end: number): number {
  let best = end;
  for (const start of VENDOR_STARTS) {
    // Only up to the nearest hit so far: a digit with no vendor line left never scans the file's rest.
    const window = ids.subarray(from, best);
    for (let at = window.indexOf(start); at >= 0; at = window.indexOf(start, at + 1)) {
      if (isVendorLine(ids, from + at)) {
        best = from + at;
        break;
      }
    }
  }
  return best;
}

/** The vendor whose line starts at `at`, its block running to the next vendor line (or `end`). */
function vendorAt(ids: Buffer, at: number, end: number): Vendor {
  let eol = ids.indexOf(LF, at);
  if (eol < 0 || eol > end) eol = end;
  return { name: ids.toString('utf8', at + 4, eol).trim(), start: eol, end: nextVendorLine(ids, eol, end), devices: new Map() };
}


/** The ID of the device line starting after the LF at `lf` ("\tdddd  Name"), or -1 for any other line. */
function deviceIdAt(ids: Buffer, lf: number): number {
  if (ids[lf + 1] !== TAB || ids[lf + 6] !== SPACE || ids[lf + 7] !== SPACE) return -1;
  let id = 0;
  for (let k = 2; k < 6; k++) {
    const h = lowerHexDigitValue(ids[lf + k] ?? -1);
    if (h < 0) return -1;
    id = (id << 4) | h;
  }
  return id;
}

/**
 * The next LF at or after `p`, before `end` (else -1). A loop, not Buffer#indexOf: lines are a
 * few dozen bytes, and the search probes a few hundred of them, where each indexOf call costs
 * more than the bytes it scans.
 */
function nextLf(ids: Buffer, p: number, end: number): number {
  for (let i = p; i < end; i++) if (ids[i] === LF) return i;
  return -1;
}

/** The first device line whose LF is at or after `p` and before `end` (its LF's offset), or -1. */
function deviceLineFrom(ids: Buffer, p: number, end: number): number {
  for (let lf = nextLf(ids, p, end); lf >= 0; lf = nextLf(ids, lf + 1, end)) if (deviceIdAt(ids, lf) >= 0) return lf;
  return -1;
}

/**
 * Where the device's line is in the vendor's block (its LF), or -1. pci.ids lists a vendor's
 * devices in ID order, so a binary search over the block's bytes finds a line in a few dozen
 * probes instead of a scan of the block (Intel's is 370 kB) per device; a device it misses is
 * searched line by line, so an out-of-order file gives the same names, only slower.
 */
function findDevice(ids: Buffer, v: Vendor, deviceId: number): number {
  let lo = v.start;
  let hi = v.end;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >>> 1);
    const lf = deviceLineFrom(ids, mid, hi);
    if (lf < 0) {
      hi = mid;
      continue;
    }
    const id = deviceIdAt(ids, lf);
    if (id === deviceId) return lf;
    if (id < deviceId) lo = lf + 1;
    else hi = mid;
  }
  for (let lf = deviceLineFrom(ids, v.start, v.end); lf >= 0; lf = deviceLineFrom(ids, lf + 1, v.end)) if (deviceIdAt(ids, lf) === deviceId) return lf;
  return -1;
}

/** A device's name: its line in the vendor's block, decoded alone ("\t\t" lines are subsystems). */
function deviceName(ids: Buffer, v: Vendor, deviceId: number): string | null {
  const lf = findDevice(ids, v, deviceId);
  if (lf < 0) return null;
  const from = lf + 8;
  let eol = nextLf(ids, from, v.end);
  if (eol < 0) eol = v.end;
  return ids.toString('utf8', from, eol).trim();
}

/** Names from pci.ids: its bytes as read (UTF-8), or its text. */
export function pciIdsLookup(file: Uint8Array | string): NameLookup {
  const ids = typeof file === 'string' ? Buffer.from(file, 'utf8') : Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const end = classSectionStart(ids);
  // Searches stop at the class section: "C 06  Bridge" / "\t04  PCI bridge" are not vendors.
  const vendors = ids.subarray(0, end);
  const found = new Map<number, Vendor | null>();
  return (vendorId, deviceId) => {
    let v = found.get(vendorId);
    if (v === undefined) {
      const key = `${vendorId.toString(16).padStart(4, '0')}  `;
      const at = vendors.subarray(0, key.length).equals(Buffer.from(key, 'latin1')) ? 0 : vendors.indexOf(`\n${key}`, 0, 'latin1');
      v = at < 0 ? null : vendorAt(ids, at === 0 ? 0 : at + 1, end);
      found.set(vendorId, v);
    }
    if (!v) return { vendor: null, device: null };
    let device = v.devices.get(deviceId);
    if (device === undefined) v.devices.set(deviceId, (device = deviceName(ids, v, deviceId)));
    return { vendor: v.name, device };
  };
}
