/**
 * The SMBIOS structure table (DSP0134 §6.1): each structure is a formatted area
 * (type, length, handle, fields) followed by a string set — NUL-terminated strings
 * ending in an extra NUL ("\0\0" when there are none).
 */
import { ByteView } from '../bytes.js';

export interface RawStructure {
  /** Offset of the structure within the table. */
  offset: number;
  type: number;
  /** Length of the formatted area. */
  length: number;
  handle: number;
  /** The formatted area; its offsets are the spec's offsets (0 = type). */
  view: ByteView;
  strings: string[];
}

const LABEL = 'SMBIOS';
export const END_OF_TABLE = 127;
/**
 * Every structure has its own 16-bit handle (DSP0134 §6.1.2), so no real table holds more
 * structures than there are handles.
 */
export const SMBIOS_MAX_STRUCTURES = 0x10000;
/**
 * A 2.x table's length is a WORD (64 KiB); 3.x gives only a DWORD maximum. The largest
 * tables we know (big servers, many DIMMs) are tens of KiB: 1 MiB leaves room for growth
 * while keeping a hostile multi-megabyte "table" from becoming gigabytes of objects.
 */
export const SMBIOS_TABLE_MAX_BYTES = 1024 * 1024;

/**
 * Walk every structure. The walk stops at type 127 (End-of-Table, included), after
 * `maxCount` structures when the entry point gives a count, or when fewer than four
 * bytes remain (a 3.x table length is only a maximum). A structure that cannot be
 * delimited is a DecodeError: length < 4 (zero would loop forever), a formatted area
 * past the end, or a string set without its terminating double NUL.
 */
export function walkStructures(table: Uint8Array, maxCount: number | null = null): RawStructure[] {
  const v = new ByteView(table, LABEL);
  // Strings are read as latin1 (one byte, one character), by Buffer's native decoder.
  const text = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  // A string set must end below both the table's end and the size limit; the limit is reported when it is the nearer.
  const stringLimit = Math.min(table.length, SMBIOS_TABLE_MAX_BYTES);
  const out: RawStructure[] = [];
  let at = 0;
  while (at + 4 <= table.length && (maxCount === null || out.length < maxCount)) {
    if (at >= SMBIOS_TABLE_MAX_BYTES) v.fail(at, 'Structure Table Length', `structures continue past ${SMBIOS_TABLE_MAX_BYTES} bytes without an End-of-Table: more than any real table, refused`);
    if (out.length >= SMBIOS_MAX_STRUCTURES) v.fail(at, 'Structure Header', `more than ${SMBIOS_MAX_STRUCTURES} structures (one per 16-bit handle): refused`);
    const type = v.u8(at, 'Structure Header.Type');
    const length = v.u8(at + 1, 'Structure Header.Length');
    const handle = v.u16(at + 2, 'Structure Header.Handle');
    if (length < 4) v.fail(at + 1, 'Structure Header.Length', `is ${length}, less than the 4-byte header (type ${type}, handle 0x${handle.toString(16).padStart(4, '0')})`);
    if (at + length > table.length) v.fail(at + 1, 'Structure Header.Length', `is ${length}: the formatted area of type ${type} runs past the end of the table`);
    const formatted = v.sub(at, length, 'Formatted Area');
    // String set: from the end of the formatted area to the double NUL, one NUL-ended string at a time.
    const strings: string[] = [];
    let start = at + length;
    let p: number;
    for (;;) {
      const nul = table.indexOf(0, start);
      if (nul < 0 || nul >= stringLimit) {
        if (stringLimit === SMBIOS_TABLE_MAX_BYTES) v.fail(at + length, 'String Set', `type ${type} at offset 0x${at.toString(16)}: string set runs past ${SMBIOS_TABLE_MAX_BYTES} bytes: refused`);
        v.fail(at + length, 'String Set', `type ${type} at offset 0x${at.toString(16)}: string set is not terminated by a double NUL before the end of the table`);
      }
      if (nul === start) {
        // An empty string ends the set. With no strings at all the set is "\0\0".
        p = nul + (strings.length === 0 ? 2 : 1);
        if (strings.length === 0 && (p > table.length || table[p - 1] !== 0)) {
          v.fail(at + length, 'String Set', `type ${type} at offset 0x${at.toString(16)}: empty string set lacks its second NUL`);
        }
        break;
      }
      strings.push(text.toString('latin1', start, nul));
      start = nul + 1;
    }
    out.push({ offset: at, type, length, handle, view: formatted, strings });
    at = p;
    if (type === END_OF_TABLE) break;
  }
  return out;
}
