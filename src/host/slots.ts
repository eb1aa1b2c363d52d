/**
 * Physical slot of a PCI function, from every source that can tell, most direct first:
 *  1. the kernel's slot objects (/sys/bus/pci/slots, which lspci prints as "Physical Slot"),
 *  2. HPE type 203 device correlation records (BDF, or their UEFI device path walked like
 *     a DMAR scope), whose structured names say PCI.Slot.N or Emb/LOM/FlexLOM,
 *  3. SMBIOS type 9: a slot's bus address is usually the *downstream bus* of its port,
 *     so we walk up from the function to the bridge whose secondary bus it is,
 *  4. PCIe Slot Capabilities of the port above (Physical Slot Number),
 * and SMBIOS type 41 (onboard devices) to say "embedded, no slot".
 */
import type { Smbios } from '../firmware/smbios/index.js';
import type { HpeDeviceCorrelation, OnboardDevice, SystemSlot } from '../firmware/smbios/types.js';
import { deviceKey, makeAddress } from './address.js';
import type { PciAddress, SlotInfo } from './model.js';

export interface SlotNode {
  address: string;
  pci: PciAddress;
  bridge: { secondary: number; subordinate: number } | null;
  /** PCIe Slot Capabilities of this function when it is a slot-implementing port. */
  portSlot: number | null;
}

export interface SlotContext {
  nodes: Map<string, SlotNode>;
  /** Nearest first. */
  ancestors: (address: string) => string[];
  bridgeForBus: (segment: number, bus: number) => string | undefined;
  sysfsSlots: Array<{ name: string; address: string }> | undefined;
  lspciSlot: (address: string) => string | null | undefined;
  smbios: Smbios | null | undefined;
  isHpeProliant: boolean;
}

function firstNumber(s: string): number | null {
  const m = /(\d+)/.exec(s);
  return m ? Number(m[1]) : null;
}

/** HPE structured names: "PCI.Slot.2.1", "NIC.Slot.7.2", "Storage.Slot.3.1" → 2, 7, 3; embedded kinds → null. */
export function slotFromStructuredName(name: string | null): { slot: number | null; embedded: boolean } | null {
  if (!name) return null;
  const m = /^[A-Za-z]+\.Slot\.(\d+)\b/.exec(name);
  if (m) return { slot: Number(m[1]), embedded: false };
  if (/\.(Emb|LOM|FlexLOM|OCP)\b/.test(name) || /^(Emb|LOM)\b/.test(name)) return { slot: null, embedded: true };
  return null;
}

/** Walk a UEFI device path "PciRoot(0x0)/Pci(0x2,0x0)/Pci(0x0,0x0)" down the host's bridges. */
export function resolveUefiPath(path: string | null, ctx: SlotContext): string | null {
  if (!path) return null;
  const root = /^PciRoot\((0x[0-9a-fA-F]+|\d+)\)/.exec(path);
  // Only the first root bridge maps to bus 0 with confidence; other _UIDs are firmware-specific.
  if (!root || Number(root[1]) !== 0) return null;
  const hops = [...path.matchAll(/Pci\((0x[0-9a-fA-F]+|\d+),(0x[0-9a-fA-F]+|\d+)\)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  if (hops.length === 0) return null;
  let bus = 0;
  let addr: string | null = null;
  for (let i = 0; i < hops.length; i++) {
    addr = makeAddress(0, bus, hops[i]![0], hops[i]![1]);
    if (i === hops.length - 1) break;
    const n = ctx.nodes.get(addr);
    if (!n?.bridge) return null;
    bus = n.bridge.secondary;
  }
  return addr;
}

/**
 * What the SMBIOS records say, indexed once per host (every function is matched against every
 * record): HPE type 203 records by bus address and by the function their UEFI path leads to,
 * and each type 9 record's bus address.
 */
interface SmbiosIndex {
  hpeByAddress: Map<string, HpeDeviceCorrelation[]>;
  hpeByPath: Array<[HpeDeviceCorrelation, string]>;
  slotAddress: Map<SystemSlot, string>;
  /** Type 41 records by their function's address and by its bus:device, the first in record order. */
  onboardByAddress: Map<string, OnboardDevice>;
  onboardByDevice: Map<string, OnboardDevice>;
}
const smbiosIndexes = new WeakMap<SlotContext, SmbiosIndex>();

function smbiosIndex(s: Smbios, ctx: SlotContext): SmbiosIndex {
  let ix = smbiosIndexes.get(ctx);
  if (ix) return ix;
  ix = { hpeByAddress: new Map(), hpeByPath: [], slotAddress: new Map(), onboardByAddress: new Map(), onboardByDevice: new Map() };
  for (const c of s.hpeDeviceCorrelation) {
    if (c.bus !== null) {
      const a = makeAddress(c.segment!, c.bus, c.device!, c.function!);
      const list = ix.hpeByAddress.get(a);
      if (list) list.push(c);
      else ix.hpeByAddress.set(a, [c]);
    }
    const target = resolveUefiPath(c.devicePath, ctx);
    if (target !== null) ix.hpeByPath.push([c, target]);
  }
  for (const slot of s.slots) if (slot.bus !== null) ix.slotAddress.set(slot, makeAddress(slot.segment!, slot.bus, slot.device!, slot.function!));
  for (const o of s.onboardDevices) {
    if (o.bus === null) continue;
    const a = makeAddress(o.segment!, o.bus, o.device!, o.function!);
    if (!ix.onboardByAddress.has(a)) ix.onboardByAddress.set(a, o);
    const k = deviceKey({ segment: o.segment!, bus: o.bus, device: o.device!, function: 0 });
    if (!ix.onboardByDevice.has(k)) ix.onboardByDevice.set(k, o);
  }
  smbiosIndexes.set(ctx, ix);
  return ix;
}

/** `chain`: the function and its ancestors, nearest first. */
function type9Matches(slot: SystemSlot, slotAddr: string | undefined, node: SlotNode, chain: readonly string[], ctx: SlotContext): number | null {
  if (slot.bus === null || slotAddr === undefined) return null;
  for (let i = 0; i < chain.length; i++) {
    const a = chain[i]!;
    const n = ctx.nodes.get(a);
    if (!n) continue;
    // The slot record names this function (any function of it) or a port above it.
    if (a === slotAddr || (i === 0 && n.pci.segment === slot.segment && n.pci.bus === slot.bus && n.pci.device === slot.device)) return i;
    // The slot record names the downstream bus of a port, and we are below that port.
    if (i > 0 && n.bridge && n.pci.segment === slot.segment && n.bridge.secondary === slot.bus) return i;
  }
  // Topology unknown: a function on the slot's bus, at device 0, is in it.
  if (chain.length === 1 && node.pci.segment === slot.segment && node.pci.bus === slot.bus && slot.device === 0 && !ctx.bridgeForBus(slot.segment!, slot.bus)) return 0;
  return null;
}

export function resolveSlot(node: SlotNode, ctx: SlotContext): SlotInfo | null {
  const sources: string[] = [];
  let physical: number | null = null;
  let designation: string | null = null;
  let embedded = false;
  let port: string | null = null;

  // 1. Kernel slot objects (sysfs) and lspci's "Physical Slot" (the same data).
  const key = deviceKey(node.pci);
  const sys = ctx.sysfsSlots?.find((s) => s.address === key || s.address === key.slice(0, 7));
  if (sys) {
    physical = firstNumber(sys.name);
    sources.push(`kernel slot "${sys.name}" (/sys/bus/pci/slots/${sys.name}/address = ${sys.address})`);
  } else {
    const l = ctx.lspciSlot(node.address);
    if (l) {
      physical = firstNumber(l);
      sources.push(`lspci: Physical Slot: ${l}`);
    }
  }

  const s = ctx.smbios;
  const ix = s ? smbiosIndex(s, ctx) : null;
  const chain = [node.address, ...ctx.ancestors(node.address)];
  // 2. HPE device correlation records.
  if (s && ix && ctx.isHpeProliant) {
    const byBdf = ix.hpeByAddress.get(node.address) ?? [];
    // In record order, as the records list them: the first that leads to the function or a port above it.
    const candidates: HpeDeviceCorrelation[] = byBdf.length > 0 ? byBdf : ix.hpeByPath.filter(([, target]) => chain.includes(target)).map(([c]) => c);
    const rec = candidates[0];
    if (rec) {
      const parsed = slotFromStructuredName(rec.structuredName);
      const how = byBdf.length > 0 ? 'its bus address' : `its UEFI path ${rec.devicePath}`;
      sources.push(`HPE type 203 record 0x${rec.handle.toString(16).padStart(4, '0')} "${rec.structuredName ?? ''}" (${rec.deviceLocation ?? '?'}; matched by ${how})`);
      if (parsed?.slot !== null && parsed?.slot !== undefined) physical ??= parsed.slot;
      if (parsed?.embedded || rec.deviceLocationCode === 1 || rec.deviceLocationCode === 9 || rec.deviceLocationCode === 8) embedded = physical === null;
      if (rec.uefiLocation && !designation) designation = rec.uefiLocation;
    }
  }

  // 3. SMBIOS type 9, nearest matching slot.
  if (s && ix) {
    let best: { slot: SystemSlot; depth: number } | null = null;
    for (const slot of s.slots) {
      const depth = type9Matches(slot, ix.slotAddress.get(slot), node, chain, ctx);
      if (depth !== null && (best === null || depth < best.depth)) best = { slot, depth };
    }
    if (best) {
      const sl = best.slot;
      designation = sl.designation ?? designation;
      const n = sl.id !== null && sl.id > 0 ? sl.id : firstNumber(sl.designation ?? '');
      if (physical === null) physical = n;
      else if (n !== null && n !== physical) sources.push(`(SMBIOS says slot ${n}: sources disagree)`);
      embedded = false;
      const via = best.depth === 0 ? 'the function itself' : `port ${ctx.ancestors(node.address)[best.depth - 1]}`;
      port = best.depth === 0 ? null : ctx.ancestors(node.address)[best.depth - 1]!;
      sources.push(`SMBIOS type 9 "${sl.designation ?? ''}" ID ${sl.id ?? '-'}, bus address ${makeAddress(sl.segment!, sl.bus!, sl.device!, sl.function!)} (matched via ${via})`);
    }
  }

  // 4. PCIe Slot Capabilities of the port above, nearest the root.
  const ports = ctx.ancestors(node.address).map((a) => ctx.nodes.get(a)).filter((n): n is SlotNode => !!n && n.portSlot !== null && n.portSlot > 0);
  const top = ports.at(-1);
  if (top) {
    if (physical === null) {
      physical = top.portSlot;
      port = top.address;
    }
    sources.push(`PCIe Slot Capabilities of port ${top.address}: Physical Slot Number ${top.portSlot}`);
  }

  // Onboard device records say "embedded" when nothing says slot.
  if (s && ix && physical === null) {
    const ob: OnboardDevice | undefined = ix.onboardByAddress.get(node.address) ?? ix.onboardByDevice.get(key);
    if (ob) {
      embedded = true;
      designation ??= ob.referenceDesignation;
      sources.push(`SMBIOS type 41 onboard device "${ob.referenceDesignation ?? ''}" (${ob.deviceType ?? '?'})`);
    }
  }

  if (sources.length === 0) return null;
  return {
    physical: embedded ? null : physical,
    designation,
    hpeRmrdsSlot: ctx.isHpeProliant && !embedded && physical !== null && physical >= 1 && physical <= 16 ? `RMRDS_Slot${physical}` : null,
    sources,
    port,
    embedded,
  };
}
