/**
 * Firmware-reserved memory a device must keep mapped 1:1: Intel DMAR RMRRs and AMD IVMD
 * unity ranges. Predicts what this kernel does — refuse (with its exact message), relax,
 * or not enforce — and ranks the fixes: the HPE RMRDS slot switch, another slot, the
 * kernel's relax_rmrr, another hypervisor.
 */
import { rangeSize } from '../firmware/format.js';
import { atLeast, enforcesRmrr, rmrrMessage, rmrrRelaxable } from '../host/kernel.js';
import type { Device, Host } from '../host/model.js';
import { finding, type Finding, type Fix } from './finding.js';
import { bootParameterFix, type IommuState } from './iommu.js';

const RELAX_WARNING = 'Intel-IOMMU: assuming all RMRRs are relaxable. This can lead to instability or data loss';

function rmrrEvidence(d: Device, host: Host): string[] {
  const lines = (d.rmrr ?? []).map((h) => `DMAR RMRR (structure ${h.structure}) ${'0x' + h.base.toString(16)}-${'0x' + h.limit.toString(16)} (${rangeSize(h.base, h.limit)}) names it: scope ${h.scope}${h.viaBridge ? `, a bridge above it (${h.viaBridge}), so everything below is covered` : ''}`);
  const g = d.iommuGroup !== null && d.iommuGroup !== undefined ? host.groups?.get(d.iommuGroup) : undefined;
  const direct = g?.reservedRegions?.filter((r) => r.type === 'direct' || r.type === 'direct-relaxable');
  if (direct && direct.length > 0) {
    lines.push(`the kernel agrees: /sys/kernel/iommu_groups/${d.iommuGroup}/reserved_regions lists ${direct.map((r) => `0x${r.start.toString(16)}-0x${r.end.toString(16)} ${r.type}`).join(', ')}`);
  }
  return lines;
}

export function rmrrFixes(d: Device, host: Host, s: IommuState, startRank = 1): Fix[] {
  const fixes: Fix[] = [];
  let rank = startRank;
  const gen = host.system?.hpeGeneration ?? null;
  if (host.system?.isHpeProliant) {
    if (d.slot?.hpeRmrdsSlot) {
      const verified = gen === 8 || gen === 9;
      fixes.push({
        rank: rank++,
        title: `Exclude ${d.slot.designation ?? `slot ${d.slot.physical}`} from RMRR: HPE ${d.slot.hpeRmrdsSlot}=Endpoints_Excluded`,
        risk: 'medium',
        detail: `The HPE RMRDS setting (conrep, advisory c04781229) removes slot ${d.slot.physical} from the RMRR device scopes. iLO then no longer monitors that slot (no temperature or health data). Takes effect after a reboot.${verified ? '' : ` Unverified on this generation (${gen ? `Gen${gen}` : 'unknown'}): HPE documents it for Gen8 and Gen9.`}`,
        commands: [`assignable fix ${d.address}            # the plan: override file, backup, commands`, `assignable fix ${d.address} --apply    # with conrep installed: backup, load, read back`],
      });
    } else if (d.slot?.embedded || !d.slot?.physical) {
      fixes.push({
        rank: rank++,
        title: 'No firmware switch for this device',
        risk: 'none',
        detail: `HPE's RMRDS switch works per PCIe slot (RMRDS_Slot1-16); this device is ${d.slot?.embedded ? `embedded (${d.slot.designation ?? 'on the system board'})` : 'not in a slot we could identify'}, so conrep cannot exclude it. A card of the same kind in a PCIe slot can be excluded.`,
      });
    }
  } else if (d.slot?.physical) {
    fixes.push({ rank: rank++, title: 'Move the card to another slot', risk: 'low', detail: 'Firmware often names only some slots (or the onboard devices) in RMRRs; check the new slot with `assignable explain` after the move.' });
  }
  if (s.relaxRmrrAvailable) {
    fixes.push(bootParameterFix(host, rank++, 'intel_iommu=on,relax_rmrr', `This kernel accepts relax_rmrr (Proxmox VE 6.2.16-13-pve and later). It treats every RMRR as relaxable and logs "${RELAX_WARNING}". Do not use it for devices the firmware really uses (iLO-shared NIC, a RAID controller in RAID mode with its driver on the host).`, 'high'));
  } else {
    fixes.push({
      rank: rank++,
      title: 'A kernel with relax_rmrr',
      risk: 'high',
      detail: `${host.kernel ? `This kernel (${host.kernel.release}) has no relax_rmrr option.` : 'Whether this kernel has relax_rmrr is unknown.'} Proxmox VE kernels from 6.2.16-13-pve accept intel_iommu=relax_rmrr; other distributions need the relax-intel-rmrr patch. It logs "${RELAX_WARNING}".`,
    });
  }
  fixes.push({ rank: rank++, title: 'Use ESXi for this device (believed, not verified)', risk: 'medium', detail: 'Users report ESXi DirectPath I/O does not enforce RMRRs; no VMware document confirms it, and the firmware may still DMA into the reserved memory.' });
  return fixes;
}

export function checkRmrr(d: Device, host: Host, s: IommuState): Finding[] {
  if (!d.rmrr?.length || d.isBridge) return [];
  const ev = rmrrEvidence(d, host);
  const k = host.kernel;
  if (k && !enforcesRmrr(k)) {
    return [finding('RMRR_NOT_ENFORCED', d.address, `An RMRR names this device; kernel ${k.release} predates 3.17 and does not enforce RMRRs, so VFIO attaches it — while the firmware may still DMA into that memory.`, ev, rmrrFixes(d, host, s))];
  }
  if (s.relaxRmrrActive) {
    return [finding('RMRR_RELAXED_BY_OPTION', d.address, `An RMRR names this device; intel_iommu=relax_rmrr is active, so VFIO will attach it ("${RELAX_WARNING}").`, ev, [])];
  }
  // Without a kernel version, assume a current one (the rule has held since 3.17).
  const kk = k ?? { release: 'unknown', major: 6, minor: 6, patch: 0, pve: null };
  if (rmrrRelaxable(kk, d.classCode)) {
    const kind = d.classCode >> 8 === 0x0c03 ? 'a USB controller' : 'a display device';
    return [finding('RMRR_RELAXABLE', d.address, `An RMRR names this device, but it is ${kind}, which the kernel treats as relaxable: VFIO attaches it (Hyper-V still refuses).`, ev, [])];
  }
  const msg = rmrrMessage(kk);
  const pre = k ? `Kernel ${k.release} will refuse to attach it to VFIO` : 'The kernel (version unknown; every kernel since 3.17) will refuse to attach it to VFIO';
  return [
    finding('RMRR_DIRECT', d.address, `${pre}: "vfio-pci ${d.address}: ${msg}" — the firmware reserved memory for it in an RMRR.`, [
      ...ev,
      `Hyper-V SurveyDDA: "BIOS requires that this device remain attached to BIOS-owned memory.  Not assignable."`,
    ], rmrrFixes(d, host, s)),
  ];
}

export function checkIvmd(d: Device, host: Host): Finding[] {
  if (d.ivmd.length === 0 || d.isBridge) return [];
  const out: Finding[] = [];
  const unity = d.ivmd.filter((h) => (h.flags & 1) !== 0 && (h.flags & 8) === 0);
  const excl = d.ivmd.filter((h) => (h.flags & 8) !== 0);
  const ev = (hs: typeof d.ivmd) => hs.map((h) => `IVRS IVMD block ${h.block} (type 0x${h.type.toString(16)}, flags 0x${h.flags.toString(16).padStart(2, '0')}) 0x${h.start.toString(16)}+${'0x' + h.length.toString(16)} covers its requester id`);
  if (unity.length > 0) {
    const k = host.kernel;
    const enforced = !k || atLeast(k, 6, 6);
    const fixes: Fix[] = [
      { rank: 1, title: 'Turn off DMA protection in the firmware setup', risk: 'medium', detail: 'Users report the unity ranges disappear with "Kernel DMA Protection Indicator" or "Pre-boot DMA Protection" set to off.' },
      { rank: 2, title: 'A kernel before 6.6', risk: 'high', detail: 'Before 6.6 the kernel mapped IVMD unity ranges without refusing the attach; older kernels lack later fixes.' },
    ];
    out.push(enforced
      ? finding('IVMD_UNITY_DIRECT', d.address, `An AMD IVMD unity range names this device; ${k ? `kernel ${k.release}` : 'a 6.6+ kernel'} refuses VFIO: "${rmrrMessage({ release: '', major: 6, minor: 6, patch: 0, pve: null })}"`, ev(unity), fixes)
      : finding('IVMD_UNITY', d.address, `An AMD IVMD unity range names this device; kernel ${k!.release} maps it 1:1 and still attaches (6.6 and later refuse).`, ev(unity), fixes));
  }
  if (excl.length > 0 && unity.length === 0) {
    out.push(finding('IVMD_EXCLUSION', d.address, 'An AMD IVMD exclusion range covers this device: the kernel reserves it (IOMMU_RESV_RESERVED), which does not prevent assignment.', ev(excl)));
  }
  return out;
}

