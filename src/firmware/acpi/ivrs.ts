/**
 * IVRS — I/O Virtualization Reporting Structure (AMD I/O Virtualization Technology
 * (IOMMU) Specification, 48882, "ACPI tables"). Pure: bytes in, typed object or DecodeError out.
 */
import { type ByteView } from '../bytes.js';
import { raw, struct, u16, u32, u64, u8, type FieldLine } from '../struct.js';
import { ACPI_HEADER, parseAcpiTable, type AcpiTable } from './table.js';

const IVRS_BODY = struct('IVRS', {
  ivInfo: u32(36, 'IVinfo'),
  reserved: raw(40, 8, 'Reserved'),
});
const BLOCKS_START = 48;

const BLOCK_HEADER = struct('IVRS Block', {
  type: u8(0, 'Type'),
  flags: u8(1, 'Flags'),
  length: u16(2, 'Length'),
});

/** IVHD type 10h: 24-byte header, then device entries. */
const IVHD_10 = struct('IVHD', {
  deviceId: u16(4, 'IOMMU DeviceID'),
  capabilityOffset: u16(6, 'Capability Offset'),
  baseAddress: u64(8, 'IOMMU Base Address'),
  segment: u16(16, 'PCI Segment Group'),
  info: u16(18, 'IOMMU Info'),
  featureReporting: u32(20, 'IOMMU Feature Reporting'),
});
/** IVHD types 11h and 40h: 40-byte header with the EFR register image. */
const IVHD_11 = struct('IVHD', {
  deviceId: u16(4, 'IOMMU DeviceID'),
  capabilityOffset: u16(6, 'Capability Offset'),
  baseAddress: u64(8, 'IOMMU Base Address'),
  segment: u16(16, 'PCI Segment Group'),
  info: u16(18, 'IOMMU Info'),
  attributes: u32(20, 'IOMMU Attributes'),
  efrImage: u64(24, 'EFR Register Image'),
  efrImage2: u64(32, 'EFR Register Image 2'),
});
const IVMD = struct('IVMD', {
  deviceId: u16(4, 'DeviceID'),
  auxData: u16(6, 'Auxiliary Data'),
  reserved: u64(8, 'Reserved'),
  start: u64(16, 'IVMD Start Address'),
  length: u64(24, 'IVMD Memory Block Length'),
});

/** Device entries (IVHD). Offsets are within the entry. */
const ENTRY_4 = struct('IVHD Device Entry', {
  type: u8(0, 'Type'),
  deviceId: u16(1, 'DeviceID'),
  dataSetting: u8(3, 'DTE Setting'),
});
const ENTRY_ALIAS = struct('IVHD Alias Entry', {
  reserved: u8(4, 'Reserved'),
  sourceDeviceId: u16(5, 'Source DeviceID'),
  reserved2: u8(7, 'Reserved'),
});
const ENTRY_EXTENDED = struct('IVHD Extended Entry', {
  extendedData: u32(4, 'Extended DTE Setting'),
});
const ENTRY_SPECIAL = struct('IVHD Special Entry', {
  handle: u8(4, 'Handle'),
  usedDeviceId: u16(5, 'Used DeviceID'),
  variety: u8(7, 'Variety'),
});
const ENTRY_HID = struct('IVHD ACPI HID Entry', {
  hid: raw(4, 8, 'HID'),
  cid: raw(12, 8, 'CID'),
  uidFormat: u8(20, 'UID Format'),
  uidLength: u8(21, 'UID Length'),
});
const HID_FIXED_LENGTH = 22;

export const ENTRY_NAMES: Record<number, string> = {
  0x00: 'Reserved (pad)',
  0x01: 'All',
  0x02: 'Select',
  0x03: 'Start of Range',
  0x04: 'End of Range',
  0x42: 'Alias Select',
  0x43: 'Alias Start of Range',
  0x46: 'Extended Select',
  0x47: 'Extended Start of Range',
  0x48: 'Special Device',
  0xf0: 'ACPI HID Device',
};
export const SPECIAL_VARIETY: Record<number, string> = { 1: 'IOAPIC', 2: 'HPET' };

export interface IvhdEntry {
  offset: number;
  type: number;
  /** For special entries (48h) the used DeviceID (the IOAPIC/HPET requester id), else bytes 1–2. */
  deviceId: number;
  dataSetting: number;
  sourceDeviceId?: number;
  extendedData?: number;
  handle?: number;
  variety?: number;
  hid?: string;
  cid?: string;
  uid?: string;
  uidFormat?: number;
}

export interface Ivhd {
  kind: 'IVHD';
  offset: number;
  blockLength: number;
  type: number;
  flags: number;
  deviceId: number;
  capabilityOffset: number;
  baseAddress: bigint;
  segment: number;
  info: number;
  /** IVHD 10h: IOMMU Feature Reporting. */
  featureReporting?: number;
  /** IVHD 11h/40h: IOMMU Attributes and the EFR register images. */
  attributes?: number;
  efrImage?: bigint;
  efrImage2?: bigint;
  entries: IvhdEntry[];
}

export interface Ivmd {
  kind: 'IVMD';
  offset: number;
  blockLength: number;
  /** 20h all devices, 21h one device, 22h a range of devices (start..auxData). */
  type: number;
  /** bit 0 unity, 1 IR, 2 IW, 3 exclusion range. */
  flags: number;
  deviceId: number;
  auxData: number;
  start: bigint;
  length: bigint;
}

export interface UnknownBlock {
  kind: 'unknown';
  offset: number;
  blockLength: number;
  typeCode: number;
}

export type IvrsBlock = Ivhd | Ivmd | UnknownBlock;

export interface Ivrs {
  signature: string;
  revision: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
  checksumOk: boolean;
  ivInfo: number;
  blocks: IvrsBlock[];
}

/** Compressed EISA id (ACPI 19.6.39, EISAID()): three 5-bit letters and four hex digits. */
export function eisaIdToString(v: number): string {
  const b0 = v & 0xff;
  const b1 = (v >>> 8) & 0xff;
  const b2 = (v >>> 16) & 0xff;
  const b3 = (v >>> 24) & 0xff;
  const c1 = ((b0 >> 2) & 0x1f) + 0x40;
  const c2 = (((b0 & 0x3) << 3) | (b1 >> 5)) + 0x40;
  const c3 = (b1 & 0x1f) + 0x40;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return String.fromCharCode(c1, c2, c3) + hex(b2) + hex(b3);
}

/** An 8-byte _HID/_CID field: ASCII text, or a number (compressed EISA id), or 0 for none. */
function hidField(b: Uint8Array): string {
  if (b.every((x) => x === 0)) return '';
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  const text = b.subarray(0, end);
  const printable = text.length > 0 && text.every((x) => x >= 0x20 && x < 0x7f) && b.subarray(end).every((x) => x === 0);
  if (printable) return String.fromCharCode(...text);
  const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  if (hi === 0) return eisaIdToString(lo);
  return '0x' + ((BigInt(hi) << 32n) | BigInt(lo)).toString(16);
}

/** Entry length by type: 4 << type[7:6] below F0h; F0h carries its UID length. */
function entryLength(v: ByteView, at: number, type: number): number {
  if (type < 0xf0) return 4 << (type >> 6);
  if (type === 0xf0) return HID_FIXED_LENGTH + v.u8(at + 21, 'IVHD ACPI HID Entry.UID Length');
  return v.fail(at, 'IVHD Device Entry.Type', `type 0x${type.toString(16)} is variable-length and unknown; the rest of the block cannot be walked`);
}

function readEntries(v: ByteView, start: number, end: number): IvhdEntry[] {
  const entries: IvhdEntry[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 4) v.fail(at, 'IVHD Device Entry', `${end - at} trailing byte(s), too few for a device entry`);
    const type = v.u8(at, 'IVHD Device Entry.Type');
    const length = entryLength(v, at, type);
    if (at + length > end) v.fail(at, 'IVHD Device Entry', `type 0x${type.toString(16)} needs ${length} bytes, the IVHD block ends ${end - at} bytes on (runs past its block)`);
    const base = ENTRY_4.read(v, at);
    // One literal per entry kind, keys in the order the JSON shows them.
    let e: IvhdEntry;
    if (type === 0x42 || type === 0x43) {
      e = { offset: at, type, deviceId: base.deviceId, dataSetting: base.dataSetting, sourceDeviceId: ENTRY_ALIAS.read(v, at).sourceDeviceId };
    } else if (type === 0x46 || type === 0x47) {
      e = { offset: at, type, deviceId: base.deviceId, dataSetting: base.dataSetting, extendedData: ENTRY_EXTENDED.read(v, at).extendedData };
    } else if (type === 0x48) {
      const s = ENTRY_SPECIAL.read(v, at);
      // The special entry's requester id is its Used DeviceID, not bytes 1-2.
      e = { offset: at, type, deviceId: s.usedDeviceId, dataSetting: base.dataSetting, handle: s.handle, variety: s.variety };
    } else if (type === 0xf0) {
      const h = ENTRY_HID.read(v, at);
      const hid = hidField(h.hid);
      const cid = hidField(h.cid);
      e = { offset: at, type, deviceId: base.deviceId, dataSetting: base.dataSetting, hid, cid, uidFormat: h.uidFormat, uid: readUid(v, at + HID_FIXED_LENGTH, h.uidFormat, h.uidLength) };
    } else {
      e = { offset: at, type, deviceId: base.deviceId, dataSetting: base.dataSetting };
    }
    if (type !== 0x00) entries.push(e); // 00h entries are padding
    at += length;
  }
  return entries;
}

/** UID: format 0 none, 1 integer (its decimal text), 2 string. */
function readUid(v: ByteView, at: number, format: number, length: number): string {
  if (length === 0 || format === 0) return '';
  const b = v.slice(at, length, 'IVHD ACPI HID Entry.UID');
  if (format === 1) {
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    return n.toString(10);
  }
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return String.fromCharCode(...b.subarray(0, end));
}

function readBlock(v: ByteView, at: number, type: number, flags: number, length: number): IvrsBlock {
  if (type === 0x10 || type === 0x11 || type === 0x40) {
    const desc = type === 0x10 ? IVHD_10 : IVHD_11;
    if (length < desc.minLength) v.fail(at + 2, 'IVHD.Length', `is ${length}, less than the ${desc.minLength}-byte IVHD type 0x${type.toString(16)} header`);
    const entries = readEntries(v, at + desc.minLength, at + length);
    if (type === 0x10) {
      const h = IVHD_10.read(v, at, length);
      return { kind: 'IVHD', offset: at, blockLength: length, type, flags, deviceId: h.deviceId, capabilityOffset: h.capabilityOffset, baseAddress: h.baseAddress, segment: h.segment, info: h.info, featureReporting: h.featureReporting, entries };
    }
    const h = IVHD_11.read(v, at, length);
    return { kind: 'IVHD', offset: at, blockLength: length, type, flags, deviceId: h.deviceId, capabilityOffset: h.capabilityOffset, baseAddress: h.baseAddress, segment: h.segment, info: h.info, attributes: h.attributes, efrImage: h.efrImage, efrImage2: h.efrImage2, entries };
  }
  if (type === 0x20 || type === 0x21 || type === 0x22) {
    if (length < IVMD.minLength) v.fail(at + 2, 'IVMD.Length', `is ${length}, less than the ${IVMD.minLength}-byte IVMD block`);
    const m = IVMD.read(v, at, length);
    return { kind: 'IVMD', offset: at, blockLength: length, type, flags, deviceId: m.deviceId, auxData: m.auxData, start: m.start, length: m.length };
  }
  return { kind: 'unknown', offset: at, blockLength: length, typeCode: type };
}

export function decodeIvrsTable(t: AcpiTable): Ivrs {
  const v = t.view;
  const body = IVRS_BODY.read(v, 0);
  const blocks: IvrsBlock[] = [];
  let at = BLOCKS_START;
  while (at < v.length) {
    if (v.length - at < 4) v.fail(at, 'IVRS Block', `${v.length - at} trailing byte(s), too few for a block header`);
    const h = BLOCK_HEADER.read(v, at);
    // A zero (or tiny) length would never advance: the classic infinite loop.
    if (h.length < 4) v.fail(at + 2, 'IVRS Block.Length', `is ${h.length}, less than the 4-byte block header`);
    if (at + h.length > v.length) v.fail(at + 2, 'IVRS Block.Length', `is ${h.length}: the block runs ${at + h.length - v.length} byte(s) past the end of the table`);
    blocks.push(readBlock(v, at, h.type, h.flags, h.length));
    at += h.length;
  }
  const hd = t.header;
  return {
    signature: hd.signature,
    revision: hd.revision,
    oemId: hd.oemId,
    oemTableId: hd.oemTableId,
    oemRevision: hd.oemRevision,
    creatorId: hd.creatorId,
    creatorRevision: hd.creatorRevision,
    checksumOk: t.checksumOk,
    ivInfo: body.ivInfo,
    blocks,
  };
}

export function decodeIvrs(bytes: Uint8Array): Ivrs {
  return decodeIvrsTable(parseAcpiTable(bytes, 'IVRS'));
}

/** Every field with offset, spec name and value — the `--fields` view. */
export function describeIvrs(t: AcpiTable, d: Ivrs): FieldLine[] {
  const v = t.view;
  const lines: FieldLine[] = [];
  ACPI_HEADER.describeInto(lines, v, 0);
  IVRS_BODY.describeInto(lines, v, 0);
  for (const b of d.blocks) {
    BLOCK_HEADER.describeInto(lines, v, b.offset);
    if (b.kind === 'IVHD') {
      (b.type === 0x10 ? IVHD_10 : IVHD_11).describeInto(lines, v, b.offset, b.blockLength);
      for (const e of b.entries) {
        ENTRY_4.describeInto(lines, v, e.offset);
        if (e.type === 0x42 || e.type === 0x43) ENTRY_ALIAS.describeInto(lines, v, e.offset);
        if (e.type === 0x46 || e.type === 0x47) ENTRY_EXTENDED.describeInto(lines, v, e.offset);
        if (e.type === 0x48) ENTRY_SPECIAL.describeInto(lines, v, e.offset);
        if (e.type === 0xf0) {
          ENTRY_HID.describeInto(lines, v, e.offset);
          if (e.uid) lines.push({ offset: e.offset + HID_FIXED_LENGTH, size: v.u8(e.offset + 21, 'UID Length'), name: 'UID', key: 'uid', value: JSON.stringify(e.uid) });
        }
      }
    } else if (b.kind === 'IVMD') {
      IVMD.describeInto(lines, v, b.offset, b.blockLength);
    }
  }
  return lines;
}
