/**
 * `bind`: which functions go to vfio-pci with a device, and whether that is safe. Pure: from
 * the Host only. The set is the device's IOMMU group (the kernel's groups when they were read,
 * else the predicted group) plus the other functions of the same PCI device; bridges in it stay
 * with their driver. Refused: a function the host needs, a group that holds one, no IOMMU.
 */
import { groupView } from '../../checks/groups.js';
import { hostNeed, managementFunctions } from '../../checks/host-critical.js';
import { deviceKey, vendorDevice } from '../../host/address.js';
import type { Device, Host } from '../../host/model.js';

export const VFIO_DRIVER = 'vfio-pci';

/**
 * bind: hand it to vfio-pci. already: it is bound to vfio-pci. leave-bridge: a bridge stays with
 * pcieport — vfio-pci's probe takes only normal (type 0) headers, and vfio does not count a
 * bridge on its own driver against the group's viability.
 */
export type BindAction = 'bind' | 'already' | 'leave-bridge';

export interface BindFunction {
  address: string;
  name: string;
  /** vendor:device as vfio-pci's ids= wants it, e.g. 10de:0a65. */
  ids: string;
  /** The driver now: null none, undefined not read. */
  driver: string | null | undefined;
  action: BindAction;
  /** Why it goes along: the device itself, its IOMMU group, or a function of the same device. */
  why: string;
}

export interface BindPlan {
  kind: 'vfio-bind';
  device: string;
  group: { source: 'kernel' | 'predicted' | 'none'; id: string | null; members: string[] };
  functions: BindFunction[];
  /** Why it must not be done; empty when it may. */
  refused: string[];
  /** No IOMMU (no groups, or none covers the device): vfio-pci cannot take the device. */
  noIommu: boolean;
  notes: string[];
}

function groupOf(host: Host, d: Device): { group: BindPlan['group']; noIommu: string | null; notes: string[] } {
  const none = (why: string) => ({ group: { source: 'none' as const, id: null, members: [] }, noIommu: why, notes: [] });
  if (host.groups?.size === 0) return none('the kernel created no IOMMU groups: the IOMMU is off or absent (`assignable survey` says why)');
  const view = groupView(d, host);
  if (host.groups !== undefined) {
    // The kernel's groups were read: a function outside them has no IOMMU, whatever a prediction says.
    if (view?.basis !== 'kernel') return none(`${d.address} is in no IOMMU group: no IOMMU unit translates for it`);
    return { group: { source: 'kernel', id: view.id, members: [...view.members].sort() }, noIommu: null, notes: [] };
  }
  if (view === null) return none(`no IOMMU unit covers ${d.address} (DMAR/IVRS)`);
  const notes = ["the kernel's IOMMU groups were not read: the group is predicted from config space (on the host itself, the kernel's groups decide)"];
  if (view?.uncertain.length) notes.push(`the prediction is uncertain: ${view.uncertain.join('; ')}`);
  return { group: { source: 'predicted', id: view?.id ?? null, members: view ? [...view.members].sort() : [d.address] }, noIommu: null, notes };
}

export function planBind(host: Host, device: Device): BindPlan {
  const { group, noIommu, notes } = groupOf(host, device);
  const why = new Map<string, string>([[device.address, 'the device']]);
  for (const m of group.members) if (!why.has(m)) why.set(m, `same IOMMU group (${group.source === 'kernel' ? `kernel group ${group.id}` : `predicted group ${group.id ?? ''}`.trim()})`);
  const key = deviceKey(device.pci);
  for (const d of host.devices) if (deviceKey(d.pci) === key && !why.has(d.address)) why.set(d.address, 'another function of the same device');
  const mgmt = managementFunctions(host);
  const refused: string[] = [];
  if (noIommu) refused.push(noIommu);
  const functions: BindFunction[] = [];
  for (const address of [...why.keys()].sort()) {
    const d = host.byAddress.get(address);
    if (!d) {
      refused.push(`${address} is in the group but not among the PCI functions read`);
      continue;
    }
    const action: BindAction = d.isBridge || d.isHostBridge ? 'leave-bridge' : d.driver === VFIO_DRIVER ? 'already' : 'bind';
    functions.push({ address, name: d.name, ids: vendorDevice(d.config), driver: d.driver, action, why: why.get(address)! });
    if (action === 'leave-bridge') continue;
    // A function the host may need (a storage controller, root disk unknown) is refused too.
    const need = hostNeed(d, host, mgmt)?.why;
    if (need === undefined) continue;
    if (address === device.address) refused.push(`${address} is a device the host needs: ${need}`);
    else refused.push(`${address} goes with ${device.address} (${why.get(address)}) and the host needs it: ${need}`);
  }
  const unknown = functions.filter((f) => f.action === 'bind' && f.driver === undefined);
  if (unknown.length) notes.push(`the current driver of ${unknown.map((f) => f.address).join(', ')} was not read`);
  return { kind: 'vfio-bind', device: device.address, group, functions, refused, noIommu: noIommu !== null, notes };
}

export const toBind = (p: BindPlan) => p.functions.filter((f) => f.action === 'bind');
