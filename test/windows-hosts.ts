/**
 * Test helper: Windows probe captures (docs/windows-probe.md) of simulated hosts, assembled from
 * real data — nothing here has been produced by a real Windows Server.
 *
 *  - gen8(): the real HP ProLiant DL380e Gen8 (CB05571909C8) as Windows would publish it: its
 *    PCI functions, ids, classes, bus numbers and tree from its real `lspci -vvnn`; DeviceType,
 *    InterruptSupport and the ACS register from that lspci's capabilities; its real DMAR plus one
 *    RMRR naming a card in PCIe slot 2 (bus 09, behind root port 00:03.2 — the slot's bus address
 *    in the real dmidecode), as HPE Gen8 firmware names slot cards until RMRDS excludes them;
 *    SMBIOS rebuilt as an RSMB blob from the real dmidecode's type 1 and type 9 values.
 *    RequiresReservedMemoryRegion is true exactly for the functions the real DMAR's RMRRs name
 *    (logs/hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt, worked out by hand) and
 *    for the card.
 *  - kept-pcie-control: the same host with NativePciExpressControl false on its root bus: every
 *    PCIe function then shows DeviceType 5 (13 for bridges) and no ACS keys (pci.sys writes them
 *    only for functions it runs as native PCIe, 15-pciprop-devpkeys.json).
 */
import { parseAcpiTable } from '../src/firmware/acpi/table.js';
import type { PciConfig } from '../src/firmware/pci/config.js';
import { configFromLspci, parseLspci, type LspciFunction } from '../src/firmware/pci/lspci-text.js';
import { fixtureBytes, fixtureText } from './helpers.js';

export const CARD_BUS = 0x09;
/** The card: an LSI SAS2008 HBA (the ids of the real card in test/fix-host.ts). */
const CARD = { vendor: 0x1000, device: 0x0072, subsys: '30801000', rev: 0x03, class: 0x010700 };
/** Root port 00:03.2, whose secondary bus 09 is "PCI-E Slot 2" in the real SMBIOS. */
const SLOT2_PORT = [3, 2] as const;

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');

function checksum(b: Uint8Array, at: number): void {
  b[at] = 0;
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  b[at] = (0x100 - s) & 0xff;
}

/** The real DL380e DMAR with one more RMRR (the 8 KiB 0x7df83000 range of its own) naming 00:03.2 / 00.0. */
export function gen8Dmar(withCard = true): Uint8Array {
  const real = fixtureBytes('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat');
  parseAcpiTable(real, 'DMAR');
  if (!withCard) return real;
  const path = [[...SLOT2_PORT], [0, 0]];
  const scope = [1, 6 + 2 * path.length, 0, 0, 0, 0, ...path.flat()];
  const rmrr = [1, 0, 24 + scope.length, 0, 0, 0, 0, 0];
  const le64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  rmrr.push(...le64(0x7df83000n), ...le64(0x7df84fffn), ...scope);
  const b = Uint8Array.from([...real, ...rmrr]);
  new DataView(b.buffer).setUint32(4, b.length, true);
  checksum(b, 9);
  return b;
}

/** SMBIOS 2.7 as GetSystemFirmwareTable('RSMB') returns it, from the real dmidecode's values. */
export function gen8Rsmb(): Uint8Array {
  const text = fixtureText('smbios', 'hp-proliant-dl380e-gen8-cb0557.dmidecode.txt');
  const manufacturer = /System Information\n\tManufacturer: (.+)\n\tProduct Name: (.+)/.exec(text)!;
  const structs: number[] = [];
  const t1 = [1, 0x1b, 0x00, 0x01, 1, 2, 0, 0, ...new Array(16).fill(0), 6, 0, 0];
  structs.push(...t1, ...Buffer.from(`${manufacturer[1]!.trim()}\0${manufacturer[2]!.trim()}\0\0`, 'latin1'));
  let handle = 0x0900;
  for (const m of text.matchAll(/System Slot Information\n\tDesignation: (.+)\n[\s\S]*?Bus Address: ([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])/g)) {
    const id = /Designation: .+\n[\s\S]*?\tID: (\d+)\n[\s\S]*?Bus Address/.exec(m[0]);
    const seg = parseInt(m[2]!, 16);
    const t9 = [9, 0x11, handle & 0xff, handle >> 8, 1, 0xa5, 0x0b, 0x03, 0x04, id ? Number(id[1]) : 0, 0, 0x02, 0x01, seg & 0xff, seg >> 8, parseInt(m[3]!, 16), (parseInt(m[4]!, 16) << 3) | Number(m[5])];
    structs.push(...t9, ...Buffer.from(`${m[1]!.trim()}\0\0`, 'latin1'));
    handle++;
  }
  structs.push(127, 4, 0xff, 0xff, 0, 0);
  const header = [0, 2, 7, 0, ...[0, 8, 16, 24].map((s) => (structs.length >> s) & 0xff)];
  return Uint8Array.from([...header, ...structs]);
}

/** Functions the real DMAR's RMRRs name, from the hand-worked resolution (the oracle for RequiresReservedMemoryRegion). */
export function gen8RmrrNamed(): Set<string> {
  const t = fixtureText('logs', 'hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt');
  return new Set([...t.matchAll(/-> 0000:([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])/g)].map((m) => m[1]!));
}

/** pci.sys DeviceType for a PCIe port type (PCIe Device/Port Type → 15-pciprop-devpkeys.json pid 1). */
function deviceType(c: PciConfig, keptControl: boolean): number {
  const bridge = c.bridge !== null || c.classCode >> 8 === 0x0604;
  if (!c.pcie) return bridge ? 6 : 0;
  if (keptControl) return bridge ? 13 : 5;
  return ({ 0: 2, 1: 3, 4: 8, 5: 9, 6: 10, 7: 11, 8: 12, 9: 4, 10: 14 } as Record<number, number>)[c.pcie.portType] ?? 2;
}

interface Fn {
  bus: number;
  device: number;
  fn: number;
  vendor: number;
  devId: number;
  subsys: string;
  rev: number;
  classCode: number;
  config: PciConfig | null;
  lspci: LspciFunction | null;
  parent: string | null;
}

const key = (b: number, d: number, f: number) => `${hex(b, 2).toLowerCase()}:${hex(d, 2).toLowerCase()}.${f}`;

export interface SimOptions {
  keptPcieControl?: boolean;
  /** 5.1 quirks: single-element arrays as scalars, enums as numbers, UInt64 as numbers. */
  ps51Quirks?: boolean;
  /** Leave firmware tables out, as when Add-Type is blocked (SMBIOS then still via CIM). */
  addTypeBlocked?: boolean;
  vms?: unknown[];
  assignableDevices?: unknown[];
}

export function gen8Probe(o: SimOptions = {}): Record<string, unknown> {
  const cap = parseLspci(fixtureText('pci', 'hpe', 'hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt'));
  const named = gen8RmrrNamed();
  const fns: Fn[] = [];
  for (const f of cap.functions) {
    const c = configFromLspci(f);
    const sub = f.subsystem ? /\[([0-9a-f]{4}):([0-9a-f]{4})\]/.exec(f.subsystem) : null;
    fns.push({ bus: f.address.bus, device: f.address.device, fn: f.address.function, vendor: f.vendorId!, devId: f.deviceId!, subsys: sub ? `${sub[2]}${sub[1]}`.toUpperCase() : '00000000', rev: f.revision ?? 0, classCode: c.classCode, config: c, lspci: f, parent: null });
  }
  fns.push({ bus: CARD_BUS, device: 0, fn: 0, vendor: CARD.vendor, devId: CARD.device, subsys: CARD.subsys, rev: CARD.rev, classCode: CARD.class, config: null, lspci: null, parent: null });
  // Parents from the bridges' secondary buses; buses no bridge leads to are root buses.
  const bridgeFor = new Map<number, Fn>();
  for (const f of fns) if (f.lspci?.bus) bridgeFor.set(f.lspci.bus.secondary, f);
  for (const f of fns) {
    const b = bridgeFor.get(f.bus);
    f.parent = b ? key(b.bus, b.device, b.fn) : null;
  }
  const byKey = new Map(fns.map((f) => [key(f.bus, f.device, f.fn), f]));
  const rootOf = (f: Fn): number => {
    let c = f;
    while (c.parent) c = byKey.get(c.parent)!;
    return c.bus;
  };
  const idOf = (f: Fn): string => {
    // The devfn bytes leaf-first in the last field (windows-dda.md §3): a consistency check only.
    const chain: Fn[] = [];
    for (let c: Fn | undefined = f; c; c = c.parent ? byKey.get(c.parent) : undefined) chain.push(c);
    const suffix = chain.map((c) => hex((c.device << 3) | c.fn, 2)).join('');
    // The middle field differs per root bus, as Windows' parent-id prefix does.
    return `PCI\\VEN_${hex(f.vendor, 4)}&DEV_${hex(f.devId, 4)}&SUBSYS_${f.subsys}&REV_${hex(f.rev, 2)}\\3&${hex(0x2411e6fe + rootOf(f), 8)}&0&${suffix}`;
  };
  const pathOf = (f: Fn): string => {
    const chain: Fn[] = [];
    for (let c: Fn | undefined = f; c; c = c.parent ? byKey.get(c.parent) : undefined) chain.unshift(c);
    return `PCIROOT(${hex(rootOf(f), 1)})` + chain.map((c) => `#PCI(${hex(c.device, 2)}${hex(c.fn, 2)})`).join('');
  };
  const rootBuses = [...new Set(fns.map(rootOf))];
  const rootId = (bus: number) => `ACPI\\PNP0A08\\${rootBuses.indexOf(bus)}`;
  const kept = o.keptPcieControl === true;
  const q = o.ps51Quirks === true;
  const list = (xs: string[]) => (q && xs.length === 1 ? xs[0] : xs);
  const wrap = (xs: string[]) => (q ? { value: xs, Count: xs.length } : xs);
  const pciDevices = fns.map((f) => {
    const c = f.config;
    const k = key(f.bus, f.device, f.fn);
    const isCard = f.lspci === null;
    const msi = c ? c.msi !== null && c.msi !== undefined : true;
    const msix = c ? c.msix !== null && c.msix !== undefined : true;
    const line = c ? c.interruptPin > 0 : true;
    const props: Record<string, unknown> = {
      DEVPKEY_Device_Parent: f.parent ? idOf(byKey.get(f.parent)!) : rootId(f.bus),
      DEVPKEY_Device_LocationPaths: list([pathOf(f)]),
      DEVPKEY_Device_HardwareIds: list([`PCI\\VEN_${hex(f.vendor, 4)}&DEV_${hex(f.devId, 4)}&SUBSYS_${f.subsys}&REV_${hex(f.rev, 2)}`]),
      // 5.1 hands some arrays back wrapped as {"value":[…],"Count":n}.
      DEVPKEY_Device_CompatibleIds: wrap([`PCI\\VEN_${hex(f.vendor, 4)}&DEV_${hex(f.devId, 4)}&REV_${hex(f.rev, 2)}`, `PCI\\CC_${hex(f.classCode, 6)}`]),
      DEVPKEY_Device_BusNumber: f.bus,
      DEVPKEY_Device_Address: (f.device << 16) | f.fn,
      DEVPKEY_PciDevice_DeviceType: isCard ? (kept ? 5 : 2) : deviceType(c!, kept),
      DEVPKEY_PciDevice_BaseClass: f.classCode >> 16,
      DEVPKEY_PciDevice_SubClass: (f.classCode >> 8) & 0xff,
      DEVPKEY_PciDevice_ProgIf: f.classCode & 0xff,
      DEVPKEY_PciDevice_RequiresReservedMemoryRegion: isCard || named.has(k),
    };
    const isBridge = c ? c.bridge !== null : false;
    if (!isBridge) props.DEVPKEY_PciDevice_InterruptSupport = (line ? 1 : 0) | (msi ? 2 : 0) | (msix ? 4 : 0);
    const express = isCard || (c?.pcie !== null && c?.pcie !== undefined);
    if (express && !kept) {
      const acs = c?.acs ? c.acs.capabilityRaw : 0;
      props.DEVPKEY_PciDevice_AcsCapabilityRegister = acs;
      props.DEVPKEY_PciDevice_AcsSupport = acs !== 0 ? 0 : 2;
      props.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = 3;
    } else {
      // Type Empty: pci.sys does not write the ACS keys for functions it does not run as native PCIe.
      props.DEVPKEY_PciDevice_AcsCapabilityRegister = null;
      props.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = null;
    }
    const ranges = isCard
      ? [{ start: '4160749568', end: '4160815103' }, { start: '4160684032', end: '4160700415' }]
      : (f.lspci?.regions ?? []).filter((r) => r.kind === 'memory' && r.address !== null && r.size !== null).map((r) => ({ start: String(r.address), end: String(r.address! + r.size! - 1n) }));
    return {
      instanceId: idOf(f),
      present: true,
      status: 'OK',
      class: 'System',
      friendlyName: isCard ? 'LSI Adapter, SAS2 2008 Falcon -StorPort' : f.lspci!.description,
      properties: props,
      memoryRanges: q && ranges.length === 1 ? ranges[0] : ranges,
    };
  });
  const doc: Record<string, unknown> = {
    schema: 'assignable/windows-probe/v1',
    probe: { version: '0.1.0', startedAt: '2026-11-27T10:00:00.0000000Z', finishedAt: '2026-11-27T10:00:09.0000000Z', elevated: true },
    powershell: q ? { edition: 'Desktop', version: '5.1.17763.5576', languageMode: 'FullLanguage' } : { edition: 'Core', version: '7.4.6', languageMode: 'FullLanguage' },
    os: { caption: 'Microsoft Windows Server 2019 Standard', version: '10.0.17763', buildNumber: '17763', productType: 3, editionId: 'ServerStandard', installationType: 'Server' },
    computerSystem: { manufacturer: 'HP', model: 'ProLiant DL380e Gen8' },
    firmwareTables: o.addTypeBlocked
      ? { smbios: { via: 'MSSmBios_RawSMBiosTables', base64: Buffer.from(gen8Rsmb()).toString('base64') } }
      : {
          dmar: { via: 'GetSystemFirmwareTable', base64: Buffer.from(gen8Dmar()).toString('base64') },
          ivrs: null,
          smbios: { via: 'GetSystemFirmwareTable', base64: Buffer.from(gen8Rsmb()).toString('base64') },
        },
    pciDevices,
    rootBuses: rootBuses.map((b) => ({
      instanceId: rootId(b),
      properties: { DEVPKEY_Device_BusNumber: b, DEVPKEY_PciRootBus_NativePciExpressControl: !kept, DEVPKEY_PciRootBus_SystemMsiSupport: true },
    })),
    hyperV: {
      vmms: { status: 'Running', startType: 'Automatic' },
      feature: { via: 'Get-WindowsFeature', name: 'Hyper-V', state: 'Installed' },
      module: true,
      vmHost: kept
        ? { iovSupport: false, iovSupportReasons: list(['To use SR-IOV on this system, the system BIOS must be updated to allow Windows to control PCI Express. Contact your system manufacturer for an update.']) }
        : { iovSupport: true, iovSupportReasons: [] },
      assignableDevices: o.assignableDevices ?? [],
      vms: o.vms ?? [],
    },
    errors: o.addTypeBlocked ? [{ step: 'firmwareTables.dmar', target: 'DMAR', message: 'Cannot add type. Definition of new types is not supported in this language mode.', errorId: 'CannotDefineNewType' }] : [],
  };
  return doc;
}
