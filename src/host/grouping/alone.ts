/**
 * "Where would it be alone?": for each slot of the host, would a card placed there get an IOMMU
 * group of its own? A phantom card (one function without ACS; or two, like a GPU and its audio
 * function) replaces whatever sits behind the slot's port, and the grouping engine is run again.
 * On HPE ProLiant the answer is combined with the RMRR scopes (and whether RMRDS can lift them).
 * Pure: the Host in, data out.
 */
import { formGroups, type DeviceGrouping, type Grouping, type GroupingDevice } from './engine.js';
import { groupingInputs, overridePatchOf } from './index.js';
import { parseAcsParams } from './params.js';
import { iommuCoverage } from './coverage.js';
import { PCIE_DOWNSTREAM_PORT, PCIE_ENDPOINT, PCIE_ROOT_PORT } from './acs.js';
import { makeAddress } from '../address.js';
import { busKey } from '../topology.js';
import { scopePath } from '../../firmware/format.js';
import type { DeviceScope, Rmrr } from '../../firmware/acpi/dmar.js';
import type { Device, Host } from '../model.js';

type HostView = Pick<Host, 'devices' | 'kernel' | 'ivrs' | 'dmar' | 'cmdline' | 'byAddress' | 'smbios' | 'system' | 'sysfsSlots'> & Partial<Pick<Host, 'byBus'>>;

export type RmrrState = 'none' | 'excluded-by-rmrds-possible' | 'blocked' | 'unknown';

export interface CardResult {
  alone: boolean | 'unknown';
  /** The hop that fails, or the rule (quirk, ACS capability) that isolates. */
  reason: string;
  /** Endpoints now on this host that the card would share a group with. */
  sharesWith: string[];
  certain: boolean;
  uncertain: string[];
}

export interface SlotAlone extends CardResult {
  designation: string | null;
  physical: number | null;
  /** The port whose secondary bus the slot is on; null when not found. */
  port: string | null;
  /** How the slot was found: an SMBIOS type 9 record, a kernel slot object (/sys/bus/pci/slots), or a port's PCIe Slot Capabilities. */
  source: 'smbios' | 'kernel-slot' | 'pcie-slot-capability';
  /** Functions behind the port now (the card in the slot, if any). */
  occupants: string[];
  /** A two-function card without ACS (e.g. a GPU and its audio function). */
  multiFunctionCard: CardResult;
  rmrr: RmrrState;
  rmrrReason: string;
  /** RMRR scopes that reach behind this port, as "00:1c.4 / 00.0". */
  rmrrScopes: string[];
  /** The RMRDS_SlotN setting that lifts the RMRR (HPE Gen8/Gen9), when there is one. */
  rmrds: string | null;
  /** Alone and not held by an RMRR (or only by one RMRDS can lift). */
  usable: boolean | 'unknown';
}

/** Vendor ID 0xffff is what an empty slot reads as: no quirk table row can match the phantom card. */
const PHANTOM_VENDOR = 0xffff;
const PHANTOM_DEVICE = 0xffff;
/** Class codes of the phantom functions: a network controller; a VGA controller and an HD audio function. */
const CLASS_NETWORK = 0x020000;
const CLASS_VGA = 0x030000;
const CLASS_HDA = 0x040300;
/** RMRDS_Slot1 … RMRDS_Slot16 exist on Gen8 and Gen9 (hpe-rmrr.md §1.1). */
const RMRDS_FIRST_SLOT = 1;
const RMRDS_LAST_SLOT = 16;
const RMRDS_GENERATIONS = [8, 9];
/** DMAR device scope types: 2 = a bridge and everything below it. */
const SCOPE_SUBHIERARCHY = 2;

const portTypeOf = (d: Device | undefined) => (d?.config.pcie ? d.config.pcie.portType : undefined);
const isPort = (d: Device | undefined) => portTypeOf(d) === PCIE_ROOT_PORT || portTypeOf(d) === PCIE_DOWNSTREAM_PORT;

function below(host: HostView, port: string): Set<string> {
  const out = new Set<string>();
  const walk = (a: string) => {
    for (const c of host.byAddress.get(a)?.children ?? []) {
      out.add(c);
      walk(c);
    }
  };
  walk(port);
  return out;
}

/** The port a type 9 record's bus address points at: the port itself, or the bridge whose secondary bus it is. */
function portOfRecord(host: HostView, segment: number, bus: number, device: number, fn: number): string | null {
  const named = host.byAddress.get(makeAddress(segment, bus, device, fn));
  if (named && isPort(named)) return named.address;
  const bridge = host.devices.find((d) => d.pci.segment === segment && d.config.bridge?.secondary === bus);
  if (bridge) return bridge.address;
  return null;
}

function phantoms(port: Device, fns: number): GroupingDevice[] {
  const secondary = port.config.bridge!.secondary;
  const classes = fns === 1 ? [CLASS_NETWORK] : [CLASS_VGA, CLASS_HDA];
  return classes.map((classCode, fn) => ({
    address: makeAddress(port.pci.segment, secondary, 0, fn),
    pci: { segment: port.pci.segment, bus: secondary, device: 0, function: fn },
    vendor: PHANTOM_VENDOR,
    device: PHANTOM_DEVICE,
    subsystem: [null, null] as const,
    classCode,
    pcieType: PCIE_ENDPOINT,
    multifunctionBit: fns > 1,
    isVf: false,
    acs: null,
    isBridge: false,
    parent: port.address,
  }));
}

function reasonOf(dg: DeviceGrouping, g: Grouping, alone: boolean): string {
  const upstream = dg.hops.filter((h) => h.role === 'upstream');
  if (alone) {
    const top = upstream.find((h) => h.note === 'isolates up to the root') ?? upstream.at(-1);
    if (!top?.acs) return 'nothing above it shares its traffic';
    return `${top.address} isolates up to the root: ${top.acs.reason}${top.acs.quirk ? ` (kernel quirk ${top.acs.quirk.name}, ${top.acs.quirk.arrival})` : ''}`;
  }
  // The hops that fail, then why the group it lands in holds others: follow each isolation point's own placement.
  const parts = new Map<string, string>();
  const seen = new Set<string>();
  for (let x: DeviceGrouping | undefined = dg; x && !seen.has(x.address); x = g.byDevice.get(x.isolationPoint)) {
    seen.add(x.address);
    for (const h of x.hops) {
      if (h.role === 'alias-bridge') parts.set(h.address, `${h.address}: ${h.note}`);
      else if (h.note !== 'isolates up to the root') parts.set(h.address, `${h.address}: ${g.acsOf(h.address)?.reason ?? h.note}`);
    }
    if (x.how === 'function') parts.set(x.address, `${x.address}: ${x.acs.reason}, so it shares a group with its sibling functions`);
    if (x.how === 'dma-alias') parts.set(x.address, `${x.address} is a DMA alias of a device on its bus`);
    if (x.isolationPoint === x.address) {
      // Where the walk ends: the sibling functions that share its group without isolation.
      const me = x;
      const slot = me.address.slice(0, -1);
      const sibs = me.group.members.filter((m) => m !== me.address && m.slice(0, -1) === slot);
      if (sibs.length && !me.acs.isolated) parts.set(me.address, `${me.address}: ${me.acs.reason}, so it shares a group with its sibling functions ${sibs.join(', ')}`);
      break;
    }
  }
  return [...parts.values()].join('; ') || `${dg.isolationPoint} joins an existing group (${dg.how})`;
}

function simulateCard(host: HostView, port: Device, fns: number): CardResult {
  const remove = below(host, port.address);
  const cards = phantoms(port, fns);
  const cardAddrs = new Set(cards.map((c) => c.address));
  const coverage = iommuCoverage(host);
  const devices = [...groupingInputs(host.devices).filter((d) => !remove.has(d.address) && !cardAddrs.has(d.address)), ...cards];
  const g = formGroups(devices, {
    // A card behind the port is covered as the port is (a DRHD bridge scope or an IVHD range covers what is below).
    covered: (a) => coverage(host.byAddress.get(cardAddrs.has(a) ? port.address : a)!),
    kernel: host.kernel,
    params: parseAcsParams(host.cmdline),
    ivrs: host.ivrs,
    overridePatch: overridePatchOf(host),
  });
  const dg = g.byDevice.get(cards[0]!.address);
  if (!dg) return { alone: false, reason: `no IOMMU unit covers ${port.address}, so a card there would get no group at all`, sharesWith: [], certain: true, uncertain: [] };
  const sharesWith = dg.group.members.filter((m) => !cardAddrs.has(m) && !host.byAddress.get(m)?.isBridge);
  const alone = sharesWith.length === 0;
  return { alone, reason: reasonOf(dg, g, alone), sharesWith, certain: dg.group.certain, uncertain: dg.group.uncertain };
}

/** Does this RMRR scope reach behind the port (through it, at it as a sub-hierarchy, or above it as one)? */
function scopeReaches(host: HostView, scope: DeviceScope, segment: number, port: string, above: Set<string>): boolean {
  let bus = scope.startBus;
  for (let i = 0; i < scope.path.length; i++) {
    const { device, function: fn } = scope.path[i]!;
    const addr = makeAddress(segment, bus, device, fn);
    const last = i === scope.path.length - 1;
    if (last) return scope.type === SCOPE_SUBHIERARCHY && (addr === port || above.has(addr));
    if (addr === port) return true;
    const b = host.byAddress.get(addr)?.config.bridge;
    if (!b) return false;
    bus = b.secondary;
  }
  return false;
}

function rmrrOf(host: HostView, port: Device | null, physical: number | null, occupied: boolean): Pick<SlotAlone, 'rmrr' | 'rmrrReason' | 'rmrrScopes' | 'rmrds'> {
  const hpe = host.system?.isHpeProliant === true;
  const gen = host.system?.hpeGeneration ?? null;
  const rmrdsKnown = hpe && gen !== null;
  const rmrds = hpe && gen !== null && RMRDS_GENERATIONS.includes(gen) && physical !== null && physical >= RMRDS_FIRST_SLOT && physical <= RMRDS_LAST_SLOT ? `RMRDS_Slot${physical}` : null;
  const lift = rmrds ? ` unless ${rmrds} is set to Endpoints_Excluded (conrep; it takes effect at the next boot, and iLO loses its view of the slot)` : '';
  if (host.dmar === undefined && host.ivrs) return { rmrr: 'none', rmrrReason: 'an AMD IOMMU (IVRS): RMRRs are a VT-d (DMAR) matter', rmrrScopes: [], rmrds };
  if (host.dmar === undefined) return { rmrr: 'unknown', rmrrReason: 'the DMAR table was not read, so its RMRRs are unknown', rmrrScopes: [], rmrds };
  if (host.dmar === null) return { rmrr: 'none', rmrrReason: 'no DMAR table, so no RMRR', rmrrScopes: [], rmrds };
  if (!port) return { rmrr: 'unknown', rmrrReason: 'the slot\'s port is unknown, so which RMRR scopes reach it is unknown', rmrrScopes: [], rmrds };
  const above = new Set<string>();
  for (let p = port.parent; p; p = host.byAddress.get(p)?.parent) above.add(p);
  const scopes: string[] = [];
  for (const s of host.dmar.structures) {
    if (s.type !== 'RMRR') continue;
    for (const sc of (s as Rmrr).scopes) if (scopeReaches(host, sc, (s as Rmrr).segment, port.address, above)) scopes.push(scopePath(sc));
  }
  const uniq = [...new Set(scopes)];
  if (uniq.length) {
    const what = `RMRR scope${uniq.length > 1 ? 's' : ''} ${uniq.join(', ')} reach${uniq.length > 1 ? '' : 'es'} behind ${port.address}: the kernel refuses to assign what they name (USB and graphics excepted, Linux 5.3+)`;
    if (rmrds) return { rmrr: 'excluded-by-rmrds-possible', rmrrReason: `${what}${lift}`, rmrrScopes: uniq, rmrds };
    if (hpe && !rmrdsKnown) return { rmrr: 'unknown', rmrrReason: `${what}; the ProLiant generation is unknown, so whether RMRDS can lift it is unknown`, rmrrScopes: uniq, rmrds };
    return { rmrr: 'blocked', rmrrReason: `${what}; no RMRDS setting lifts it here`, rmrrScopes: uniq, rmrds };
  }
  if (hpe && !occupied) {
    // HPE firmware writes RMRR scopes at POST for the cards it finds; an empty slot's table says nothing of a future card.
    const base = 'no RMRR scope reaches behind the port now, but the slot is empty and HPE firmware adds scopes at POST for cards it finds in slots';
    if (rmrds) return { rmrr: 'excluded-by-rmrds-possible', rmrrReason: `${base}; ${rmrds}=Endpoints_Excluded keeps a card there out of them`, rmrrScopes: [], rmrds };
    return { rmrr: 'unknown', rmrrReason: `${base}, and no RMRDS setting is known for it`, rmrrScopes: [], rmrds };
  }
  return { rmrr: 'none', rmrrReason: 'no RMRR scope reaches behind the port', rmrrScopes: [], rmrds };
}

const unknownCard = (why: string): CardResult => ({ alone: 'unknown', reason: why, sharesWith: [], certain: false, uncertain: [why] });

export function whereAlone(host: HostView): SlotAlone[] {
  const out: SlotAlone[] = [];
  const seenPorts = new Set<string>();
  const slot = (designation: string | null, physical: number | null, port: Device | null, source: SlotAlone['source'], why: string): void => {
    if (port) seenPorts.add(port.address);
    const occupants = port ? [...below(host, port.address)].sort() : [];
    const single = port ? simulateCard(host, port, 1) : unknownCard(why);
    const multi = port ? simulateCard(host, port, 2) : unknownCard(why);
    const rm = rmrrOf(host, port, physical, occupants.length > 0);
    const usable = single.alone === false || rm.rmrr === 'blocked' ? false : single.alone === true && (rm.rmrr === 'none' || rm.rmrr === 'excluded-by-rmrds-possible') ? true : 'unknown';
    out.push({ designation, physical, port: port?.address ?? null, source, occupants, ...single, multiFunctionCard: multi, ...rm, usable });
  };
  for (const s of host.smbios?.slots ?? []) {
    // The record's Slot ID; only without one, the number in its designation ("PCI-E Slot 2").
    const n = /(\d+)/.exec(s.designation ?? '');
    const physical = s.id ?? (n ? Number(n[1]) : null);
    if (s.bus === null || s.segment === null) {
      slot(s.designation, physical, null, 'smbios', `SMBIOS type 9 "${s.designation ?? ''}" gives no bus address, so its port is unknown`);
      continue;
    }
    const addr = portOfRecord(host, s.segment, s.bus, s.device ?? 0, s.function ?? 0);
    const port = addr ? host.byAddress.get(addr)! : null;
    slot(s.designation, physical, port?.config.bridge ? port : null, 'smbios', `SMBIOS type 9 "${s.designation ?? ''}" names ${makeAddress(s.segment, s.bus, s.device ?? 0, s.function ?? 0)}, which is neither a port nor behind one on this host`);
  }
  // Kernel slot objects: "ssss:bb:dd" is the slot's bus, behind the port whose secondary bus it is.
  for (const k of host.sysfsSlots ?? []) {
    const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(k.address);
    if (!m) continue;
    const addr = portOfRecord(host, parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16), 0);
    if (!addr || seenPorts.has(addr)) continue;
    const n = /(\d+)/.exec(k.name);
    slot(k.name, n ? Number(n[1]) : null, host.byAddress.get(addr)!, 'kernel-slot', '');
  }
  // Ports whose Slot Capabilities say a slot is there, which no type 9 record described.
  for (const d of host.devices) {
    const p = d.config.pcie;
    // Physical Slot Number 0 is what links to onboard parts carry; it names no slot.
    if (!p?.slotImplemented || !p.physicalSlot || seenPorts.has(d.address) || !isPort(d) || !d.config.bridge) continue;
    slot(null, p.physicalSlot, d, 'pcie-slot-capability', '');
  }
  return out;
}

/**
 * For a device in a shared group: the other slots where a card like it would be alone — judged as
 * a two-function card without ACS when its slot holds more than one function, else as one function.
 * `slots` lets a caller asking for many devices compute whereAlone once.
 */
export function whereAloneFor(host: HostView, device: string, slots: SlotAlone[] = whereAlone(host)): SlotAlone[] {
  const d = host.byAddress.get(device);
  if (!d) return [];
  const onBus = host.byBus?.get(busKey(d.pci.segment, d.pci.bus)) ?? host.devices;
  const functions = onBus.filter((x) => x.pci.segment === d.pci.segment && x.pci.bus === d.pci.bus && x.pci.device === d.pci.device).length;
  return slots.filter((s) => s.port !== d.parent && (functions > 1 ? s.multiFunctionCard.alone === true : s.alone === true));
}
