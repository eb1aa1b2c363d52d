/** HostFacts → Host: topology, groups, slots, RMRR/IVMD attribution. Pure. */
import { isHpeServer } from '../firmware/smbios/index.js';
import { formatAddress, hex4 } from './address.js';
import { attributeIvmd, attributeRmrr, type ScopeNode } from './attribution.js';
import { className, isPciBridgeClass } from './classes.js';
import { predictGroups } from './grouping/index.js';
import { parseKernelRelease } from './kernel.js';
import { locationPathOf } from './location-path.js';
import type { BarSize, Device, FunctionFacts, Host, HostFacts, HostNote, ReservedRegion } from './model.js';
import { resolveSlot, type SlotContext, type SlotNode } from './slots.js';
import { ancestorsOf, buildTopology, busKey } from './topology.js';

/** Class 06 00: host bridge. */
const HOST_BRIDGE_CLASS = 0x0600;

export type NameLookup = (vendorId: number, deviceId: number) => { vendor: string | null; device: string | null };

function hpeGeneration(product: string | null): number | null {
  if (!product) return null;
  const m = /\bGen(\d+)/.exec(product) ?? /\bG(\d+)\b/.exec(product);
  return m ? Number(m[1]) : null;
}

function barsOf(f: FunctionFacts): BarSize[] | undefined {
  if (f.sysfs?.bars) return f.sysfs.bars;
  if (f.lspci && f.lspci.regions.length > 0) {
    return f.lspci.regions.filter((r) => r.size !== null).map((r) => ({ index: r.index, kind: r.kind, is64: r.is64, prefetchable: r.prefetchable, size: r.size! }));
  }
  if (f.lspci) return [];
  return undefined;
}

type Groups = Host['groups'];

/** Groups: sysfs, else lspci's "IOMMU group" lines; undefined when neither says. */
function groupsOf(facts: HostFacts, fns: FunctionFacts[], addresses: string[]): Groups {
  if (facts.iommuGroups) {
    return new Map(facts.iommuGroups.map((g) => [g.id, { devices: [...g.devices].sort(), reservedRegions: g.reservedRegions }]));
  }
  if (!fns.some((f) => f.lspci?.iommuGroup !== null && f.lspci?.iommuGroup !== undefined)) return undefined;
  const groups: NonNullable<Groups> = new Map();
  fns.forEach((f, i) => {
    const g = f.lspci?.iommuGroup;
    if (g === null || g === undefined) return;
    if (!groups.has(g)) groups.set(g, { devices: [], reservedRegions: undefined as ReservedRegion[] | undefined });
    groups.get(g)!.devices.push(addresses[i]!);
  });
  return groups;
}

function systemOf(smbios: HostFacts['smbios']): Host['system'] {
  if (smbios === undefined) return undefined;
  if (smbios === null || !smbios.system) return null;
  const hpe = isHpeServer(smbios.system);
  return { manufacturer: smbios.system.manufacturer, product: smbios.system.productName, isHpeProliant: hpe, hpeGeneration: hpe ? hpeGeneration(smbios.system.productName) : null };
}

/** What one function is, with everything the host knows about it. */
interface DeviceContext {
  facts: HostFacts;
  names: NameLookup | undefined;
  topology: ReturnType<typeof buildTopology>;
  groups: Groups;
  groupOf: Map<string, number>;
  slotNodes: Map<string, SlotNode>;
  slotCtx: SlotContext;
  rmrr: ReturnType<typeof attributeRmrr> | undefined;
  ivmd: ReturnType<typeof attributeIvmd> | undefined;
  anyLspciDriver: boolean;
  pci: Map<string, FunctionFacts['address']>;
}

function deviceName(f: FunctionFacts, vendorName: string | null, deviceName: string | null): string {
  const c = f.config;
  // pci.ids first, so a live host and its capture name devices alike; lspci's own words next.
  if (vendorName && deviceName) return `${vendorName} ${deviceName}`;
  if (f.lspci?.description) return f.lspci.description;
  // Windows' friendly name (SurveyDDA prints no ids at all).
  if (f.windows?.name && (!vendorName || f.configSource === 'surveydda')) return f.windows.name;
  return vendorName ? `${vendorName} Device ${hex4(c.deviceId)}` : `Device ${hex4(c.vendorId)}:${hex4(c.deviceId)}`;
}

function sriovOf(f: FunctionFacts): Device['sriov'] {
  if (f.sysfs?.sriovTotalVfs !== undefined && f.sysfs.sriovTotalVfs !== null) return { totalVfs: f.sysfs.sriovTotalVfs, numVfs: f.sysfs.sriovNumVfs ?? 0 };
  const c = f.config.sriov;
  return c === undefined ? undefined : c === null ? null : { totalVfs: c.totalVfs, numVfs: c.numVfs };
}

function buildDevice(f: FunctionFacts, address: string, x: DeviceContext): Device {
  const c = f.config;
  const looked = x.names?.(c.vendorId, c.deviceId);
  const vendorName = looked?.vendor ?? null;
  const devName = looked?.device ?? null;
  const lspciDriver = f.lspci ? (f.lspci.driver ?? (x.anyLspciDriver ? null : undefined)) : undefined;
  const slot = resolveSlot(x.slotNodes.get(address)!, x.slotCtx);
  return {
    address,
    pci: f.address,
    config: c,
    configSource: f.configSource,
    name: deviceName(f, vendorName, devName),
    classCode: c.classCode,
    className: f.lspci?.className && !/^Class$/.test(f.lspci.className) ? f.lspci.className : className(c.classCode),
    isBridge: isPciBridgeClass(c.classCode) || c.bridge !== null,
    isHostBridge: c.classCode >> 8 === HOST_BRIDGE_CLASS,
    driver: f.sysfs && 'driver' in f.sysfs ? f.sysfs.driver : lspciDriver,
    iommuGroup: f.sysfs && 'iommuGroup' in f.sysfs ? f.sysfs.iommuGroup : x.groups ? (x.groupOf.get(address) ?? null) : undefined,
    resetMethods: f.sysfs?.resetMethods,
    bootVga: f.sysfs?.bootVga,
    bars: barsOf(f),
    parent: x.topology.parent.get(address),
    children: x.topology.children.get(address) ?? [],
    slot: slot ? { physical: slot.physical, designation: slot.designation, hpeRmrdsSlot: slot.hpeRmrdsSlot, sources: slot.sources, port: slot.port, embedded: slot.embedded } : null,
    // An unread DMAR is not "no RMRR": unknown stays undefined.
    rmrr: x.rmrr ? (x.rmrr.hits.get(address) ?? []) : x.facts.dmar === null ? [] : undefined,
    ivmd: x.ivmd?.get(address) ?? [],
    netInterfaces: f.sysfs?.netInterfaces,
    isVirtualFunction: f.sysfs?.physfn === undefined ? undefined : f.sysfs.physfn !== null,
    sriov: sriovOf(f),
    windows: f.windows,
    locationPath: locationPathFor(f, address, x),
  };
}

/** Windows' own path when it gave one; else derived from the topology (root bus → device). */
function locationPathFor(f: FunctionFacts, address: string, x: DeviceContext): Device['locationPath'] {
  if (f.windows?.locationPath) return { path: f.windows.locationPath, source: 'windows', reason: null };
  if (x.topology.parent.get(address) === undefined) return { path: null, source: null, reason: 'the PCI topology above it is unknown' };
  const up = ancestorsOf(x.topology, address);
  const top = up.length > 0 ? up[up.length - 1]! : address;
  if (x.topology.parent.get(top) !== null) return { path: null, source: null, reason: 'the PCI topology above it is unknown' };
  const chain = [...up].reverse().map((a) => x.pci.get(a)!).filter(Boolean);
  const r = locationPathOf([...chain, f.address]);
  return { path: r.path, source: r.path ? 'derived' : null, reason: r.reason };
}

/** What is unknown, whichever source left it so. */
function notesOf(facts: HostFacts, groups: Groups, rmrr: DeviceContext['rmrr']): HostNote[] {
  const notes = [...facts.notes];
  if (facts.functions.length > 0 && groups === undefined) notes.push({ code: 'GROUPS_UNKNOWN', message: 'the kernel\'s IOMMU groups are not in the capture: the groups shown are predicted from config space as Linux forms them (lspci 3.6+ run as root prints "IOMMU group" lines, `assignable collect` records them)' });
  if (facts.dmar === undefined && facts.ivrs === undefined) notes.push({ code: 'IOMMU_TABLES_UNKNOWN', message: 'the ACPI DMAR/IVRS tables are unknown: RMRR and IVMD reservations could not be checked (give --acpidump or --dmar, or run as root)' });
  if (facts.smbios === undefined) notes.push({ code: 'SMBIOS_UNKNOWN', message: 'SMBIOS is unknown: slot numbers and onboard records from it are missing (give --dmidecode, or run as root)' });
  if (facts.kernelRelease === undefined) notes.push({ code: 'KERNEL_UNKNOWN', message: 'the kernel version is unknown: the RMRR rule and message are predicted for a current kernel (give --kernel, or a dmesg with its "Linux version" line)' });
  // One note per scope that names nothing here, however many RMRRs repeat it.
  const unresolved = new Map<string, number[]>();
  for (const u of rmrr?.unresolved ?? []) {
    const k = `${u.scope}\u0000${u.problem}`;
    unresolved.set(k, [...(unresolved.get(k) ?? []), u.structure]);
  }
  for (const [k, structures] of unresolved) {
    const [scope, problem] = k.split('\u0000');
    notes.push({ code: 'RMRR_SCOPE_UNRESOLVED', message: `DMAR RMRR structure${structures.length > 1 ? 's' : ''} ${structures.join(', ')} name${structures.length > 1 ? '' : 's'} ${scope}: ${problem}` });
  }
  return notes;
}

/** Devices grouped by bus, in the order given (address order). */
function busIndex(devices: Device[]): Map<string, Device[]> {
  const out = new Map<string, Device[]>();
  for (const d of devices) {
    const k = busKey(d.pci.segment, d.pci.bus);
    const list = out.get(k);
    if (list) list.push(d);
    else out.set(k, [d]);
  }
  return out;
}

export function buildHost(facts: HostFacts, names?: NameLookup): Host {
  // Each address formatted once, not twice per comparison.
  const keyed = facts.functions.map((f) => ({ f, address: formatAddress(f.address) })).sort((a, b) => (a.address < b.address ? -1 : 1));
  const fns = keyed.map((k) => k.f);
  const addresses = keyed.map((k) => k.address);
  const bridgeInfoComplete = fns.every((f) => !isPciBridgeClass(f.config.classCode) || f.config.bridge !== null);
  const topology = buildTopology(
    fns.map((f, i) => {
      const n = { address: addresses[i]!, pci: f.address, bridge: f.config.bridge };
      return f.sysfs?.ancestors !== undefined ? { ...n, ancestors: f.sysfs.ancestors } : n;
    }),
    bridgeInfoComplete,
  );
  const groups = groupsOf(facts, fns, addresses);
  const groupOf = new Map<string, number>();
  for (const [id, g] of groups ?? []) for (const d of g.devices) groupOf.set(d, id);

  const scopeNodes = new Map<string, ScopeNode>(
    fns.map((f, i) => [addresses[i]!, { address: addresses[i]!, segment: f.address.segment, bus: f.address.bus, device: f.address.device, function: f.address.function, bridge: f.config.bridge }]),
  );
  const rmrr = facts.dmar ? attributeRmrr(facts.dmar, scopeNodes) : undefined;
  const ivmd = facts.ivrs ? attributeIvmd(facts.ivrs, scopeNodes) : undefined;
  const system = systemOf(facts.smbios);

  const slotNodes = new Map<string, SlotNode>(
    fns.map((f, i) => [addresses[i]!, { address: addresses[i]!, pci: f.address, bridge: f.config.bridge, portSlot: f.config.pcie?.slotImplemented ? f.config.pcie.physicalSlot : null }]),
  );
  const byAddrFacts = new Map(fns.map((f, i) => [addresses[i]!, f]));
  const slotCtx: SlotContext = {
    nodes: slotNodes,
    ancestors: (a) => ancestorsOf(topology, a),
    bridgeForBus: (seg, bus) => topology.bridgeForBus.get(`${seg}:${bus}`),
    sysfsSlots: facts.sysfsSlots,
    lspciSlot: (a) => byAddrFacts.get(a)?.lspci?.physicalSlot,
    smbios: facts.smbios,
    isHpeProliant: system?.isHpeProliant ?? false,
  };
  const ctx: DeviceContext = { facts, names, topology, groups, groupOf, slotNodes, slotCtx, rmrr, ivmd, anyLspciDriver: facts.functions.some((x) => x.lspci?.driver), pci: new Map(fns.map((f, i) => [addresses[i]!, f.address])) };
  const devices = fns.map((f, i) => buildDevice(f, addresses[i]!, ctx));
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const kernel = facts.kernelRelease ? parseKernelRelease(facts.kernelRelease) : undefined;
  const predicted = predictGroups({ devices, kernel, ivrs: facts.ivrs, dmar: facts.dmar, cmdline: facts.cmdline, byAddress });

  return {
    origin: facts.origin,
    notes: notesOf(facts, groups, rmrr),
    system,
    kernel,
    cmdline: facts.cmdline,
    dmesg: facts.dmesg,
    dmar: facts.dmar,
    ivrs: facts.ivrs,
    smbios: facts.smbios,
    groups,
    predicted,
    devices,
    byAddress,
    byBus: busIndex(devices),
    bootDiskFunctions: facts.bootDiskFunctions,
    bootDiskEvidence: facts.bootDiskEvidence ?? [],
    // Whichever source left it unknown, the reason reads the same.
    bootDiskUnknown: facts.bootDiskUnknown ?? (facts.bootDiskFunctions === undefined ? 'the mount table (/proc/mounts) was not read' : undefined),
    defaultRouteFunctions: facts.defaultRouteFunctions,
    sysfsSlots: facts.sysfsSlots,
    vfioAllowUnsafeInterrupts: facts.vfioAllowUnsafeInterrupts,
    kernelConfig: facts.kernelConfig,
    bootloader: facts.bootloader,
    windows: facts.windows,
    configFiles: facts.configFiles,
    cpuFlags: facts.cpuFlags,
    kvm: facts.kvm,
    vfioModules: facts.vfioModules,
  };
}
