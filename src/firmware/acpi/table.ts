import { ByteView } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { ascii, struct, u32, u8, type Decoded } from '../struct.js';

/** The 36-byte System Description Table Header shared by every ACPI table (ACPI spec 5.2.6). */
export const ACPI_HEADER = struct('Header', {
  signature: ascii(0, 4, 'Signature'),
  length: u32(4, 'Table Length'),
  revision: u8(8, 'Revision'),
  checksum: u8(9, 'Checksum'),
  oemId: ascii(10, 6, 'Oem ID'),
  oemTableId: ascii(16, 8, 'Oem Table ID'),
  oemRevision: u32(24, 'Oem Revision'),
  creatorId: ascii(28, 4, 'Asl Compiler ID'),
  creatorRevision: u32(32, 'Asl Compiler Revision'),
});
export const ACPI_HEADER_LENGTH = 36;
/**
 * Largest table we keep. The tables we decode (DMAR, IVRS) are a few KiB on real machines
 * (1286 bytes is the largest in our corpus); a length in the megabytes is damage or
 * hostility, and decoding it would hold gigabytes of structures.
 */
export const ACPI_TABLE_MAX_BYTES = 1024 * 1024;

export type AcpiHeader = Decoded<typeof ACPI_HEADER.fields>;

export interface AcpiTable {
  header: AcpiHeader;
  /** Real firmware ships bad checksums; we report, never refuse. */
  checksumOk: boolean;
  /** Exactly `header.length` bytes: anything after the table in the file is ignored. */
  view: ByteView;
}

/**
 * Validate the header and cut the table to its stated length.
 * `expect` is the signature the caller needs ("DMAR"); a different one is an error,
 * because decoding an APIC table as DMAR would produce confident nonsense.
 */
export function parseAcpiTable(bytes: Uint8Array, expect?: string): AcpiTable {
  const label = expect ?? 'ACPI table';
  if (bytes.length < ACPI_HEADER_LENGTH) {
    throw new DecodeError(
      label,
      bytes.length,
      'Header',
      `truncated: the ACPI header needs ${ACPI_HEADER_LENGTH} bytes, the input has ${bytes.length}`,
    );
  }
  const whole = new ByteView(bytes, label);
  const header = ACPI_HEADER.read(whole, 0);
  if (expect !== undefined && header.signature !== expect) {
    whole.fail(0, 'Header.Signature', `is ${JSON.stringify(header.signature)}, not ${JSON.stringify(expect)}: wrong table`);
  }
  if (header.length < ACPI_HEADER_LENGTH) {
    whole.fail(4, 'Header.Table Length', `is ${header.length}, smaller than the ${ACPI_HEADER_LENGTH}-byte header`);
  }
  if (header.length > ACPI_TABLE_MAX_BYTES) {
    whole.fail(4, 'Header.Table Length', `is ${header.length} bytes, more than the ${ACPI_TABLE_MAX_BYTES} any real table needs: refused`);
  }
  if (header.length > bytes.length) {
    whole.fail(4, 'Header.Table Length', `says ${header.length} bytes but only ${bytes.length} are present (truncated)`);
  }
  const table = bytes.subarray(0, header.length);
  let sum = 0;
  for (let i = 0; i < table.length; i++) sum = (sum + table[i]!) & 0xff;
  const h = header;
  return {
    // One literal, keys in the header's order: the OEM fields without their trailing blanks.
    header: { signature: h.signature, length: h.length, revision: h.revision, checksum: h.checksum, oemId: h.oemId.trimEnd(), oemTableId: h.oemTableId.trimEnd(), oemRevision: h.oemRevision, creatorId: h.creatorId, creatorRevision: h.creatorRevision },
    checksumOk: sum === 0,
    view: new ByteView(table, header.signature.length === 4 ? header.signature : label),
  };
}
