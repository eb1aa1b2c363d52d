/**
 * SMBIOS entry points (DMTF DSP0134 §5.2): 2.1 "_SM_", 3.0 "_SM3_", and the legacy
 * "_DMI_" (DMI 2.0). They say which SMBIOS version the table follows and how long it is.
 */
import { ByteView } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { ascii, raw, struct, u16, u32, u64, u8 } from '../struct.js';

const EP21 = struct('SMBIOS 2.1 Entry Point', {
  anchor: ascii(0, 4, 'Anchor String'),
  checksum: u8(4, 'Entry Point Structure Checksum'),
  length: u8(5, 'Entry Point Length'),
  major: u8(6, 'SMBIOS Major Version'),
  minor: u8(7, 'SMBIOS Minor Version'),
  maxStructureSize: u16(8, 'Maximum Structure Size'),
  revision: u8(10, 'Entry Point Revision'),
  formatted: raw(11, 5, 'Formatted Area'),
  intermediateAnchor: ascii(16, 5, 'Intermediate Anchor String'),
  intermediateChecksum: u8(21, 'Intermediate Checksum'),
  tableLength: u16(22, 'Structure Table Length'),
  tableAddress: u32(24, 'Structure Table Address'),
  structureCount: u16(28, 'Number of SMBIOS Structures'),
  bcdRevision: u8(30, 'SMBIOS BCD Revision'),
});
const EP30 = struct('SMBIOS 3.0 Entry Point', {
  anchor: ascii(0, 5, 'Anchor String'),
  checksum: u8(5, 'Entry Point Structure Checksum'),
  length: u8(6, 'Entry Point Length'),
  major: u8(7, 'SMBIOS Major Version'),
  minor: u8(8, 'SMBIOS Minor Version'),
  docrev: u8(9, 'SMBIOS Docrev'),
  revision: u8(10, 'Entry Point Revision'),
  reserved: u8(11, 'Reserved'),
  tableMaxSize: u32(12, 'Structure Table Maximum Size'),
  tableAddress: u64(16, 'Structure Table Address'),
});
const EPDMI = struct('DMI Entry Point', {
  anchor: ascii(0, 5, 'Anchor String'),
  checksum: u8(5, 'Checksum'),
  tableLength: u16(6, 'Structure Table Length'),
  tableAddress: u32(8, 'Structure Table Address'),
  structureCount: u16(12, 'Number of Structures'),
  bcdRevision: u8(14, 'BCD Revision'),
});

export interface EntryPoint {
  anchor: '_SM_' | '_SM3_' | '_DMI_';
  major: number;
  minor: number;
  docrev: number;
  checksumOk: boolean;
  tableAddress: bigint;
  /** 2.x: the exact table length; 3.x: the maximum size (the table ends at type 127). */
  tableLength: number;
  /** 2.x and DMI give a structure count; 3.x does not. */
  structureCount: number | null;
}

function sum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  return s;
}

const LABEL = 'SMBIOS entry point';

export function startsWith(bytes: Uint8Array, anchor: string): boolean {
  if (bytes.length < anchor.length) return false;
  for (let i = 0; i < anchor.length; i++) if (bytes[i] !== anchor.charCodeAt(i)) return false;
  return true;
}

export function decodeEntryPoint(bytes: Uint8Array): EntryPoint {
  const v = new ByteView(bytes, LABEL);
  if (startsWith(bytes, '_SM3_')) {
    const e = EP30.read(v, 0);
    const len = Math.min(Math.max(e.length, 0x18), bytes.length);
    return {
      anchor: '_SM3_',
      major: e.major,
      minor: e.minor,
      docrev: e.docrev,
      checksumOk: sum(bytes.subarray(0, len)) === 0,
      tableAddress: e.tableAddress,
      tableLength: e.tableMaxSize,
      structureCount: null,
    };
  }
  if (startsWith(bytes, '_SM_')) {
    const e = EP21.read(v, 0);
    if (e.intermediateAnchor !== '_DMI_') v.fail(16, `${EP21.label}.Intermediate Anchor String`, `is ${JSON.stringify(e.intermediateAnchor)}, expected "_DMI_"`);
    // Some firmware says 0x1E for a 0x1F-byte entry point (a known SMBIOS 2.1 erratum).
    const len = Math.min(e.length === 0x1e ? 0x1f : e.length, bytes.length);
    return {
      anchor: '_SM_',
      major: e.major,
      minor: e.minor,
      docrev: 0,
      checksumOk: sum(bytes.subarray(0, len)) === 0 && sum(bytes.subarray(16, 31)) === 0,
      tableAddress: BigInt(e.tableAddress),
      tableLength: e.tableLength,
      structureCount: e.structureCount,
    };
  }
  if (startsWith(bytes, '_DMI_')) {
    const e = EPDMI.read(v, 0);
    return {
      anchor: '_DMI_',
      major: e.bcdRevision >> 4,
      minor: e.bcdRevision & 0x0f,
      docrev: 0,
      checksumOk: sum(bytes.subarray(0, 15)) === 0,
      tableAddress: BigInt(e.tableAddress),
      tableLength: e.tableLength,
      structureCount: e.structureCount,
    };
  }
  throw new DecodeError(LABEL, 0, 'Anchor String', 'no "_SM3_", "_SM_" or "_DMI_" anchor: not an SMBIOS entry point');
}
