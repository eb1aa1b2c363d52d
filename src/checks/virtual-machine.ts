/**
 * Is this host itself a virtual machine? From the evidence systemd-detect-virt and
 * virt-what use: the CPUID hypervisor bit (cpuinfo "hypervisor"), the kernel's
 * "Hypervisor detected: …" line, the SMBIOS system vendor/product the hypervisor sets, and
 * emulated or paravirtual PCI functions (virtio, QEMU's own, VMware's, Xen's). Then the
 * functions that are none of those are physical functions passed through *to* it.
 */
import type { Device, Host } from '../host/model.js';
import { hex4 } from '../host/address.js';

/** PCI vendor IDs of devices only a hypervisor presents (pci.ids). */
const VIRTUAL_VENDORS: Record<number, string> = {
  0x1af4: 'Red Hat (virtio)',
  0x1b36: 'Red Hat (QEMU)',
  0x1234: 'QEMU (Bochs display)',
  0x15ad: 'VMware',
  0x5853: 'XenSource',
  0x80ee: 'VirtualBox',
  0x1ab8: 'Parallels',
};
/** Virtio PCI device IDs, transitional and modern (virtio 1.x §4.1.2): 1af4:1000–107f. */
const VIRTIO_VENDOR = 0x1af4;
const VIRTIO_FIRST = 0x1000;
const VIRTIO_LAST = 0x107f;
/**
 * Subsystem vendors hypervisors put on the devices they emulate with another vendor's IDs
 * (QEMU's Q35/i440FX chipset and e1000 carry 1af4:1100 "QEMU Virtual Machine"; VMware's 15ad).
 */
const EMULATED_SUBSYSTEM_VENDORS = new Set([0x1af4, 0x15ad, 0x5853, 0x80ee, 0x1ab8]);

/** SMBIOS type 1 values hypervisors set: manufacturer or product pattern → hypervisor. */
const DMI_SIGNS: Array<{ field: 'manufacturer' | 'product'; re: RegExp; hypervisor: string }> = [
  { field: 'manufacturer', re: /^QEMU$/, hypervisor: 'KVM/QEMU' },
  { field: 'product', re: /^Standard PC \((Q35|i440FX)/, hypervisor: 'KVM/QEMU' },
  { field: 'product', re: /^KVM\b/, hypervisor: 'KVM/QEMU' },
  { field: 'manufacturer', re: /^VMware/, hypervisor: 'VMware' },
  { field: 'product', re: /^VMware/, hypervisor: 'VMware' },
  { field: 'product', re: /^Virtual Machine$/, hypervisor: 'Microsoft Hyper-V' },
  { field: 'manufacturer', re: /^Xen$/, hypervisor: 'Xen' },
  { field: 'manufacturer', re: /^Amazon EC2$/, hypervisor: 'Amazon EC2' },
  { field: 'product', re: /^Google Compute Engine$/, hypervisor: 'Google Compute Engine' },
  { field: 'product', re: /^VirtualBox$/, hypervisor: 'VirtualBox' },
  { field: 'manufacturer', re: /^Parallels/, hypervisor: 'Parallels' },
  { field: 'product', re: /^OpenStack/, hypervisor: 'OpenStack (KVM)' },
  { field: 'manufacturer', re: /^BHYVE$/, hypervisor: 'bhyve' },
];

export interface VirtualMachine {
  /** true: evidence says so; false: the CPU flags were read and nothing says so; undefined: not known. */
  is: boolean | undefined;
  /** The hypervisor's name when the evidence names one. */
  hypervisor: string | null;
  evidence: string[];
  /** Functions a hypervisor emulates or provides (virtio and the like). */
  emulated: string[];
  /** On a virtual machine: endpoints that are no emulated device — physical functions passed through to it. */
  passedThrough: string[];
}


/** Why a function is emulated or paravirtual; null when nothing says so. */
export function emulatedBy(d: Device): string | null {
  const c = d.config;
  if (c.vendorId === VIRTIO_VENDOR && c.deviceId >= VIRTIO_FIRST && c.deviceId <= VIRTIO_LAST) return `virtio ${hex4(c.vendorId)}:${hex4(c.deviceId)}`;
  const v = VIRTUAL_VENDORS[c.vendorId];
  if (v) return `vendor ${hex4(c.vendorId)} ${v}`;
  if (c.subsystemVendorId !== null && EMULATED_SUBSYSTEM_VENDORS.has(c.subsystemVendorId)) return `subsystem ${hex4(c.subsystemVendorId)}:${hex4(c.subsystemId ?? 0)} (${VIRTUAL_VENDORS[c.subsystemVendorId] ?? 'a hypervisor'})`;
  return null;
}

export function virtualMachine(host: Host): VirtualMachine {
  const evidence: string[] = [];
  let hypervisor: string | null = null;
  if (host.cpuFlags?.includes('hypervisor')) evidence.push('/proc/cpuinfo: the "hypervisor" CPU flag (CPUID: running under a hypervisor)');
  const logged = host.dmesg ? /Hypervisor detected: ([^\n]+)/.exec(host.dmesg) : null;
  if (logged) {
    hypervisor = logged[1]!.trim();
    evidence.push(`kernel log: "Hypervisor detected: ${hypervisor}"`);
  }
  const sys = host.system;
  if (sys) {
    const value = { manufacturer: sys.manufacturer, product: sys.product };
    const sign = DMI_SIGNS.find((s) => value[s.field] !== null && s.re.test(value[s.field]!));
    if (sign) {
      hypervisor ??= sign.hypervisor;
      evidence.push(`SMBIOS system: ${[sys.manufacturer, sys.product].filter(Boolean).join(' / ')}`);
    }
  }
  const strong = evidence.length > 0;
  const emulated = host.devices.filter((d) => emulatedBy(d) !== null);
  const virtio = emulated.filter((d) => emulatedBy(d)!.startsWith('virtio'));
  if (virtio.length > 0) evidence.push(`virtio PCI functions: ${virtio.map((d) => d.address).join(', ')}`);
  // Virtio alone is weaker: DPUs (BlueField, IPU) present hardware virtio functions to bare metal,
  // so a CPU flags line without "hypervisor" outweighs it.
  const is = strong ? true : host.cpuFlags !== undefined ? false : virtio.length > 0 ? true : undefined;
  const passedThrough = is ? host.devices.filter((d) => !d.isBridge && !d.isHostBridge && emulatedBy(d) === null).map((d) => d.address) : [];
  return { is, hypervisor, evidence, emulated: emulated.map((d) => d.address), passedThrough };
}

/** How to give this VM a virtual IOMMU, for the hypervisor the evidence names (QEMU/KVM when it names none it knows). */
export function virtualIommuCommands(vm: VirtualMachine): string[] {
  if (vm.hypervisor && /VMware/.test(vm.hypervisor)) {
    return ['# VMware (VM powered off, hardware version 14+, EFI firmware): VM Options > CPU > "Expose IOMMU to the guest OS" (vvtd.enable = "TRUE" in the .vmx)'];
  }
  return [
    '# QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on',
    '# QEMU, any guest with ACPI VIOT support: -device virtio-iommu-pci',
    '# Proxmox VE 8.2+ (on the physical host; VM ID as in the web UI; or viommu=virtio):',
    'qm set <vmid> -machine q35,viommu=intel',
    "# libvirt (virsh edit <vm>): <iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu> in <devices>, <ioapic driver='qemu'/> in <features>",
  ];
}
