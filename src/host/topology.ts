/**
 * The PCI hierarchy: which bridge each function sits behind. From sysfs device paths when
 * the live host gave them (the kernel's own view), else from the bridges' secondary and
 * subordinate bus numbers (what lspci and config dumps give).
 */
import { formatAddress } from './address.js';
import type { PciAddress } from '../firmware/pci/lspci-text.js';

export interface TopologyNode {
  address: string;
  pci: PciAddress;
  bridge: { secondary: number; subordinate: number } | null;
  /** sysfs ancestors (root first), when known. */
  ancestors?: string[];
}

export interface Topology {
  /** address → upstream bridge address, or null on a root bus; undefined: unknown. */
  parent: Map<string, string | null | undefined>;
  children: Map<string, string[]>;
  /** Bridges by (segment, secondary bus). */
  bridgeForBus: Map<string, string>;
}

/** The key of a bus in Topology.bridgeForBus and Host.byBus. */
export const busKey = (segment: number, bus: number) => `${segment}:${bus}`;

export function buildTopology(nodes: TopologyNode[], bridgeInfoComplete: boolean): Topology {
  const bridgeForBus = new Map<string, string>();
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  for (const n of nodes) {
    if (!n.bridge || n.bridge.secondary === 0) continue;
    const k = busKey(n.pci.segment, n.bridge.secondary);
    const prev = bridgeForBus.get(k);
    // Two bridges claiming one bus is a firmware bug; prefer the narrower range (the nearer one).
    if (!prev) bridgeForBus.set(k, n.address);
    else {
      const p = byAddress.get(prev)!.bridge!;
      if (n.bridge.subordinate - n.bridge.secondary < p.subordinate - p.secondary) bridgeForBus.set(k, n.address);
    }
  }
  // A bus no bridge leads to directly, inside a bridge's secondary..subordinate range, is a
  // virtual bus (SR-IOV VFs past the PF's bus): it hangs below the narrowest such bridge.
  const rangeMemo = new Map<string, string | undefined>();
  const enclosing = (segment: number, bus: number): string | undefined => {
    const k = busKey(segment, bus);
    if (rangeMemo.has(k)) return rangeMemo.get(k);
    let best: TopologyNode | undefined;
    for (const n of nodes) {
      const b = n.bridge;
      if (!b || n.pci.segment !== segment || b.secondary === 0 || bus < b.secondary || bus > b.subordinate) continue;
      if (!best || b.subordinate - b.secondary < best.bridge!.subordinate - best.bridge!.secondary) best = n;
    }
    rangeMemo.set(k, best?.address);
    return best?.address;
  };
  const parent = new Map<string, string | null | undefined>();
  const children = new Map<string, string[]>();
  for (const n of nodes) {
    let p: string | null | undefined;
    if (n.ancestors !== undefined) {
      p = n.ancestors.length > 0 ? n.ancestors[n.ancestors.length - 1]! : null;
    } else {
      const exact = bridgeForBus.get(busKey(n.pci.segment, n.pci.bus));
      const b = exact ?? enclosing(n.pci.segment, n.pci.bus);
      // No bridge leads to this bus: it is a root bus — if we know every bridge's buses.
      p = b !== undefined && b !== n.address ? b : bridgeInfoComplete ? null : undefined;
    }
    parent.set(n.address, p);
  }
  breakCycles(parent);
  for (const [a, p] of parent) {
    if (!p) continue;
    if (!children.has(p)) children.set(p, []);
    children.get(p)!.push(a);
  }
  return { parent, children, bridgeForBus };
}

/**
 * Bus numbers that contradict each other (a bridge inside its own range, two bridges each below
 * the other) would make the hierarchy a loop: the link that closes a loop becomes unknown.
 */
function breakCycles(parent: Map<string, string | null | undefined>): void {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  for (const start of parent.keys()) {
    const path: string[] = [];
    let cur: string | null | undefined = start;
    while (cur && !state.has(cur)) {
      state.set(cur, 1);
      path.push(cur);
      cur = parent.get(cur);
    }
    if (cur && state.get(cur) === 1) parent.set(path[path.length - 1]!, undefined);
    for (const a of path) state.set(a, 2);
  }
}

/** Upstream chain of a function: its parent, the parent's parent, … (stops at unknown or loops). */
export function ancestorsOf(t: Topology, address: string): string[] {
  const out: string[] = [];
  const seen = new Set([address]);
  let cur = t.parent.get(address);
  while (cur) {
    if (seen.has(cur)) break;
    seen.add(cur);
    out.push(cur);
    cur = t.parent.get(cur);
  }
  return out;
}

export function addressOf(segment: number, bus: number, device: number, fn: number): string {
  return formatAddress({ segment, bus, device, function: fn });
}
