/** HostFacts → Host: topology, groups, slots, RMRR/IVMD attribution. Pure. */
import { isHpeServer } from '../firmware/smbios/index.js';
import { formatAddress } from './address.js';
import { attributeIvmd, attributeRmrr, ivhdCoverage, requesterId, type ScopeNode } from './attribution.js';
import { className, isPciBridgeClass } from './classes.js';
import { parseKernelRelease } from './kernel.js';
import type { BarSize, Device, FunctionFacts, Host, HostFacts, ReservedRegion } from './model.js';
import { resolveSlot, type SlotContext, type SlotNode } from './slots.js';
import { ancestorsOf, buildTopology } from './topology.js';

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

export function buildHost(facts: HostFacts, names?: NameLookup): Host {
  const fns = [...facts.functions].sort((a, b) => (formatAddress(a.address) < formatAddress(b.address) ? -1 : 1));
  const addresses = fns.map((f) => formatAddress(f.address));
  const bridgeInfoComplete = fns.every((f) => !isPciBridgeClass(f.config.classCode) || f.config.bridge !== null);
  const topology = buildTopology(
    fns.map((f, i) => {
      const n = { address: addresses[i]!, pci: f.address, bridge: f.config.bridge };
      return f.sysfs?.ancestors !== undefined ? { ...n, ancestors: f.sysfs.ancestors } : n;
    }),
    bridgeInfoComplete,
  );

  // Groups: sysfs, else lspci's "IOMMU group" lines.
  let groups: Host['groups'];
  if (facts.iommuGroups) {
    groups = new Map(facts.iommuGroups.map((g) => [g.id, { devices: [...g.devices].sort(), reservedRegions: g.reservedRegions }]));
  } else if (fns.some((f) => f.lspci?.iommuGroup !== null && f.lspci?.iommuGroup !== undefined)) {
    groups = new Map();
    fns.forEach((f, i) => {
      const g = f.lspci?.iommuGroup;
      if (g === null || g === undefined) return;
      if (!groups!.has(g)) groups!.set(g, { devices: [], reservedRegions: undefined as ReservedRegion[] | undefined });
      groups!.get(g)!.devices.push(addresses[i]!);
    });
  }
  const groupOf = new Map<string, number>();
  for (const [id, g] of groups ?? []) for (const d of g.devices) groupOf.set(d, id);

  const scopeNodes = new Map<string, ScopeNode>(
    fns.map((f, i) => [addresses[i]!, { address: addresses[i]!, segment: f.address.segment, bus: f.address.bus, device: f.address.device, function: f.address.function, bridge: f.config.bridge }]),
  );
  const rmrr = facts.dmar ? attributeRmrr(facts.dmar, scopeNodes) : undefined;
  const ivmd = facts.ivrs ? attributeIvmd(facts.ivrs, scopeNodes) : undefined;

  const smbios = facts.smbios;
  const system = smbios === undefined ? undefined : smbios === null || !smbios.system ? null : {
    manufacturer: smbios.system.manufacturer,
    product: smbios.system.productName,
    isHpeProliant: isHpeServer(smbios.system),
    hpeGeneration: isHpeServer(smbios.system) ? hpeGeneration(smbios.system.productName) : null,
  };

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
    smbios,
    isHpeProliant: system?.isHpeProliant ?? false,
  };

  const devices: Device[] = fns.map((f, i) => {
    const address = addresses[i]!;
    const c = f.config;
    const looked = names?.(c.vendorId, c.deviceId);
    const vendorName = looked?.vendor ?? null;
    const deviceName = looked?.device ?? null;
    // pci.ids first, so a live host and its capture name devices alike; lspci's own words next.
    const idsName = vendorName && deviceName ? `${vendorName} ${deviceName}` : null;
    const name = idsName ?? (f.lspci?.description || (vendorName ? `${vendorName} Device ${c.deviceId.toString(16).padStart(4, '0')}` : `Device ${c.vendorId.toString(16).padStart(4, '0')}:${c.deviceId.toString(16).padStart(4, '0')}`));
    const lspciDriver = f.lspci ? (f.lspci.driver ?? (facts.functions.some((x) => x.lspci?.driver) ? null : undefined)) : undefined;
    const slot = resolveSlot(slotNodes.get(address)!, slotCtx);
    const sriov = f.sysfs?.sriovTotalVfs !== undefined && f.sysfs.sriovTotalVfs !== null
      ? { totalVfs: f.sysfs.sriovTotalVfs, numVfs: f.sysfs.sriovNumVfs ?? 0 }
      : c.sriov === undefined ? undefined : c.sriov === null ? null : { totalVfs: c.sriov.totalVfs, numVfs: c.sriov.numVfs };
    return {
      address,
      pci: f.address,
      config: c,
      configSource: f.configSource,
      vendorName,
      deviceName,
      name,
      classCode: c.classCode,
      className: f.lspci?.className && !/^Class$/.test(f.lspci.className) ? f.lspci.className : className(c.classCode),
      isBridge: isPciBridgeClass(c.classCode) || c.bridge !== null,
      isHostBridge: c.classCode >> 8 === 0x0600,
      driver: f.sysfs && 'driver' in f.sysfs ? f.sysfs.driver : lspciDriver,
      iommuGroup: f.sysfs && 'iommuGroup' in f.sysfs ? f.sysfs.iommuGroup : groups ? (groupOf.get(address) ?? null) : undefined,
      resetMethods: f.sysfs?.resetMethods,
      bootVga: f.sysfs?.bootVga,
      bars: barsOf(f),
      parent: topology.parent.get(address),
      children: topology.children.get(address) ?? [],
      slot: slot ? { physical: slot.physical, designation: slot.designation, hpeRmrdsSlot: slot.hpeRmrdsSlot, sources: slot.sources, port: slot.port, embedded: slot.embedded } : null,
      rmrr: rmrr?.hits.get(address) ?? [],
      ivmd: ivmd?.get(address) ?? [],
      ivrsEntries: facts.ivrs ? ivhdCoverage(facts.ivrs, requesterId(f.address.bus, f.address.device, f.address.function)) : 0,
      netInterfaces: f.sysfs?.netInterfaces,
      isVirtualFunction: !!f.sysfs?.physfn,
      sriov,
    };
  });

  const notes = [...facts.notes];
  // What is unknown, whichever source left it so.
  if (facts.functions.length > 0 && groups === undefined) notes.push({ code: 'GROUPS_UNKNOWN', message: 'IOMMU group membership is unknown (not in the capture; lspci 3.6+ prints "IOMMU group" lines, `assignable collect` records them)' });
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
  return {
    origin: facts.origin,
    notes,
    system,
    kernel: facts.kernelRelease ? parseKernelRelease(facts.kernelRelease) : undefined,
    cmdline: facts.cmdline,
    dmesg: facts.dmesg,
    dmar: facts.dmar,
    ivrs: facts.ivrs,
    smbios,
    groups,
    devices,
    byAddress: new Map(devices.map((d) => [d.address, d])),
    bootDiskFunctions: facts.bootDiskFunctions,
    defaultRouteFunctions: facts.defaultRouteFunctions,
    sysfsSlots: facts.sysfsSlots,
  };
}
