import { DecodeError } from '../errors.js';
import { looksLikeText, parseAcpidumpText } from './acpidump.js';
import { parseAcpiTable, type AcpiTable } from './table.js';

/**
 * One ACPI table out of whatever the user handed us: a raw table (sysfs, acpixtract,
 * `acpidump -b` .dat) or a text dump holding many tables, from which we pick `signature`.
 */
export function acpiTableFromBytes(bytes: Uint8Array, signature: string): AcpiTable {
  if (!looksLikeText(bytes)) return parseAcpiTable(bytes, signature);
  const text = new TextDecoder('latin1').decode(bytes);
  const tables = parseAcpidumpText(text);
  if (tables.length === 0) {
    throw new DecodeError('acpidump text', 1, 'input', 'text without any hex dump of an ACPI table (expected acpidump output or a raw table)', 'line');
  }
  const match = tables.find((t) => t.signature === signature);
  if (!match) {
    const found = [...new Set(tables.map((t) => t.signature))].join(', ');
    throw new DecodeError('acpidump text', 1, 'Signature', `no ${signature} table in this dump (it holds: ${found})`, 'line');
  }
  return parseAcpiTable(match.bytes, signature);
}
