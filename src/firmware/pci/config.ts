/**
 * PCI configuration space (PCI Local Bus 3.0 ch. 6, PCI Express Base ch. 7): the header,
 * BAR types, bridge bus numbers, and the capability chains — what passthrough depends on
 * (PM, MSI, MSI-X, PCI Express incl. FLR and port type, ACS, ATS, SR-IOV, ARI, AER).
 * Pure and bounds-checked. Bytes may be 64 (non-root sysfs, lspci -x), 256 or 4096 long:
 * what lies beyond them is reported as unknown (undefined), never as absent.
 */
import { ByteView } from '../bytes.js';
import { struct, u16, u32, u8 } from '../struct.js';

const HEADER = struct('PCI Header', {
  vendorId: u16(0x00, 'Vendor ID'),
  deviceId: u16(0x02, 'Device ID'),
  command: u16(0x04, 'Command'),
  status: u16(0x06, 'Status'),
  revision: u8(0x08, 'Revision ID'),
  progIf: u8(0x09, 'Programming Interface'),
  subClass: u8(0x0a, 'Sub Class'),
  baseClass: u8(0x0b, 'Base Class'),
  headerType: u8(0x0e, 'Header Type'),
  interruptPin: u8(0x3d, 'Interrupt Pin'),
});
const TYPE0 = struct('PCI Type 0 Header', {
  subsystemVendorId: u16(0x2c, 'Subsystem Vendor ID'),
  subsystemId: u16(0x2e, 'Subsystem ID'),
  capabilitiesPointer: u8(0x34, 'Capabilities Pointer'),
});
const TYPE1 = struct('PCI Type 1 Header', {
  primaryBus: u8(0x18, 'Primary Bus Number'),
  secondaryBus: u8(0x19, 'Secondary Bus Number'),
  subordinateBus: u8(0x1a, 'Subordinate Bus Number'),
  capabilitiesPointer: u8(0x34, 'Capabilities Pointer'),
  bridgeControl: u16(0x3e, 'Bridge Control'),
});
const TYPE2 = struct('PCI Type 2 (CardBus) Header', {
  capabilitiesPointer: u8(0x14, 'Capabilities Pointer'),
  primaryBus: u8(0x18, 'PCI Bus Number'),
  secondaryBus: u8(0x19, 'CardBus Bus Number'),
  subordinateBus: u8(0x1a, 'Subordinate Bus Number'),
});

export const CAP_NAMES: Record<number, string> = {
  0x01: 'Power Management',
  0x02: 'AGP',
  0x03: 'Vital Product Data',
  0x04: 'Slot Identification',
  0x05: 'MSI',
  0x06: 'CompactPCI Hot Swap',
  0x07: 'PCI-X',
  0x08: 'HyperTransport',
  0x09: 'Vendor Specific',
  0x0a: 'Debug Port',
  0x0b: 'CompactPCI Central Resource Control',
  0x0c: 'PCI Hot-Plug',
  0x0d: 'Bridge Subsystem Vendor ID',
  0x0e: 'AGP 8x',
  0x0f: 'Secure Device',
  0x10: 'PCI Express',
  0x11: 'MSI-X',
  0x12: 'SATA Data/Index Configuration',
  0x13: 'Advanced Features',
  0x14: 'Enhanced Allocation',
  0x15: 'Flattening Portal Bridge',
};
export const ECAP_NAMES: Record<number, string> = {
  0x0001: 'Advanced Error Reporting',
  0x0002: 'Virtual Channel',
  0x0003: 'Device Serial Number',
  0x0004: 'Power Budgeting',
  0x0005: 'Root Complex Link Declaration',
  0x0006: 'Root Complex Internal Link Control',
  0x0007: 'Root Complex Event Collector Endpoint Association',
  0x0008: 'Multi-Function Virtual Channel',
  0x0009: 'Virtual Channel',
  0x000a: 'RCRB Header',
  0x000b: 'Vendor-Specific Extended',
  0x000c: 'Configuration Access Correlation',
  0x000d: 'Access Control Services',
  0x000e: 'Alternative Routing-ID Interpretation',
  0x000f: 'Address Translation Services',
  0x0010: 'Single Root I/O Virtualization',
  0x0011: 'Multi-Root I/O Virtualization',
  0x0012: 'Multicast',
  0x0013: 'Page Request Interface',
  0x0015: 'Resizable BAR',
  0x0016: 'Dynamic Power Allocation',
  0x0017: 'TPH Requester',
  0x0018: 'Latency Tolerance Reporting',
  0x0019: 'Secondary PCI Express',
  0x001a: 'Protocol Multiplexing',
  0x001b: 'Process Address Space ID',
  0x001c: 'LN Requester',
  0x001d: 'Downstream Port Containment',
  0x001e: 'L1 PM Substates',
  0x001f: 'Precision Time Measurement',
  0x0020: 'PCI Express over M-PHY',
  0x0021: 'FRS Queueing',
  0x0022: 'Readiness Time Reporting',
  0x0023: 'Designated Vendor-Specific',
  0x0024: 'VF Resizable BAR',
  0x0025: 'Data Link Feature',
  0x0026: 'Physical Layer 16.0 GT/s',
  0x0027: 'Lane Margining at the Receiver',
  0x0028: 'Hierarchy ID',
  0x0029: 'Native PCIe Enclosure Management',
  0x002a: 'Physical Layer 32.0 GT/s',
  0x002b: 'Alternate Protocol',
  0x002c: 'System Firmware Intermediary',
  0x002d: 'Shadow Functions',
  0x002e: 'Data Object Exchange',
  0x002f: 'Device 3',
  0x0030: 'Integrity and Data Encryption',
  0x0031: 'Physical Layer 64.0 GT/s',
  0x0032: 'Flit Logging',
  0x0033: 'Flit Performance Measurement',
  0x0034: 'Flit Error Injection',
};

/** PCI Express Capabilities register, Device/Port Type (bits 7:4). */
export const PORT_TYPES: Record<number, string> = {
  0x0: 'Endpoint',
  0x1: 'Legacy Endpoint',
  0x4: 'Root Port',
  0x5: 'Upstream Port',
  0x6: 'Downstream Port',
  0x7: 'PCI Express to PCI/PCI-X Bridge',
  0x8: 'PCI/PCI-X to PCI Express Bridge',
  0x9: 'Root Complex Integrated Endpoint',
  0xa: 'Root Complex Event Collector',
};

/** ACS Capability/Control bits (PCIe Base §7.7.11), in lspci's short names. */
export const ACS_BITS = ['SrcValid', 'TransBlk', 'ReqRedir', 'CmpltRedir', 'UpstreamFwd', 'EgressCtrl', 'DirectTrans'] as const;
export type AcsBit = (typeof ACS_BITS)[number];

export interface CapabilityEntry {
  offset: number;
  id: number;
  version?: number;
  extended: boolean;
  name: string;
}

export interface Bar {
  index: number;
  kind: 'memory' | 'io';
  is64: boolean;
  prefetchable: boolean;
  /** Base address as programmed (sizes are not in a config dump: they come from sysfs or lspci). */
  address: bigint;
}

export interface PmCap {
  version: number;
  /** PMCSR No_Soft_Reset: set means D3hot→D0 does NOT reset the function, so no PM reset. */
  noSoftReset: boolean;
  powerState: number;
}
export interface MsiCap {
  enabled: boolean;
  vectors: number;
  is64: boolean;
  maskable: boolean;
}
export interface MsixCap {
  enabled: boolean;
  tableSize: number;
  tableBar: number;
  pbaBar: number;
}
export interface PcieCap {
  version: number;
  portType: number;
  portTypeName: string;
  slotImplemented: boolean;
  /** DevCap Function Level Reset capable. */
  flr: boolean;
  /** SltCap physical slot number (only when slotImplemented). */
  physicalSlot: number | null;
  hotPlugCapable: boolean | null;
  /** DevCap2 ARI Forwarding Supported (downstream ports). */
  ariForwarding: boolean | null;
}
export interface AcsCap {
  capability: AcsBit[];
  control: AcsBit[];
  capabilityRaw: number;
  controlRaw: number;
}
export interface SriovCap {
  totalVfs: number;
  numVfs: number;
  initialVfs: number;
  vfEnabled: boolean;
  vfOffset: number;
  vfStride: number;
  vfDeviceId: number;
}
export interface AtsCap {
  enabled: boolean;
}
export interface AriCap {
  nextFunction: number;
}

/**
 * undefined: not known (the bytes that would hold it were not read).
 * null: known to be absent.
 */
export interface PciConfig {
  bytesAvailable: number;
  vendorId: number;
  deviceId: number;
  command: number;
  status: number;
  revision: number;
  /** 24-bit class code: base << 16 | sub << 8 | prog-if. */
  classCode: number;
  headerType: number;
  multifunction: boolean;
  interruptPin: number;
  subsystemVendorId: number | null;
  subsystemId: number | null;
  bars: Bar[];
  bridge: { primary: number; secondary: number; subordinate: number } | null;
  capabilities: CapabilityEntry[] | undefined;
  extendedCapabilities: CapabilityEntry[] | undefined;
  /** A capability chain that loops, or points out of range; decoding stopped there. */
  chainProblems: string[];
  pm: PmCap | null | undefined;
  msi: MsiCap | null | undefined;
  msix: MsixCap | null | undefined;
  pcie: PcieCap | null | undefined;
  acs: AcsCap | null | undefined;
  ari: AriCap | null | undefined;
  ats: AtsCap | null | undefined;
  sriov: SriovCap | null | undefined;
  aer: boolean | undefined;
  /**
   * Intel ICH/PCH LPC bridge (device 31 function 0): the Root Complex Base Address register.
   * Linux's PCH ACS quirk needs its enable bit; only present when the bytes reach offset 0xF0.
   */
  lpcRcba?: number;
}

const LABEL = 'PCI config';

function bitsOf(v: number): AcsBit[] {
  return ACS_BITS.filter((_, i) => (v & (1 << i)) !== 0);
}

/** BAR low dword (PCI 3.0 §6.2.5.1): bit 0 I/O space; memory type in bits 2:1, prefetchable bit 3. */
const BAR_IO_SPACE = 0x1;
const BAR_IO_ADDRESS_MASK = 0xfffffffc;
const BAR_MEM_TYPE_SHIFT = 1;
const BAR_MEM_TYPE_MASK = 0x3;
const BAR_MEM_TYPE_64 = 0x2;
const BAR_MEM_PREFETCH = 0x8;
const BAR_MEM_ADDRESS_MASK = 0xfffffff0;

/** JS bitwise operators yield signed 32-bit ints: `>>> 0` keeps an address with bit 31 set positive. */
const unsigned = (n: number) => BigInt(n >>> 0);

function readBars(v: ByteView, count: number): Bar[] {
  const bars: Bar[] = [];
  for (let i = 0; i < count; i++) {
    const off = 0x10 + 4 * i;
    const lo = v.u32(off, `BAR ${i}`);
    if (lo === 0) continue;
    if (lo & BAR_IO_SPACE) {
      bars.push({ index: i, kind: 'io', is64: false, prefetchable: false, address: unsigned(lo & BAR_IO_ADDRESS_MASK) });
      continue;
    }
    const type = (lo >> BAR_MEM_TYPE_SHIFT) & BAR_MEM_TYPE_MASK;
    const prefetchable = (lo & BAR_MEM_PREFETCH) !== 0;
    const base = unsigned(lo & BAR_MEM_ADDRESS_MASK);
    if (type === BAR_MEM_TYPE_64 && i + 1 < count) {
      const hi = v.u32(off + 4, `BAR ${i + 1} (upper half)`);
      bars.push({ index: i, kind: 'memory', is64: true, prefetchable, address: (unsigned(hi) << 32n) | base });
      i++;
    } else {
      bars.push({ index: i, kind: 'memory', is64: false, prefetchable, address: base });
    }
  }
  return bars;
}

/**
 * A function whose config bytes were not read, from what another source said of its header
 * (sysfs id files, Windows PnP ids, SurveyDDA's class): every capability stays unknown.
 */
export function headerOnlyConfig(h: {
  vendorId: number;
  deviceId: number;
  classCode: number;
  headerType: number;
  revision?: number;
  subsystemVendorId?: number | null;
  subsystemId?: number | null;
}): PciConfig {
  return {
    bytesAvailable: 0,
    vendorId: h.vendorId,
    deviceId: h.deviceId,
    command: 0,
    status: 0,
    revision: h.revision ?? 0,
    classCode: h.classCode,
    headerType: h.headerType,
    multifunction: false,
    interruptPin: 0,
    subsystemVendorId: h.subsystemVendorId ?? null,
    subsystemId: h.subsystemId ?? null,
    bars: [],
    bridge: null,
    ...capabilitiesUnread(),
  };
}

/** The capability fields before they are read: undefined means unknown, not absent. */
export function capabilitiesUnread(): Pick<PciConfig, 'capabilities' | 'extendedCapabilities' | 'chainProblems' | 'pm' | 'msi' | 'msix' | 'pcie' | 'acs' | 'ari' | 'ats' | 'sriov' | 'aer'> {
  return {
    capabilities: undefined,
    extendedCapabilities: undefined,
    chainProblems: [],
    pm: undefined,
    msi: undefined,
    msix: undefined,
    pcie: undefined,
    acs: undefined,
    ari: undefined,
    ats: undefined,
    sriov: undefined,
    aer: undefined,
  };
}

const INTEL_VENDOR = 0x8086;
/** Class 06 01: ISA bridge, which is what the LPC controller reports. */
const ISA_BRIDGE_CLASS = 0x0601;
/** LPC controller's RCBA register offset (Intel PCH datasheets, D31:F0 F0h). */
const INTEL_LPC_RCBA = 0xf0;

export function decodePciConfig(bytes: Uint8Array): PciConfig {
  const v = new ByteView(bytes, LABEL);
  const h = HEADER.read(v, 0);
  const headerType = h.headerType & 0x7f;
  const hasCaps = (h.status & 0x10) !== 0;
  let capPtr = 0;
  let subsystemVendorId: number | null = null;
  let subsystemId: number | null = null;
  let bridge: PciConfig['bridge'] = null;
  let bars: Bar[] = [];
  if (headerType === 0) {
    const t = TYPE0.read(v, 0);
    capPtr = t.capabilitiesPointer;
    subsystemVendorId = t.subsystemVendorId;
    subsystemId = t.subsystemId;
    bars = readBars(v, 6);
  } else if (headerType === 1) {
    const t = TYPE1.read(v, 0);
    capPtr = t.capabilitiesPointer;
    bridge = { primary: t.primaryBus, secondary: t.secondaryBus, subordinate: t.subordinateBus };
    bars = readBars(v, 2);
  } else if (headerType === 2) {
    const t = TYPE2.read(v, 0);
    capPtr = t.capabilitiesPointer;
    bridge = { primary: t.primaryBus, secondary: t.secondaryBus, subordinate: t.subordinateBus };
    // The CardBus socket / ExCA registers: the one BAR of a type 2 header.
    bars = readBars(v, 1);
  }
  const cfg: PciConfig = {
    bytesAvailable: bytes.length,
    vendorId: h.vendorId,
    deviceId: h.deviceId,
    command: h.command,
    status: h.status,
    revision: h.revision,
    classCode: (h.baseClass << 16) | (h.subClass << 8) | h.progIf,
    headerType,
    multifunction: (h.headerType & 0x80) !== 0,
    interruptPin: h.interruptPin,
    subsystemVendorId,
    subsystemId,
    bars,
    bridge,
    ...capabilitiesUnread(),
  };
  // Standard capabilities live in 0x40..0xff: only known if we have 256 bytes.
  if (bytes.length >= 256) {
    cfg.capabilities = [];
    cfg.pm = cfg.msi = cfg.msix = cfg.pcie = null;
    if (hasCaps) walkCapabilities(v, capPtr, cfg);
  } else if (!hasCaps) {
    cfg.capabilities = [];
    cfg.pm = cfg.msi = cfg.msix = cfg.pcie = null;
    cfg.extendedCapabilities = [];
    cfg.acs = cfg.ari = cfg.ats = cfg.sriov = null;
    cfg.aer = false;
  }
  // Extended capabilities need the 4 KiB PCIe space, and a PCIe function.
  if (bytes.length >= 4096 && cfg.capabilities !== undefined) {
    cfg.extendedCapabilities = [];
    cfg.acs = cfg.ari = cfg.ats = cfg.sriov = null;
    cfg.aer = false;
    if (cfg.pcie) walkExtended(v, cfg);
  } else if (cfg.capabilities !== undefined && cfg.pcie === null) {
    // Conventional PCI functions have no extended space at all.
    cfg.extendedCapabilities = [];
    cfg.acs = cfg.ari = cfg.ats = cfg.sriov = null;
    cfg.aer = false;
  }
  if (h.vendorId === INTEL_VENDOR && cfg.classCode >> 8 === ISA_BRIDGE_CLASS && bytes.length >= INTEL_LPC_RCBA + 4) {
    cfg.lpcRcba = v.u32(INTEL_LPC_RCBA, 'LPC RCBA');
  }
  return cfg;
}

function walkCapabilities(v: ByteView, start: number, cfg: PciConfig): void {
  const seen = new Set<number>();
  let at = start & 0xfc;
  while (at !== 0) {
    if (at < 0x40 || at > 0xfc) {
      cfg.chainProblems.push(`capability pointer 0x${at.toString(16)} is outside 0x40-0xff`);
      return;
    }
    if (seen.has(at)) {
      cfg.chainProblems.push(`capability chain loops back to 0x${at.toString(16)}`);
      return;
    }
    seen.add(at);
    const id = v.u8(at, 'Capability ID');
    const next = v.u8(at + 1, 'Next Capability Pointer') & 0xfc;
    cfg.capabilities!.push({ offset: at, id, extended: false, name: CAP_NAMES[id] ?? `Capability 0x${id.toString(16)}` });
    const room = 0x100 - at;
    if (id === 0x01 && room >= 8) {
      const pmc = v.u16(at + 2, 'PMC');
      const pmcsr = v.u16(at + 4, 'PMCSR');
      cfg.pm = { version: pmc & 7, noSoftReset: (pmcsr & 0x8) !== 0, powerState: pmcsr & 3 };
    } else if (id === 0x05 && room >= 4) {
      const ctl = v.u16(at + 2, 'MSI Message Control');
      cfg.msi = { enabled: (ctl & 1) !== 0, vectors: 1 << ((ctl >> 1) & 7), is64: (ctl & 0x80) !== 0, maskable: (ctl & 0x100) !== 0 };
    } else if (id === 0x11 && room >= 12) {
      const ctl = v.u16(at + 2, 'MSI-X Message Control');
      cfg.msix = { enabled: (ctl & 0x8000) !== 0, tableSize: (ctl & 0x7ff) + 1, tableBar: v.u32(at + 4, 'MSI-X Table') & 7, pbaBar: v.u32(at + 8, 'MSI-X PBA') & 7 };
    } else if (id === 0x10 && room >= 8) {
      cfg.pcie = readPcie(v, at, room);
    }
    at = next;
  }
}

function readPcie(v: ByteView, at: number, room: number): PcieCap {
  const caps = v.u16(at + 2, 'PCI Express Capabilities');
  const version = caps & 0xf;
  const portType = (caps >> 4) & 0xf;
  const slotImplemented = (caps & 0x100) !== 0;
  const devCap = v.u32(at + 4, 'Device Capabilities');
  const has = (off: number, size: number) => off + size <= room;
  const sltCap = slotImplemented && has(0x14, 4) ? v.u32(at + 0x14, 'Slot Capabilities') : null;
  // DevCap2 exists from capability version 2 on.
  const devCap2 = version >= 2 && has(0x24, 4) ? v.u32(at + 0x24, 'Device Capabilities 2') : null;
  return {
    version,
    portType,
    portTypeName: PORT_TYPES[portType] ?? `type ${portType}`,
    slotImplemented,
    flr: (devCap & (1 << 28)) !== 0,
    physicalSlot: sltCap === null ? null : sltCap >>> 19,
    hotPlugCapable: sltCap === null ? null : (sltCap & 0x40) !== 0,
    // ARI Forwarding is defined for Root Ports and Downstream Ports only.
    ariForwarding: devCap2 === null || (portType !== 4 && portType !== 6) ? null : (devCap2 & 0x20) !== 0,
  };
}

function walkExtended(v: ByteView, cfg: PciConfig): void {
  const seen = new Set<number>();
  let at = 0x100;
  for (;;) {
    const hdr = v.u32(at, 'Extended Capability Header');
    if (hdr === 0 || hdr === 0xffffffff) return;
    if (seen.has(at)) {
      cfg.chainProblems.push(`extended capability chain loops back to 0x${at.toString(16)}`);
      return;
    }
    seen.add(at);
    const id = hdr & 0xffff;
    const version = (hdr >>> 16) & 0xf;
    const next = (hdr >>> 20) & 0xffc;
    cfg.extendedCapabilities!.push({ offset: at, id, version, extended: true, name: ECAP_NAMES[id] ?? `Extended Capability 0x${id.toString(16)}` });
    const room = 0x1000 - at;
    if (id === 0x0001) cfg.aer = true;
    else if (id === 0x000d && room >= 8) {
      const c = v.u16(at + 4, 'ACS Capability');
      const k = v.u16(at + 6, 'ACS Control');
      cfg.acs = { capability: bitsOf(c), control: bitsOf(k), capabilityRaw: c, controlRaw: k };
    } else if (id === 0x000e && room >= 8) {
      cfg.ari = { nextFunction: (v.u16(at + 4, 'ARI Capability') >> 8) & 0xff };
    } else if (id === 0x000f && room >= 8) {
      cfg.ats = { enabled: (v.u16(at + 6, 'ATS Control') & 0x8000) !== 0 };
    } else if (id === 0x0010 && room >= 0x1c) {
      const ctl = v.u16(at + 8, 'SR-IOV Control');
      cfg.sriov = {
        vfEnabled: (ctl & 1) !== 0,
        initialVfs: v.u16(at + 0x0c, 'InitialVFs'),
        totalVfs: v.u16(at + 0x0e, 'TotalVFs'),
        numVfs: v.u16(at + 0x10, 'NumVFs'),
        vfOffset: v.u16(at + 0x14, 'First VF Offset'),
        vfStride: v.u16(at + 0x16, 'VF Stride'),
        vfDeviceId: v.u16(at + 0x1a, 'VF Device ID'),
      };
    }
    if (next === 0) return;
    if (next < 0x100) {
      cfg.chainProblems.push(`extended capability at 0x${at.toString(16)} points to 0x${next.toString(16)}, below 0x100`);
      return;
    }
    at = next;
  }
}
