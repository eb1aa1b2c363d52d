/**
 * The fleet summary (`assignable fleet`, docs/json.md "fleet"): per host, across hosts, and
 * the hosts where a device or slot is assignable. Pure: hosts in, one document out; the
 * order of the inputs does not change it (hosts and models are sorted).
 */
import { TARGETS, type Target, type VerdictStatus } from '../../checks/finding.js';
import type { FleetDevice, FleetHost } from './host.js';
import { hex4 } from '../../host/address.js';

export const FLEET_SCHEMA = 'assignable/fleet/v1';

export type Counts = Record<VerdictStatus, number>;

export interface FleetQuery {
  /** An address, vendor:device ids ("10de:1db6") or part of a name, as survey --device takes. */
  device?: string;
  /** A physical slot number. */
  slot?: number;
}

export interface InputError {
  input: string;
  /** bad-input: the file is not what fleet reads (exit 2 alone); unreadable: missing, permission, I/O (exit 3 alone). */
  kind: 'bad-input' | 'unreadable';
  message: string;
}

const zero = (): Counts => ({ assignable: 0, warnings: 0, blocked: 0 });
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function hostEntry(h: FleetHost, target: Target) {
  const counts = Object.fromEntries(TARGETS.map((t) => [t, zero()])) as Record<Target, Counts>;
  for (const d of h.devices) for (const t of TARGETS) counts[t][d.verdicts[t].status]++;
  return {
    id: h.id,
    source: h.source,
    kind: h.kind,
    model: h.model,
    bios: h.bios,
    kernel: h.kernel,
    iommu: h.iommu,
    functions: h.functions,
    devices: h.devices.length,
    counts,
    blockers: {
      host: h.hostFindings.filter((f) => f.effects[target] === 'block').map((f) => f.code),
      devices: h.devices
        .filter((d) => d.verdicts[target].status === 'blocked')
        .map((d) => ({ address: d.address, name: d.name, slot: d.slot, reasons: d.verdicts[target].reasons })),
    },
    rmrds: h.rmrds,
  };
}

function modelKey(d: FleetDevice): string {
  return `${hex4(d.vendorId)}:${hex4(d.deviceId)}`;
}

/** Every device model (vendor:device ids) with its verdicts on every host that has it. */
function models(hosts: FleetHost[], target: Target) {
  const m = new Map<string, { name: string | null; hosts: Set<string>; devices: number; counts: Record<Target, Counts>; reasons: Map<string, number>; byStatus: Record<VerdictStatus, Set<string>> }>();
  for (const h of hosts) {
    for (const d of h.devices) {
      const k = modelKey(d);
      let e = m.get(k);
      if (!e) {
        e = { name: d.name, hosts: new Set(), devices: 0, counts: Object.fromEntries(TARGETS.map((t) => [t, zero()])) as Record<Target, Counts>, reasons: new Map(), byStatus: { assignable: new Set(), warnings: new Set(), blocked: new Set() } };
        m.set(k, e);
      }
      e.name ??= d.name;
      e.hosts.add(h.id);
      e.devices++;
      for (const t of TARGETS) e.counts[t][d.verdicts[t].status]++;
      const v = d.verdicts[target];
      e.byStatus[v.status].add(h.id);
      for (const r of v.reasons) e.reasons.set(r, (e.reasons.get(r) ?? 0) + 1);
    }
  }
  return [...m.entries()]
    .sort(([a], [b]) => byString(a, b))
    .map(([ids, e]) => {
      const statuses = (['assignable', 'warnings', 'blocked'] as const).filter((s) => e.byStatus[s].size > 0);
      return {
        ids,
        name: e.name,
        hosts: e.hosts.size,
        devices: e.devices,
        counts: e.counts,
        /** The model's verdict for the target is not the same on every host. */
        differs: statuses.length > 1,
        hostsByStatus: Object.fromEntries((['assignable', 'warnings', 'blocked'] as const).map((s) => [s, [...e.byStatus[s]].sort(byString)])) as Record<VerdictStatus, string[]>,
        reasons: Object.fromEntries([...e.reasons.entries()].sort(([a], [b]) => byString(a, b))),
      };
    });
}

/** Does a device answer the query? Ids "vvvv:dddd", an address (with or without the domain), or part of a name. */
export function deviceMatches(d: FleetDevice, q: FleetQuery): boolean {
  if (q.slot !== undefined && d.slot !== q.slot) return false;
  if (q.device === undefined) return true;
  const s = q.device.trim().toLowerCase();
  if (/^[0-9a-f]{4}:[0-9a-f]{4}$/.test(s) && s === modelKey(d)) return true;
  const a = d.address.toLowerCase();
  if (/^(?:[0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(s)) return a === s || a === `0000:${s}`;
  return (d.name ?? '').toLowerCase().includes(s);
}

function query(hosts: FleetHost[], q: FleetQuery, target: Target) {
  const assignable: Array<{ host: string; address: string; name: string | null; slot: number | null; status: VerdictStatus }> = [];
  const notAssignable: Array<{ host: string; address: string; name: string | null; slot: number | null; status: VerdictStatus; reasons: string[] }> = [];
  const absent: string[] = [];
  for (const h of hosts) {
    const hits = h.devices.filter((d) => deviceMatches(d, q));
    if (hits.length === 0) absent.push(h.id);
    for (const d of hits) {
      const v = d.verdicts[target];
      // Warnings still pass through (the survey's own rule: only blocked is "no").
      if (v.status === 'blocked') notAssignable.push({ host: h.id, address: d.address, name: d.name, slot: d.slot, status: v.status, reasons: v.reasons });
      else assignable.push({ host: h.id, address: d.address, name: d.name, slot: d.slot, status: v.status });
    }
  }
  return { device: q.device ?? null, slot: q.slot ?? null, assignable, notAssignable, absent };
}

/** RMRDS_SlotN across the hosts whose capture held a conrep save: each value with its hosts. */
function rmrdsAcross(hosts: FleetHost[]) {
  const withSave = hosts.filter((h) => h.rmrds !== null);
  const settings = new Map<string, Map<string, string[]>>();
  for (const h of withSave) {
    for (const [k, v] of Object.entries(h.rmrds!)) {
      const vals = settings.get(k) ?? new Map<string, string[]>();
      settings.set(k, vals);
      vals.set(v, [...(vals.get(v) ?? []), h.id]);
    }
  }
  const slotNo = (k: string) => Number(/(\d+)$/.exec(k)?.[1] ?? 0);
  const slots = [...settings.entries()]
    .sort(([a], [b]) => slotNo(a) - slotNo(b) || byString(a, b))
    .map(([setting, vals]) => {
      const seen = [...vals.values()].reduce((n, hs) => n + hs.length, 0);
      return {
        setting,
        values: Object.fromEntries([...vals.entries()].sort(([a], [b]) => byString(a, b)).map(([v, hs]) => [v, [...hs].sort(byString)])),
        /** Hosts with a save that lacks this setting. */
        missing: withSave.filter((h) => !(setting in h.rmrds!)).map((h) => h.id).sort(byString),
        differs: vals.size > 1 || seen < withSave.length,
      };
    });
  return { hostsWithSave: withSave.length, hostsWithout: hosts.length - withSave.length, slots };
}

export function fleetSummary(hostsIn: FleetHost[], errors: InputError[], target: Target, q: FleetQuery | null) {
  const hosts = [...hostsIn].sort((a, b) => byString(a.id, b.id));
  return {
    target,
    inputs: { hosts: hosts.length, failed: errors.length },
    hosts: hosts.map((h) => hostEntry(h, target)),
    models: models(hosts, target),
    query: q && (q.device !== undefined || q.slot !== undefined) ? query(hosts, q, target) : null,
    firmwareSettings: { rmrds: rmrdsAcross(hosts) },
    errors: [...errors].sort((a, b) => byString(a.input, b.input)),
  };
}

export type FleetSummary = ReturnType<typeof fleetSummary>;
