/**
 * `fix`: from the survey of a device to the remedy for its RMRR — the HPE RMRDS slot switch
 * when the firmware has one for it, else the kernel's relax_rmrr where the kernel has it —
 * or a refusal that says why and what else there is. Pure: no file is read or written here.
 */
import type { DeviceReport, Survey } from '../checks/index.js';
import { planRmrds, type RmrdsPlan } from './hpe-rmrds/plan.js';
import { planRelaxRmrr, type KernelFiles, type KernelPlan } from './kernel-cmdline/relax-rmrr.js';

export type FirmwareVerdict = RmrdsPlan | { kind: 'refused'; reasons: string[]; alternatives: string[] } | { kind: 'nothing'; reason: string };
export type KernelVerdict = KernelPlan | { kind: 'unavailable'; reason: string } | { kind: 'active'; reason: string };

export interface FixDecision {
  report: DeviceReport;
  firmware: FirmwareVerdict;
  kernel: KernelVerdict | null;
  chosen: RmrdsPlan | KernelPlan | null;
}

export type Method = 'rmrds' | 'relax-rmrr';

export function decideFix(sv: Survey, r: DeviceReport, kernelFiles: KernelFiles | null, method?: Method): FixDecision {
  const d = r.device;
  if (!d.rmrr?.length) {
    const v = r.verdicts.vfio;
    return { report: r, firmware: { kind: 'nothing', reason: `${d.rmrr === undefined ? `the DMAR was not read, so whether an RMRR names ${d.address} is unknown` : `no RMRR names ${d.address}`}: there is no firmware reservation to remove (vfio: ${v.status}${v.reasons.length ? `, ${v.reasons.join(', ')}` : ''})` }, kernel: null, chosen: null };
  }
  const critical = r.findings.filter((f) => f.code === 'MANAGEMENT_CONTROLLER' || f.code === 'HOST_BOOT_DISK');
  if (critical.length > 0) {
    return { report: r, firmware: { kind: 'refused', reasons: critical.map((f) => f.message), alternatives: ['Leave it with the host: the firmware reserves memory for it because the server needs it.'] }, kernel: null, chosen: null };
  }
  const sys = sv.host.system;
  let firmware: FirmwareVerdict;
  const rmrds = planRmrds(sv, r);
  if (rmrds) firmware = rmrds;
  else {
    const reasons: string[] = [];
    if (sys === undefined) reasons.push('whether this is an HPE ProLiant is unknown: SMBIOS was not captured (give --dmidecode)');
    else if (!sys?.isHpeProliant) reasons.push(`RMRDS is a setting of HPE ProLiant BIOSes; this system is ${sys ? `${sys.manufacturer ?? '?'} ${sys.product ?? '?'}` : 'without SMBIOS'}`);
    else if (d.slot?.embedded) reasons.push(`${d.address} is embedded (${d.slot.designation ?? 'on the system board'}): RMRDS works per PCIe slot (RMRDS_Slot1-16) and embedded devices have no slot`);
    else reasons.push(`the slot of ${d.address} is unknown (no kernel slot, SMBIOS type 9 or HPE type 203 record matched it), so there is no RMRDS_SlotN to set`);
    const alternatives = [
      'The kernel: intel_iommu=on,relax_rmrr on a kernel that has it (Proxmox VE 6.2.16-13-pve and later).',
      sys?.isHpeProliant ? 'Hardware: put a card of the same kind in a PCIe slot — slots can be excluded with RMRDS.' : 'Hardware: move the card to a slot no RMRR names.',
      'ESXi does not enforce RMRRs.',
    ];
    firmware = { kind: 'refused', reasons, alternatives };
  }

  // The kernel remedy, when the firmware cannot help or is not wanted.
  let kernel: KernelVerdict | null = null;
  const blocksVfio = r.findings.some((f) => f.code === 'RMRR_DIRECT');
  if ((firmware.kind !== 'hpe-rmrds' || method === 'relax-rmrr') && (blocksVfio || method === 'relax-rmrr')) {
    if (sv.iommu.vendor === 'amd') kernel = { kind: 'unavailable', reason: 'relax_rmrr is an Intel VT-d option; this host has an AMD IOMMU' };
    else if (sv.iommu.relaxRmrrActive) kernel = { kind: 'active', reason: 'intel_iommu=relax_rmrr is already active on this kernel' };
    else if (sv.iommu.relaxRmrrAvailable !== true) {
      kernel = { kind: 'unavailable', reason: sv.host.kernel ? `kernel ${sv.host.kernel.release} has no relax_rmrr option (Proxmox VE kernels have it from 6.2.16-13-pve; others need the relax-intel-rmrr patch)` : 'the kernel version is unknown (give --kernel)' };
    } else if (kernelFiles === null) {
      kernel = { kind: 'unavailable', reason: 'the host was read from files: run `assignable fix` on the host itself for the exact bootloader edit' };
    } else {
      const p = planRelaxRmrr(d.address, kernelFiles);
      kernel = 'problem' in p ? { kind: 'unavailable', reason: p.problem } : p;
    }
  }
  const chosen = method === 'relax-rmrr' ? (kernel?.kind === 'kernel-relax-rmrr' ? kernel : null) : firmware.kind === 'hpe-rmrds' ? firmware : kernel?.kind === 'kernel-relax-rmrr' ? kernel : null;
  return { report: r, firmware, kernel, chosen };
}
