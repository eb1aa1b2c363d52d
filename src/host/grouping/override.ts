/**
 * What the ACS knobs would do to one device's IOMMU group: the out-of-tree `pcie_acs_override=`
 * patch (downstream, multifunction, id:VVVV:DDDD) and upstream `pci=config_acs=` (Linux 6.11+).
 * Every answer comes from re-running the grouping engine with the parameter added — never from
 * re-deriving ACS here — and an option that leaves the device's group as it is is never offered.
 * Pure: the Host in, data out (the checks and reports word it).
 */
import { formGroups, type Grouping, type Hop } from './engine.js';
import { groupingInputs, overridePatchOf } from './index.js';
import { parseAcsParams, parseOverride, type AcsParams } from './params.js';
import { iommuCoverage } from './coverage.js';
import { PCIE_DOWNSTREAM_PORT, PCIE_ENDPOINT, PCIE_LEGACY_ENDPOINT, PCIE_RCIEP, PCIE_ROOT_PORT, PCIE_UPSTREAM_PORT } from './acs.js';
import { REQ_ACS_FLAGS } from './acs-bits.js';
import type { Device, Host } from '../model.js';
import { hex4 } from '../address.js';

export type Availability = 'yes' | 'no' | 'unknown';

type HostView = Pick<Host, 'devices' | 'kernel' | 'ivrs' | 'dmar' | 'cmdline' | 'byAddress'>;

export interface FailingHop {
  address: string;
  /** alias: a PCI/PCI-X bridge whose requester ID the device DMAs with; upstream: a bridge whose ACS fails; self/function: the device or a sibling function without isolation. */
  role: 'alias' | 'upstream' | 'self' | 'function';
  /** The kernel's reason (engine). */
  reason: string;
  /** ACS capability: true present, false absent, undefined not captured. */
  hasAcs: boolean | undefined;
}

export interface OverrideOption {
  kind: 'config_acs' | 'id' | 'multifunction' | 'downstream' | 'downstream,multifunction';
  /** What to add to the kernel command line. */
  param: string;
  /** Needs the out-of-tree pcie_acs_override patch (Proxmox VE, zen/liquorix kernels). */
  needsPatch: boolean;
  /** Can the kernel in use do it? */
  available: Availability;
  availableWhy: string;
  /** Functions on the device's path whose isolation the option turns on. */
  changes: Array<{ address: string; before: string; after: string }>;
  /** Other functions of this host whose isolation it turns on too. */
  elsewhere: string[];
  /** The device's group with the option. */
  group: string[];
  /** Other endpoints (not bridges) left in that group, outside the device's own slot. */
  sharesWith: string[];
  /** Other functions of the same card left in that group. */
  sameCard: string[];
  /** The device ends up isolated (for `target`: card or function). */
  isolates: boolean;
  certain: boolean;
  uncertain: string[];
  risk: string;
}

export interface OverrideSimulation {
  device: string;
  /** The device's predicted group now (the host's own command line). */
  group: string[];
  sharesWith: string[];
  sameCard: string[];
  /** What "isolated" means here: the card (its functions together) or this one function; null when it already is. */
  target: 'card' | 'function' | null;
  failingHops: FailingHop[];
  /** Options that change the device's group, narrowest first. */
  options: OverrideOption[];
  /** The narrowest option that isolates the device, whether or not this kernel can do it. */
  narrowest: OverrideOption | null;
  /** The narrowest isolating option this kernel can (or may) do. */
  narrowestAvailable: OverrideOption | null;
  /** Forms that would change nothing here, and why; never to be suggested. */
  notApplicable: Array<{ param: string; why: string }>;
  certain: boolean;
  uncertain: string[];
}

/** The patch accepts at most 15 id: entries (iommu-groups §5). */
const OVERRIDE_MAX_IDS = 15;
/** config_acs flag characters: 7 bits (SV TB RR CR UF EC DT), right-most is bit 0. */
const CONFIG_ACS_BITS = 7;

const slotKey = (d: Device) => `${d.pci.segment}:${d.pci.bus}:${d.pci.device}`;
const isPort = (t: number | null | undefined) => t === PCIE_ROOT_PORT || t === PCIE_DOWNSTREAM_PORT;
const isMfType = (t: number | null | undefined) => t === PCIE_ENDPOINT || t === PCIE_UPSTREAM_PORT || t === PCIE_LEGACY_ENDPOINT || t === PCIE_RCIEP;

function atLeast(host: HostView, major: number, minor: number): Availability {
  const k = host.kernel;
  if (!k) return 'unknown';
  return k.major > major || (k.major === major && k.minor >= minor) ? 'yes' : 'no';
}

/**
 * Per host, what every run shares: the engine's inputs, the IOMMU coverage, and the groupings
 * already formed, by parameters. Every blocked device of a survey asks for the same baseline and
 * mostly the same forms of the patch, and each run walks the whole host. Keyed by the host
 * object and, for the groupings, by everything run() reads from it besides its devices.
 */
interface Runs {
  inputs: ReturnType<typeof groupingInputs>;
  covered: (address: string) => ReturnType<ReturnType<typeof iommuCoverage>>;
  byParams: Map<string, Grouping>;
}
const runs = new WeakMap<HostView, Runs>();

function run(host: HostView, params: AcsParams, overridePatch: Availability): Grouping {
  let r = runs.get(host);
  if (!r) {
    const coverage = iommuCoverage(host);
    runs.set(host, (r = { inputs: groupingInputs(host.devices), covered: (a) => coverage(host.byAddress.get(a)!), byParams: new Map() }));
  }
  const key = JSON.stringify([params, overridePatch, host.kernel?.release ?? null, host.cmdline ?? null, host.devices.length]);
  const hit = r.byParams.get(key);
  if (hit) return hit;
  const g = formGroups(r.inputs, { covered: r.covered, kernel: host.kernel, params, ivrs: host.ivrs, overridePatch });
  r.byParams.set(key, g);
  return g;
}

/** The device's group split into the device, other functions of its card, other endpoints, bridges. */
function membersOf(host: HostView, g: Grouping, address: string) {
  const dg = g.byDevice.get(address);
  if (!dg) return null;
  const self = host.byAddress.get(address)!;
  const sameCard: string[] = [];
  const sharesWith: string[] = [];
  for (const m of dg.group.members) {
    if (m === address) continue;
    const d = host.byAddress.get(m);
    if (!d || d.isBridge) continue;
    (slotKey(d) === slotKey(self) ? sameCard : sharesWith).push(m);
  }
  return { group: [...dg.group.members], sameCard, sharesWith, certain: dg.group.certain, uncertain: dg.group.uncertain };
}

function ancestors(host: HostView, d: Device): Device[] {
  const out: Device[] = [];
  for (let p = d.parent; p; ) {
    const b = host.byAddress.get(p);
    if (!b) break;
    out.push(b);
    p = b.parent;
  }
  return out;
}

/** The kernel's device syntax as a path from the root bus: "0000:00:01.2/00.2/04.0". */
function pathSpec(host: HostView, d: Device): string {
  const chain = [d, ...ancestors(host, d)].reverse();
  const top = chain[0]!;
  const head = `${hex4(top.pci.segment)}:${top.pci.bus.toString(16).padStart(2, '0')}:${top.pci.device.toString(16).padStart(2, '0')}.${top.pci.function}`;
  return [head, ...chain.slice(1).map((c) => `${c.pci.device.toString(16).padStart(2, '0')}.${c.pci.function}`)].join('/');
}

/** "xx111x1": set every REQ bit the capability implements, leave the rest. */
function configAcsFlags(capability: number): string {
  let s = '';
  for (let bit = CONFIG_ACS_BITS - 1; bit >= 0; bit--) s += REQ_ACS_FLAGS & capability & (1 << bit) ? '1' : 'x';
  return s;
}

function overrideText(tokens: string[]): string {
  return `pcie_acs_override=${tokens.join(',')}`;
}

/** Why a form of the patch leaves a failing hop as it was, or does not suffice (explanation only; the engine decided). */
function whyNot(host: HostView, hop: FailingHop, form: 'id' | 'downstream' | 'multifunction' | 'downstream,multifunction', after?: Grouping, ids: string[] = []): string {
  if (after?.acsOf(hop.address)?.isolated) return `${hop.address} is overridden, but that alone does not change the group`;
  const d = host.byAddress.get(hop.address);
  const t = d?.config.pcie === undefined ? undefined : d.config.pcie === null ? null : d.config.pcie.portType;
  if (hop.role === 'alias') return `${hop.address} is a PCI/PCI-X bridge: devices behind it use its requester ID, which no ACS setting separates`;
  if (t === null) return `${hop.address} is conventional PCI: the patch never overrides it`;
  if (hop.hasAcs) return `${hop.address} has an ACS capability: the patch leaves it to the standard rules`;
  if (hop.hasAcs === undefined) return `${hop.address}: its ACS capability was not captured`;
  if (form === 'id' && d && ids.length && !ids.includes(`id:${hex4(d.config.vendorId)}:${hex4(d.config.deviceId)}`)) return `${hop.address} (${hex4(d.config.vendorId)}:${hex4(d.config.deviceId)}) is not in the id: list`;
  const ports = form === 'downstream' || form === 'downstream,multifunction';
  const mf = form === 'multifunction' || form === 'downstream,multifunction';
  if (form !== 'id' && !(ports && isPort(t)) && !(mf && isMfType(t) && (d?.config.multifunction || (d?.pci.function ?? 0) > 0))) {
    return `${hop.address} is not ${[ports ? 'a Root or Downstream Port' : '', mf ? 'a multi-function endpoint or Upstream Port' : ''].filter(Boolean).join(' nor ')}`;
  }
  return `${hop.address}: an earlier kernel quirk answers before the patch (${hop.reason})`;
}

export function simulateOverrides(host: HostView, device: string | Device): OverrideSimulation | null {
  const dev = typeof device === 'string' ? host.byAddress.get(device) : device;
  if (!dev) return null;
  const base = parseAcsParams(host.cmdline);
  const patch = overridePatchOf(host);
  const before = run(host, base, patch);
  const now = membersOf(host, before, dev.address);
  if (!now) return null;
  const target: OverrideSimulation['target'] = now.sharesWith.length ? 'card' : now.sameCard.length ? 'function' : null;
  const result: OverrideSimulation = {
    device: dev.address,
    ...now,
    target,
    failingHops: [],
    options: [],
    narrowest: null,
    narrowestAvailable: null,
    notApplicable: [],
  };
  if (!target) return result;

  // The hops that keep it from being alone, as the engine saw them.
  const dg = before.byDevice.get(dev.address)!;
  const hasAcs = (d: Device) => (d.config.acs === undefined ? undefined : d.config.acs !== null);
  const hops: FailingHop[] = [];
  for (const h of dg.hops as Hop[]) if (h.role === 'alias-bridge') hops.push({ address: h.address, role: 'alias', reason: h.note, hasAcs: hasAcs(host.byAddress.get(h.address)!) });
  for (const a of ancestors(host, dev)) {
    const ans = before.acsOf(a.address);
    if (ans && !ans.isolated) hops.push({ address: a.address, role: 'upstream', reason: ans.reason, hasAcs: hasAcs(a) });
  }
  const slotMates = host.devices.filter((d) => d !== dev && slotKey(d) === slotKey(dev));
  if (!dg.acs.isolated && slotMates.length) hops.push({ address: dev.address, role: 'self', reason: dg.acs.reason, hasAcs: hasAcs(dev) });
  // Sibling functions without isolation of the device and of each failing bridge pull their groups in too.
  const onPath = new Set<string>([dev.address]);
  for (const x of [dev, ...ancestors(host, dev)]) {
    onPath.add(x.address);
    if (x !== dev && !hops.some((h) => h.address === x.address)) continue;
    for (const s of host.devices) {
      if (s === x || slotKey(s) !== slotKey(x) || !now.group.includes(s.address)) continue;
      onPath.add(s.address);
      const a = before.byDevice.get(s.address)?.acs;
      if (a && !a.isolated) hops.push({ address: s.address, role: 'function', reason: a.reason, hasAcs: hasAcs(s) });
    }
  }
  result.failingHops = hops;
  // Whether a form of the patch applies to a hop hangs on its ACS capability: not captured, not known.
  for (const h of hops) {
    if (h.role === 'alias' || h.hasAcs !== undefined) continue;
    result.certain = false;
    result.uncertain = [...result.uncertain, `${h.address}: its ACS capability was not captured, so whether pcie_acs_override applies to it is unknown (run lspci as root, or \`assignable collect\`)`];
  }

  const isolates = (m: { sharesWith: string[]; sameCard: string[] }) => m.sharesWith.length === 0 && (target === 'card' || m.sameCard.length === 0);
  const sameGroup = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

  const existing = base.override;
  const keep: string[] = existing ? [...(existing.downstream ? ['downstream'] : []), ...(existing.multifunction ? ['multifunction'] : []), ...existing.ids.map((i) => `id:${hex4(i.vendor)}:${hex4(i.device)}`)] : [];
  const patchAvail: { available: Availability; why: string } =
    patch === 'yes' ? { available: 'yes', why: `${host.kernel?.release ?? 'this kernel'} carries the pcie_acs_override patch` }
      : patch === 'no' ? { available: 'no', why: `${host.kernel?.release ?? 'this kernel'} is not known to carry the out-of-tree pcie_acs_override patch (Proxmox VE and zen/liquorix kernels do)` }
        : { available: 'unknown', why: host.kernel ? `whether ${host.kernel.release} carries the pcie_acs_override patch is unknown` : 'the kernel is unknown, so whether it carries the pcie_acs_override patch is unknown' };

  const tryOption = (kind: OverrideOption['kind'], param: string, params: AcsParams, needsPatch: boolean, available: Availability, availableWhy: string, riskOf: (o: OverrideOption) => string): void => {
    const after = run(host, params, needsPatch ? 'yes' : patch);
    const m = membersOf(host, after, dev.address);
    if (!m) return;
    if (sameGroup(m.group, now.group)) {
      const form = kind === 'config_acs' ? null : kind;
      const ids = params.override?.ids.map((i) => `id:${hex4(i.vendor)}:${hex4(i.device)}`) ?? [];
      const why = form ? `: ${hops.map((h) => whyNot(host, h, form, after, ids)).join('; ')}` : '';
      result.notApplicable.push({ param, why: `leaves ${dev.address}'s group as it is${why}` });
      return;
    }
    const changes: OverrideOption['changes'] = [];
    const elsewhere: string[] = [];
    for (const d of host.devices) {
      const addr = d.address;
      const a = after.acsOf(addr);
      const b = before.acsOf(addr);
      if (!a || !a.isolated || (b && b.isolated)) continue;
      if (onPath.has(addr)) changes.push({ address: addr, before: b?.reason ?? 'not evaluated', after: a.reason });
      else elsewhere.push(addr);
    }
    const o: OverrideOption = {
      kind, param, needsPatch, available, availableWhy,
      changes: changes.sort((x, y) => x.address.localeCompare(y.address)),
      elsewhere: elsewhere.sort(),
      group: m.group, sharesWith: m.sharesWith, sameCard: m.sameCard,
      isolates: isolates(m),
      certain: m.certain && (available !== 'unknown'),
      uncertain: [...m.uncertain, ...(available === 'unknown' ? [availableWhy] : [])],
      risk: '',
    };
    o.risk = riskOf(o);
    result.options.push(o);
  };

  const p2p = (o: OverrideOption) => {
    const split = now.sharesWith.concat(now.sameCard).filter((x) => !o.group.includes(x));
    // The traffic still flows through the hops that lack ACS in hardware, overridden or not.
    const via = hops.filter((h) => h.role === 'upstream' && h.hasAcs === false).map((h) => h.address).join(', ');
    const warn = 'The kernel warns at boot that ACS overrides are on and may allow peer-to-peer DMA the IOMMU does not see.';
    const p = split.length
      ? ` Nothing in the hardware changes: ${dev.address} and ${split.join(', ')} can still send DMA to each other${via ? ` through ${via}` : ''} without passing the IOMMU, so a VM given ${dev.address} could read or write their memory-mapped registers (and they its), and a device assigned to one guest may reach another guest's device.`
      : '';
    return `${warn}${p}`;
  };

  // 1. config_acs: real ACS bits the port implements but that end up off (e.g. pci=disable_acs_redir); no patch.
  const withAcs = hops.filter((h) => h.role !== 'alias' && h.hasAcs);
  const caAvail = atLeast(host, 6, 11);
  if (withAcs.length) {
    const entries = withAcs.map((h) => {
      const d = host.byAddress.get(h.address)!;
      return `${configAcsFlags(d.config.acs!.capabilityRaw)}@${pathSpec(host, d)}`;
    });
    const param = `pci=config_acs=${entries.join(';')}`;
    if (caAvail === 'no') result.notApplicable.push({ param, why: `pci=config_acs arrived in Linux 6.11; this kernel is ${host.kernel!.release}` });
    else {
      const params = parseAcsParams([host.cmdline ?? '', param].join(' '));
      const multiBug = entries.length > 1 ? '; Linux 6.11 to early 6.12.y read only the first entry (fixed by "PCI/ACS: Fix pci=config_acs= parameter")' : '';
      tryOption('config_acs', param, params, false, caAvail,
        caAvail === 'yes' ? `Linux ${host.kernel!.release} has pci=config_acs (6.11+)${multiBug}` : `pci=config_acs needs Linux 6.11+, and the kernel is unknown${multiBug}`,
        () => {
          const redir = withAcs.filter((h) => /disable_acs_redir/.test(h.reason)).map((h) => h.address);
          const simpler = redir.length ? ` Simpler: drop pci=disable_acs_redir for ${redir.join(', ')} from the command line; it is what clears those bits.` : '';
          return `It sets ACS bits the port really implements, so the hardware enforces the isolation; it cannot create an ACS capability. The kernel documents that config_acs may also put more devices in one group when used to clear bits.${simpler}`;
        });
    }
  } else {
    result.notApplicable.push({ param: 'pci=config_acs=<flags>@<device>', why: 'no failing hop has an ACS capability, and config_acs can only set bits a capability implements' });
  }

  result.notApplicable.push({ param: 'pci=disable_acs_redir=<device>', why: 'it only clears redirect bits, so it can only merge groups, never split one' });

  // 2. The patch, narrowest first: one id, all ids, multifunction, downstream, both.
  const idHops = hops.filter((h) => h.role !== 'alias' && h.hasAcs === false && host.byAddress.get(h.address)!.config.pcie);
  const ids = [...new Set(idHops.map((h) => {
    const c = host.byAddress.get(h.address)!.config;
    return `id:${hex4(c.vendorId)}:${hex4(c.deviceId)}`;
  }))];
  const withTokens = (tokens: string[]) => ({ ...base, override: parseOverride([...keep, ...tokens].join(',')) });
  const idRisk = (tokens: string[]) => (o: OverrideOption) => {
    const matched = host.devices.filter((d) => tokens.includes(`id:${hex4(d.config.vendorId)}:${hex4(d.config.deviceId)}`)).map((d) => d.address);
    return `${p2p(o)} It applies to every device with ${tokens.map((t) => t.slice(3)).join(', ')} on this host (${matched.join(', ')}).`;
  };
  const room = OVERRIDE_MAX_IDS - (existing?.ids.length ?? 0);
  for (const hop of hops.filter((h) => !idHops.includes(h))) {
    const c = host.byAddress.get(hop.address)!.config;
    result.notApplicable.push({ param: c.vendorId !== undefined ? overrideText([`id:${hex4(c.vendorId)}:${hex4(c.deviceId)}`]) : `id: for ${hop.address}`, why: whyNot(host, hop, 'id') });
  }
  if (ids.length > room) result.notApplicable.push({ param: overrideText(ids), why: `the patch takes at most ${OVERRIDE_MAX_IDS} id: entries` });
  for (const id of ids) tryOption('id', overrideText([...keep, id]), withTokens([id]), true, patchAvail.available, patchAvail.why, idRisk([id]));
  if (ids.length > 1 && ids.length <= room) tryOption('id', overrideText([...keep, ...ids]), withTokens(ids), true, patchAvail.available, patchAvail.why, idRisk(ids));
  const broad = (what: string) => (o: OverrideOption) => `${p2p(o)} It applies to every ${what} without an ACS capability on this host${o.elsewhere.length ? `, here also ${o.elsewhere.join(', ')}` : ''}.`;
  const forms: Array<[OverrideOption['kind'], string[], string]> = [
    ['multifunction', ['multifunction'], 'multi-function endpoint and Upstream Port'],
    ['downstream', ['downstream'], 'Root and Downstream Port'],
    ['downstream,multifunction', ['downstream', 'multifunction'], 'port and multi-function device'],
  ];
  for (const [kind, tokens, what] of forms) {
    if (tokens.every((t) => keep.includes(t))) continue;
    tryOption(kind, overrideText([...new Set([...keep, ...tokens])]), withTokens(tokens), true, patchAvail.available, patchAvail.why, broad(what));
  }
  result.narrowest = result.options.find((o) => o.isolates) ?? null;
  result.narrowestAvailable = result.options.find((o) => o.isolates && o.available !== 'no') ?? null;
  return result;
}
