import { DecodeError } from '../errors.js';
import { looksLikeText, parseAcpidumpFile } from './acpidump.js';
import { decodeTextInput } from '../text.js';
import { parseAcpiTable, type AcpiTable } from './table.js';

/**
 * One ACPI table out of whatever the user handed us: a raw table (sysfs, acpixtract,
 * `acpidump -b` .dat) or a text dump holding many tables, from which we pick `signature`.
 */
export function acpiTableFromBytes(bytes: Uint8Array, signature: string): AcpiTable {
  if (!looksLikeText(bytes)) return parseAcpiTable(bytes, signature);
  const tables = parseAcpidumpFile(decodeTextInput(bytes));
  const match = tables.find((t) => t.signature === signature);
  if (!match) {
    const found = [...new Set(tables.map((t) => t.signature))].join(', ');
    throw new DecodeError('acpidump text', 1, 'Signature', `no ${signature} table in this dump (it holds: ${found})`, 'line');
  }
  return parseAcpiTable(match.bytes, signature);
}
