/**
 * Decoders for the SMBIOS structure types the survey needs: 0, 1, 2, 9, 41 (DSP0134)
 * and HPE's OEM records 203, 209, 216, 233. Every field past the structure's own length
 * reads as null: older SMBIOS versions have shorter structures, and firmware truncates.
 */
import { hex, type ByteView } from '../bytes.js';
import { opt, raw, sref, struct, u16, u64, u8, type ReadContext } from '../struct.js';
import {
  HPE_DEVICE_LOCATIONS,
  HPE_DEVICE_TYPES,
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
export const HPE_TYPE_NAMES: Record<number, string> = {
  203: 'HPE Device Correlation Record',
  209: 'HPE BIOS PXE NIC PCI and MAC Information',
  216: 'HPE Version Indicator',
  233: 'HPE BIOS NIC PCI and MAC Information',
};

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
const T203 = struct('Type 203 HPE Device Correlation Record', {
  assocDevice: opt(u16(0x04, 'Associated Device Handle')),
  assocSmbus: opt(u16(0x06, 'Associated SMBus Handle')),
  vendorId: opt(u16(0x08, 'PCI Vendor ID')),
  deviceId: opt(u16(0x0a, 'PCI Device ID')),
  subVendorId: opt(u16(0x0c, 'PCI Sub Vendor ID')),
  subDeviceId: opt(u16(0x0e, 'PCI Sub Device ID')),
  classCode: opt(u8(0x10, 'PCI Class Code')),
  subClassCode: opt(u8(0x11, 'PCI Sub Class Code')),
  parentHandle: opt(u16(0x12, 'Parent Handle')),
  flags: opt(u16(0x14, 'Flags')),
  deviceType: opt(u8(0x16, 'Device Type')),
  deviceLocation: opt(u8(0x17, 'Device Location')),
  deviceInstance: opt(u8(0x18, 'Device Instance')),
  deviceSubInstance: opt(u8(0x19, 'Device Sub-Instance')),
  bay: opt(u8(0x1a, 'Bay')),
  enclosure: opt(u8(0x1b, 'Enclosure')),
  devicePath: opt(sref(0x1c, 'UEFI Device Path')),
  structuredName: opt(sref(0x1d, 'UEFI Device Structured Name')),
  deviceName: opt(sref(0x1e, 'UEFI Device Name')),
  uefiLocation: opt(sref(0x1f, 'UEFI Location')),
  assocRealHandle: opt(u16(0x20, 'Associated Real/Phys Handle')),
  partNumber: opt(sref(0x22, 'PCI Device Part Number')),
  serialNumber: opt(sref(0x23, 'PCI Device Serial Number')),
  segment: opt(u16(0x24, 'Segment Group Number')),
  bus: opt(u8(0x26, 'PCI Bus Number')),
  devfn: opt(u8(0x27, 'PCI Device/Function Number')),
});
const T209_NIC = struct('Type 209 NIC record', {
  devfn: u8(0, 'PCI Device/Function Number'),
  bus: u8(1, 'PCI Bus Number'),
  mac: raw(2, 6, 'MAC Address'),
});
const T216 = struct('Type 216 HPE Version Indicator', {
  firmwareType: opt(u16(0x04, 'Firmware Type')),
  firmwareName: opt(sref(0x06, 'Firmware Name')),
  firmwareVersion: opt(sref(0x07, 'Firmware Version')),
  dataFormat: opt(u8(0x08, 'Version Data Format')),
  versionData: opt(raw(0x09, 12, 'Version Data')),
  uniqueId: opt(u16(0x15, 'Unique ID')),
});
const T233 = struct('Type 233 HPE BIOS NIC PCI and MAC Information', {
  segment: opt(u16(0x04, 'Segment Group Number')),
  bus: opt(u8(0x06, 'PCI Bus Number')),
  devfn: opt(u8(0x07, 'PCI Device/Function Number')),
  mac: opt(raw(0x08, 6, 'MAC Address')),
  portNumber: opt(u8(0x28, 'Port Number')),
  devicePath: opt(sref(0x29, 'UEFI Device Path')),
});

interface Common {
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
export interface HpeDeviceCorrelation extends Common {
  type: 203;
  /** Handle of the type 9 (slot) or 41 (onboard) record this device belongs to. */
  assocDevice: number | null;
  assocSmbus: number | null;
  vendorId: number | null;
  deviceId: number | null;
  subVendorId: number | null;
  subDeviceId: number | null;
  classCode: number | null;
  subClassCode: number | null;
  parentHandle: number | null;
  flags: number | null;
  deviceType: string | null;
  deviceTypeCode: number | null;
  deviceLocation: string | null;
  deviceLocationCode: number | null;
  deviceInstance: number | null;
  deviceSubInstance: number | null;
  bay: number | null;
  enclosure: number | null;
  devicePath: string | null;
  /** e.g. "PCI.Slot.2.1", "NIC.LOM.1.1", "HD.Emb.4.2". */
  structuredName: string | null;
  deviceName: string | null;
  uefiLocation: string | null;
  assocRealHandle: number | null;
  partNumber: string | null;
  serialNumber: string | null;
  segment: number | null;
  bus: number | null;
  device: number | null;
  function: number | null;
}
export interface HpeNic {
  /** "ok", or the two sentinel states of the record. */
  state: 'present' | 'disabled' | 'not-installed';
  bus: number;
  device: number;
  function: number;
  mac: string;
}
export interface HpePxeNics extends Common {
  type: 209;
  nics: HpeNic[];
}
export interface HpeVersionIndicator extends Common {
  type: 216;
  firmwareType: number | null;
  firmwareName: string | null;
  firmwareVersion: string | null;
  dataFormat: number | null;
  versionData: string | null;
  uniqueId: number | null;
}
export interface HpeNicMac extends Common {
  type: 233;
  segment: number | null;
  bus: number | null;
  device: number | null;
  function: number | null;
  mac: string | null;
  portNumber: number | null;
  devicePath: string | null;
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

function mac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':');
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

function handleOrNull(h: number | null): number | null {
  return h === null || h === 0xfffe || h === 0xffff ? null : h;
}
function idOrNull(x: number | null, absent: number): number | null {
  return x === null || x === absent ? null : x;
}

export function decodeStructure(r: RawStructure, ctx: DecodeContext): SmbiosStructure {
  const v: ByteView = r.view;
  const rc: ReadContext = { strings: r.strings };
  const L = r.length;
  switch (r.type) {
    case 0: {
      const f = T0.read(v, 0, L, rc);
      return {
        type: 0,
        handle: r.handle,
        length: L,
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
    case 1: {
      const f = T1.read(v, 0, L, rc);
      return {
        type: 1,
        handle: r.handle,
        length: L,
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
    case 2: {
      const f = T2.read(v, 0, L, rc);
      const containedHandles: number[] = [];
      for (let i = 0; f.containedCount !== null && i < f.containedCount && 0x0f + 2 * i + 2 <= L; i++) {
        containedHandles.push(v.u16(0x0f + 2 * i, 'Type 2.Contained Object Handles'));
      }
      return {
        type: 2,
        handle: r.handle,
        length: L,
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
    case 9: {
      const f = T9.read(v, 0, L, rc);
      const peers: SlotPeer[] = [];
      const count = f.peerGroupCount ?? 0;
      let p = 0x13;
      for (let i = 0; i < count && p + 5 <= L; i++, p += 5) {
        const g = T9_PEER.read(v, p);
        peers.push({ segment: g.segment, bus: g.bus, device: g.devfn >> 3, function: g.devfn & 7, width: g.width });
      }
      // SMBIOS 3.4+ fields follow the peer groups.
      const tailAt = 0x13 + 5 * count;
      const tail = T9_TAIL.read(v, tailAt, Math.max(0, L - tailAt));
      const a9 = busAddress(f.segment, f.bus, f.devfn);
      return {
        type: 9,
        handle: r.handle,
        length: L,
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
        segment: a9?.segment ?? null,
        bus: a9?.bus ?? null,
        device: a9?.device ?? null,
        function: a9?.function ?? null,
        dataBusWidthBase: f.dataBusWidthBase,
        peers,
        slotInformation: tail.slotInformation,
        physicalWidth: tail.physicalWidth,
        pitch: tail.pitch,
        height: tail.height,
      };
    }
    case 41: {
      const f = T41.read(v, 0, L, rc);
      const a41 = busAddress(f.segment, f.bus, f.devfn);
      return {
        type: 41,
        handle: r.handle,
        length: L,
        offset: r.offset,
        name: TYPE_NAMES[41]!,
        referenceDesignation: f.referenceDesignation,
        deviceType: f.deviceType === null ? null : nameOf(ONBOARD_TYPES, f.deviceType & 0x7f),
        deviceTypeCode: f.deviceType === null ? null : f.deviceType & 0x7f,
        enabled: f.deviceType === null ? null : (f.deviceType & 0x80) !== 0,
        typeInstance: f.typeInstance,
        segment: a41?.segment ?? null,
        bus: a41?.bus ?? null,
        device: a41?.device ?? null,
        function: a41?.function ?? null,
      };
    }
  }
  if (ctx.hpeOem) {
    switch (r.type) {
      case 203: {
        const f = T203.read(v, 0, L, rc);
        // Flags bit 0 says whether the associated real/physical handle is defined.
        const real = f.flags !== null && (f.flags & 1) !== 0 ? f.assocRealHandle : null;
        return {
          type: 203,
          handle: r.handle,
          length: L,
          offset: r.offset,
          name: HPE_TYPE_NAMES[203]!,
          assocDevice: handleOrNull(f.assocDevice),
          assocSmbus: handleOrNull(f.assocSmbus),
          vendorId: idOrNull(f.vendorId, 0xffff),
          deviceId: idOrNull(f.deviceId, 0xffff),
          subVendorId: idOrNull(f.subVendorId, 0xffff),
          subDeviceId: idOrNull(f.subDeviceId, 0xffff),
          classCode: idOrNull(f.classCode, 0xff),
          subClassCode: idOrNull(f.subClassCode, 0xff),
          parentHandle: handleOrNull(f.parentHandle),
          flags: f.flags,
          deviceType: f.deviceType === null ? null : nameOf(HPE_DEVICE_TYPES, f.deviceType),
          deviceTypeCode: f.deviceType,
          deviceLocation: f.deviceLocation === null ? null : nameOf(HPE_DEVICE_LOCATIONS, f.deviceLocation),
          deviceLocationCode: f.deviceLocation,
          deviceInstance: f.deviceInstance,
          deviceSubInstance: f.deviceSubInstance,
          bay: f.bay,
          enclosure: f.enclosure,
          devicePath: f.devicePath,
          structuredName: f.structuredName,
          deviceName: f.deviceName,
          uefiLocation: f.uefiLocation,
          assocRealHandle: real,
          partNumber: f.partNumber,
          serialNumber: f.serialNumber,
          // Segment/bus/devfn exist only in records of 0x28 bytes or more.
          segment: f.devfn === null || f.bus === null ? null : f.segment,
          bus: f.devfn === null ? null : f.bus,
          device: f.devfn === null || f.bus === null ? null : f.devfn >> 3,
          function: f.devfn === null || f.bus === null ? null : f.devfn & 7,
        };
      }
      case 209: {
        const nics: HpeNic[] = [];
        for (let p = 4; p + 8 <= L; p += 8) {
          const n = T209_NIC.read(v, p);
          const state = n.devfn === 0 && n.bus === 0 ? 'disabled' : n.devfn === 0xff && n.bus === 0xff ? 'not-installed' : 'present';
          nics.push({ state, bus: n.bus, device: n.devfn >> 3, function: n.devfn & 7, mac: mac(n.mac) });
        }
        return { type: 209, handle: r.handle, length: L, offset: r.offset, name: HPE_TYPE_NAMES[209]!, nics };
      }
      case 216: {
        const f = T216.read(v, 0, L, rc);
        return {
          type: 216,
          handle: r.handle,
          length: L,
          offset: r.offset,
          name: HPE_TYPE_NAMES[216]!,
          firmwareType: f.firmwareType,
          firmwareName: f.firmwareName,
          firmwareVersion: f.firmwareVersion,
          dataFormat: f.dataFormat,
          versionData: f.versionData === null ? null : Array.from(f.versionData, (x) => hex(x, 2).slice(2)).join(''),
          uniqueId: f.uniqueId,
        };
      }
      case 233: {
        const f = T233.read(v, 0, L, rc);
        return {
          type: 233,
          handle: r.handle,
          length: L,
          offset: r.offset,
          name: HPE_TYPE_NAMES[233]!,
          segment: f.devfn === null || f.bus === null ? null : f.segment,
          bus: f.devfn === null ? null : f.bus,
          device: f.devfn === null || f.bus === null ? null : f.devfn >> 3,
          function: f.devfn === null || f.bus === null ? null : f.devfn & 7,
          mac: f.mac === null ? null : mac(f.mac),
          // Records of 0x28 bytes or less carry no port number.
          portNumber: L > 0x28 ? f.portNumber : null,
          devicePath: f.devicePath,
        };
      }
    }
  }
  return { type: r.type, handle: r.handle, length: L, offset: r.offset, name: TYPE_NAMES[r.type] ?? (r.type >= 128 ? 'OEM-specific Type' : 'Unknown Type'), strings: r.strings };
}
