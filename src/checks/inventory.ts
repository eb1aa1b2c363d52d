/** Facts worth knowing that decide nothing: SR-IOV, embedded (no slot). */
import type { Device } from '../host/model.js';
import { finding, type Finding } from './finding.js';

export function checkSriov(d: Device): Finding[] {
  if (!d.sriov || d.sriov.totalVfs === 0) return [];
  return [finding('SRIOV', d.address, `SR-IOV: it can present up to ${d.sriov.totalVfs} virtual functions (${d.sriov.numVfs} enabled); a VF can go to a VM while the host keeps the physical function.`, [`TotalVFs ${d.sriov.totalVfs}, NumVFs ${d.sriov.numVfs}`], [
    { rank: 1, title: 'Enable virtual functions', risk: 'low', detail: 'echo N > /sys/bus/pci/devices/<address>/sriov_numvfs (the driver must support SR-IOV).' },
  ])];
}

export function checkEmbedded(d: Device): Finding[] {
  if (!d.slot?.embedded || d.isBridge) return [];
  return [finding('EMBEDDED', d.address, `Embedded on the system board (${d.slot.designation ?? 'onboard'}): it has no PCIe slot.`, d.slot.sources)];
}
