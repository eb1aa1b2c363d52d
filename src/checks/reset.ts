/** Reset: FLR, PM (NoSoftRst-), secondary bus reset — or none, the classic "Cannot reset device". */
import type { Device, Host } from '../host/model.js';
import { busKey } from '../host/topology.js';
import { finding, type Finding } from './finding.js';

/** Which resets Linux could use, from config space when sysfs does not say. */
export function possibleResets(d: Device, host: Host): { methods: string[]; why: string[] } {
  const c = d.config;
  const methods: string[] = [];
  const why: string[] = [];
  if (c.pcie?.flr) methods.push('flr');
  else why.push(c.pcie ? 'no FLR (DevCap FLReset-)' : 'no PCI Express FLR');
  if (c.capabilities?.some((x) => x.id === 0x13)) methods.push('af_flr');
  if (c.pm && !c.pm.noSoftReset) methods.push('pm');
  else if (c.pm) why.push('PM NoSoftRst+ (D3hot→D0 does not reset it)');
  else why.push('no Power Management capability');
  // Secondary bus reset: a non-root bus with no other function on it.
  const onBus = (host.byBus.get(busKey(d.pci.segment, d.pci.bus)) ?? []).filter((o) => o.address !== d.address);
  if (d.parent && onBus.length === 0) methods.push('bus');
  else if (!d.parent) why.push('on a root bus (no bridge to reset it)');
  else why.push(`shares its bus with ${onBus.map((o) => o.address).join(', ')}`);
  return { methods, why };
}

export function checkReset(d: Device, host: Host): Finding[] {
  if (d.isBridge || d.isHostBridge || d.config.capabilities === undefined) return [];
  let methods: string[];
  let why: string[] = [];
  let source: string;
  if (d.resetMethods !== undefined && d.resetMethods !== null) {
    methods = d.resetMethods;
    source = `sysfs reset_method: ${methods.join(' ') || '(empty)'}`;
    if (methods.length === 0) why = possibleResets(d, host).why;
  } else {
    ({ methods, why } = possibleResets(d, host));
    source = `from config space: ${methods.join(' ') || 'none'}`;
  }
  if (methods.length === 0) {
    return [finding('NO_RESET', d.address, 'No way to reset it: between VM runs it keeps its state, and QEMU says "vfio: Cannot reset device …, no available reset mechanism."', [source, ...why], [
      { rank: 1, title: 'Pass every function of the device and its siblings', risk: 'low', detail: 'When VFIO owns everything on the bus it can reset the bus (hot reset).' },
      { rank: 2, title: 'A device-specific reset', risk: 'medium', detail: 'Some GPUs need the vendor-reset module (gnif/vendor-reset).' },
    ])];
  }
  if (methods.length === 1 && methods[0] === 'bus') {
    return [finding('BUS_RESET_ONLY', d.address, 'It can only be reset by resetting its bus (no FLR or PM reset).', [source, ...why])];
  }
  return [];
}
