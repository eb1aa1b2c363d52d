/** IOMMU groups: who else must go along, and whether the group holds something the host needs. */
import { deviceKey } from '../host/address.js';
import type { Device, Host } from '../host/model.js';
import { finding, type Finding } from './finding.js';
import { hostCriticalReason } from './host-critical.js';
import type { IommuState } from './iommu.js';
import { REQ_ACS_FLAGS, acsNames } from '../host/grouping/acs-bits.js';
import { compareGroups } from '../host/grouping/compare.js';
import { simulateOverrides, type OverrideSimulation } from '../host/grouping/override.js';
import { whereAlone, whereAloneFor, type SlotAlone } from '../host/grouping/alone.js';
import type { Fix } from './finding.js';
import { isWindowsDevice } from './dda.js';

/** The group a device is in: the kernel's when the capture has it, else the prediction. */
export interface GroupView {
  basis: 'kernel' | 'predicted';
  /** "IOMMU group 12" or "predicted group 0000:00:1c.0". */
  name: string;
  /** The kernel's group number, or the predicted group's label ("0000:00:1c.0"). */
  id: string;
  members: string[];
  /** For predictions: what they rest on that the capture does not show ([] = certain). */
  uncertain: string[];
}

export function groupView(d: Device, host: Host): GroupView | null | undefined {
  if (d.iommuGroup === null) return null;
  if (d.iommuGroup !== undefined) {
    const g = host.groups?.get(d.iommuGroup);
    return g ? { basis: 'kernel', name: `IOMMU group ${d.iommuGroup}`, id: String(d.iommuGroup), members: g.devices, uncertain: [] } : undefined;
  }
  const p = host.predicted.byDevice.get(d.address);
  if (!p) return host.predicted.uncovered.includes(d.address) ? null : undefined;
  return { basis: 'predicted', name: `predicted group ${p.group.label}`, id: p.group.label, members: p.group.members, uncertain: p.group.uncertain };
}

/** A prediction needs the function's and its bridges' capabilities (root-run lspci, or 256+ bytes). */
function capabilitiesKnown(d: Device, host: Host): boolean {
  const seen = new Set<string>();
  for (let cur: Device | undefined = d; cur && !seen.has(cur.address); cur = cur.parent ? host.byAddress.get(cur.parent) : undefined) {
    seen.add(cur.address);
    if (cur.config.capabilities === undefined) return false;
  }
  return d.parent !== undefined;
}

const predictedNote = (v: GroupView) =>
  v.basis === 'kernel' ? [] : [`predicted from config space as Linux forms groups (the capture has no group data)${v.uncertain.length ? '; it rests on what the capture does not show:' : ''}`, ...v.uncertain.map((u) => `  unknown: ${u}`)];

/**
 * The evidence names at most this many other members: every member of a group of thousands
 * of VFs naming all the others is n² lines (over V8's longest string as JSON).
 */
export const MAX_LISTED_MEMBERS = 64;

/**
 * ladders false: the findings without the isolation fixes and override evidence (the slot and
 * override simulations behind them are most of a survey's time); codes and verdicts are the same.
 */
export function checkGroup(d: Device, host: Host, s: IommuState, mgmt: Map<string, string>, ladders = true): Finding[] {
  if (d.isBridge || s.kernelEnabled === false || s.firmware === 'absent') return [];
  const v = groupView(d, host);
  if (v === undefined || (v?.basis === 'predicted' && !capabilitiesKnown(d, host))) {
    return [finding('GROUP_UNKNOWN', d.address, 'Its IOMMU group is unknown: the capture has no group data and too little config space to predict it.', [], [
      { rank: 1, title: 'Capture the groups', risk: 'none', detail: '`assignable collect` on the host, or `lspci -nnvvv` from lspci 3.6+ run as root.' },
    ])];
  }
  if (v === null) {
    return d.iommuGroup === null
      ? [finding('NO_IOMMU_GROUP', d.address, 'The kernel put this function in no IOMMU group: no IOMMU translates its DMA, so VFIO cannot take it.', ['sysfs: no iommu_group link'])]
      : [finding('NO_IOMMU_GROUP', d.address, 'No IOMMU unit covers this function (DMAR DRHD scopes / IVRS device entries), so the kernel will give it no IOMMU group and VFIO cannot take it.', ['predicted from the firmware tables (the capture has no group data)'])];
  }
  // One summary per group, shared by its members: a 4096-function group costs O(n), not O(n²).
  const g = groupSummary(v.members, host, mgmt);
  const selfEndpoint = g.endpoints.includes(d) ? 1 : 0;
  const otherCount = g.endpoints.length - selfEndpoint;
  if (otherCount === 0) {
    if (v.uncertain.length === 0) return [];
    return [finding('GROUP_PREDICTED_UNCERTAIN', d.address, `Predicted to have an IOMMU group of its own, but that rests on what the capture does not show.`, predictedNote(v), [
      { rank: 1, title: 'Capture the groups', risk: 'none', detail: '`assignable collect` on the host, or `lspci -nnvvv` run as root with the IOMMU on.' },
    ])];
  }
  const others = firstOthers(g.endpoints, d, MAX_LISTED_MEMBERS);
  // The bound driver matters (it must be unbound); "none" and "not captured" read alike here.
  const list = [...others.map((o) => `${o.address} ${o.name}${o.driver ? ` — driver ${o.driver}` : ''}`), ...(otherCount > others.length ? [`… and ${otherCount - others.length} more endpoint(s) of ${v.name}: survey --groups lists them all`] : []), ...predictedNote(v)];
  const would = v.basis === 'predicted' ? ' would' : '';
  const critical = g.critical.filter(([o]) => o !== d);
  if (critical.length > 0) {
    const named = critical.slice(0, MAX_LISTED_MEMBERS).map(([o, r]) => `${o.address} (${r})`).join(', ') + (critical.length > MAX_LISTED_MEMBERS ? ` and ${critical.length - MAX_LISTED_MEMBERS} more` : '');
    const f = finding('GROUP_HOST_CRITICAL', d.address, `${cap(v.name)}${would ? ' would hold' : ' also holds'} ${named}: the whole group goes to the VM, so the host would lose it.`, list, [
      ...(ladders ? isolationFixes(d, host, 1) : []),
    ]);
    return [ladders ? withOverrideEvidence(f, d, host) : f];
  }
  const sameDevice = g.deviceKeys.size === 1 && g.deviceKeys.has(deviceKey(d.pci));
  const name = cap(v.name);
  const shared = finding('GROUP_SHARED', d.address, sameDevice
    ? `${name}${would ? ' would hold' : ' holds'} the other functions of this device too: pass them together (Proxmox "All Functions").`
    : `${name}${would ? ' would hold' : ' holds'} ${otherCount} other device(s): all of them must be given to the same VM or left without a driver ("group N is not viable" otherwise).`, list, sameDevice ? [] : [
    { rank: 1, title: 'Pass the whole group to the VM', risk: 'medium', detail: 'Every endpoint of the group must be bound to vfio-pci.' },
    ...(ladders ? isolationFixes(d, host, 2) : []),
  ]);
  return [sameDevice || !ladders ? shared : withOverrideEvidence(shared, d, host)];
}


interface GroupSummary {
  endpoints: Device[];
  critical: Array<readonly [Device, string]>;
  deviceKeys: Set<string>;
}
const summaries = new WeakMap<Host, WeakMap<string[], GroupSummary>>();

function groupSummary(members: string[], host: Host, mgmt: Map<string, string>): GroupSummary {
  let perHost = summaries.get(host);
  if (!perHost) summaries.set(host, (perHost = new WeakMap()));
  let g = perHost.get(members);
  if (!g) {
    // Bridges may stay with the host; everything else goes with the device or is unbound.
    const endpoints = members.map((a) => host.byAddress.get(a)).filter((x): x is Device => !!x && !x.isBridge);
    g = {
      endpoints,
      critical: endpoints.map((o) => [o, hostCriticalReason(o, host, mgmt)] as const).filter((x): x is readonly [Device, string] => x[1] !== null),
      deviceKeys: new Set(endpoints.map((o) => deviceKey(o.pci))),
    };
    perHost.set(members, g);
  }
  return g;
}

function firstOthers(endpoints: Device[], d: Device, max: number): Device[] {
  const out: Device[] = [];
  for (const o of endpoints) {
    if (o === d) continue;
    if (out.length === max) break;
    out.push(o);
  }
  return out;
}

const cap = (t: string) => t[0]!.toUpperCase() + t.slice(1);

const isPort = (p: Device) => p.config.pcie?.portType === 0x4 || p.config.pcie?.portType === 0x6;

const PORT_KIND: Record<number, string> = { 0x4: 'Root Port', 0x5: 'Upstream Port', 0x6: 'Downstream Port', 0x7: 'PCIe-to-PCI bridge', 0x8: 'PCI-to-PCIe bridge' };

/**
 * ACS on the bridges above the function, as the kernel judges them (src/host/grouping): a hop
 * Linux does not isolate merges the groups below it; a hop Linux isolates only through a quirk
 * has no (complete) ACS capability, which is what Hyper-V looks at.
 */
export function checkAcs(d: Device, host: Host, s: IommuState): Finding[] {
  // On a Windows host, Windows' own AcsCompatibleUpHierarchy answers for each hop (checks/dda.ts).
  if (d.isBridge || s.firmware === 'absent' || isWindowsDevice(d)) return [];
  const hops: string[] = [];
  const failing: string[] = [];
  const quirkOnly: string[] = [];
  const incomplete: string[] = [];
  let unknown = false;
  const seen = new Set<string>();
  for (let cur = d.parent; cur && !seen.has(cur); cur = host.byAddress.get(cur)?.parent) {
    seen.add(cur);
    const p = host.byAddress.get(cur);
    const a = host.predicted.acsOf(cur);
    if (!p || !a) break;
    const kind = PORT_KIND[p.config.pcie?.portType ?? -1] ?? (p.config.pcie === null ? 'PCI bridge' : 'bridge');
    const quirk = a.quirk ? `; quirk ${a.quirk.name} (${a.quirk.label})` : '; no kernel quirk applies';
    hops.push(`${p.address} ${kind}: ${a.isolated ? 'isolates' : 'does not isolate'} — ${a.reason}${a.missing.length ? `; missing ${a.missing.join(' ')}` : ''}${quirk}${a.certain ? '' : ' (uncertain)'}`);
    if (!a.certain) unknown = true;
    if (!a.isolated) failing.push(`${p.address} ${kind}${a.missing.length ? ` (missing ${a.missing.join(' ')})` : ''}`);
    else if (a.quirk && (p.config.acs === null || a.quirk.name === 'pci_quirk_intel_spt_pch_acs')) quirkOnly.push(`${p.address} ${kind} (${a.quirk.name})`);
    else if (p.config.acs && (p.config.acs.capabilityRaw & REQ_ACS_FLAGS) !== REQ_ACS_FLAGS && isPort(p)) {
      // Linux asks only for the bits a port implements; the capability itself is incomplete.
      incomplete.push(`${p.address} ${kind} (implements ${acsNames(p.config.acs.capabilityRaw & REQ_ACS_FLAGS).join(' ') || 'none'} of SrcValid ReqRedir CmpltRedir UpstreamFwd)`);
    }
  }
  if (failing.length === 0 && quirkOnly.length === 0 && incomplete.length === 0) return [];
  const v = groupView(d, host);
  const aloneInKernel = v?.basis === 'kernel' && v.members.every((m) => m === d.address || host.byAddress.get(m)?.isBridge);
  let linux: string;
  if (failing.length === 0 && quirkOnly.length > 0) linux = 'Linux isolates it anyway, through the kernel quirk named, not through an ACS capability.';
  else if (failing.length === 0) linux = 'Linux isolates it anyway: it requires only the ACS bits a port implements.';
  else if (aloneInKernel) linux = `Linux's rules group it with the devices below ${failing[failing.length - 1]}, yet the kernel's own groups isolate it: an ACS override or a quirk this tool lacks is at work.`;
  else linux = `Linux groups it with everything below ${failing[failing.length - 1]}${unknown ? ' (some facts are uncertain, see below)' : ''}.`;
  return [finding('ACS_MISSING_UPSTREAM', d.address, `A bridge above it has no complete ACS capability: ${[...failing, ...quirkOnly, ...incomplete].join(', ')}. ${linux} Hyper-V reads the capability and says "Traffic from this device may be redirected to other devices in the system.  Not assignable."`, hops)];
}

/** Where the kernel's groups are known: any group the prediction does not reproduce, and why that is likely. */
export function checkGroupsAgainstPrediction(host: Host): Finding[] {
  if (!host.groups) return [];
  const diffs = compareGroups(host.groups, host.predicted, { cmdline: host.cmdline, kernelRelease: host.kernel?.release });
  if (diffs.length === 0) return [];
  const lines = diffs.flatMap((x) => [
    `kernel group ${x.kernel.id}: ${x.kernel.members.join(' ')} — predicted ${x.predicted.map((s) => `{${s.join(' ')}}`).join(' ')} (${x.kind === 'finer' ? 'the kernel splits it' : x.kind === 'coarser' ? 'the kernel merges them' : 'different'})`,
    `  likely: ${x.likely}`,
  ]);
  return [finding('GROUPS_DIFFER_FROM_PREDICTION', null, `${diffs.length} of the kernel's IOMMU group(s) differ from what config space predicts: the kernel's groups are what counts; the difference says what the kernel knows that config space does not show.`, lines)];
}

/** Override simulations re-run the engine a few times per device: only for groups this small. */
const MAX_SIMULATED_GROUP = 64;
const simulations = new WeakMap<Host, Map<string, OverrideSimulation | null>>();
const slotAnswers = new WeakMap<Host, SlotAlone[]>();

function simulationFor(d: Device, host: Host): OverrideSimulation | null {
  let m = simulations.get(host);
  if (!m) simulations.set(host, (m = new Map()));
  if (!m.has(d.address)) {
    const g = host.predicted.byDevice.get(d.address)?.group;
    m.set(d.address, g && g.members.length <= MAX_SIMULATED_GROUP ? simulateOverrides(host, d) : null);
  }
  return m.get(d.address)!;
}

/** The slots of this host where a card like this one would get a group of its own (src/host/grouping/alone.ts). */
function slotsAlone(d: Device, host: Host): SlotAlone[] | null {
  let all = slotAnswers.get(host);
  if (!all) slotAnswers.set(host, (all = whereAlone(host)));
  return all.length === 0 ? null : whereAloneFor(host, d.address, all);
}

/** "Move the card" with the slots named, then the narrowest ACS override that would isolate it (never one that would not). */
function isolationFixes(d: Device, host: Host, rank: number): Fix[] {
  const out: Fix[] = [];
  // Windows publishes no config space: Linux's groups of its hardware are too uncertain to simulate.
  if (isWindowsDevice(d)) return out;
  // Only sharing with other cards is fixed by moving or overriding; a card's own functions go together.
  if (simulationFor(d, host)?.target === 'function') return out;
  const slots = slotsAlone(d, host);
  if (slots === null) out.push({ rank: rank++, title: 'Move the card to a slot with its own group', risk: 'low', detail: 'Slot information is missing (no SMBIOS type 9 records or kernel slot objects): `assignable slots` on the host.' });
  else if (slots.length > 0) {
    const named = slots.slice(0, 6).map((s) => `${s.physical ? `slot ${s.physical}${s.designation ? ` (${s.designation})` : ''}` : (s.designation ?? 'a slot')} behind ${s.port}${s.rmrr === 'blocked' ? ' — but held by an RMRR' : s.rmrds && s.rmrr === 'excluded-by-rmrds-possible' ? ` — after ${s.rmrds}=Endpoints_Excluded` : ''}`);
    out.push({ rank: rank++, title: 'Move the card to a slot with its own group', risk: 'low', detail: `A card like this one would be alone in: ${named.join('; ')}${slots.length > 6 ? `; and ${slots.length - 6} more (\`assignable slots\`)` : ''}.` });
  } else out.push({ rank: rank++, title: 'No slot of this host would give it a group of its own', risk: 'none', detail: '`assignable slots` shows why, slot by slot.' });
  const sim = simulationFor(d, host);
  const opt = sim?.narrowestAvailable;
  if (opt) {
    const patch = opt.needsPatch ? ` Needs a kernel with the pcie_acs_override patch (Proxmox VE, linux-zen): this kernel ${opt.available === 'yes' ? 'has it' : opt.available === 'no' ? 'does not' : 'may'} (${opt.availableWhy}).` : ` ${opt.availableWhy}.`;
    out.push({ rank: rank++, title: `Kernel parameter ${opt.param}`, risk: 'high', detail: `Would leave it ${opt.sharesWith.length === 0 ? 'alone' : `with ${opt.sharesWith.join(' ')}`}${opt.certain ? '' : ' (uncertain)'}.${patch} ${opt.risk}` });
  }
  return out;
}

/** The override simulation, as evidence: what each knob would do here, and what cannot help. */
function withOverrideEvidence(f: Finding, d: Device, host: Host): Finding {
  const sim = isWindowsDevice(d) ? null : simulationFor(d, host);
  if (!sim || sim.target !== 'card') return f;
  const lines = sim.options.slice(0, 4).map((o) => `override: ${o.param} → ${o.isolates ? 'isolates it' : `still with ${[...o.sharesWith, ...o.sameCard].join(' ') || 'bridges only'}`}${o.needsPatch ? ` (needs the patch; this kernel: ${o.available})` : ` (${o.available === 'yes' ? 'this kernel can' : o.available === 'no' ? 'not on this kernel' : 'kernel unknown'})`}`);
  if (sim.options.length === 0) lines.push('override: no ACS override or config_acs setting changes this group');
  for (const n of sim.notApplicable.slice(0, 3)) lines.push(`override: ${n.param} would not help — ${n.why}`);
  return { ...f, evidence: [...f.evidence, ...lines] };
}
