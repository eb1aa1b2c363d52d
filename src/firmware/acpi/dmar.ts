/**
 * DMAR — DMA Remapping Reporting table (Intel VT-d specification, chapter 8).
 * Pure: bytes in, typed object or DecodeError out.
 */
import { type ByteView } from '../bytes.js';
import { raw, struct, u16, u32, u64, u8, type FieldLine, type Struct } from '../struct.js';
import { ACPI_HEADER, parseAcpiTable, type AcpiTable } from './table.js';

export const DMAR_FLAGS = { INTR_REMAP: 0x01, X2APIC_OPT_OUT: 0x02, DMA_CTRL_PLATFORM_OPT_IN: 0x04 } as const;

const DMAR_BODY = struct('DMAR', {
  hostAddressWidth: u8(36, 'Host Address Width'),
  flags: u8(37, 'Flags'),
  reserved: raw(38, 10, 'Reserved'),
});
const STRUCTURES_START = 48;

const REMAPPING_HEADER = struct('Remapping Structure', {
  type: u16(0, 'Type'),
  length: u16(2, 'Length'),
});

// §8.3 DRHD
const DRHD = struct('DRHD', {
  flags: u8(4, 'Flags'),
  size: u8(5, 'Size'),
  segment: u16(6, 'Segment Number'),
  registerBase: u64(8, 'Register Base Address'),
});
// §8.4 RMRR
const RMRR = struct('RMRR', {
  reserved: u16(4, 'Reserved'),
  segment: u16(6, 'Segment Number'),
  base: u64(8, 'Reserved Memory Region Base Address'),
  limit: u64(16, 'Reserved Memory Region Limit Address'),
});
// §8.5 ATSR
const ATSR = struct('ATSR', {
  flags: u8(4, 'Flags'),
  reserved: u8(5, 'Reserved'),
  segment: u16(6, 'Segment Number'),
});
// §8.6 RHSA
const RHSA = struct('RHSA', {
  reserved: u32(4, 'Reserved'),
  registerBase: u64(8, 'Register Base Address'),
  proximityDomain: u32(16, 'Proximity Domain'),
});
// §8.7 ANDD: the object name runs from offset 8 to the end of the structure.
const ANDD = struct('ANDD', {
  reserved: raw(4, 3, 'Reserved'),
  deviceNumber: u8(7, 'ACPI Device Number'),
});
// §8.8 SATC
const SATC = struct('SATC', {
  flags: u8(4, 'Flags'),
  reserved: u8(5, 'Reserved'),
  segment: u16(6, 'Segment Number'),
});
// §8.9 SIDP
const SIDP = struct('SIDP', {
  reserved: u16(4, 'Reserved'),
  segment: u16(6, 'Segment Number'),
});
// §8.3.1 Device Scope
const DEVICE_SCOPE = struct('Device Scope', {
  type: u8(0, 'Type'),
  length: u8(1, 'Length'),
  flags: u8(2, 'Flags'),
  reserved: u8(3, 'Reserved'),
  enumerationId: u8(4, 'Enumeration ID'),
  startBus: u8(5, 'Start Bus Number'),
});
const SCOPE_HEADER_LENGTH = 6;

export const SCOPE_TYPES: Record<number, string> = {
  1: 'PCI Endpoint Device',
  2: 'PCI Sub-hierarchy',
  3: 'IOAPIC',
  4: 'MSI_CAPABLE_HPET',
  5: 'ACPI_NAMESPACE_DEVICE',
};

export const STRUCTURE_TYPES = ['DRHD', 'RMRR', 'ATSR', 'RHSA', 'ANDD', 'SATC', 'SIDP'] as const;
export type DmarStructureType = (typeof STRUCTURE_TYPES)[number];

export interface PciPathElement {
  device: number;
  function: number;
}

export interface DeviceScope {
  offset: number;
  length: number;
  /** 1 endpoint, 2 sub-hierarchy (bridge), 3 IOAPIC, 4 HPET, 5 ACPI namespace device. */
  type: number;
  flags: number;
  enumerationId: number;
  startBus: number;
  path: PciPathElement[];
}

interface Base {
  offset: number;
  length: number;
}
export interface Drhd extends Base {
  type: 'DRHD';
  flags: number;
  /** Flags bit 0: this unit covers every device of the segment not claimed by another DRHD. */
  includePciAll: boolean;
  size: number;
  segment: number;
  registerBase: bigint;
  scopes: DeviceScope[];
}
export interface Rmrr extends Base {
  type: 'RMRR';
  segment: number;
  base: bigint;
  /** Inclusive end address. */
  limit: bigint;
  scopes: DeviceScope[];
}
export interface Atsr extends Base {
  type: 'ATSR';
  flags: number;
  allPorts: boolean;
  segment: number;
  scopes: DeviceScope[];
}
export interface Rhsa extends Base {
  type: 'RHSA';
  registerBase: bigint;
  proximityDomain: number;
}
export interface Andd extends Base {
  type: 'ANDD';
  deviceNumber: number;
  objectName: string;
}
export interface Satc extends Base {
  type: 'SATC';
  flags: number;
  atcRequired: boolean;
  segment: number;
  scopes: DeviceScope[];
}
export interface Sidp extends Base {
  type: 'SIDP';
  segment: number;
  scopes: DeviceScope[];
}
export interface UnknownStructure extends Base {
  type: 'unknown';
  typeCode: number;
}
export type DmarStructure = Drhd | Rmrr | Atsr | Rhsa | Andd | Satc | Sidp | UnknownStructure;

export interface Dmar {
  signature: string;
  revision: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
  checksumOk: boolean;
  /** Maximum DMA physical addressability in bits (the field holds N-1). */
  hostAddressWidth: number;
  flags: number;
  intrRemap: boolean;
  x2apicOptOut: boolean;
  dmaCtrlPlatformOptIn: boolean;
  structures: DmarStructure[];
}

/** Walk `[start, end)` as remapping structures or scopes: each entry's own length moves us on. */
function walk(
  v: ByteView,
  start: number,
  end: number,
  minHeader: number,
  label: string,
  lengthOf: (at: number) => number,
  visit: (at: number, length: number) => void,
): void {
  let at = start;
  while (at < end) {
    if (end - at < minHeader) v.fail(at, `${label}.Length`, `${end - at} trailing byte(s), too few for a ${label} header`);
    const length = lengthOf(at);
    // A zero (or tiny) length would never advance: the classic infinite loop.
    if (length < minHeader) v.fail(at, `${label}.Length`, `is ${length}, less than the ${minHeader}-byte ${label} header`);
    if (at + length > end) v.fail(at, `${label}.Length`, `is ${length}: the entry runs ${at + length - end} byte(s) past its container`);
    visit(at, length);
    at += length;
  }
}

function readScopes(v: ByteView, start: number, end: number): DeviceScope[] {
  const scopes: DeviceScope[] = [];
  walk(v, start, end, SCOPE_HEADER_LENGTH, 'Device Scope', (at) => v.u8(at + 1, 'Device Scope.Length'), (at, length) => {
    const s = DEVICE_SCOPE.read(v, at, length);
    const path: PciPathElement[] = [];
    // Like the kernel, an odd trailing byte is ignored: a path element is 2 bytes.
    for (let p = at + SCOPE_HEADER_LENGTH; p + 2 <= at + length; p += 2) {
      path.push({ device: v.u8(p, 'Device Scope.Path.Device'), function: v.u8(p + 1, 'Device Scope.Path.Function') });
    }
    scopes.push({ offset: v.base + at, length, type: s.type, flags: s.flags, enumerationId: s.enumerationId, startBus: s.startBus, path });
  });
  return scopes;
}

function need(v: ByteView, at: number, length: number, desc: { minLength: number; label: string }): void {
  if (length < desc.minLength) {
    v.fail(at + 2, `${desc.label}.Length`, `is ${length}, less than the ${desc.minLength} bytes a ${desc.label} structure needs`);
  }
}

function readStructure(v: ByteView, at: number, length: number): DmarStructure {
  const typeCode = v.u16(at, 'Remapping Structure.Type');
  switch (typeCode) {
    case 0: {
      need(v, at, length, DRHD);
      const f = DRHD.read(v, at, length);
      return { type: 'DRHD', offset: at, length, flags: f.flags, includePciAll: (f.flags & 1) !== 0, size: f.size, segment: f.segment, registerBase: f.registerBase, scopes: readScopes(v, at + DRHD.minLength, at + length) };
    }
    case 1: {
      need(v, at, length, RMRR);
      const f = RMRR.read(v, at, length);
      return { type: 'RMRR', offset: at, length, segment: f.segment, base: f.base, limit: f.limit, scopes: readScopes(v, at + RMRR.minLength, at + length) };
    }
    case 2: {
      need(v, at, length, ATSR);
      const f = ATSR.read(v, at, length);
      return { type: 'ATSR', offset: at, length, flags: f.flags, allPorts: (f.flags & 1) !== 0, segment: f.segment, scopes: readScopes(v, at + ATSR.minLength, at + length) };
    }
    case 3: {
      need(v, at, length, RHSA);
      const f = RHSA.read(v, at, length);
      return { type: 'RHSA', offset: at, length, registerBase: f.registerBase, proximityDomain: f.proximityDomain };
    }
    case 4: {
      need(v, at, length, ANDD);
      const f = ANDD.read(v, at, length);
      const objectName = v.ascii(at + ANDD.minLength, length - ANDD.minLength, 'ANDD.ACPI Object Name');
      return { type: 'ANDD', offset: at, length, deviceNumber: f.deviceNumber, objectName };
    }
    case 5: {
      need(v, at, length, SATC);
      const f = SATC.read(v, at, length);
      return { type: 'SATC', offset: at, length, flags: f.flags, atcRequired: (f.flags & 1) !== 0, segment: f.segment, scopes: readScopes(v, at + SATC.minLength, at + length) };
    }
    case 6: {
      need(v, at, length, SIDP);
      const f = SIDP.read(v, at, length);
      return { type: 'SIDP', offset: at, length, segment: f.segment, scopes: readScopes(v, at + SIDP.minLength, at + length) };
    }
    default:
      // Newer spec revisions add types; keep the entry so nothing is silently dropped.
      return { type: 'unknown', offset: at, length, typeCode };
  }
}

export function decodeDmarTable(t: AcpiTable): Dmar {
  const v = t.view;
  const body = DMAR_BODY.read(v, 0);
  const structures: DmarStructure[] = [];
  walk(v, STRUCTURES_START, v.length, 4, 'Remapping Structure', (at) => v.u16(at + 2, 'Remapping Structure.Length'), (at, length) => {
    structures.push(readStructure(v, at, length));
  });
  const h = t.header;
  return {
    signature: h.signature,
    revision: h.revision,
    oemId: h.oemId,
    oemTableId: h.oemTableId,
    oemRevision: h.oemRevision,
    creatorId: h.creatorId,
    creatorRevision: h.creatorRevision,
    checksumOk: t.checksumOk,
    hostAddressWidth: body.hostAddressWidth + 1,
    flags: body.flags,
    intrRemap: (body.flags & DMAR_FLAGS.INTR_REMAP) !== 0,
    x2apicOptOut: (body.flags & DMAR_FLAGS.X2APIC_OPT_OUT) !== 0,
    dmaCtrlPlatformOptIn: (body.flags & DMAR_FLAGS.DMA_CTRL_PLATFORM_OPT_IN) !== 0,
    structures,
  };
}

/** Decode a raw DMAR table (bytes as in /sys/firmware/acpi/tables/DMAR). */
export function decodeDmar(bytes: Uint8Array): Dmar {
  return decodeDmarTable(parseAcpiTable(bytes, 'DMAR'));
}

const BY_TYPE: Record<string, Struct<never>> = { DRHD, RMRR, ATSR, RHSA, ANDD, SATC, SIDP } as unknown as Record<string, Struct<never>>;

/** Every field with its offset, spec name and value — the `--fields` view, comparable with `iasl -d`. */
export function describeDmar(t: AcpiTable, d: Dmar): FieldLine[] {
  const v = t.view;
  const lines: FieldLine[] = [];
  ACPI_HEADER.describeInto(lines, v, 0);
  DMAR_BODY.describeInto(lines, v, 0);
  for (const s of d.structures) {
    REMAPPING_HEADER.describeInto(lines, v, s.offset);
    const desc = s.type === 'unknown' ? undefined : BY_TYPE[s.type];
    if (desc) desc.describeInto(lines, v, s.offset, s.length);
    if (s.type === 'ANDD') {
      // The name and its NUL; any padding after it is not part of the field (as iasl shows it).
      const size = Math.min(s.objectName.length + 1, s.length - 8);
      lines.push({ offset: s.offset + 8, size, name: 'ACPI Object Name', key: 'objectName', value: JSON.stringify(s.objectName) });
    }
    if ('scopes' in s) {
      for (const sc of s.scopes) {
        DEVICE_SCOPE.describeInto(lines, v, sc.offset, sc.length);
        sc.path.forEach((p, i) => {
          lines.push({ offset: sc.offset + 6 + 2 * i, size: 2, name: 'Path', key: 'path', value: `${hex2(p.device)},${hex2(p.function)}` });
        });
      }
    }
  }
  return lines;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

