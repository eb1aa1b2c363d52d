/**
 * The passthrough errors users paste, as data: each message's wording, who prints it, from
 * which version, where the wording was read, and the finding code(s) it means.
 *
 * One code: the message decides it. Several: the message alone cannot tell them apart (the
 * kernel log line that came with it does); diagnose then names them all, never one.
 * Wording sources are cited per row; ../shared/docs/peers.md §2.2–2.4 collects most of them.
 */
import type { FindingCode, Fix } from '../finding.js';

export type Emitter = 'kernel' | 'qemu' | 'libvirt' | 'proxmox' | 'surveydda' | 'hyperv' | 'xen' | 'dpdk';

export interface KnownMessage {
  /** Stable id (JSON). */
  id: string;
  /**
   * Matched anywhere in one line (case-insensitive). Named groups: `dev` the device the
   * message names, `group` an IOMMU group number; otherwise the first PCI address in the line.
   */
  pattern: RegExp;
  codes: FindingCode[];
  from: Emitter;
  /** Which versions print it, as far as the source says. */
  versions: string;
  /** Where the wording was read. */
  source: string;
  /** What it means, in one line. */
  meaning: string;
  /** What to do without the host's data; with it, the host's own checks give the ladder. */
  fixes: Fix[];
  /** Linux releases that print this wording: from `since` (inclusive) to `until` (exclusive), [major, minor]. */
  kernel?: { since?: [number, number]; until?: [number, number] };
  /** Continuation of the previous line's message (no device of its own). */
  continuation?: boolean;
  /** SurveyDDA prints the device's friendly name on the line before its verdict. */
  deviceOnPreviousLine?: boolean;
}

const fix = (rank: number, title: string, risk: Fix['risk'], detail: string, commands?: string[]): Fix => ({ rank, title, risk, detail, ...(commands ? { commands } : {}) });

const RMRR_FIXES: Fix[] = [
  fix(1, 'Exclude the slot from RMRR in the firmware (HPE ProLiant: RMRDS_SlotN=Endpoints_Excluded)', 'medium', 'On HPE Gen8–Gen10 servers conrep can drop the RMRR for a slot; the slot number comes from the host data.', ['assignable fix DEVICE            # on the host: the plan for this device']),
  fix(2, 'Move the card to a slot the firmware does not name in an RMRR', 'low', 'Firmware often names only some slots or the onboard devices.'),
  fix(3, 'A kernel with intel_iommu=relax_rmrr (Proxmox VE kernels since 6.2.16-13)', 'high', 'It treats every RMRR as relaxable; never for a device the firmware itself uses (iLO-shared NIC, RAID in RAID mode).'),
];

const GROUP_FIXES: Fix[] = [
  fix(1, 'Bind every device of the IOMMU group to vfio-pci (bridges excepted) and pass the functions together', 'low', 'QEMU refuses a group while any member is bound to a host driver.', ['ls /sys/kernel/iommu_groups/GROUP/devices/']),
  fix(2, 'Move the card to a slot with its own group (a CPU-attached root port with ACS)', 'low', 'Chipset slots often share one group.'),
  fix(3, 'pcie_acs_override (Proxmox, linux-zen) only if no host device shares the group', 'high', 'It splits groups the hardware does not isolate: peer-to-peer DMA is then unchecked.'),
];

const RESET_FIXES: Fix[] = [
  fix(1, 'Pass every function of the device (and of its bus) to the same VM', 'low', 'With all functions on the bus owned by the VM, QEMU can use a bus reset.'),
  fix(2, 'Check the reset methods the kernel has for it', 'none', 'reset_method lists flr, pm, bus…; empty means none.', ['cat /sys/bus/pci/devices/DEVICE/reset_method']),
  fix(3, 'For AMD GPUs of the Polaris/Vega/Navi families: the vendor-reset module', 'medium', 'gnif/vendor-reset adds a device-specific reset.'),
];

const IR_FIXES: Fix[] = [
  fix(1, 'Enable interrupt remapping: VT-d / AMD-Vi with x2APIC in the firmware setup', 'low', 'The kernel logs "DMAR-IR: Enabled IRQ remapping" or "AMD-Vi: Interrupt remapping enabled" once it works.'),
  fix(2, 'options vfio_iommu_type1 allow_unsafe_interrupts=1', 'high', 'Lets VFIO attach without remapping: a guest can then forge interrupts (MSI injection).', ['echo "options vfio_iommu_type1 allow_unsafe_interrupts=1" > /etc/modprobe.d/unsafe-interrupts.conf']),
];

const NO_GROUP_FIXES: Fix[] = [
  fix(1, 'Turn on VT-d / AMD-Vi (IOMMU) in the firmware setup', 'low', 'Without it the kernel has no IOMMU groups and vfio-pci cannot take the device.'),
  fix(2, 'Enable the IOMMU in the kernel: intel_iommu=on (kernels before 6.8 default it off on Intel)', 'low', 'Then check /sys/kernel/iommu_groups/ is populated.'),
];

const INACCESSIBLE_FIXES: Fix[] = [
  fix(1, 'Keep vfio-pci from putting idle devices in D3cold', 'low', 'options vfio-pci disable_idle_d3=1; a GPU used by the host display must be released first.', ['echo "options vfio-pci disable_idle_d3=1" > /etc/modprobe.d/vfio-d3.conf']),
  fix(2, 'Power-cycle the host (a cold boot, not a reboot)', 'none', 'A device that answers all ones to config reads is not reachable until its power comes back.'),
  fix(3, 'Release it from the host driver before the VM starts (nvidia-persistenced, a display manager)', 'low', 'A host driver that still holds the device keeps it from vfio.'),
];

/** Most specific first: a line takes the first row that matches. */
export const MESSAGES: KnownMessage[] = [
  {
    id: 'rmrr-ineligible',
    pattern: /Device is ineligible for IOMMU domain attach due to platform RMRR requirement/i,
    codes: ['RMRR_DIRECT'],
    from: 'kernel',
    versions: 'Linux 3.17 to 6.5 (VT-d driver); QEMU then says "failed to set iommu for container: Operation not permitted"',
    source: 'kernel commit c875d2c1b808 (peers.md §2.2); harvester/harvester#7340',
    kernel: { since: [3, 17], until: [6, 6] },
    meaning: 'A DMAR RMRR names the device and the kernel refuses to put it in a VM\'s IOMMU domain.',
    fixes: RMRR_FIXES,
  },
  {
    id: 'resv-direct-1to1',
    pattern: /Firmware has requested this device have a 1:1 IOMMU mapping/i,
    codes: ['RMRR_DIRECT', 'IVMD_UNITY_DIRECT'],
    from: 'kernel',
    versions: 'Linux 6.6 and later (IOMMU core, Intel RMRR and AMD IVMD alike); QEMU then says "Failed to set group container: Invalid argument"',
    source: 'kernel commit a48ce36e2786 "iommu: Prevent RESV_DIRECT devices from blocking domains" (peers.md §2.2); AltraMayor/gatekeeper#718',
    kernel: { since: [6, 6] },
    meaning: 'The firmware reserves memory for the device (Intel DMAR RMRR, or AMD IVMD unity range) that must stay mapped 1:1, so the kernel refuses a VM domain.',
    fixes: [
      ...RMRR_FIXES,
      fix(4, 'AMD: turn off "Kernel DMA Protection Indicator" / "Pre-boot DMA Protection" in the firmware setup', 'medium', 'Users report the IVMD unity ranges go away with it.'),
    ],
  },
  {
    id: 'xen-shared-rmrr',
    pattern: /It's disallowed to assign (?<dev>[0-9a-f:.]+) with shared RMRR/i,
    codes: ['RMRR_DIRECT'],
    from: 'xen',
    versions: 'Xen (its own VT-d rule)',
    source: 'QubesOS/qubes-issues#2530 (peers.md §2.2)',
    meaning: 'Xen refuses a device whose RMRR is shared with another device.',
    fixes: RMRR_FIXES.slice(0, 2),
  },
  {
    id: 'relax-rmrr-active',
    pattern: /assuming all RMRRs are relaxable/i,
    codes: ['RMRR_RELAXED_BY_OPTION'],
    from: 'kernel',
    versions: 'kernels with the relax-intel-rmrr patch, booted with intel_iommu=relax_rmrr (Proxmox VE since 2023-09)',
    source: 'kiler129/relax-intel-rmrr README; proxmox/pve-kernel patch 0009 (peers.md §4.2)',
    meaning: 'Not an error: relax_rmrr is active, so RMRR devices attach; the firmware may still use that memory.',
    fixes: [],
  },
  {
    id: 'rmrr-identity-map',
    pattern: /Setting identity map for device (?<dev>[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])/i,
    codes: ['RMRR_DIRECT', 'RMRR_RELAXABLE'],
    from: 'kernel',
    versions: 'Linux before 5.x printed one line per RMRR device scope at boot',
    source: 'coreos/bugs#2108',
    meaning: 'An RMRR names this device; whether the kernel enforces it depends on its class (USB and display are relaxable since 5.3).',
    fixes: RMRR_FIXES,
  },
  {
    id: 'group-not-viable',
    pattern: /group (?<group>\d+) is not viable/i,
    codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'],
    from: 'qemu',
    versions: 'QEMU (all versions with VFIO); libvirt and KubeVirt wrap it',
    source: 'QEMU hw/vfio; 64kramsystem/vga-passthrough#15, kubevirt/kubevirt#6718',
    meaning: 'Another device in the same IOMMU group is bound to a host driver, so QEMU cannot own the group.',
    fixes: GROUP_FIXES,
  },
  {
    id: 'group-not-viable-hint',
    pattern: /Please ensure all devices within the iommu_group are bound to their vfio bus driver/i,
    codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'],
    from: 'qemu',
    versions: 'QEMU, second line of "group N is not viable"',
    source: 'QEMU hw/vfio; 64kramsystem/vga-passthrough#15',
    meaning: 'Another device in the same IOMMU group is bound to a host driver.',
    fixes: GROUP_FIXES,
    continuation: true,
  },
  {
    id: 'group-device-not-available',
    pattern: /(?:error getting device from group (?<group>\d+)|Verify all devices in group (?<group2>\d+) are bound to vfio-<bus> or pci-stub and not already in use)/i,
    codes: ['GROUP_SHARED', 'DRIVER_BOUND'],
    from: 'qemu',
    versions: 'QEMU (the older wording of a group QEMU cannot use; the errno before it says more)',
    source: 'QEMU hw/vfio; DualCoder/vgpu_unlock#95',
    meaning: 'QEMU could not get the device from its group: a member is on a host driver, the device is already in use (another VM), or its driver refused (EIO: see the kernel log).',
    fixes: [GROUP_FIXES[0]!, fix(2, 'Make sure no other VM or process holds the device', 'none', 'A group can be open in one VM (one container) at a time.', ['ls -l /proc/*/fd 2>/dev/null | grep /dev/vfio/'])],
  },
  {
    id: 'dpdk-group-not-viable',
    pattern: /VFIO group is not viable/i,
    codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'],
    from: 'dpdk',
    versions: 'DPDK EAL',
    source: 'usnistgov/ndn-dpdk#63',
    meaning: 'Not every device of the IOMMU group is bound to vfio-pci (or unbound).',
    fixes: GROUP_FIXES,
  },
  {
    id: 'group-multiple-address-spaces',
    pattern: /group (?<group>\d+) used in multiple address spaces/i,
    codes: ['GROUP_SHARED'],
    from: 'qemu',
    versions: 'QEMU',
    source: 'kata-containers/kata-containers#10622',
    meaning: 'Functions of one IOMMU group were given to different VMs or address spaces; a group goes to one VM whole.',
    fixes: GROUP_FIXES.slice(0, 1),
  },
  {
    id: 'reset-depends-on-group',
    pattern: /Cannot reset device (?<dev>[0-9a-f:.]+), depends on group (?<group>\d+) which is not owned/i,
    codes: ['BUS_RESET_ONLY'],
    from: 'qemu',
    versions: 'QEMU',
    source: 'QEMU hw/vfio/pci.c (peers.md §2.3)',
    meaning: 'Only a bus reset resets this device, and another device on that bus is not in this VM.',
    fixes: RESET_FIXES.slice(0, 2),
  },
  {
    id: 'no-reset-mechanism',
    pattern: /Cannot reset device (?<dev>[0-9a-f:.]+), no available reset mechanism/i,
    codes: ['NO_RESET'],
    from: 'qemu',
    versions: 'QEMU (Proxmox prints it as "kvm: vfio: …")',
    source: 'QEMU hw/vfio/pci.c (peers.md §2.3); gangqizai/igd#17',
    meaning: 'The device has no FLR, no PM reset and no usable bus reset: it keeps its state between VM starts.',
    fixes: RESET_FIXES,
  },
  {
    id: 'libvirt-no-reset',
    pattern: /Unable to reset PCI device (?<dev>[0-9a-f:.]+): no FLR, PM reset or bus reset available/i,
    codes: ['NO_RESET'],
    from: 'libvirt',
    versions: 'libvirt',
    source: 'libvirt src/util/virpci.c (peers.md §2.3)',
    meaning: 'libvirt found no reset method for the device.',
    fixes: RESET_FIXES,
  },
  {
    id: 'proxmox-cant-reset',
    pattern: /can't reset PCI device '(?<dev>[^']+)'/i,
    codes: ['NO_RESET'],
    from: 'proxmox',
    versions: 'Proxmox VE qemu-server',
    source: 'proxmox QemuServer.pm (peers.md §2.4)',
    meaning: 'Proxmox could not reset the device before starting the VM.',
    fixes: RESET_FIXES,
  },
  {
    id: 'no-interrupt-remapping',
    pattern: /No interrupt remapping support\.\s+Use the module param "?allow_unsafe_interrupts"?/i,
    codes: ['INTERRUPT_REMAPPING_ABSENT'],
    from: 'kernel',
    versions: 'Linux 3.6 and later (vfio_iommu_type1); QEMU then says "failed to set iommu for container: Operation not permitted"',
    source: 'drivers/vfio/vfio_iommu_type1.c (peers.md §2.3)',
    meaning: 'The platform has no interrupt remapping, and VFIO refuses devices unless allow_unsafe_interrupts is set.',
    fixes: IR_FIXES,
  },
  {
    id: 'container-eperm',
    pattern: /failed to set iommu for container: Operation not permitted/i,
    codes: ['RMRR_DIRECT', 'INTERRUPT_REMAPPING_ABSENT'],
    from: 'qemu',
    versions: 'QEMU on Linux before 6.6 (both refusals return EPERM)',
    source: 'peers.md §2.2, §2.3',
    meaning: 'The kernel refused the VM\'s IOMMU container: an RMRR or missing interrupt remapping; the kernel log line at the same time says which.',
    fixes: [fix(1, 'Read the kernel log from the moment the VM failed', 'none', 'It holds "Device is ineligible…" (RMRR) or "No interrupt remapping support" next to this error.', ['dmesg | grep -i -e vfio -e DMAR -e remapping'])],
  },
  {
    id: 'container-einval',
    pattern: /(?:Failed to set group container|cannot add vfio group to container)[^\n]*(?:Invalid argument|error 22)/i,
    codes: ['RMRR_DIRECT', 'IVMD_UNITY_DIRECT'],
    from: 'qemu',
    versions: 'QEMU and DPDK on Linux 6.6 and later',
    source: 'peers.md §2.2; AltraMayor/gatekeeper#718',
    meaning: 'The kernel refused the group: on 6.6+ kernels, firmware-reserved memory (RMRR or IVMD) that must stay mapped 1:1; the kernel log says "Firmware has requested…".',
    fixes: [fix(1, 'Read the kernel log from the moment the VM failed', 'none', 'On 6.6+ kernels it holds "Firmware has requested this device have a 1:1 IOMMU mapping" for the device.', ['dmesg | grep -i -e vfio -e "1:1"'])],
  },
  {
    id: 'no-iommu-group',
    pattern: /no iommu_group found/i,
    codes: ['NO_IOMMU_GROUP', 'IOMMU_DISABLED_BY_KERNEL'],
    from: 'qemu',
    versions: 'QEMU',
    source: 'foxlet/macOS-Simple-KVM#143',
    meaning: 'The device has no IOMMU group: the IOMMU is off (firmware or kernel) or does not cover it.',
    fixes: NO_GROUP_FIXES,
  },
  {
    id: 'vfio-pci-probe-einval',
    pattern: /probe (?:with driver vfio-pci|of [0-9a-f:.]+) failed with error -22/i,
    codes: ['NO_IOMMU_GROUP', 'IOMMU_DISABLED_BY_KERNEL'],
    from: 'kernel',
    versions: 'Linux (vfio-pci returns -EINVAL when the device has no IOMMU group)',
    source: 'drivers/vfio/vfio_main.c; AlbrechtL/openwrt-docker#38',
    meaning: 'vfio-pci could not take the device because it has no IOMMU group.',
    fixes: NO_GROUP_FIXES,
  },
  {
    id: 'proxmox-no-iommu',
    pattern: /No IOMMU detected, please activate it|\bIOMMU not present\b/i,
    codes: ['IOMMU_DISABLED_BY_KERNEL', 'IOMMU_ABSENT'],
    from: 'proxmox',
    versions: 'Proxmox VE GUI and qemu-server',
    source: 'proxmox/pve-manager www/manager6, QemuServer.pm (peers.md §2.4)',
    meaning: 'The host has no IOMMU groups: the IOMMU is off in the firmware or in the kernel.',
    fixes: NO_GROUP_FIXES,
  },
  {
    id: 'vfio-group-node-missing',
    pattern: /failed to open \/dev\/vfio\/(?<group>\d+): No such file or directory/i,
    codes: ['DRIVER_BOUND'],
    from: 'qemu',
    versions: 'QEMU',
    source: 'foxlet/macOS-Simple-KVM#497',
    meaning: 'The device is not bound to vfio-pci, so its group has no /dev/vfio node.',
    fixes: [fix(1, 'Bind the device to vfio-pci (vfio-pci.ids= or driver_override) and load vfio-pci early', 'low', 'lspci -nnk should then say "Kernel driver in use: vfio-pci".', ['lspci -nnk -s DEVICE'])],
  },
  {
    id: 'header-type-127',
    pattern: /Unknown PCI header type '?127'?(?: for device '(?<dev>[^']+)')?/i,
    codes: ['DEVICE_INACCESSIBLE'],
    from: 'libvirt',
    versions: 'libvirt',
    source: 'bryansteiner/gpu-passthrough-tutorial#39',
    meaning: 'Config space read as all ones (header type 0x7f): the device is powered down (D3cold), held by a host driver, or gone from the bus.',
    fixes: INACCESSIBLE_FIXES,
  },
  {
    id: 'd3cold-inaccessible',
    pattern: /Unable to change power state from D3cold to D0, device inaccessible/i,
    codes: ['DEVICE_INACCESSIBLE'],
    from: 'kernel',
    versions: 'Linux (drivers/pci/pci.c)',
    source: 'kata-containers/kata-containers#11708; bryansteiner/gpu-passthrough-tutorial#39',
    meaning: 'The device did not come back from D3cold: config reads return all ones until it is powered again.',
    fixes: INACCESSIBLE_FIXES,
  },
  {
    id: 'bar-cant-reserve',
    pattern: /BAR \d+: can't reserve \[mem/i,
    codes: ['BAR_RESERVED_BY_HOST'],
    from: 'kernel',
    versions: 'Linux (vfio-pci asking for a BAR another driver holds)',
    source: 'cosminmocan/vfio-single-amdgpu-passthrough#3; kata-containers/kata-containers#10622',
    meaning: 'Part of the BAR is claimed by the host, usually the boot framebuffer (efifb, simplefb) on the GPU being passed.',
    fixes: [
      fix(1, 'Keep the host framebuffer off that GPU: initcall_blacklist=sysfb_init (or video=efifb:off on older kernels)', 'low', 'The firmware framebuffer keeps its memory range until its driver lets go.'),
      fix(2, 'Make another GPU the boot display in the firmware setup', 'low', 'Then the passed GPU carries no host console.'),
    ],
  },
  {
    id: 'bar-no-space',
    pattern: /BAR \d+: (?:no space for|failed to assign) \[/i,
    codes: ['BAR_UNASSIGNED'],
    from: 'kernel',
    versions: 'Linux (drivers/pci/setup-res.c)',
    source: 'home-assistant/operating-system#1880',
    meaning: 'No address was found for the BAR: the firmware left too little MMIO window (in a guest: the VM\'s own window is too small).',
    fixes: [
      fix(1, 'On the host: "Above 4G decoding" (and "Resizable BAR" off if the card asks for more than fits) in the firmware setup', 'low', 'Large 64-bit BARs need address space above 4 GiB.'),
      fix(2, 'pci=realloc on the kernel command line', 'medium', 'Lets the kernel reassign bridge windows the firmware sized too small.'),
      fix(3, 'In a guest: enlarge the VM\'s MMIO window (QEMU -global q35-pcihost.pci-hole64-size=…, Hyper-V -HighMemoryMappedIoSpace)', 'low', 'The guest\'s firmware can only place BARs inside the window the VM offers.'),
    ],
  },
  {
    id: 'aer-acs-violation',
    pattern: /\[21\] ACSViol\b/,
    codes: ['ACS_VIOLATION'],
    from: 'kernel',
    versions: 'Linux AER (drivers/pci/pcie/aer.c), bit 21 of the Uncorrectable Error Status',
    source: 'PCIe Base spec, Uncorrectable Error Status "ACS Violation Status"; minisforum-docs/MS-02-Ultra#10',
    meaning: 'The port named (the receiver) blocked a request by ACS: a device below it sent peer-to-peer or untranslated traffic ACS forbids — often a passed-through device or its firmware misbehaving.',
    fixes: [
      fix(1, 'Find which device below the port sent it (the TLP header\'s requester ID) and whether it is passed through', 'none', 'lspci -t shows the devices behind the port.', ['lspci -tv']),
      fix(2, 'Update the device\'s firmware and the system firmware', 'low', 'ACS violations from endpoints are usually firmware bugs; the port is doing its job.'),
    ],
  },
  {
    id: 'hyperv-dismount-pcie-control',
    pattern: /does not allow for OS control of the PCI Express bus/i,
    codes: ['DDA_FIRMWARE_KEPT_PCIE_CONTROL'],
    from: 'hyperv',
    versions: 'Dismount-VMHostAssignableDevice, Windows Server 2016 and later',
    source: 'intel/haxm#149 (a Dismount on Windows Server 2019, 2020-06-14)',
    meaning: 'Hyper-V refuses every dismount: the firmware did not grant Windows native PCI Express control (_OSC). SurveyDDA says "BIOS kept control of PCI Express" for the same cause.',
    fixes: [fix(1, 'Enable native PCIe control in the firmware setup (often "SR-IOV", "ASPM: OS controlled")', 'low', 'It is a platform setting: -Force does not get past it.')],
  },
  {
    id: 'hyperv-dismount-no-mitigation',
    pattern: /has not supplied any directives for securing this device/i,
    codes: ['DDA_NO_MITIGATION_DRIVER'],
    from: 'hyperv',
    versions: 'Dismount-VMHostAssignableDevice, Windows Server 2016 and later',
    source: 'MicrosoftDocs/Virtualization-Documentation, team-blog 2015-11-20 "Discrete Device Assignment -- Machines and devices" (a USB 3 controller)',
    meaning: 'The device\'s vendor ships no partitioning (mitigation) driver for DDA, so Hyper-V cannot tell whether exposing it to a VM is safe; the dismount is refused unless forced.',
    fixes: [
      fix(1, 'Install the vendor\'s DDA partitioning driver if there is one (GPUs and NVMe sold for servers)', 'none', 'With it installed the dismount no longer needs -Force.'),
      fix(2, 'Dismount with -Force, for a VM you trust', 'medium', 'Microsoft: "-Force" overrides the check; only with deep knowledge of the device.', ['Dismount-VMHostAssignableDevice -Force -LocationPath "LOCATIONPATH"']),
    ],
  },
  {
    id: 'surveydda-rmrr',
    pattern: /BIOS requires that this device remain attached to BIOS-owned memory/i,
    codes: ['DDA_RESERVED_MEMORY'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1, every revision',
    source: 'MicrosoftDocs/Virtualization-Documentation SurveyDDA.ps1 (peers.md §1.2); intel/haxm#149',
    meaning: 'Windows reports RequiresReservedMemoryRegion: an RMRR names the device.',
    fixes: [RMRR_FIXES[0]!, RMRR_FIXES[1]!],
    deviceOnPreviousLine: true,
  },
  {
    id: 'surveydda-acs',
    pattern: /Traffic from this device may be redirected to other devices in the system/i,
    codes: ['ACS_MISSING_UPSTREAM'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1, every revision',
    source: 'SurveyDDA.ps1 (peers.md §1.2); intel/haxm#149',
    meaning: 'Windows reports AcsCompatibleUpHierarchy = NotSupported: a port above the device lacks ACS.',
    fixes: [fix(1, 'Enable ACS / "SR-IOV" in the firmware setup, or use a slot behind a root port with ACS', 'low', 'Hyper-V forces all device traffic through the IOMMU with ACS.')],
    deviceOnPreviousLine: true,
  },
  {
    id: 'surveydda-pcie-control',
    pattern: /BIOS kept control of PCI Express for this device/i,
    codes: ['DDA_FIRMWARE_KEPT_PCIE_CONTROL'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1, every revision',
    source: 'SurveyDDA.ps1 (peers.md §1.2); intel/haxm#149',
    meaning: 'The firmware did not grant Windows native PCI Express control (_OSC), so Windows treats PCIe as PCI.',
    fixes: [fix(1, 'Enable native PCIe control in the firmware setup (often "SR-IOV", "ASPM: OS controlled")', 'low', 'It is a platform setting: every device shows the same line until it changes.')],
    deviceOnPreviousLine: true,
  },
  {
    id: 'surveydda-intx',
    pattern: /All of the interrupts are line-based, no assignment can work/i,
    codes: ['INTX_ONLY'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1, every revision',
    source: 'SurveyDDA.ps1 (peers.md §1.2)',
    meaning: 'Windows assigned only line-based interrupts; DDA needs MSI or MSI-X.',
    fixes: [fix(1, 'Use a device with MSI/MSI-X, or KVM/VFIO, which can pass INTx', 'none', 'Hyper-V DDA does not support INTx-only devices.')],
    deviceOnPreviousLine: true,
  },
  {
    id: 'surveydda-legacy',
    pattern: /Legacy, non-VGA PCI device\.\s+Not assignable/i,
    codes: ['LEGACY_ENDPOINT'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1 revision 1 (2022)',
    source: 'SurveyDDA.ps1 (peers.md §1.2)',
    meaning: 'A PCI Express legacy endpoint that is not a display controller: DDA refuses it.',
    fixes: [],
    deviceOnPreviousLine: true,
  },
  {
    id: 'surveydda-old-style',
    pattern: /Old-style PCI device, switch port, etc\.\s+Not assignable/i,
    codes: ['BRIDGE', 'CONVENTIONAL_PCI', 'HOST_BRIDGE'],
    from: 'surveydda',
    versions: 'SurveyDDA.ps1, every revision',
    source: 'SurveyDDA.ps1 (peers.md §1.2); intel/haxm#149',
    meaning: 'Not a PCI Express endpoint: a bridge, switch port, chipset function or conventional PCI device.',
    fixes: [],
    deviceOnPreviousLine: true,
  },
];

/** Codes only diagnose produces (the survey's checks cannot see these states in a capture). */
export const DIAGNOSE_ONLY_CODES: FindingCode[] = ['DEVICE_INACCESSIBLE', 'BAR_RESERVED_BY_HOST', 'BAR_UNASSIGNED', 'ACS_VIOLATION', 'DDA_NO_MITIGATION_DRIVER'];
