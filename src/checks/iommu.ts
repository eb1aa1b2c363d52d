/** Host-level: is there an IOMMU, did the kernel turn it on, is interrupt remapping there. */
import { hasRelaxRmrr, intelIommuOptions, parseCmdline, type Cmdline } from '../host/kernel.js';
import type { Host, KernelConfig } from '../host/model.js';
import { finding, type Finding, type Fix } from './finding.js';
import { virtualIommuCommands, virtualMachine, type VirtualMachine } from './virtual-machine.js';

export interface IommuState {
  vendor: 'intel' | 'amd' | null | undefined;
  /** Firmware tables: present, absent, or not captured. */
  firmware: 'present' | 'absent' | 'unknown';
  kernelEnabled: boolean | undefined;
  interruptRemapping: boolean | undefined;
  cmdline: Cmdline | undefined;
  relaxRmrrAvailable: boolean | undefined;
  relaxRmrrActive: boolean;
  /** vfio_iommu_type1 allow_unsafe_interrupts: on, off, or unknown; with where that was read. */
  unsafeInterrupts: { allowed: boolean; source: string } | undefined;
}

const UNSAFE_PARAM = 'vfio_iommu_type1.allow_unsafe_interrupts';
const UNSAFE_SYSFS = '/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts';

/** The kernel's bool parameter syntax (kstrtobool): 1/y/Y/t/T/on is true, 0/n/N/f/F/off is false. */
function kernelBool(v: string | null): boolean | undefined {
  if (v === null) return true; // a bare bool parameter sets it
  if (/^(1|[yYtT]|on)/.test(v)) return true;
  if (/^(0|[nNfF]|off)/.test(v)) return false;
  return undefined;
}

/** The loaded module's value wins (it is what VFIO uses now); else the command line, which sets it at load. */
function unsafeInterrupts(host: Host, cmdline: Cmdline | undefined): IommuState['unsafeInterrupts'] {
  if (host.vfioAllowUnsafeInterrupts !== undefined) return { allowed: host.vfioAllowUnsafeInterrupts, source: `${UNSAFE_SYSFS} = ${host.vfioAllowUnsafeInterrupts ? 'Y' : 'N'}` };
  if (cmdline?.params.has(UNSAFE_PARAM)) {
    const v = cmdline.params.get(UNSAFE_PARAM)!;
    const allowed = kernelBool(v);
    if (allowed !== undefined) return { allowed, source: `command line: ${UNSAFE_PARAM}${v === null ? '' : `=${v}`}` };
  }
  return undefined;
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
    unsafeInterrupts: unsafeInterrupts(host, cmdline),
  };
}

/**
 * How to add a kernel parameter on the bootloader this host booted with: only that one's
 * command when it is known, both (labelled) when the input does not say.
 */
export function bootParameterFix(host: Host, rank: number, param: string, why: string, risk: Fix['risk'] = 'low'): Fix {
  const b = host.bootloader;
  const grubEdit = 'add it to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then';
  const cmdlineEdit = 'add it to the single line of /etc/kernel/cmdline, then';
  const grub = [`# GRUB: ${grubEdit}`, 'update-grub && reboot'];
  const pbt = [`# systemd-boot via proxmox-boot-tool: ${cmdlineEdit}`, 'proxmox-boot-tool refresh && reboot'];
  let commands: string[];
  let which: string;
  if (b === undefined) {
    which = 'The bootloader is unknown from these files: use the lines for the one the host boots with.';
    commands = [`# GRUB (Debian, Ubuntu, Proxmox with GRUB): ${grubEdit}`, grub[1]!, `# systemd-boot (Proxmox on ZFS/UEFI): ${cmdlineEdit}`, pbt[1]!];
  } else if (b.kind === 'systemd-boot') {
    which = `This host boots with systemd-boot (${b.evidence.join('; ')}).`;
    commands = b.proxmoxBootTool ? pbt : [`# systemd-boot: add it to the single line of /etc/kernel/cmdline, then reinstall the boot entry`, `kernel-install add "$(uname -r)" "/boot/vmlinuz-$(uname -r)" && reboot`];
  } else {
    which = `This host boots with GRUB (${b.evidence.join('; ')}).`;
    // Proxmox on legacy-boot ZFS: GRUB, but its ESPs are kept by proxmox-boot-tool.
    commands = b.proxmoxBootTool ? [grub[0]!, 'proxmox-boot-tool refresh && reboot'] : grub;
  }
  // Quote what the command line holds now, so "add" never duplicates an option already there.
  const key = param.split('=')[0]!;
  const now = host.cmdline !== undefined ? parseCmdline(host.cmdline).params : undefined;
  const current = now?.has(key) ? `${key}${now.get(key) === null ? '' : `=${now.get(key)}`}` : undefined;
  const title = current ? `Change ${current} to ${param} on the kernel command line` : `Add ${param} to the kernel command line`;
  return { rank, title, risk, detail: `${why} ${which}`, commands };
}

/** IOMMU build options of the running kernel, as "NAME=value" lines naming the file. */
function configLines(c: KernelConfig, names: RegExp): string[] {
  return Object.entries(c.options).filter(([k]) => names.test(k)).map(([k, v]) => `${c.path}: ${v === null ? `# ${k} is not set` : `${k}=${v}`}`);
}

/** The advice for an IOMMU the firmware has and the kernel left off: read from the command line and build config it quotes. */
function kernelDisabledFixes(host: Host, s: IommuState): Fix[] {
  const intel = s.vendor === 'intel';
  const offOpts = s.cmdline ? [...s.cmdline.params].filter(([k, v]) => (k === 'intel_iommu' || k === 'amd_iommu' || k === 'iommu') && v === 'off').map(([k]) => `${k}=off`) : [];
  if (offOpts.length > 0) return [{ rank: 1, title: 'Remove the option that turns the IOMMU off', risk: 'low', detail: `The command line has ${offOpts.join(' ')}.` }];
  const firmware: Fix = { rank: 1, title: 'Check the firmware setup', risk: 'low', detail: intel ? 'Look for "VT-d" / "Intel Virtualization Technology for Directed I/O" and enable it; then check the kernel log for "DMAR:" errors.' : 'AMD-Vi is on by default in Linux; "amd_iommu=on" is not an option (it logs "Unknown option"). Look for "IOMMU" in the firmware setup, and for amd_iommu=off or iommu=off on the command line.' };
  if (!intel) return [firmware];
  if (s.cmdline && intelIommuOptions(s.cmdline).includes('on')) {
    return [{ ...firmware, detail: `The command line already has intel_iommu=on, so the kernel was asked to enable VT-d and did not. ${firmware.detail}` }];
  }
  const c = host.kernelConfig;
  const defaultOn = c?.options.CONFIG_INTEL_IOMMU_DEFAULT_ON;
  if (c && defaultOn === 'y') {
    return [{ ...firmware, detail: `${c.path} has CONFIG_INTEL_IOMMU_DEFAULT_ON=y: this kernel enables VT-d by default, so a missing option is not the cause. ${firmware.detail}` }];
  }
  const build = c
    ? `${c.path} has ${defaultOn === undefined ? 'no CONFIG_INTEL_IOMMU_DEFAULT_ON' : defaultOn === null ? 'CONFIG_INTEL_IOMMU_DEFAULT_ON not set' : `CONFIG_INTEL_IOMMU_DEFAULT_ON=${defaultOn}`}: this kernel leaves VT-d off unless asked.`
    : `Whether this kernel enables VT-d by default is unknown (its build configuration, /boot/config-${host.kernel?.release ?? '<release>'}, was not read); intel_iommu=on turns it on either way.`;
  return [bootParameterFix(host, 1, 'intel_iommu=on', build)];
}

/** In a virtual machine the IOMMU is the hypervisor's to emulate: the fix is on the physical host, not in a firmware setup. */
function virtualIommuFixes(vm: VirtualMachine): Fix[] {
  return [
    { rank: 1, title: `Give this virtual machine a virtual IOMMU (${vm.hypervisor ?? 'on its hypervisor'}; VM powered off)`, risk: 'low', detail: 'This host is a virtual machine: the IOMMU it sees is the one its hypervisor emulates, so there is no firmware setting to change here. With intel-iommu, interrupt remapping needs intremap=on and a split irqchip; nesting also needs nested virtualization (vmx/svm in the guest).', commands: virtualIommuCommands(vm) },
    { rank: 2, title: 'Or assign the device on the physical host instead', risk: 'none', detail: 'A device passed through to this VM can go straight to the VM that needs it: run assignable survey on the physical host.' },
  ];
}

/** The "firmware setup" step, for a VM: its virtual IOMMU is set on the hypervisor. */
function vmFirmwareFix(vm: VirtualMachine, rank: number): Fix {
  return { rank, title: "Check this VM's virtual IOMMU on its hypervisor", risk: 'low', detail: 'This host is a virtual machine: there is no firmware setting to change here. Check that its virtual IOMMU is configured as below, then check the kernel log for "DMAR:" errors.', commands: virtualIommuCommands(vm) };
}

export function checkIommu(host: Host, s: IommuState): Finding[] {
  const out: Finding[] = [];
  // Only asked when the advice depends on it: firmware settings are no fix inside a VM.
  const vm = s.firmware === 'absent' || s.kernelEnabled === false ? virtualMachine(host) : undefined;
  // A VM's virtio-iommu is described by ACPI VIOT, not DMAR/IVRS: the kernel's groups say it is there.
  if (s.firmware === 'absent' && vm?.is && host.groups !== undefined && host.groups.size > 0) return out;
  if (s.firmware === 'absent' && vm?.is) {
    out.push(finding('IOMMU_ABSENT', null, 'This virtual machine has no IOMMU (no ACPI DMAR or IVRS table): its hypervisor gives it none, so no device can be passed on from it.', ['ACPI: no DMAR and no IVRS table', ...vm.evidence], virtualIommuFixes(vm)));
    return out;
  }
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
    out.push(finding('IOMMU_DISABLED_BY_KERNEL', null, `The firmware describes an IOMMU, but the kernel created no IOMMU groups: VFIO cannot work until it is enabled.`, [
      `firmware: ${intel ? 'DMAR' : 'IVRS'} present`,
      'kernel: /sys/kernel/iommu_groups is empty',
      ...(s.cmdline ? [`command line: ${s.cmdline.raw.trim()}`] : ['command line: unknown']),
      ...(host.kernelConfig ? configLines(host.kernelConfig, /^CONFIG_(INTEL_IOMMU|AMD_IOMMU|IOMMU_DEFAULT)/) : []),
    ], vm?.is ? kernelDisabledFixes(host, s).map((f) => (f.title === 'Check the firmware setup' ? vmFirmwareFix(vm, f.rank) : f)) : kernelDisabledFixes(host, s)));
  } else if (s.kernelEnabled === undefined) {
    out.push(finding('IOMMU_KERNEL_STATE_UNKNOWN', null, 'Whether the kernel enabled the IOMMU is unknown: the capture has no IOMMU group data.', [], [
      { rank: 1, title: 'Capture the groups', risk: 'none', detail: 'On the host, run `assignable collect` (it records /sys/kernel/iommu_groups), or paste `lspci -nnvvv` from lspci 3.6+ which prints "IOMMU group".' },
    ]));
  }
  if (s.interruptRemapping === false) out.push(interruptRemappingFinding(host, s));
  return out;
}

/**
 * No interrupt remapping: vfio_iommu_type1 refuses to attach a group ("No interrupt remapping
 * support. Use the module param \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on
 * this platform") unless allow_unsafe_interrupts is set; Hyper-V DDA requires it outright.
 */
function interruptRemappingFinding(host: Host, s: IommuState): Finding {
  const why = host.dmar && host.dmar.intrRemap === false ? `DMAR flags 0x${host.dmar.flags.toString(16).padStart(2, '0')}: INTR_REMAP is clear` : s.cmdline?.params.get('intremap') === 'off' ? 'command line: intremap=off' : 'no IOAPIC described to the IOMMU';
  const vm = virtualMachine(host);
  // In a VM, remapping is a property of the virtual IOMMU its hypervisor emulates.
  const firmware: Fix = vm.is
    ? { rank: 1, title: "Turn on interrupt remapping in this VM's virtual IOMMU (on its hypervisor)", risk: 'low', detail: 'This host is a virtual machine: there is no firmware setting to change here. QEMU\'s intel-iommu remaps interrupts only with intremap=on, which needs the split irqchip.', commands: virtualIommuCommands(vm) }
    : { rank: 1, title: 'Enable interrupt remapping in the firmware setup', risk: 'low', detail: 'Often tied to the VT-d / x2APIC settings.' };
  if (s.unsafeInterrupts?.allowed) {
    return finding('INTERRUPT_REMAPPING_UNSAFE_ALLOWED', null, 'Interrupt remapping is not available, and VFIO is told to work without it (allow_unsafe_interrupts): a guest can forge interrupts to the host. Hyper-V DDA requires interrupt remapping.', [why, s.unsafeInterrupts.source], [firmware]);
  }
  return finding('INTERRUPT_REMAPPING_ABSENT', null, 'Interrupt remapping is not available: VFIO refuses devices unless vfio_iommu_type1 allow_unsafe_interrupts=1, and Hyper-V DDA requires it.', [why, s.unsafeInterrupts ? s.unsafeInterrupts.source : 'allow_unsafe_interrupts: not set on the command line; module parameter not read'], [
    firmware,
    {
      rank: 2,
      title: 'Allow unsafe interrupts (VFIO only)',
      risk: 'high',
      detail: 'A guest can then forge interrupts to the host (MSI injection); Proxmox warns it "can make your system unstable". Either line takes effect when the module loads (a reboot).',
      commands: [`echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" > /etc/modprobe.d/vfio-unsafe-interrupts.conf`, `# or on the kernel command line: ${UNSAFE_PARAM}=1`],
    },
  ]);
}
