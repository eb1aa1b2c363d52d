/**
 * Which PCI functions each firmware reservation names.
 *
 * DMAR device scopes (VT-d §8.3.1): start at the scope's bus, take the first (device,
 * function); while path elements remain, that function must be a bridge and the walk
 * continues on its secondary bus. A type 1 scope names the final function; a type 2
 * (sub-hierarchy) scope names a bridge and everything below it — which is why an RMRR
 * naming a root port covers a card in the slot behind it.
 *
 * IVRS (AMD): IVMD blocks name one requester id (21h), a range (22h) or all (20h); IVHD
 * device entries name the functions an IOMMU translates for.
 */
import type { DeviceScope, Dmar } from '../firmware/acpi/dmar.js';
import type { Ivrs } from '../firmware/acpi/ivrs.js';
import { scopePath } from '../firmware/format.js';
import { addressOf } from './topology.js';
import type { IvmdHit, RmrrHit } from './model.js';

export interface ScopeNode {
  address: string;
  segment: number;
  bus: number;
  device: number;
  function: number;
  bridge: { secondary: number; subordinate: number } | null;
}

export interface ScopeResolution {
  /** The function the path ends at (it may be absent from the host). */
  target: string | null;
  /** Functions the scope covers: the target, and for a bridge scope all below it. */
  covered: string[];
  /** Why the walk stopped short, when it did. */
  problem: string | null;
}

export function resolveScope(scope: DeviceScope, segment: number, nodes: Map<string, ScopeNode>): ScopeResolution {
  if (scope.path.length === 0) return { target: null, covered: [], problem: 'empty path' };
  let bus = scope.startBus;
  for (let i = 0; i < scope.path.length; i++) {
    const { device, function: fn } = scope.path[i]!;
    const addr = addressOf(segment, bus, device, fn);
    const node = nodes.get(addr);
    const last = i === scope.path.length - 1;
    if (last) {
      if (!node) return { target: addr, covered: [], problem: `${addr} is not present on this host` };
      if (scope.type === 2) {
        if (!node.bridge) return { target: addr, covered: [addr], problem: `${addr} is named as a sub-hierarchy but is not a bridge` };
        const { secondary, subordinate } = node.bridge;
        const below = [...nodes.values()].filter((n) => n.segment === segment && n.bus >= secondary && n.bus <= subordinate && n.address !== addr).map((n) => n.address);
        return { target: addr, covered: [addr, ...below], problem: null };
      }
      return { target: addr, covered: [addr], problem: null };
    }
    if (!node) return { target: null, covered: [], problem: `path element ${i} (${addr}) is not present on this host` };
    if (!node.bridge) return { target: null, covered: [], problem: `path element ${i} (${addr}) is not a bridge, so the path cannot continue` };
    bus = node.bridge.secondary;
  }
  return { target: null, covered: [], problem: 'unreachable' };
}

export interface RmrrAttribution {
  hits: Map<string, RmrrHit[]>;
  /** Scopes that name no function of this host, for `explain` and notes. */
  unresolved: Array<{ structure: number; scope: string; problem: string }>;
}

export function attributeRmrr(dmar: Dmar, nodes: Map<string, ScopeNode>): RmrrAttribution {
  const hits = new Map<string, RmrrHit[]>();
  const unresolved: RmrrAttribution['unresolved'] = [];
  // "address structure" pairs already kept: a lookup, not a scan of the list (a table may hold thousands of RMRRs).
  const seen = new Set<string>();
  dmar.structures.forEach((s, index) => {
    if (s.type !== 'RMRR') return;
    for (const scope of s.scopes) {
      if (scope.type !== 1 && scope.type !== 2) continue;
      const r = resolveScope(scope, s.segment, nodes);
      if (r.problem) unresolved.push({ structure: index, scope: scopePath(scope), problem: r.problem });
      for (const addr of r.covered) {
        const hit: RmrrHit = { structure: index, base: s.base, limit: s.limit, scope: scopePath(scope), scopeType: scope.type, viaBridge: addr === r.target ? null : r.target };
        // The same RMRR may name a function twice (directly and via its bridge): keep one.
        const key = `${addr} ${index}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!hits.has(addr)) hits.set(addr, []);
        hits.get(addr)!.push(hit);
      }
    }
  });
  return { hits, unresolved };
}

/** 16-bit requester id of a function. */
export function requesterId(bus: number, device: number, fn: number): number {
  return (bus << 8) | (device << 3) | fn;
}

/** IVMD blocks covering each function (segment 0 only: IVMD carries no segment). */
export function attributeIvmd(ivrs: Ivrs, nodes: Map<string, ScopeNode>): Map<string, IvmdHit[]> {
  const hits = new Map<string, IvmdHit[]>();
  ivrs.blocks.forEach((b, index) => {
    if (b.kind !== 'IVMD') return;
    for (const n of nodes.values()) {
      if (n.segment !== 0) continue;
      const id = requesterId(n.bus, n.device, n.function);
      const covered = b.type === 0x20 || (b.type === 0x21 && id === b.deviceId) || (b.type === 0x22 && id >= b.deviceId && id <= b.auxData);
      if (!covered) continue;
      if (!hits.has(n.address)) hits.set(n.address, []);
      hits.get(n.address)!.push({ block: index, type: b.type, flags: b.flags, start: b.start, length: b.length });
    }
  });
  return hits;
}
