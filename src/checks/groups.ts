/** IOMMU groups: who else must go along, and whether the group holds something the host needs. */
import { deviceKey } from '../host/address.js';
import type { Device, Host } from '../host/model.js';
import { finding, type Finding } from './finding.js';
import { hostCriticalReason } from './host-critical.js';
import type { IommuState } from './iommu.js';

/**
 * The evidence names at most this many other members: every member of a group of thousands
 * of VFs naming all the others is n² lines (over V8's longest string as JSON).
 */
export const MAX_LISTED_MEMBERS = 64;

interface GroupEndpoint {
  device: Device;
  line: string;
  critical: string | null;
  /** deviceKey of its address, made once. */
  key: string;
}
const endpointCache = new WeakMap<object, { host: Host; mgmt: Map<string, string>; endpoints: GroupEndpoint[] }>();

/** A group's endpoints with what checkGroup says of each, once per group. */
function groupEndpoints(g: { devices: string[] }, host: Host, mgmt: Map<string, string>): GroupEndpoint[] {
  const hit = endpointCache.get(g);
  if (hit && hit.host === host && hit.mgmt === mgmt) return hit.endpoints;
  const endpoints = g.devices
    .map((a) => host.byAddress.get(a))
    // Bridges may stay with the host; everything else goes with the device or is unbound.
    .filter((x): x is Device => !!x && !x.isBridge)
    .map((o) => ({ device: o, line: `${o.address} ${o.name} — driver ${o.driver === undefined ? 'unknown' : (o.driver ?? 'none')}`, critical: hostCriticalReason(o, host, mgmt), key: deviceKey(o.pci) }));
  endpointCache.set(g, { host, mgmt, endpoints });
  return endpoints;
}

export function checkGroup(d: Device, host: Host, s: IommuState, mgmt: Map<string, string>): Finding[] {
  if (d.isBridge || s.kernelEnabled === false || s.firmware === 'absent') return [];
  if (d.iommuGroup === undefined) {
    return [finding('GROUP_UNKNOWN', d.address, 'Its IOMMU group is unknown: the capture has no group data.', [], [
      { rank: 1, title: 'Capture the groups', risk: 'none', detail: '`assignable collect` on the host, or `lspci -nnvvv` from lspci 3.6+.' },
    ])];
  }
  if (d.iommuGroup === null) {
    return [finding('NO_IOMMU_GROUP', d.address, 'The kernel put this function in no IOMMU group: no IOMMU translates its DMA, so VFIO cannot take it.', ['sysfs: no iommu_group link'])];
  }
  const g = host.groups?.get(d.iommuGroup);
  if (!g) return [];
  // Everything but this device, from the group's member list made once (a group of thousands of VFs otherwise costs n² look-ups).
  const members = groupEndpoints(g, host, mgmt).filter((m) => m.device.address !== d.address);
  const endpoints = members.map((m) => m.device);
  if (endpoints.length === 0) return [];
  const critical = members.filter((m) => m.critical !== null).map((m) => [m.device, m.critical] as const);
  const list = members.length <= MAX_LISTED_MEMBERS
    ? members.map((m) => m.line)
    : [...members.slice(0, MAX_LISTED_MEMBERS).map((m) => m.line), `… and ${members.length - MAX_LISTED_MEMBERS} more endpoint(s) of IOMMU group ${d.iommuGroup}: each is in the survey with this group`];
  if (critical.length > 0) {
    return [finding('GROUP_HOST_CRITICAL', d.address, `IOMMU group ${d.iommuGroup} also holds ${critical.map(([o, r]) => `${o.address} (${r})`).join(', ')}: the whole group goes to the VM, so the host would lose it.`, list, [
      { rank: 1, title: 'Move the card to a slot with its own group', risk: 'low', detail: 'Slots wired to the CPU usually sit behind ports with ACS; chipset slots often share one group.' },
      { rank: 2, title: 'ACS override (Proxmox, linux-zen kernels)', risk: 'high', detail: 'pcie_acs_override=downstream,multifunction splits groups by pretending ports isolate peer-to-peer traffic; the kernel warns "This may allow non-IOMMU protected peer-to-peer DMA". See the ACS finding for whether it would help here.' },
    ])];
  }
  const own = deviceKey(d.pci);
  const sameDevice = members.every((m) => m.key === own);
  return [finding('GROUP_SHARED', d.address, sameDevice
    ? `IOMMU group ${d.iommuGroup} holds the other functions of this device too: pass them together (Proxmox "All Functions").`
    : `IOMMU group ${d.iommuGroup} holds ${endpoints.length} other device(s): all of them must be given to the same VM or left without a driver ("group N is not viable" otherwise).`, list, sameDevice ? [] : [
    { rank: 1, title: 'Pass the whole group to the VM', risk: 'medium', detail: 'Every endpoint of the group must be bound to vfio-pci.' },
    { rank: 2, title: 'Move the card to a slot with its own group', risk: 'low', detail: '' },
  ])];
}

const REQUIRED = ['SrcValid', 'ReqRedir', 'CmpltRedir', 'UpstreamFwd'] as const;

/** ACS on each Root Port and switch Downstream Port above the function (the flags Linux requires). */
export function checkAcs(d: Device, host: Host, s: IommuState): Finding[] {
  if (d.isBridge || s.firmware === 'absent') return [];
  const hops: string[] = [];
  let missing = 0;
  let partial = 0;
  let unknown = 0;
  let cur = d.parent;
  const seen = new Set<string>();
  while (cur && !seen.has(cur)) {
    seen.add(cur);
    const p = host.byAddress.get(cur);
    if (!p) break;
    const pt = p.config.pcie?.portType;
    if (pt === 4 || pt === 6) {
      const acs = p.config.acs;
      const kind = pt === 4 ? 'Root Port' : 'Downstream Port';
      if (acs === undefined) {
        unknown++;
        hops.push(`${p.address} ${kind}: ACS unknown (extended config space not captured)`);
      } else if (acs === null) {
        missing++;
        hops.push(`${p.address} ${kind}: no ACS capability`);
      } else {
        const off = REQUIRED.filter((b) => !acs.control.includes(b));
        const capOff = REQUIRED.filter((b) => !acs.capability.includes(b));
        if (off.length > 0) {
          missing++;
          if (capOff.length > 0) partial++;
          hops.push(`${p.address} ${kind}: ACS capability ${acs.capability.join(' ') || '(none)'}; enabled ${acs.control.join(' ') || '(none)'}; missing ${off.join(' ')}`);
        } else hops.push(`${p.address} ${kind}: ACS ${acs.control.join(' ')}`);
      }
    }
    cur = p.parent;
  }
  if (missing === 0) return [];
  const kernel = host.kernel;
  const override = kernel?.pve || /zen/.test(kernel?.release ?? '');
  const overrideActive = host.cmdline?.includes('pcie_acs_override=');
  const would = partial > 0
    ? 'An ACS override would not help on the hop(s) that have a partial ACS capability: the override patch never touches devices with an ACS capability.'
    : `pcie_acs_override=downstream${d.config.multifunction ? ',multifunction' : ''} would split this hop${override ? ' (this kernel has the override patch)' : ' (needs a kernel with the override patch: Proxmox VE, linux-zen)'}${overrideActive ? '; it is already on the command line' : ''}.`;
  return [finding('ACS_MISSING_UPSTREAM', d.address, `A port above it does not isolate peer-to-peer traffic (ACS): Linux groups it with its neighbours, and Hyper-V says "Traffic from this device may be redirected to other devices in the system.  Not assignable."`, [...hops, would])];
}
