/** Host-level: is there an IOMMU, did the kernel turn it on, is interrupt remapping there. */
import { atLeast, hasRelaxRmrr, intelIommuOptions, parseCmdline, type Cmdline } from '../host/kernel.js';
import type { Host } from '../host/model.js';
import { finding, type Finding, type Fix } from './finding.js';

export interface IommuState {
  vendor: 'intel' | 'amd' | null | undefined;
  /** Firmware tables: present, absent, or not captured. */
  firmware: 'present' | 'absent' | 'unknown';
  kernelEnabled: boolean | undefined;
  interruptRemapping: boolean | undefined;
  cmdline: Cmdline | undefined;
  relaxRmrrAvailable: boolean | undefined;
  relaxRmrrActive: boolean;
}

export function iommuState(host: Host): IommuState {
  const vendor = host.dmar ? 'intel' : host.ivrs ? 'amd' : host.dmar === null && host.ivrs === null ? null : undefined;
  const firmware = host.dmar || host.ivrs ? 'present' : host.dmar === null && host.ivrs === null ? 'absent' : 'unknown';
  let kernelEnabled: boolean | undefined;
  if (host.groups !== undefined) kernelEnabled = host.groups.size > 0;
  else if (host.dmesg && /DMAR: IOMMU enabled|AMD-Vi: (Found IOMMU|Interrupt remapping enabled)|iommu: Default domain type/.test(host.dmesg)) kernelEnabled = true;
  const cmdline = host.cmdline !== undefined ? parseCmdline(host.cmdline) : undefined;
  let interruptRemapping: boolean | undefined;
  if (cmdline?.params.get('intremap') === 'off') interruptRemapping = false;
  else if (host.dmesg && /Enabled IRQ remapping|Interrupt remapping enabled/.test(host.dmesg)) interruptRemapping = true;
  else if (host.dmar) interruptRemapping = host.dmar.intrRemap;
  else if (host.ivrs) interruptRemapping = host.ivrs.blocks.some((b) => b.kind === 'IVHD' && b.entries.some((x) => x.type === 0x48 && x.variety === 1));
  const relaxOpt = cmdline ? intelIommuOptions(cmdline).includes('relax_rmrr') : false;
  const relaxLogged = host.dmesg ? /assuming all RMRRs are relaxable/.test(host.dmesg) : false;
  const relaxRmrrAvailable = relaxLogged ? true : host.kernel ? hasRelaxRmrr(host.kernel) : undefined;
  return {
    vendor,
    firmware,
    kernelEnabled,
    interruptRemapping,
    cmdline,
    relaxRmrrAvailable,
    relaxRmrrActive: relaxLogged || (relaxOpt && relaxRmrrAvailable === true),
  };
}

export function bootParameterFix(rank: number, param: string, why: string, risk: Fix['risk'] = 'low'): Fix {
  return {
    rank,
    title: `Add ${param} to the kernel command line`,
    risk,
    detail: why,
    commands: [
      `# GRUB (Debian, Ubuntu, Proxmox with GRUB): add it to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then`,
      `update-grub && reboot`,
      `# systemd-boot (Proxmox on ZFS/UEFI): add it to the single line of /etc/kernel/cmdline, then`,
      `proxmox-boot-tool refresh && reboot`,
    ],
  };
}

export function checkIommu(host: Host, s: IommuState): Finding[] {
  const out: Finding[] = [];
  if (s.firmware === 'absent') {
    out.push(
      finding('IOMMU_ABSENT', null, 'The firmware exposes neither a DMAR (Intel VT-d) nor an IVRS (AMD-Vi) table: no device can be passed through.', [
        'ACPI: no DMAR and no IVRS table',
      ], [
        { rank: 1, title: 'Enable the IOMMU in the firmware setup', risk: 'low', detail: 'Intel: "VT-d" / "Intel Virtualization Technology for Directed I/O"; AMD: "IOMMU" / "AMD-Vi"; on servers often under "System Options > Virtualization Options". Some also need "SR-IOV" enabled.' },
        { rank: 2, title: 'In a virtual machine: give it a virtual IOMMU', risk: 'low', detail: 'QEMU: -device intel-iommu (q35); most cloud VMs have none.' },
      ]),
    );
    return out;
  }
  if (s.firmware === 'unknown') {
    out.push(finding('IOMMU_TABLES_UNKNOWN', null, 'The ACPI DMAR/IVRS tables were not captured: RMRR and IVMD reservations, the commonest firmware blockers, are unknown.', [], [
      { rank: 1, title: 'Add the tables to the capture', risk: 'none', detail: 'acpidump > acpidump.txt (or copy /sys/firmware/acpi/tables/DMAR as root) and pass --acpidump / --dmar.' },
    ]));
  }
  if (s.kernelEnabled === false) {
    const intel = s.vendor === 'intel';
    const param = intel ? 'intel_iommu=on' : 'amd_iommu=on';
    const off = s.cmdline && (s.cmdline.params.get('intel_iommu') === 'off' || s.cmdline.params.get('amd_iommu') === 'off' || s.cmdline.params.get('iommu') === 'off');
    const fixes: Fix[] = [];
    if (off) {
      fixes.push({ rank: 1, title: 'Remove the option that turns the IOMMU off', risk: 'low', detail: `The command line has ${[...s.cmdline!.params].filter(([k, v]) => (k === 'intel_iommu' || k === 'amd_iommu' || k === 'iommu') && v === 'off').map(([k]) => `${k}=off`).join(' ')}.` });
    } else if (intel) {
      fixes.push(bootParameterFix(1, param, `This kernel does not enable VT-d by default${host.kernel && atLeast(host.kernel, 6, 8) ? ' (its build sets CONFIG_INTEL_IOMMU_DEFAULT_ON=n)' : ' (kernels before 6.8 and most distribution builds need it)'}.`));
    } else {
      fixes.push({ rank: 1, title: 'Check the firmware setup', risk: 'low', detail: 'AMD-Vi is on by default in Linux; "amd_iommu=on" is not an option (it logs "Unknown option"). Look for "IOMMU" in the firmware setup, and for amd_iommu=off or iommu=off on the command line.' });
    }
    out.push(finding('IOMMU_DISABLED_BY_KERNEL', null, `The firmware describes an IOMMU, but the kernel created no IOMMU groups: VFIO cannot work until it is enabled.`, [
      `firmware: ${intel ? 'DMAR' : 'IVRS'} present`,
      'kernel: /sys/kernel/iommu_groups is empty',
      ...(s.cmdline ? [`command line: ${s.cmdline.raw.trim()}`] : []),
    ], fixes));
  } else if (s.kernelEnabled === undefined) {
    out.push(finding('IOMMU_KERNEL_STATE_UNKNOWN', null, 'Whether the kernel enabled the IOMMU is unknown: the capture has no IOMMU group data.', [], [
      { rank: 1, title: 'Capture the groups', risk: 'none', detail: 'On the host, run `assignable collect` (it records /sys/kernel/iommu_groups), or paste `lspci -nnvvv` from lspci 3.6+ which prints "IOMMU group".' },
    ]));
  }
  if (s.interruptRemapping === false) {
    out.push(finding('INTERRUPT_REMAPPING_ABSENT', null, 'Interrupt remapping is not available: VFIO refuses devices unless vfio_iommu_type1.allow_unsafe_interrupts=1, and Hyper-V DDA requires it.', [
      host.dmar ? `DMAR flags 0x${host.dmar.flags.toString(16).padStart(2, '0')}: INTR_REMAP is clear` : 'no IOAPIC described to the IOMMU, or intremap=off',
    ], [
      { rank: 1, title: 'Enable interrupt remapping in the firmware setup', risk: 'low', detail: 'Often tied to the VT-d / x2APIC settings.' },
      { rank: 2, title: 'Allow unsafe interrupts (VFIO only)', risk: 'high', detail: 'options vfio_iommu_type1 allow_unsafe_interrupts=1 in /etc/modprobe.d/ — a guest can then forge interrupts; Proxmox warns it "can make your system unstable".' },
    ]));
  }
  return out;
}
