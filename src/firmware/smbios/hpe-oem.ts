/**
 * HPE's OEM SMBIOS records (types 203, 209, 216, 233), kept apart from the DSP0134 types as
 * dmidecode keeps vendor records in dmioem.c. Other vendors reuse these type numbers, so
 * the caller decodes them only when type 1 says the system is an HPE server.
 */
import { hexBytes } from '../bytes.js';
import { opt, raw, sref, struct, u16, u8 } from '../struct.js';
import { HPE_DEVICE_LOCATIONS, HPE_DEVICE_TYPES, nameOf } from './names.js';
import type { RawStructure } from './table.js';
import type { Common, SmbiosStructure } from './types.js';

export const HPE_TYPE_NAMES: Record<number, string> = {
  203: 'HPE Device Correlation Record',
  209: 'HPE BIOS PXE NIC PCI and MAC Information',
  216: 'HPE Version Indicator',
  233: 'HPE BIOS NIC PCI and MAC Information',
};

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

function mac(b: Uint8Array): string {
  return hexBytes(b, ':', true);
}

function handleOrNull(h: number | null): number | null {
  return h === null || h === 0xfffe || h === 0xffff ? null : h;
}
function idOrNull(x: number | null, absent: number): number | null {
  return x === null || x === absent ? null : x;
}

/*
 * Results are built in one object literal, the fields every structure has first, in the
 * order of types.ts (type, handle, length, offset, name), so results of a type share a shape.
 */

/** Type 203 Flags bit 0: the associated real/physical handle is defined. */
const T203_REAL_HANDLE_VALID = 0x0001;
/** PCI devfn: device in bits 7:3, function in bits 2:0. */
const devOf = (devfn: number) => devfn >> 3;
const fnOf = (devfn: number) => devfn & 7;

function decodeDeviceCorrelation(r: RawStructure): HpeDeviceCorrelation {
  const f = T203.read(r.view, 0, r.length, r);
  const real = f.flags !== null && (f.flags & T203_REAL_HANDLE_VALID) !== 0 ? f.assocRealHandle : null;
  // Segment/bus/devfn exist only in records of 0x28 bytes or more.
  const at = f.devfn === null || f.bus === null ? null : { segment: f.segment, bus: f.bus, devfn: f.devfn };
  return {
    type: 203,
    handle: r.handle,
    length: r.length,
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
    segment: at ? at.segment : null,
    bus: f.devfn === null ? null : f.bus,
    device: at ? devOf(at.devfn) : null,
    function: at ? fnOf(at.devfn) : null,
  };
}

/** Type 209: eight-byte NIC records from offset 4 to the end of the formatted area. */
const T209_NICS_AT = 4;
const T209_NIC_SIZE = 8;

function decodePxeNics(r: RawStructure): HpePxeNics {
  const nics: HpeNic[] = [];
  for (let p = T209_NICS_AT; p + T209_NIC_SIZE <= r.length; p += T209_NIC_SIZE) {
    const n = T209_NIC.read(r.view, p);
    // bus/devfn 00/00 marks a disabled NIC, FF/FF one that is not installed.
    const state = n.devfn === 0 && n.bus === 0 ? 'disabled' : n.devfn === 0xff && n.bus === 0xff ? 'not-installed' : 'present';
    nics.push({ state, bus: n.bus, device: devOf(n.devfn), function: fnOf(n.devfn), mac: mac(n.mac) });
  }
  return { type: 209, handle: r.handle, length: r.length, offset: r.offset, name: HPE_TYPE_NAMES[209]!, nics };
}

function decodeVersionIndicator(r: RawStructure): HpeVersionIndicator {
  const f = T216.read(r.view, 0, r.length, r);
  return {
    type: 216,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: HPE_TYPE_NAMES[216]!,
    firmwareType: f.firmwareType,
    firmwareName: f.firmwareName,
    firmwareVersion: f.firmwareVersion,
    dataFormat: f.dataFormat,
    versionData: f.versionData === null ? null : hexBytes(f.versionData),
    uniqueId: f.uniqueId,
  };
}

/** Records of 0x28 bytes or less carry no port number. */
const T233_PORT_NUMBER_AFTER = 0x28;

function decodeNicMac(r: RawStructure): HpeNicMac {
  const f = T233.read(r.view, 0, r.length, r);
  const known = f.devfn !== null && f.bus !== null;
  return {
    type: 233,
    handle: r.handle,
    length: r.length,
    offset: r.offset,
    name: HPE_TYPE_NAMES[233]!,
    segment: known ? f.segment : null,
    bus: f.devfn === null ? null : f.bus,
    device: known ? devOf(f.devfn!) : null,
    function: known ? fnOf(f.devfn!) : null,
    mac: f.mac === null ? null : mac(f.mac),
    portNumber: r.length > T233_PORT_NUMBER_AFTER ? f.portNumber : null,
    devicePath: f.devicePath,
  };
}

const DECODERS: Record<number, (r: RawStructure) => SmbiosStructure> = {
  203: decodeDeviceCorrelation,
  209: decodePxeNics,
  216: decodeVersionIndicator,
  233: decodeNicMac,
};

/** An HPE record decoded, or null for a type that is not one of HPE's. */
export function decodeHpeOem(r: RawStructure): SmbiosStructure | null {
  return DECODERS[r.type]?.(r) ?? null;
}
