/**
 * Host readiness, as virt-host-validate starts: can this host run KVM guests with VFIO at
 * all — CPU virtualization, /dev/kvm, the IOMMU and the kernel's IOMMU mode, the vfio
 * modules — and is it itself a virtual machine. Each line is PASS, FAIL, INFO or unknown
 * (the input did not say); the FAILs are findings.
 */
import { intelIommuOptions, type Cmdline } from '../host/kernel.js';
import type { Host } from '../host/model.js';
import { finding, type Finding } from './finding.js';
import type { IommuState } from './iommu.js';
import { virtualIommuCommands, virtualMachine, type VirtualMachine } from './virtual-machine.js';

export type ReadinessStatus = 'pass' | 'fail' | 'info' | 'unknown';

export interface ReadinessItem {
  status: ReadinessStatus;
  detail: string;
}

export interface Readiness {
  cpu: ReadinessItem;
  kvm: ReadinessItem;
  iommu: ReadinessItem & { mode: string | null };
  vfio: ReadinessItem & { missing: string[]; notLoaded: string[] };
  virtualMachine: VirtualMachine;
}

/** What VFIO device assignment needs loaded (the vfio-pci driver, the type1 IOMMU backend, the core). */
export const VFIO_MODULES = ['vfio', 'vfio_iommu_type1', 'vfio_pci'] as const;
/** Their build options (a module's config symbol). */
const VFIO_CONFIG: Record<(typeof VFIO_MODULES)[number], string> = { vfio: 'CONFIG_VFIO', vfio_iommu_type1: 'CONFIG_VFIO_IOMMU_TYPE1', vfio_pci: 'CONFIG_VFIO_PCI' };

function cpuItem(host: Host, vm: VirtualMachine): ReadinessItem {
  const f = host.cpuFlags;
  if (f === undefined) return { status: 'unknown', detail: 'CPU flags not read (/proc/cpuinfo)' };
  if (f.includes('vmx')) return { status: 'pass', detail: 'Intel VT-x (vmx)' };
  if (f.includes('svm')) return { status: 'pass', detail: 'AMD-V (svm)' };
  return { status: 'fail', detail: `neither vmx nor svm in /proc/cpuinfo: ${vm.is ? 'nested virtualization is off for this VM' : 'VT-x / AMD-V (SVM) disabled in the firmware setup, or absent'}` };
}

function kvmItem(host: Host): ReadinessItem {
  const k = host.kvm;
  if (k === undefined) return { status: 'unknown', detail: '/dev/kvm not looked at' };
  if (k.state === 'usable') return { status: 'pass', detail: `/dev/kvm usable (${k.detail})` };
  if (k.state === 'present') return { status: 'pass', detail: `/dev/kvm registered (${k.detail}); whether it opens was not tested (a capture)` };
  return { status: 'fail', detail: k.detail };
}

/** The kernel's IOMMU mode from the command line: the options that change how it maps host devices. */
function iommuMode(c: Cmdline | undefined): string | null {
  if (!c) return null;
  const parts: string[] = [];
  const iommu = c.params.get('iommu');
  if (iommu === 'pt' || c.params.get('iommu.passthrough') === '1') parts.push(`passthrough (${iommu === 'pt' ? 'iommu=pt' : 'iommu.passthrough=1'}): host devices identity-mapped, devices given to VMs still translated`);
  else if (iommu !== undefined && iommu !== null) parts.push(`iommu=${iommu}`);
  const intel = intelIommuOptions(c);
  if (intel.length > 0) parts.push(`intel_iommu=${intel.join(',')}`);
  const amd = c.params.get('amd_iommu');
  if (amd !== undefined) parts.push(`amd_iommu=${amd ?? ''}`);
  return parts.length > 0 ? parts.join('; ') : 'kernel default (no iommu=, intel_iommu= or amd_iommu= on the command line)';
}

function iommuItem(s: IommuState): Readiness['iommu'] {
  const mode = iommuMode(s.cmdline);
  const what = s.vendor === 'intel' ? 'Intel VT-d (DMAR)' : s.vendor === 'amd' ? 'AMD-Vi (IVRS)' : 'IOMMU';
  const ir = s.interruptRemapping === true ? 'interrupt remapping yes' : s.interruptRemapping === false ? 'interrupt remapping NO' : 'interrupt remapping unknown';
  const withMode = (t: string) => `${t}${s.firmware === 'absent' && s.kernelEnabled !== true ? '' : `, ${ir}`}${mode ? `; mode: ${mode}` : ''}`;
  if (s.firmware === 'absent' && s.kernelEnabled === true) return { status: 'pass', detail: withMode('no DMAR or IVRS, but the kernel made IOMMU groups (a virtio-iommu, described by ACPI VIOT)'), mode };
  if (s.firmware === 'absent') return { status: 'fail', detail: withMode('no DMAR or IVRS table: no IOMMU'), mode };
  if (s.kernelEnabled === false) return { status: 'fail', detail: withMode(`${what} not enabled by the kernel`), mode };
  if (s.kernelEnabled === true) return { status: 'pass', detail: withMode(`${what} enabled by the kernel`), mode };
  return { status: 'unknown', detail: withMode(`${what}: kernel state unknown`), mode };
}

/** Each vfio module: loaded, available (built in, a module file, or y/m in the build config), missing, or unknown. */
function vfioItem(host: Host): Readiness['vfio'] {
  const m = host.vfioModules;
  const cfg = host.kernelConfig?.options;
  const loaded: string[] = [];
  const notLoaded: string[] = [];
  const missing: string[] = [];
  const unknown: string[] = [];
  for (const name of VFIO_MODULES) {
    const option = cfg?.[VFIO_CONFIG[name]];
    if (m?.loaded?.includes(name) || m?.builtin?.includes(name) || option === 'y') loaded.push(name);
    else if (m?.files?.includes(name) || option === 'm') notLoaded.push(name);
    else if (option === null || (m?.files !== undefined && m.builtin !== undefined)) missing.push(name);
    else unknown.push(name);
  }
  const parts = [
    loaded.length ? `in the kernel: ${loaded.join(', ')}` : '',
    notLoaded.length ? `available, not loaded: ${notLoaded.join(', ')}` : '',
    missing.length ? `MISSING: ${missing.join(', ')}` : '',
    unknown.length ? `unknown: ${unknown.join(', ')}` : '',
  ].filter(Boolean);
  const status: ReadinessStatus = missing.length ? 'fail' : unknown.length ? 'unknown' : notLoaded.length ? 'info' : 'pass';
  return { status, detail: parts.join('; '), missing, notLoaded };
}

export function readiness(host: Host, s: IommuState): Readiness {
  const vm = virtualMachine(host);
  return { cpu: cpuItem(host, vm), kvm: kvmItem(host), iommu: iommuItem(s), vfio: vfioItem(host), virtualMachine: vm };
}

/** Short "address name" for evidence lines. */
function named(host: Host, addresses: string[]): string[] {
  return addresses.map((a) => `${a} ${host.byAddress.get(a)?.name ?? ''}`.trim());
}

export function checkReadiness(host: Host, r: Readiness): Finding[] {
  const out: Finding[] = [];
  const vm = r.virtualMachine;
  if (vm.is) {
    const who = vm.hypervisor ?? 'hypervisor not named';
    const through = vm.passedThrough.length > 0 ? `; passed through to it: ${named(host, vm.passedThrough).join(', ')}` : '; no function here looks passed through (all emulated or paravirtual)';
    out.push(finding('HOST_IS_VIRTUAL_MACHINE', null, `This host is a virtual machine (${who}): its devices are emulated, or physical functions the host below passed through to it${through}. Passing them on to a VM inside it needs nested virtualization and a virtual IOMMU in this VM, set on the physical host — not a firmware setting here.`, [
      ...vm.evidence,
      ...(vm.passedThrough.length > 0 ? [`physical functions (no emulated or virtio device): ${named(host, vm.passedThrough).join(', ')}`] : []),
      `emulated or paravirtual functions: ${vm.emulated.length}`,
    ], [
      { rank: 1, title: 'Give this VM a virtual IOMMU (on the physical host, VM powered off)', risk: 'low', detail: 'A guest sees only the IOMMU its hypervisor emulates; with intel-iommu, interrupt remapping needs intremap=on and a split irqchip.', commands: virtualIommuCommands(vm) },
      { rank: 2, title: 'Or assign the device on the physical host instead', risk: 'none', detail: 'A device passed through to this VM can go straight to the VM that needs it: run assignable survey on the physical host.' },
    ]));
  }
  if (r.cpu.status === 'fail') {
    out.push(finding('CPU_VIRTUALIZATION_MISSING', null, `The CPU shows no hardware virtualization (${r.cpu.detail}): KVM cannot run guests here.`, ['/proc/cpuinfo flags: neither vmx nor svm'], vm.is
      ? [{ rank: 1, title: 'Enable nested virtualization for this VM (on the physical host)', risk: 'low', detail: 'KVM: kvm_intel/kvm_amd nested=1 and a host-passthrough CPU (Proxmox: cpu: host); VMware: "Expose hardware assisted virtualization to the guest OS"; Hyper-V: Set-VMProcessor -ExposeVirtualizationExtensions $true.' }]
      : [{ rank: 1, title: 'Enable VT-x / AMD-V in the firmware setup', risk: 'low', detail: 'Often "Intel Virtualization Technology" or "SVM Mode"; on servers under "System Options > Processor Options".' }]));
  }
  if (r.kvm.status === 'fail') {
    out.push(finding('KVM_UNAVAILABLE', null, `KVM is not available: ${r.kvm.detail}.`, [host.kvm?.detail ?? ''], [
      { rank: 1, title: 'Load the KVM module for this CPU', risk: 'low', detail: 'If it refuses, the kernel log says why ("kvm: disabled by bios", "VMX not supported"); access needs root or the kvm group.', commands: ['modprobe kvm_intel  # or kvm_amd', 'dmesg | grep -i kvm'] },
    ]));
  }
  if (r.vfio.status === 'fail') {
    out.push(finding('VFIO_MODULES_MISSING', null, `This kernel lacks vfio modules VFIO needs: ${r.vfio.missing.join(', ')}.`, [r.vfio.detail, ...(host.kernelConfig ? [`${host.kernelConfig.path}: ${r.vfio.missing.map((n) => `${VFIO_CONFIG[n as (typeof VFIO_MODULES)[number]]}=${host.kernelConfig!.options[VFIO_CONFIG[n as (typeof VFIO_MODULES)[number]]] ?? 'not set'}`).join(', ')}`] : [])], [
      { rank: 1, title: 'Install or boot a kernel built with VFIO', risk: 'low', detail: 'Distribution kernels build CONFIG_VFIO, CONFIG_VFIO_PCI and CONFIG_VFIO_IOMMU_TYPE1 as modules; a minimal or cloud kernel may leave them out (Debian/Ubuntu: the linux-image-*-generic or -amd64 flavour; Ubuntu cloud kernels ship them in linux-modules-extra).' },
    ]));
  } else if (r.vfio.notLoaded.length > 0) {
    out.push(finding('VFIO_NOT_LOADED', null, `vfio modules are available but not loaded: ${r.vfio.notLoaded.join(', ')}. Binding a device to vfio-pci loads them; load them at boot to bind devices before their host drivers do.`, [r.vfio.detail], [
      { rank: 1, title: 'Load them at boot', risk: 'low', commands: ['printf "vfio\\nvfio_iommu_type1\\nvfio_pci\\n" > /etc/modules-load.d/vfio.conf'], detail: 'systemd-modules-load reads /etc/modules-load.d/ (Debian and Proxmox also read /etc/modules); refresh the initramfs if the device must be claimed there.' },
    ]));
  }
  return out;
}
