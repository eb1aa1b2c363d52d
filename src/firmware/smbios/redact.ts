/**
 * Redaction of an SMBIOS structure table for captures people post in public (DSP0134
 * field offsets). Pure: bytes in, bytes out. Lengths never change — each blanked string
 * keeps its byte length (filled with 'X'), each blanked binary field its size — so the
 * table decodes to the same structures, and dmidecode reads it the same way.
 *
 * Strings are walked as bytes (a string set is NUL-separated bytes of any value), never
 * through a text encoding that would change their length.
 */
import { DecodeError } from '../errors.js';
import { decodeEntryPoint } from './entry.js';
import { decodeSmbiosSysfs, isHpeServer } from './index.js';
import { walkStructures, type RawStructure } from './table.js';

/** Standard types: the string fields the spec names serial number, asset tag, SKU or part number. */
const IDENTIFYING_STRINGS: Record<number, readonly number[]> = {
  1: [0x07 /* Serial Number */, 0x19 /* SKU Number */],
  2: [0x07 /* Serial Number */, 0x08 /* Asset Tag */],
  3: [0x07 /* Serial Number */, 0x08 /* Asset Tag Number */],
  4: [0x20 /* Serial Number */, 0x21 /* Asset Tag */, 0x22 /* Part Number */],
  17: [0x18 /* Serial Number */, 0x19 /* Asset Tag */, 0x1a /* Part Number */],
  22: [0x07 /* Serial Number */],
  39: [0x08 /* Serial Number */, 0x09 /* Asset Tag Number */, 0x0a /* Model Part Number */],
};
/** Standard types whose strings are free text the firmware vendor fills: all blanked. */
const FREE_TEXT_TYPES = new Set([11 /* OEM Strings */, 12 /* System Configuration Options */]);
/** Binary fields that identify the machine: [offset, size]. */
const IDENTIFYING_BYTES: Record<number, ReadonlyArray<readonly [number, number]>> = {
  1: [[0x08, 16]], // UUID
  22: [[0x10, 2]], // SBDS Serial Number
};
/** Type 3: the SKU Number string follows the contained elements (0x15 + count × record length). */
const CHASSIS_CONTAINED_COUNT = 0x13;
const CHASSIS_CONTAINED_LENGTH = 0x14;
const CHASSIS_ELEMENTS = 0x15;

/** HPE OEM types (dmidecode's dmioem.c): strings known to name only firmware and slots. */
const HPE_HARMLESS_STRINGS: Record<number, readonly number[]> = {
  203: [0x1c /* UEFI Device Path */, 0x1d /* Structured Name */, 0x1e /* Device Name */, 0x1f /* UEFI Location */],
  216: [0x06 /* Firmware Name */, 0x07 /* Firmware Version */],
  233: [0x29 /* UEFI Device Path */],
};
/** HPE OEM MAC addresses: type 209 records of 8 bytes from 0x04 (MAC at +2), type 233 at 0x08. */
const HPE_209_RECORDS = 0x04;
const HPE_209_RECORD = 8;
const HPE_209_MAC = 2;
const HPE_233_MAC = 0x08;
const MAC_BYTES = 6;

const OEM_TYPES_FROM = 128;
const X = 0x58;

export interface SmbiosRedaction {
  table: Uint8Array;
  structures: number;
  /** Strings of OEM types that were kept, as "type 203 string 0x1d (UEFI Device Structured Name)". */
  keptOemStrings: string[];
  /** The strings that were blanked (their original text), to check nothing else still holds them. */
  blanked: string[];
}

/** [start, end) of each string of a structure: the walk kept them as latin1, one character per byte. */
function stringSpans(s: RawStructure): Array<[number, number]> {
  let p = s.offset + s.length;
  return s.strings.map((str): [number, number] => {
    const span: [number, number] = [p, p + str.length];
    p += str.length + 1;
    return span;
  });
}

/** The string numbers (1-based) named by byte fields at these offsets; 0 means "no string". */
function stringRefs(table: Uint8Array, s: RawStructure, offsets: readonly number[]): number[] {
  return offsets.filter((o) => o < s.length).map((o) => table[s.offset + o]!).filter((n) => n > 0);
}

function chassisSku(table: Uint8Array, s: RawStructure): number[] {
  if (s.length <= CHASSIS_CONTAINED_LENGTH) return [];
  const n = table[s.offset + CHASSIS_CONTAINED_COUNT]!;
  const m = table[s.offset + CHASSIS_CONTAINED_LENGTH]!;
  return [CHASSIS_ELEMENTS + n * m];
}

/**
 * Blank what identifies the machine. Throws DecodeError when the table does not decode:
 * a table we cannot walk cannot be redacted, and must not be copied.
 */
export function redactSmbios(entryPoint: Uint8Array, table: Uint8Array): SmbiosRedaction {
  const before = decodeSmbiosSysfs(entryPoint, table);
  const hpe = isHpeServer(before.system);
  const ep = decodeEntryPoint(entryPoint);
  const t = table.slice();
  const limit = Math.min(t.length, ep.tableLength);
  const raws = walkStructures(t.subarray(0, limit), ep.structureCount);
  const keptOemStrings: string[] = [];
  const blanked: string[] = [];
  for (const s of raws) {
    const spans = stringSpans(s);
    let blank: Set<number>;
    if (s.type >= OEM_TYPES_FROM) {
      const harmless = hpe ? new Set(stringRefs(t, s, HPE_HARMLESS_STRINGS[s.type] ?? [])) : new Set<number>();
      blank = new Set(spans.map((_, i) => i + 1).filter((n) => !harmless.has(n)));
      for (const n of harmless) if (n <= spans.length) keptOemStrings.push(`type ${s.type} (handle 0x${s.handle.toString(16).padStart(4, '0')}) string ${n}`);
      if (hpe && s.type === 209) for (let p = HPE_209_RECORDS; p + HPE_209_RECORD <= s.length; p += HPE_209_RECORD) t.fill(0, s.offset + p + HPE_209_MAC, s.offset + p + HPE_209_MAC + MAC_BYTES);
      if (hpe && s.type === 233 && s.length >= HPE_233_MAC + MAC_BYTES) t.fill(0, s.offset + HPE_233_MAC, s.offset + HPE_233_MAC + MAC_BYTES);
    } else if (FREE_TEXT_TYPES.has(s.type)) {
      blank = new Set(spans.map((_, i) => i + 1));
    } else {
      const fields = [...(IDENTIFYING_STRINGS[s.type] ?? []), ...(s.type === 3 ? chassisSku(t, s) : [])];
      blank = new Set(stringRefs(t, s, fields));
      for (const [o, n] of IDENTIFYING_BYTES[s.type] ?? []) if (o + n <= s.length) t.fill(0, s.offset + o, s.offset + o + n);
    }
    for (const n of blank) {
      const span = spans[n - 1];
      if (!span) continue;
      blanked.push(String.fromCharCode(...t.subarray(span[0], span[1])));
      t.fill(X, span[0], span[1]);
    }
  }
  const after = decodeSmbiosSysfs(entryPoint, t);
  if (after.structures.length !== before.structures.length) {
    throw new DecodeError('SMBIOS', 0, 'Structure Table', `redaction changed the structure count (${before.structures.length} → ${after.structures.length})`);
  }
  return { table: t, structures: after.structures.length, keptOemStrings, blanked };
}
