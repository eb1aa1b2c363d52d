/**
 * SMBIOS from whatever the user has: sysfs (entry point + DMI table), a `dmidecode
 * --dump-bin` file, a Windows RSMB blob (GetSystemFirmwareTable('RSMB'), with its 8-byte
 * header) or a bare structure table. Pure: bytes in, typed object or DecodeError out.
 */
import { ByteView } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { decodeEntryPoint, startsWith, type EntryPoint } from './entry.js';
import { walkStructures } from './table.js';
import {
  decodeStructure,
  type DecodeContext,
  type HpeDeviceCorrelation,
  type OnboardDevice,
  type SmbiosStructure,
  type SystemInformation,
  type SystemSlot,
} from './types.js';

export type SmbiosSource = 'sysfs' | 'dump' | 'rsmb' | 'table' | 'text';

export interface Smbios {
  /** What the bytes were: for messages and for `collect`. */
  source: SmbiosSource;
  /** As dmidecode prints it: "2.7", "3.3.0"; null for a bare table. */
  version: string | null;
  entryPoint: EntryPoint | null;
  structures: SmbiosStructure[];
  system: SystemInformation | null;
  slots: SystemSlot[];
  onboardDevices: OnboardDevice[];
  hpeDeviceCorrelation: HpeDeviceCorrelation[];
}

const HPE_VENDORS = new Set(['HP', 'HPE', 'Hewlett-Packard', 'Hewlett Packard Enterprise']);
const HPE_SERVER_LINES = /ProLiant|Apollo|Synergy|Edgeline/;

export function isHpeServer(system: SystemInformation | null): boolean {
  if (!system) return false;
  return HPE_VENDORS.has((system.manufacturer ?? '').trim()) && HPE_SERVER_LINES.test(system.productName ?? '');
}

function versionNumber(ep: EntryPoint | null, rsmb: { major: number; minor: number } | null): number | null {
  if (ep) return ep.major * 0x100 + ep.minor;
  if (rsmb) return rsmb.major * 0x100 + rsmb.minor;
  return null;
}

/** Decode a structure table with what is known of its version. */
export function decodeSmbiosTable(
  table: Uint8Array,
  opts: { source: SmbiosSource; entryPoint?: EntryPoint | null; rsmbVersion?: { major: number; minor: number } | null },
): Smbios {
  const ep = opts.entryPoint ?? null;
  const rsmb = opts.rsmbVersion ?? null;
  const raws = walkStructures(table, ep?.structureCount ?? null);
  const version = versionNumber(ep, rsmb);
  // Type 1 decides whether the OEM types are HPE's: decode it first, without OEM decoding.
  const sysRaw = raws.find((r) => r.type === 1);
  const system = sysRaw ? (decodeStructure(sysRaw, { version, hpeOem: false }) as SystemInformation) : null;
  const ctx: DecodeContext = { version, hpeOem: isHpeServer(system) };
  const structures = raws.map((r) => decodeStructure(r, ctx));
  let versionText: string | null = null;
  if (ep) versionText = ep.anchor === '_SM3_' ? `${ep.major}.${ep.minor}.${ep.docrev}` : `${ep.major}.${ep.minor}`;
  else if (rsmb) versionText = `${rsmb.major}.${rsmb.minor}`;
  return {
    source: opts.source,
    version: versionText,
    entryPoint: ep,
    structures,
    system,
    slots: structures.filter((s): s is SystemSlot => s.type === 9),
    onboardDevices: structures.filter((s): s is OnboardDevice => s.type === 41),
    hpeDeviceCorrelation: structures.filter((s): s is HpeDeviceCorrelation => s.type === 203 && 'structuredName' in s),
  };
}

/** /sys/firmware/dmi/tables/smbios_entry_point + /sys/firmware/dmi/tables/DMI. */
export function decodeSmbiosSysfs(entryPoint: Uint8Array, table: Uint8Array): Smbios {
  const ep = decodeEntryPoint(entryPoint);
  let t = table;
  if (ep.anchor !== '_SM3_') {
    // 2.x gives the exact length; a shorter file is a truncated capture.
    if (table.length < ep.tableLength) {
      throw new DecodeError('SMBIOS', table.length, 'Structure Table Length', `entry point says ${ep.tableLength} bytes, the table has ${table.length} (truncated)`);
    }
    t = table.subarray(0, ep.tableLength);
  } else if (table.length > ep.tableLength) {
    t = table.subarray(0, ep.tableLength);
  }
  return decodeSmbiosTable(t, { source: 'sysfs', entryPoint: ep });
}

/**
 * One file: a `dmidecode --dump-bin` dump (entry point at 0, table at the address the
 * entry point gives, 0x20), an RSMB blob, or a bare table.
 */
export function decodeSmbiosFile(bytes: Uint8Array): Smbios {
  if (startsWith(bytes, '_SM3_') || startsWith(bytes, '_SM_') || startsWith(bytes, '_DMI_')) {
    const ep = decodeEntryPoint(bytes);
    if (ep.tableAddress > BigInt(bytes.length)) {
      throw new DecodeError(
        'SMBIOS entry point',
        ep.anchor === '_SM3_' ? 16 : ep.anchor === '_SM_' ? 24 : 8,
        'Structure Table Address',
        `0x${ep.tableAddress.toString(16)} lies outside this ${bytes.length}-byte file: an entry point without its table (for sysfs give both files)`,
      );
    }
    const start = Number(ep.tableAddress);
    const available = bytes.length - start;
    if (ep.anchor !== '_SM3_' && available < ep.tableLength) {
      throw new DecodeError('SMBIOS', bytes.length, 'Structure Table Length', `entry point says ${ep.tableLength} bytes at 0x${start.toString(16)}, the file holds ${available} (truncated)`);
    }
    const end = start + Math.min(ep.tableLength, available);
    return decodeSmbiosTable(bytes.subarray(start, end), { source: 'dump', entryPoint: ep });
  }
  // RSMB (Windows): u8 Used20CallingMethod, u8 major, u8 minor, u8 DmiRevision, u32 Length, table.
  if (bytes.length >= 8) {
    const v = new ByteView(bytes, 'RSMB');
    const major = v.u8(1, 'SMBIOSMajorVersion');
    const minor = v.u8(2, 'SMBIOSMinorVersion');
    const len = v.u32(4, 'Length');
    if (bytes[0]! <= 1 && major >= 2 && major <= 3 && len > 0 && len <= bytes.length - 8 && len >= bytes.length - 8 - 16) {
      return decodeSmbiosTable(bytes.subarray(8, 8 + len), { source: 'rsmb', rsmbVersion: { major, minor } });
    }
  }
  return decodeSmbiosTable(bytes, { source: 'table' });
}
