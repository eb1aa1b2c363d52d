/** Devices the host itself needs: management controllers, the boot disk, console, default-route NIC. */
import { deviceKey, vendorDevice } from '../host/address.js';
import type { Device, Host } from '../host/model.js';
import { finding, type Finding } from './finding.js';

/** vendor:device of management-controller functions (iLO, BMC video). */
export const MANAGEMENT_IDS: Record<string, string> = {
  '103c:3300': 'HPE iLO virtual USB controller',
  '103c:3302': 'HPE iLO 2 management processor',
  '103c:3306': 'HPE iLO slave instrumentation & system support',
  '103c:3307': 'HPE iLO management processor',
  '103c:3308': 'HPE iLO 5 management processor',
  '102b:0533': 'Matrox G200eH (HPE iLO video)',
  '102b:0538': 'Matrox G200eH3 (HPE iLO video)',
  '102b:0534': 'Matrox G200eR2 (Dell iDRAC video)',
  '102b:0536': 'Matrox G200eW3 (Dell iDRAC video)',
  '1a03:2000': 'ASPEED BMC graphics',
  '1a03:1150': 'ASPEED BMC PCI bridge',
};

/** PCI base class 01h: mass storage controllers (SATA, SAS, NVMe, RAID). */
const MASS_STORAGE_CLASS = 0x01;

const id = (d: Device) => vendorDevice(d.config);

/** Known management functions, and every other function of the same PCI device. */
export function managementFunctions(host: Host): Map<string, string> {
  const out = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const d of host.devices) {
    const what = MANAGEMENT_IDS[id(d)];
    if (what) {
      out.set(d.address, what);
      keys.set(deviceKey(d.pci), what);
    }
  }
  for (const d of host.devices) {
    const k = keys.get(deviceKey(d.pci));
    if (k && !out.has(d.address)) out.set(d.address, `a function of the same device as the ${k}`);
  }
  return out;
}

export function hostCriticalReason(d: Device, host: Host, mgmt: Map<string, string>): string | null {
  if (mgmt.has(d.address)) return `management controller (${mgmt.get(d.address)})`;
  if (host.bootDiskFunctions?.includes(d.address)) return 'holds the root file system';
  if (host.defaultRouteFunctions?.includes(d.address)) return 'carries the default route';
  return null;
}

/**
 * Why the host cannot give this function away: certain for the management controller, the root
 * file system, the default route and the console; uncertain (it may be) for a storage controller
 * while the root file system's disks are unknown. null: the data shows no need. For bind and lint,
 * which refuse or flag such a function as a whole rather than per finding.
 */
export function hostNeed(d: Device, host: Host, mgmt: Map<string, string>): { why: string; certain: boolean } | null {
  const why = hostCriticalReason(d, host, mgmt) ?? (d.bootVga === true ? 'the console display (boot_vga=1)' : null);
  if (why) return { why, certain: true };
  if (d.classCode >> 16 === MASS_STORAGE_CLASS && !d.isBridge && host.bootDiskUnknown !== undefined) {
    return { why: `a storage controller, and which disks hold the root file system is unknown (${host.bootDiskUnknown}): it may be the boot disk`, certain: false };
  }
  return null;
}

export function checkHostCritical(d: Device, host: Host, mgmt: Map<string, string>): Finding[] {
  const out: Finding[] = [];
  if (mgmt.has(d.address)) {
    out.push(finding('MANAGEMENT_CONTROLLER', d.address, `Part of the server's management controller: ${mgmt.get(d.address)}. Giving it to a VM takes remote management, health monitoring or the remote console away from the host.`, [`PCI ID ${id(d)}`]));
  }
  if (host.bootDiskFunctions?.includes(d.address)) {
    out.push(finding('HOST_BOOT_DISK', d.address, 'The host\'s root file system is on a disk behind this controller: passing it through takes the host down.', host.bootDiskEvidence));
  } else if (d.classCode >> 16 === MASS_STORAGE_CLASS && !d.isBridge && host.bootDiskUnknown !== undefined) {
    // Unknown is not "not the boot disk": every storage controller may be it.
    const why = host.bootDiskUnknown;
    out.push(finding('HOST_BOOT_DISK_UNKNOWN', d.address, `A storage controller, and which disks hold the host's root file system is unknown (${why}): it may be the boot disk.`, [...host.bootDiskEvidence, `boot disk unknown: ${why}`], [
      { rank: 1, title: 'Check where / lives before passing it through', risk: 'none', detail: '`findmnt /`, `lsblk -s`, and for ZFS `zpool status -P`; or run `assignable survey` on the host itself as root.' },
    ]));
  }
  if (d.bootVga === true) {
    out.push(finding('HOST_CONSOLE', d.address, 'The firmware booted the console on this display device (boot_vga=1): the host loses its local console, and the guest needs its ROM handled.', ['sysfs boot_vga = 1'], [
      { rank: 1, title: 'Run the host headless or use another display', risk: 'low', detail: 'Remote access (SSH, iLO/BMC console) keeps working.' },
    ]));
  }
  if (host.defaultRouteFunctions?.includes(d.address)) {
    out.push(finding('HOST_NETWORK', d.address, `The host's default route uses this NIC${d.netInterfaces?.length ? ` (${d.netInterfaces.join(', ')})` : ''}: the host loses its network when the VM takes it.`, ['/proc/net/route: default route via an interface of this function']));
  }
  // HPE: the iLO "shared network port" rides on the first port of the embedded/FlexibleLOM NIC.
  if (host.system?.isHpeProliant && d.classCode >> 8 === 0x0200 && d.slot?.embedded && d.pci.function === 0) {
    out.push(finding('SHARED_WITH_MANAGEMENT', d.address, 'On HPE ProLiant servers the iLO "Shared Network Port" uses port 1 of the embedded or FlexibleLOM NIC; if it is enabled, iLO traffic shares this port.', [`embedded: ${d.slot.designation ?? ''}`], [
      { rank: 1, title: 'Check iLO network settings', risk: 'none', detail: 'iLO: Network > iLO Dedicated Network Port vs Shared Network Port.' },
    ]));
  }
  if (d.driver && !d.isBridge) {
    if (d.driver === 'vfio-pci' || d.driver === 'pci-stub') out.push(finding('DRIVER_BOUND', d.address, `Already bound to ${d.driver}.`, [`driver: ${d.driver}`]));
    else out.push(finding('DRIVER_BOUND', d.address, `Bound to the host driver ${d.driver}; it is unbound when the device is handed to vfio-pci.`, [`driver: ${d.driver}`]));
  }
  return out;
}
