/**
 * IOMMU groups formed the way Linux forms them (drivers/iommu/iommu.c pci_device_group, the
 * same in 5.4 and 6.12), from config space alone: each function, in the kernel's probe order,
 *  1. walks its DMA aliases up through PCIe-to-PCI and conventional bridges (pci_for_each_dma_alias),
 *  2. climbs while a bridge's path to the root does not isolate (pci_acs_path_enabled),
 *  3. joins a same-bus DMA alias's group (quirks, AMD IVRS aliases),
 *  4. joins a sibling function's group when neither isolates (multi-function without ACS),
 *  5. or starts a new group.
 * Pure and O(n · depth): every scan is of one bus (≤ 256 functions), never of the host.
 */
import { acsEnabled, PCIE_DOWNSTREAM_PORT, PCIE_ROOT_PORT, PCIE_TO_PCI_BRIDGE, PCIE_UPSTREAM_PORT, PCI_TO_PCIE_BRIDGE, type AcsAnswer, type AcsContext, type AcsNode } from './acs.js';
import { aliasQuirkFor } from './dma-alias-quirks.js';
import { ivhdDevices } from './ivhd.js';
import { busKey } from '../topology.js';
import { NO_PARAMS, type AcsParams, type DeviceSpec } from './params.js';
import type { Ivrs } from '../../firmware/acpi/ivrs.js';
import type { KernelFacts, PciAddress } from '../model.js';

/** What the engine needs of one function (the Host's Device has all of it). */
export interface GroupingDevice {
  address: string;
  pci: PciAddress;
  vendor: number;
  device: number;
  subsystem: readonly [number | null, number | null];
  classCode: number;
  /** PCIe Device/Port Type as the register says; null: not PCI Express; undefined: not captured. */
  pcieType: number | null | undefined;
  /** Header Type bit 7. */
  multifunctionBit: boolean;
  /** An SR-IOV Virtual Function: never multi-function for the kernel. */
  isVf: boolean;
  acs: { capability: number; control: number } | null | undefined;
  isBridge: boolean;
  /** Bridge above; null on a root bus; undefined when the topology is unknown. */
  parent: string | null | undefined;
  /** Intel LPC bridge RCBA register, when captured. */
  lpcRcba?: number;
}

export interface GroupingOptions {
  kernel: KernelFacts | undefined;
  params?: AcsParams;
  ivrs: Ivrs | null | undefined;
  /** Does the kernel carry the pcie_acs_override patch? */
  overridePatch: 'yes' | 'no' | 'unknown';
  /** Does an IOMMU unit cover this function (DMAR/IVRS)? false: it gets no group; undefined: unknown. */
  covered?: (address: string) => boolean | undefined;
}

export interface PredictedGroup {
  /** A stable name: the lowest address in the group. */
  label: string;
  members: string[];
  certain: boolean;
  /** What the prediction rests on that the capture does not show. */
  uncertain: string[];
}

export type HopRole = 'alias-bridge' | 'upstream';

export interface Hop {
  address: string;
  role: HopRole;
  /** For upstream hops: the kernel's ACS answer for this bridge. */
  acs?: AcsAnswer;
  note: string;
}

export interface DeviceGrouping {
  address: string;
  group: PredictedGroup;
  /** The device whose group this one took or started (the kernel's "pdev" after the walks). */
  isolationPoint: string;
  /** How it got there, in the kernel's order. */
  how: 'own' | 'alias-bridge' | 'upstream' | 'dma-alias' | 'function' | 'vmd';
  hops: Hop[];
  /** The device's own pci_acs_enabled answer. */
  acs: AcsAnswer;
  uncertain: string[];
}

export interface Grouping {
  groups: PredictedGroup[];
  /** Functions no IOMMU unit covers: the kernel gives them no group. */
  uncovered: string[];
  /** The DMAR/IVRS was not read, so which functions an IOMMU covers is unknown (all assumed covered). */
  coverageUnknown: boolean;
  byDevice: Map<string, DeviceGrouping>;
  /** pci_acs_enabled of any function, as the kernel would answer it (memoised). */
  acsOf(address: string): AcsAnswer | undefined;
}

/** Class 01 04: RAID, which is how Intel VMD endpoints report. */
const RAID_CLASS = 0x0104;
/** VMD domains are numbered from 0x10000 (drivers/pci/controller/vmd.c). */
const VMD_FIRST_DOMAIN = 0x10000;
/** The release that routes a VMD child's DMA to the VMD endpoint (pci_real_dma_dev). */
const VMD_REAL_DMA_DEV = [5, 6] as const;

const devfnOf = (a: PciAddress) => (a.device << 3) | a.function;

interface Node extends AcsNode {
  dev: GroupingDevice;
  parentNode: Node | null | undefined;
  aliases: Set<number>;
  xlateRoot: boolean;
  uncertainAliases?: string;
}

/** AMD IVRS Alias Select / Alias Range entries → requester ID → alias requester ID, per segment. */
export function ivrsAliases(ivrs: Ivrs | null | undefined): Map<string, number> {
  return ivhdDevices(ivrs).aliases;
}

export function formGroups(devices: readonly GroupingDevice[], opts: GroupingOptions): Grouping {
  const params = opts.params ?? NO_PARAMS;
  const nodes = new Map<string, Node>();
  const onBus = new Map<string, Node[]>();
  for (const d of devices) {
    const n: Node = {
      dev: d,
      address: d.address,
      vendor: d.vendor,
      device: d.device,
      pcieType: d.pcieType,
      multifunction: false,
      onRootBus: d.parent === null ? true : d.parent === undefined ? undefined : false,
      acs: d.acs,
      matches: () => false,
      parentNode: undefined,
      aliases: new Set(),
      xlateRoot: false,
    };
    nodes.set(d.address, n);
    const k = busKey(d.pci.segment, d.pci.bus);
    if (!onBus.has(k)) onBus.set(k, []);
    onBus.get(k)!.push(n);
  }
  for (const list of onBus.values()) list.sort((a, b) => devfnOf(a.dev.pci) - devfnOf(b.dev.pci));
  const busOf = (n: Node) => onBus.get(busKey(n.dev.pci.segment, n.dev.pci.bus))!;
  // Functions found by the slot scan (not VFs), per bus and device number: one count instead of a bus scan per function.
  const scanned = new Map<Node[], Map<number, number>>();
  for (const list of onBus.values()) {
    const per = new Map<number, number>();
    for (const o of list) if (!o.dev.isVf) per.set(o.dev.pci.device, (per.get(o.dev.pci.device) ?? 0) + 1);
    scanned.set(list, per);
  }

  for (const n of nodes.values()) {
    n.parentNode = n.dev.parent === null ? null : n.dev.parent === undefined ? undefined : (nodes.get(n.dev.parent) ?? undefined);
    // Function > 0 found by a slot scan is multi-function to the kernel (pci_scan_slot), and so is a
    // function 0 whose siblings were found: its Header Type bit 7 let the scan go on. VFs never are.
    // VFs are added by the PF's driver, not found by the slot scan: they do not make a PF multi-function.
    const slotSiblings = scanned.get(busOf(n))!.get(n.dev.pci.device)! - (n.dev.isVf ? 0 : 1) > 0;
    n.multifunction = !n.dev.isVf && (n.dev.multifunctionBit || n.dev.pci.function > 0 || slotSiblings);
    n.matches = (s: DeviceSpec) => specMatches(s, n);
  }
  // A parent chain that loops (inconsistent bus numbers in the input) ends where it closes.
  {
    const state = new Map<Node, 1 | 2>();
    for (const start of nodes.values()) {
      const path: Node[] = [];
      let cur: Node | null | undefined = start;
      while (cur && !state.has(cur)) {
        state.set(cur, 1);
        path.push(cur);
        cur = cur.parentNode;
      }
      if (cur && state.get(cur) === 1) path[path.length - 1]!.parentNode = undefined;
      for (const n of path) state.set(n, 2);
    }
  }
  // set_pcie_port_type: a "Downstream Port" under a RP/DSP/PCI→PCIe bridge is an Upstream Port, and
  // an "Upstream Port" under an Upstream Port is a Downstream Port. Parents first.
  const corrected = new Set<Node>();
  const correct = (n: Node): void => {
    if (corrected.has(n)) return;
    corrected.add(n);
    const p = n.parentNode;
    if (!p) return;
    correct(p);
    if (n.pcieType === PCIE_DOWNSTREAM_PORT && (p.pcieType === PCIE_ROOT_PORT || p.pcieType === PCIE_DOWNSTREAM_PORT || p.pcieType === PCI_TO_PCIE_BRIDGE)) n.pcieType = PCIE_UPSTREAM_PORT;
    else if (n.pcieType === PCIE_UPSTREAM_PORT && p.pcieType === PCIE_UPSTREAM_PORT) n.pcieType = PCIE_DOWNSTREAM_PORT;
  };
  for (const n of nodes.values()) correct(n);

  // DMA aliases: the kernel's quirks, and AMD IVRS aliases on the same bus (amd iommu setup_aliases).
  const ivrsAlias = ivrsAliases(opts.ivrs);
  for (const n of nodes.values()) {
    const q = aliasQuirkFor(n.vendor, n.device, n.dev.subsystem, n.dev.classCode);
    const slot = n.dev.pci.device;
    if (q) {
      const r = q.rule;
      if (r.kind === 'function' && n.dev.pci.function !== r.fn) n.aliases.add((slot << 3) | r.fn);
      else if (r.kind === 'devfns') for (const [s, f] of r.devfns) n.aliases.add((s << 3) | f);
      else if (r.kind === 'every-slot') for (let s = 0; s < 32; s++) for (let f = 0; f < r.functions; f++) n.aliases.add((s << 3) | f);
      else if (r.kind === 'whole-bus') for (let df = 0; df < 256; df++) n.aliases.add(df);
      else if (r.kind === 'xlate-root') n.xlateRoot = true;
      else if (r.kind === 'mmio-unknown') n.uncertainAliases = `${n.address}: ${q.label} takes DMA aliases from its MMIO requester-ID tables, which config space does not show`;
    }
    const rid = (n.dev.pci.bus << 8) | devfnOf(n.dev.pci);
    const alias = ivrsAlias.get(`${n.dev.pci.segment}:${rid}`);
    if (alias !== undefined && alias !== rid && alias >> 8 === n.dev.pci.bus) n.aliases.add(alias & 0xff);
  }
  const areAliases = (a: Node, b: Node) => a.aliases.has(devfnOf(b.dev.pci)) || b.aliases.has(devfnOf(a.dev.pci));
  // Buses where some function has a DMA alias: on the others no two functions are aliases, and the alias scan is skipped.
  const aliasBuses = new Set<Node[]>();
  for (const n of nodes.values()) if (n.aliases.size > 0) aliasBuses.add(busOf(n));

  // pchRcbaEnabled: the LPC bridge is device 31 function 0 on the Root Port's bus.
  const pchRcba = (n: AcsNode): boolean | undefined => {
    const self = nodes.get(n.address)!;
    const lpc = busOf(self).find((o) => o.dev.pci.device === 0x1f && o.dev.pci.function === 0);
    if (lpc?.dev.lpcRcba === undefined) return undefined;
    return (lpc.dev.lpcRcba & LPC_RCBA_ENABLE) !== 0;
  };
  const ctx: AcsContext = { kernel: opts.kernel, params, ivrs: opts.ivrs === undefined ? undefined : opts.ivrs !== null, overridePatch: opts.overridePatch, pchRcbaEnabled: pchRcba };
  const acsMemo = new Map<string, AcsAnswer>();
  const acs = (n: Node): AcsAnswer => {
    let a = acsMemo.get(n.address);
    if (!a) {
      a = acsEnabled(n, ctx);
      acsMemo.set(n.address, a);
    }
    return a;
  };

  // VMD: devices in a VMD domain DMA as the VMD endpoint (pci_real_dma_dev, 5.6+).
  const vmdDomains = [...nodes.values()].some((n) => n.dev.pci.segment >= VMD_FIRST_DOMAIN);
  const vmdEndpoints = vmdDomains ? [...nodes.values()].filter((n) => n.vendor === 0x8086 && n.dev.classCode >> 8 === RAID_CLASS && n.dev.pci.segment < VMD_FIRST_DOMAIN) : [];

  const groupOf = new Map<Node, PredictedGroup>();
  const groups: PredictedGroup[] = [];
  const byDevice = new Map<string, DeviceGrouping>();

  const aliasGroup = (p: Node, seen: Set<number>): PredictedGroup | undefined => {
    const g = groupOf.get(p);
    if (g) return g;
    const df = devfnOf(p.dev.pci);
    if (seen.has(df)) return undefined;
    seen.add(df);
    const fg = functionGroup(p, seen);
    if (fg) return fg;
    if (!aliasBuses.has(busOf(p))) return undefined;
    for (const t of busOf(p)) {
      if (t === p || !areAliases(p, t)) continue;
      const ag = aliasGroup(t, seen) ?? functionGroup(t, seen);
      if (ag) return ag;
    }
    return undefined;
  };
  const functionGroup = (p: Node, seen: Set<number>): PredictedGroup | undefined => {
    if (!p.multifunction || acs(p).isolated) return undefined;
    for (const t of busOf(p)) {
      if (t === p || t.dev.pci.device !== p.dev.pci.device || acs(t).isolated) continue;
      const g = aliasGroup(t, seen);
      if (g) return g;
    }
    return undefined;
  };

  const place = (d: Node): void => {
    const hops: Hop[] = [];
    const uncertain: string[] = [];
    const note = (a: AcsAnswer) => uncertain.push(...a.uncertain);
    const finish = (g: PredictedGroup, isolationPoint: Node, how: DeviceGrouping['how']) => {
      groupOf.set(d, g);
      g.members.push(d.address);
      const own = acs(d);
      byDevice.set(d.address, { address: d.address, group: g, isolationPoint: isolationPoint.address, how, hops, acs: own, uncertain });
    };
    // 1. The DMA alias walk, from the real DMA device up.
    let start = d;
    if (d.dev.pci.segment >= VMD_FIRST_DOMAIN) {
      if (vmdEndpoints.length === 1) start = vmdEndpoints[0]!;
      else uncertain.push(`${d.address}: behind Intel VMD, and which VMD endpoint owns domain ${d.dev.pci.segment.toString(16)} is not in the capture`);
      // pci_real_dma_dev arrived in 5.6 (iommu-groups §2.2 step 1); what older kernels do behind VMD is not modelled.
      const k = opts.kernel;
      if (k && (k.major < VMD_REAL_DMA_DEV[0] || (k.major === VMD_REAL_DMA_DEV[0] && k.minor < VMD_REAL_DMA_DEV[1]))) {
        uncertain.push(`${d.address}: behind Intel VMD on Linux ${k.release}, which predates pci_real_dma_dev (5.6): its group there is not known`);
      }
    }
    if (start !== d) {
      const g = groupOf.get(start);
      if (g) return finish(g, start, 'vmd');
    }
    if (d.uncertainAliases) uncertain.push(d.uncertainAliases);
    let p = start;
    for (let x = start; ; ) {
      const b = x.parentNode;
      if (b === undefined && x.dev.parent !== null) uncertain.push(`${x.address}: the bridge above it is unknown (topology not captured)`);
      if (!b || b.xlateRoot) break;
      x = b;
      // pci_for_each_dma_alias visits only PCIe-to-PCI and PCI-to-PCIe bridges and bridges without a
      // PCIe capability; a PCIe bridge of any other type (ports, or a bridge reporting e.g. Endpoint) is passed over.
      if (b.pcieType !== undefined && b.pcieType !== null && b.pcieType !== PCIE_TO_PCI_BRIDGE && b.pcieType !== PCI_TO_PCIE_BRIDGE) continue;
      if (b.pcieType === undefined) {
        // Probably a PCIe port (passed over); a conventional bridge would take the device's DMA.
        uncertain.push(`${b.address}: whether this bridge is PCI Express is unknown (capabilities not captured)`);
        continue;
      }
      hops.push({ address: b.address, role: 'alias-bridge', note: ALIAS_BRIDGE_NOTE[b.pcieType === null ? 'conventional' : b.pcieType === PCI_TO_PCIE_BRIDGE ? 'pci-to-pcie' : 'pcie-to-pci'] });
      const g = groupOf.get(b);
      if (g) return finish(g, b, 'alias-bridge');
      p = b;
    }
    // 2. Up while a bridge's path to the root does not isolate.
    for (let b = p.parentNode; b; b = b.parentNode) {
      const path = acsPath(b, acs);
      for (const a of path.answers) note(a);
      const first = path.answers[0]!;
      if (path.ok) {
        hops.push({ address: b.address, role: 'upstream', acs: first, note: 'isolates up to the root' });
        break;
      }
      hops.push({ address: b.address, role: 'upstream', acs: first, note: `its path to the root does not isolate (${path.failed!.address}: ${acs(path.failed!).reason})` });
      p = b;
      const g = groupOf.get(b);
      if (g) return finish(g, b, 'upstream');
    }
    // 3./4. A same-bus DMA alias, or a sibling function, already grouped.
    note(acs(p));
    const seen = new Set<number>();
    const ag = aliasGroup(p, seen);
    if (ag) return finish(ag, p, p !== d ? 'upstream' : ag.members.some((m) => areAliases(d, nodes.get(m)!)) ? 'dma-alias' : 'function');
    const fg = functionGroup(p, seen);
    if (fg) return finish(fg, p, p === d ? 'function' : 'upstream');
    // 5. A new group.
    const g: PredictedGroup = { label: '', members: [], certain: true, uncertain: [] };
    groups.push(g);
    finish(g, p, p === d ? 'own' : 'upstream');
  };

  const uncovered: string[] = [];
  let coverageUnknown = false;
  for (const n of probeOrder(nodes)) {
    const c = opts.covered?.(n.address);
    if (c === false) uncovered.push(n.address);
    else {
      if (c === undefined) coverageUnknown = true;
      place(n);
    }
  }

  for (const g of groups) {
    g.members.sort();
    g.label = g.members[0]!;
    const u = new Set<string>();
    for (const m of g.members) for (const x of byDevice.get(m)!.uncertain) u.add(x);
    g.uncertain = [...u];
    g.certain = u.size === 0;
  }
  const acsOf = (address: string) => {
    const n = nodes.get(address);
    return n ? acs(n) : undefined;
  };
  return { groups, uncovered: uncovered.sort(), coverageUnknown, byDevice, acsOf };
}

/** Why the alias walk stopped at a bridge (pci_for_each_dma_alias). */
const ALIAS_BRIDGE_NOTE = {
  conventional: 'a conventional PCI bridge: the IOMMU cannot tell the devices behind it from the bridge',
  'pcie-to-pci': 'a PCIe-to-PCI/PCI-X bridge: the IOMMU sees the devices behind it by one requester ID (its secondary bus, 00.0)',
  'pci-to-pcie': 'a PCI/PCI-X-to-PCIe bridge: the IOMMU sees the devices behind it by the bridge\'s own requester ID',
} as const;

/** LPC RCBA bit 0: the RCBA window is enabled. */
const LPC_RCBA_ENABLE = 0x1;

/** pci_acs_path_enabled(start, NULL, REQ_ACS_FLAGS): every bridge from here to the root bus isolates. */
function acsPath(start: Node, acs: (n: Node) => AcsAnswer): { ok: boolean; failed?: Node; answers: AcsAnswer[] } {
  const answers: AcsAnswer[] = [];
  for (let x: Node | null | undefined = start; x; x = x.parentNode) {
    const a = acs(x);
    answers.push(a);
    if (!a.isolated) return { ok: false, failed: x, answers };
  }
  return { ok: true, answers };
}

/** Registration order: a bus's functions by devfn, then each bridge's buses, depth first; VFs last. */
function probeOrder(nodes: Map<string, Node>): Node[] {
  const out: Node[] = [];
  const children = new Map<Node, Node[]>();
  const roots: Node[] = [];
  for (const n of nodes.values()) {
    if (n.dev.isVf) continue;
    if (n.parentNode) {
      if (!children.has(n.parentNode)) children.set(n.parentNode, []);
      children.get(n.parentNode)!.push(n);
    } else roots.push(n);
  }
  const order = (a: Node, b: Node) => a.dev.pci.segment - b.dev.pci.segment || a.dev.pci.bus - b.dev.pci.bus || devfnOf(a.dev.pci) - devfnOf(b.dev.pci);
  const seen = new Set<Node>();
  const walk = (list: Node[]) => {
    list.sort(order);
    const fresh = list.filter((n) => !seen.has(n));
    for (const n of fresh) {
      seen.add(n);
      out.push(n);
    }
    for (const n of fresh) {
      const kids = children.get(n);
      if (kids) walk(kids);
    }
  };
  // Root buses one by one, each bus's functions before the buses behind them.
  roots.sort(order);
  const byRootBus = new Map<string, Node[]>();
  for (const r of roots) {
    const k = busKey(r.dev.pci.segment, r.dev.pci.bus);
    if (!byRootBus.has(k)) byRootBus.set(k, []);
    byRootBus.get(k)!.push(r);
  }
  for (const list of byRootBus.values()) walk(list);
  for (const n of nodes.values()) if (!seen.has(n)) out.push(n);
  return out;
}

function specMatches(s: DeviceSpec, n: Node): boolean {
  if (s.kind === 'ids') {
    // pci_dev_str_match: an ID of 0 matches any value.
    const eq = (want: number | undefined, have: number | null) => !want || want === have;
    return eq(s.vendor, n.vendor) && eq(s.device, n.device) && eq(s.subvendor, n.dev.subsystem[0]) && eq(s.subdevice, n.dev.subsystem[1]);
  }
  // A path (pci_dev_str_match_path): each "/dev.fn" from the right names this function, then the
  // bridge above it, and so on; the first element is [seg:]bus:dev.fn of where that walk ends,
  // on any bus — a plain bus:dev.fn names a function wherever it sits.
  let x: Node | null | undefined = n;
  for (let i = s.path.length - 1; i > 0; i--) {
    if (!x || x.dev.pci.device !== s.path[i]!.device || x.dev.pci.function !== s.path[i]!.fn) return false;
    x = x.parentNode;
  }
  return !!x && x.dev.pci.segment === s.segment && x.dev.pci.bus === s.bus && x.dev.pci.device === s.path[0]!.device && x.dev.pci.function === s.path[0]!.fn;
}
