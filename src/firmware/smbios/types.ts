/**
 * Decoders for the SMBIOS structure types the survey needs: 0, 1, 2, 9, 41 (DSP0134), one
 * function per type; HPE's OEM records live in hpe-oem.ts, as dmidecode keeps them in
 * dmioem.c. Every field past the structure's own length reads as null: older SMBIOS
 * versions have shorter structures, and firmware truncates.
 */
import { opt, raw, sref, struct, u16, u64, u8 } from '../struct.js';
import { decodeHpeOem, type HpeDeviceCorrelation, type HpeNicMac, type HpePxeNics, type HpeVersionIndicator } from './hpe-oem.js';
import {
  ONBOARD_TYPES,
  SLOT_CHARACTERISTICS_1,
  SLOT_CHARACTERISTICS_2,
  SLOT_LENGTH,
  SLOT_TYPES,
  SLOT_USAGE,
  SLOT_WIDTHS,
  WAKE_UP,
  nameOf,
} from './names.js';
import type { RawStructure } from './table.js';

export const TYPE_NAMES: Record<number, string> = {
  0: 'BIOS Information',
  1: 'System Information',
  2: 'Baseboard Information',
  3: 'System Enclosure',
  4: 'Processor Information',
  7: 'Cache Information',
  8: 'Port Connector Information',
  9: 'System Slots',
  11: 'OEM Strings',
  16: 'Physical Memory Array',
  17: 'Memory Device',
  19: 'Memory Array Mapped Address',
  32: 'System Boot Information',
  38: 'IPMI Device Information',
  39: 'System Power Supply',
  41: 'Onboard Devices Extended Information',
  127: 'End-of-Table',
};
export { HPE_TYPE_NAMES, type HpeDeviceCorrelation, type HpeNic, type HpeNicMac, type HpePxeNics, type HpeVersionIndicator } from './hpe-oem.js';

const T0 = struct('Type 0 BIOS Information', {
  vendor: opt(sref(0x04, 'Vendor')),
  version: opt(sref(0x05, 'BIOS Version')),
  startingSegment: opt(u16(0x06, 'BIOS Starting Address Segment')),
  releaseDate: opt(sref(0x08, 'BIOS Release Date')),
  romSize: opt(u8(0x09, 'BIOS ROM Size')),
  characteristics: opt(u64(0x0a, 'BIOS Characteristics')),
  biosMajor: opt(u8(0x14, 'System BIOS Major Release')),
  biosMinor: opt(u8(0x15, 'System BIOS Minor Release')),
  ecMajor: opt(u8(0x16, 'Embedded Controller Firmware Major Release')),
  ecMinor: opt(u8(0x17, 'Embedded Controller Firmware Minor Release')),
});
const T1 = struct('Type 1 System Information', {
  manufacturer: opt(sref(0x04, 'Manufacturer')),
  productName: opt(sref(0x05, 'Product Name')),
  version: opt(sref(0x06, 'Version')),
  serialNumber: opt(sref(0x07, 'Serial Number')),
  uuid: opt(raw(0x08, 16, 'UUID')),
  wakeUpType: opt(u8(0x18, 'Wake-up Type')),
  skuNumber: opt(sref(0x19, 'SKU Number')),
  family: opt(sref(0x1a, 'Family')),
});
const T2 = struct('Type 2 Baseboard Information', {
  manufacturer: opt(sref(0x04, 'Manufacturer')),
  product: opt(sref(0x05, 'Product')),
  version: opt(sref(0x06, 'Version')),
  serialNumber: opt(sref(0x07, 'Serial Number')),
  assetTag: opt(sref(0x08, 'Asset Tag')),
  featureFlags: opt(u8(0x09, 'Feature Flags')),
  locationInChassis: opt(sref(0x0a, 'Location in Chassis')),
  chassisHandle: opt(u16(0x0b, 'Chassis Handle')),
  boardType: opt(u8(0x0d, 'Board Type')),
  containedCount: opt(u8(0x0e, 'Number of Contained Object Handles')),
});
const T9 = struct('Type 9 System Slots', {
  designation: opt(sref(0x04, 'Slot Designation')),
  slotType: opt(u8(0x05, 'Slot Type')),
  dataBusWidth: opt(u8(0x06, 'Slot Data Bus Width')),
  currentUsage: opt(u8(0x07, 'Current Usage')),
  slotLength: opt(u8(0x08, 'Slot Length')),
  id: opt(u16(0x09, 'Slot ID')),
  characteristics1: opt(u8(0x0b, 'Slot Characteristics 1')),
  characteristics2: opt(u8(0x0c, 'Slot Characteristics 2')),
  segment: opt(u16(0x0d, 'Segment Group Number (Base)')),
  bus: opt(u8(0x0f, 'Bus Number (Base)')),
  devfn: opt(u8(0x10, 'Device/Function Number (Base)')),
  dataBusWidthBase: opt(u8(0x11, 'Data Bus Width (Base)')),
  peerGroupCount: opt(u8(0x12, 'Peer (S/B/D/F/Width) grouping count')),
});
const T9_PEER = struct('Type 9 Peer Group', {
  segment: u16(0, 'Segment Group Number'),
  bus: u8(2, 'Bus Number'),
  devfn: u8(3, 'Device/Function Number'),
  width: u8(4, 'Data bus width'),
});
const T9_TAIL = struct('Type 9 System Slots', {
  slotInformation: opt(u8(0, 'Slot Information')),
  physicalWidth: opt(u8(1, 'Slot Physical Width')),
  pitch: opt(u16(2, 'Slot Pitch')),
  height: opt(u8(4, 'Slot Height')),
});
const T41 = struct('Type 41 Onboard Devices Extended Information', {
  referenceDesignation: opt(sref(0x04, 'Reference Designation')),
  deviceType: opt(u8(0x05, 'Device Type')),
  typeInstance: opt(u8(0x06, 'Device Type Instance')),
  segment: opt(u16(0x07, 'Segment Group Number')),
  bus: opt(u8(0x09, 'Bus Number')),
  devfn: opt(u8(0x0a, 'Device/Function Number')),
});

export interface Common {
  type: number;
  handle: number;
  /** Length of the formatted area. */
  length: number;
  /** Offset within the structure table. */
  offset: number;
  name: string;
}

export interface PciAddress {
  segment: number;
  bus: number;
  device: number;
  function: number;
}

export interface BiosInformation extends Common {
  type: 0;
  vendor: string | null;
  version: string | null;
  releaseDate: string | null;
  startingSegment: number | null;
  romSize: number | null;
  characteristics: bigint | null;
  /** "major.minor" of the system BIOS release, when given (not 0xFF). */
  biosRelease: string | null;
  ecRelease: string | null;
}
export interface SystemInformation extends Common {
  type: 1;
  manufacturer: string | null;
  productName: string | null;
  version: string | null;
  serialNumber: string | null;
  /** null when absent, all 00 (not settable) or all FF (not present). */
  uuid: string | null;
  wakeUpType: string | null;
  skuNumber: string | null;
  family: string | null;
}
export interface BaseboardInformation extends Common {
  type: 2;
  manufacturer: string | null;
  product: string | null;
  version: string | null;
  serialNumber: string | null;
  assetTag: string | null;
  featureFlags: number | null;
  locationInChassis: string | null;
  chassisHandle: number | null;
  boardType: number | null;
  containedHandles: number[];
}
export interface SlotPeer extends PciAddress {
  width: number;
}
export interface SystemSlot extends Common {
  type: 9;
  designation: string | null;
  slotType: string | null;
  slotTypeCode: number | null;
  dataBusWidth: string | null;
  dataBusWidthCode: number | null;
  currentUsage: string | null;
  currentUsageCode: number | null;
  slotLength: string | null;
  id: number | null;
  characteristics: string[];
  /** The slot's bus address (usually the downstream bus of its port, device 0); null when not given. */
  segment: number | null;
  bus: number | null;
  device: number | null;
  function: number | null;
  dataBusWidthBase: number | null;
  peers: SlotPeer[];
  slotInformation: number | null;
  physicalWidth: number | null;
  pitch: number | null;
  height: number | null;
}
export interface OnboardDevice extends Common {
  type: 41;
  referenceDesignation: string | null;
  deviceType: string | null;
  deviceTypeCode: number | null;
  enabled: boolean | null;
  typeInstance: number | null;
  segment: number | null;
  bus: number | null;
  device: number | null;
  function: number | null;
}
export interface OtherStructure extends Common {
  strings: string[];
}

export type SmbiosStructure =
  | BiosInformation
  | SystemInformation
  | BaseboardInformation
  | SystemSlot
  | OnboardDevice
  | HpeDeviceCorrelation
  | HpePxeNics
  | HpeVersionIndicator
  | HpeNicMac
  | OtherStructure;

export interface DecodeContext {
  /** SMBIOS version as major*0x100 + minor, or null when unknown (bare table). */
  version: number | null;
  /** HPE OEM records are decoded only on HP/HPE ProLiant-class systems: other vendors reuse these type numbers. */
  hpeOem: boolean;
}

function release(major: number | null, minor: number | null): string | null {
  if (major === null || minor === null || (major === 0xff && minor === 0xff)) return null;
  return `${major}.${minor}`;
}

/** DSP0134 §7.2.1: from 2.6 on, the first three UUID fields are little-endian. */
function uuidText(b: Uint8Array | null, version: number | null): string | null {
  if (!b || b.every((x) => x === 0xff) || b.every((x) => x === 0)) return null;
  const h = (i: number) => b[i]!.toString(16).toUpperCase().padStart(2, '0');
  const le = version === null || version >= 0x0206;
  const first = le ? [3, 2, 1, 0, 5, 4, 7, 6] : [0, 1, 2, 3, 4, 5, 6, 7];
  const p = first.map(h);
  return `${p.slice(0, 4).join('')}-${p.slice(4, 6).join('')}-${p.slice(6, 8).join('')}-${h(8)}${h(9)}-${[10, 11, 12, 13, 14, 15].map(h).join('')}`;
}

/** Bus addresses with every field at its "not present" value (FFFF:FF:FF) are absent. */
function busAddress(segment: number | null, bus: number | null, devfn: number | null): PciAddress | null {
  if (segment === null || bus === null || devfn === null) return null;
  if (segment === 0xffff && bus === 0xff && devfn === 0xff) return null;
  return { segment, bus, device: devfn >> 3, function: devfn & 7 };
}


function bits(value: number | null, names: string[]): string[] {
  if (value === null) return [];
  return names.filter((_, i) => (value & (1 << i)) !== 0);
}

/*
 * Every decoder below builds its result in one object literal, the fields every structure has
 * first (type, handle, length, offset, name: the order the JSON shows them): results of a type
 * then share one shape, which decoding and JSON rendering of thousands of structures rely on.
 * The RawStructure is the read context: its `strings` is what string fields index.
 */

function decodeBiosInformation(r: RawStructure): BiosInformation {
  const f = T0.read(r.view, 0, r.length, r);
  return {
    type: 0,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: TYPE_NAMES[0]!,
    vendor: f.vendor,
    version: f.version,
    releaseDate: f.releaseDate,
    startingSegment: f.startingSegment,
    romSize: f.romSize,
    characteristics: f.characteristics,
    biosRelease: release(f.biosMajor, f.biosMinor),
    ecRelease: release(f.ecMajor, f.ecMinor),
  };
}

function decodeSystemInformation(r: RawStructure, ctx: DecodeContext): SystemInformation {
  const f = T1.read(r.view, 0, r.length, r);
  return {
    type: 1,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: TYPE_NAMES[1]!,
    manufacturer: f.manufacturer,
    productName: f.productName,
    version: f.version,
    serialNumber: f.serialNumber,
    uuid: uuidText(f.uuid, ctx.version),
    wakeUpType: f.wakeUpType === null ? null : nameOf(WAKE_UP, f.wakeUpType),
    skuNumber: f.skuNumber,
    family: f.family,
  };
}

/** Type 2's contained object handles follow the fixed fields, two bytes each. */
const T2_HANDLES_AT = 0x0f;

function decodeBaseboardInformation(r: RawStructure): BaseboardInformation {
  const f = T2.read(r.view, 0, r.length, r);
  const containedHandles: number[] = [];
  for (let i = 0; f.containedCount !== null && i < f.containedCount && T2_HANDLES_AT + 2 * i + 2 <= r.length; i++) {
    containedHandles.push(r.view.u16(T2_HANDLES_AT + 2 * i, 'Type 2.Contained Object Handles'));
  }
  return {
    type: 2,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: TYPE_NAMES[2]!,
    manufacturer: f.manufacturer,
    product: f.product,
    version: f.version,
    serialNumber: f.serialNumber,
    assetTag: f.assetTag,
    featureFlags: f.featureFlags,
    locationInChassis: f.locationInChassis,
    chassisHandle: f.chassisHandle,
    boardType: f.boardType,
    containedHandles,
  };
}

/** Type 9 peer groups (SMBIOS 3.2+) start at 0x13, five bytes each; the 3.4+ fields follow them. */
const T9_PEERS_AT = 0x13;
const T9_PEER_SIZE = 5;

function decodeSystemSlot(r: RawStructure): SystemSlot {
  const v = r.view;
  const L = r.length;
  const f = T9.read(v, 0, L, r);
  const peers: SlotPeer[] = [];
  const count = f.peerGroupCount ?? 0;
  let p = T9_PEERS_AT;
  for (let i = 0; i < count && p + T9_PEER_SIZE <= L; i++, p += T9_PEER_SIZE) {
    const g = T9_PEER.read(v, p);
    peers.push({ segment: g.segment, bus: g.bus, device: g.devfn >> 3, function: g.devfn & 7, width: g.width });
  }
  const tailAt = T9_PEERS_AT + T9_PEER_SIZE * count;
  const tail = T9_TAIL.read(v, tailAt, Math.max(0, L - tailAt));
  const a = busAddress(f.segment, f.bus, f.devfn);
  return {
    type: 9,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: TYPE_NAMES[9]!,
    designation: f.designation,
    slotType: f.slotType === null ? null : nameOf(SLOT_TYPES, f.slotType),
    slotTypeCode: f.slotType,
    dataBusWidth: f.dataBusWidth === null ? null : nameOf(SLOT_WIDTHS, f.dataBusWidth),
    dataBusWidthCode: f.dataBusWidth,
    currentUsage: f.currentUsage === null ? null : nameOf(SLOT_USAGE, f.currentUsage),
    currentUsageCode: f.currentUsage,
    slotLength: f.slotLength === null ? null : nameOf(SLOT_LENGTH, f.slotLength),
    id: f.id,
    characteristics: [...bits(f.characteristics1, SLOT_CHARACTERISTICS_1), ...bits(f.characteristics2, SLOT_CHARACTERISTICS_2)],
    segment: a?.segment ?? null,
    bus: a?.bus ?? null,
    device: a?.device ?? null,
    function: a?.function ?? null,
    dataBusWidthBase: f.dataBusWidthBase,
    peers,
    slotInformation: tail.slotInformation,
    physicalWidth: tail.physicalWidth,
    pitch: tail.pitch,
    height: tail.height,
  };
}

/** Type 41 Device Type: bit 7 is "device enabled", bits 6:0 the type. */
const ONBOARD_ENABLED = 0x80;
const ONBOARD_TYPE_MASK = 0x7f;

function decodeOnboardDevice(r: RawStructure): OnboardDevice {
  const f = T41.read(r.view, 0, r.length, r);
  const a = busAddress(f.segment, f.bus, f.devfn);
  return {
    type: 41,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: TYPE_NAMES[41]!,
    referenceDesignation: f.referenceDesignation,
    deviceType: f.deviceType === null ? null : nameOf(ONBOARD_TYPES, f.deviceType & ONBOARD_TYPE_MASK),
    deviceTypeCode: f.deviceType === null ? null : f.deviceType & ONBOARD_TYPE_MASK,
    enabled: f.deviceType === null ? null : (f.deviceType & ONBOARD_ENABLED) !== 0,
    typeInstance: f.typeInstance,
    segment: a?.segment ?? null,
    bus: a?.bus ?? null,
    device: a?.device ?? null,
    function: a?.function ?? null,
  };
}

const STANDARD: Record<number, (r: RawStructure, ctx: DecodeContext) => SmbiosStructure> = {
  0: decodeBiosInformation,
  1: decodeSystemInformation,
  2: decodeBaseboardInformation,
  9: decodeSystemSlot,
  41: decodeOnboardDevice,
};

/** One structure: a standard type we decode, an HPE record (on HPE systems only), or its strings. */
export function decodeStructure(r: RawStructure, ctx: DecodeContext): SmbiosStructure {
  const standard = STANDARD[r.type];
  if (standard) return standard(r, ctx);
  const oem = ctx.hpeOem ? decodeHpeOem(r) : null;
  if (oem) return oem;
  const name = TYPE_NAMES[r.type] ?? (r.type >= 128 ? 'OEM-specific Type' : 'Unknown Type');
  return { type: r.type, handle: r.handle, length: r.length, offset: r.offset, name, strings: r.strings };
}
