/**
 * The one Host model. Every source (a live Linux root, a capture directory, loose files
 * users paste) produces HostFacts; buildHost turns facts into a Host; every check and
 * report reads only the Host.
 *
 * Convention throughout: `undefined` = unknown (not captured, not readable), `null` =
 * known to be absent. A check never turns unknown into "ok".
 */
import type { Dmar } from '../firmware/acpi/dmar.js';
import type { Ivrs } from '../firmware/acpi/ivrs.js';
import type { PciConfig } from '../firmware/pci/config.js';
import type { LspciFunction, PciAddress } from '../firmware/pci/lspci-text.js';
import type { Smbios } from '../firmware/smbios/index.js';
import type { Grouping } from './grouping/engine.js';

export type { PciAddress };

/** A resource window of a BAR as the kernel or lspci reports it (sizes are not in config space). */
export interface BarSize {
  index: number;
  kind: 'memory' | 'io';
  is64: boolean;
  prefetchable: boolean;
  size: bigint;
}

export interface SysfsFunctionFacts {
  driver?: string | null;
  iommuGroup?: number | null;
  resetMethods?: string[] | null;
  bootVga?: boolean | null;
  bars?: BarSize[];
  sriovTotalVfs?: number | null;
  sriovNumVfs?: number | null;
  /** For a VF: the address of its PF. */
  physfn?: string | null;
  /** PCI addresses on the sysfs device path above this function, root first. */
  ancestors?: string[];
  /** Network interfaces (class/net) of this function. */
  netInterfaces?: string[];
}

/** Where a function's config came from: bytes, lspci text, Windows' PnP properties, a SurveyDDA paste. */
export type ConfigSource = 'bytes' | 'lspci-text' | 'windows-pnp' | 'surveydda';

export interface FunctionFacts {
  address: PciAddress;
  config: PciConfig;
  /** Where the config came from. */
  configSource: ConfigSource;
  lspci?: LspciFunction;
  sysfs?: SysfsFunctionFacts;
  /** What Windows said about this function (Windows probe capture, SurveyDDA paste). */
  windows?: WindowsFunctionFacts;
}

/**
 * Windows' own answers for one PCI function (pci.sys properties, PnP state, Hyper-V pool).
 * undefined: not read; null: Windows returned the key as Empty (not set for this device).
 */
export interface WindowsFunctionFacts {
  instanceId: string;
  /** PCIP\ enumerator: dismounted for DDA. */
  dismounted: boolean;
  name?: string;
  status?: string;
  problemCode?: number | null;
  /** DEVPKEY_Device_LocationPaths entry that starts with PCIROOT (null: Windows gave none). */
  locationPath?: string | null;
  deviceType?: number | null;
  requiresReservedMemoryRegion?: boolean | null;
  acsCompatibleUpHierarchy?: number | null;
  acsCapabilityRegister?: number | null;
  acsSupport?: number | null;
  interruptSupport?: number | null;
  interruptMessageMaximum?: number | null;
  barTypes?: number | null;
  sriovSupport?: number | null;
  /** Allocated memory ranges (inclusive ends, as Windows gives them); undefined: not read. */
  memoryRanges?: Array<{ start: bigint; end: bigint }>;
  /** SurveyDDA's own words for it, when the source is a SurveyDDA paste. */
  surveyLines?: string[];
  /** SurveyDDA: the MMIO it printed, in MB. */
  surveyMmioMb?: number;
}

export interface WindowsRootBus {
  instanceId: string;
  busNumber?: number;
  nativePciExpressControl?: boolean | null;
  systemMsiSupport?: boolean | null;
}

export interface WindowsVm {
  name: string;
  state?: string;
  generation?: number;
  automaticStopAction?: string;
  guestControlledCacheTypes?: boolean;
  lowMemoryMappedIoSpace?: bigint;
  highMemoryMappedIoSpace?: bigint;
  dynamicMemoryEnabled?: boolean;
  checkpointType?: string;
  assignedDevices?: Array<{ instanceId?: string; locationPath?: string }>;
}

/** Windows' host-level answers; each field undefined when not read. */
export interface WindowsHostFacts {
  source: 'probe' | 'surveydda';
  os?: { caption?: string; version?: string; buildNumber?: string; productType?: number; editionId?: string; installationType?: string };
  powershell?: { edition?: string; version?: string; languageMode?: string };
  elevated?: boolean;
  rootBuses?: WindowsRootBus[];
  hyperV?: {
    vmmsStatus?: string | null;
    featureState?: string;
    iovSupport?: boolean;
    iovSupportReasons?: string[] | null;
    assignableDevices?: Array<{ instanceId?: string; locationPath?: string }>;
    vms?: WindowsVm[];
  };
  /** What the probe (or the SurveyDDA run) reported as failing. */
  errors: Array<{ step: string; message: string; target?: string }>;
}

export interface ReservedRegion {
  start: bigint;
  end: bigint;
  /** sysfs type: direct, direct-relaxable, reserved, msi. */
  type: string;
}

export interface GroupFacts {
  id: number;
  devices: string[];
  reservedRegions?: ReservedRegion[];
}

export interface HostNote {
  code: string;
  message: string;
}

export interface HostFacts {
  origin: { kind: 'live' | 'capture'; description: string };
  functions: FunctionFacts[];
  /** undefined: unknown; []: known that the kernel created no groups. */
  iommuGroups?: GroupFacts[];
  dmar?: Dmar | null;
  ivrs?: Ivrs | null;
  smbios?: Smbios | null;
  cmdline?: string;
  kernelRelease?: string;
  dmesg?: string;
  /** /sys/bus/pci/slots: slot name → "ssss:bb:dd". */
  sysfsSlots?: Array<{ name: string; address: string }>;
  /** PCI functions holding the root file system ([] when it is on none, e.g. NFS), the default-route NIC. */
  bootDiskFunctions?: string[];
  /** How `/` was followed down to those functions (mount, pool, slaves, sysfs paths). */
  bootDiskEvidence?: string[];
  /** Why the root file system's disks are unknown, when they are (bootDiskFunctions then unset). */
  bootDiskUnknown?: string;
  /** `zpool status -P` as run on the live host for the root pool (members as kernel names), for `collect` to keep. */
  zpoolStatus?: string;
  defaultRouteFunctions?: string[];
  /** /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts (Y/N); undefined when the module is not loaded or not captured. */
  vfioAllowUnsafeInterrupts?: boolean;
  /** The running kernel's build configuration, IOMMU options only; undefined when not read. */
  kernelConfig?: KernelConfig;
  /** The bootloader this host booted with; undefined when unknown (loose files). */
  bootloader?: Bootloader;
  /** Windows' own answers (a Windows probe capture or a SurveyDDA paste); undefined elsewhere. */
  windows?: WindowsHostFacts;
  notes: HostNote[];
  /** Module and boot configuration files under /etc (src/sources/config-files.ts); undefined when not read (no /etc in the tree). */
  configFiles?: ConfigFile[];
  /** /proc/cpuinfo: which of vmx, svm, hypervisor the first CPU's flags line has; undefined when not read (or no flags line). */
  cpuFlags?: string[];
  /** /dev/kvm: registered by the kernel (present), opened read-write on the live host (usable), or not; undefined when not read. */
  kvm?: { state: 'absent' | 'present' | 'usable' | 'unusable'; detail: string };
  /** vfio/kvm modules: in the running kernel (/proc/modules, /sys/module), built in (modules.builtin), module files of this release; each undefined when not read. */
  vfioModules?: { loaded?: string[]; builtin?: string[]; files?: string[] };
}

/** One configuration file as read: its path on the host (/etc/modprobe.d/vfio.conf) and its text. */
export interface ConfigFile {
  path: string;
  text: string;
}

export interface KernelConfig {
  /** The file it was read from, e.g. /boot/config-6.8.12-4-pve. */
  path: string;
  /** CONFIG_* name → value ("y", "m", a string); null for "# CONFIG_X is not set". */
  options: Record<string, string | null>;
}

export interface Bootloader {
  /** systemd-boot: EFI and /etc/kernel/cmdline present; grub otherwise. */
  kind: 'systemd-boot' | 'grub';
  /** Proxmox's proxmox-boot-tool manages the ESPs (it also refreshes GRUB on legacy-boot ZFS). */
  proxmoxBootTool: boolean;
  /** The files that decided it. */
  evidence: string[];
}

export interface SlotInfo {
  /** The physical slot number (what HPE's RMRDS_SlotN means). */
  physical: number | null;
  /** SMBIOS type 9 designation, e.g. "PCI-E Slot 2". */
  designation: string | null;
  /** `RMRDS_SlotN` on HPE ProLiant Gen8/Gen9; null elsewhere. */
  hpeRmrdsSlot: string | null;
  /** How we know, for `explain`. */
  sources: string[];
  /** Address of the port (bridge) whose secondary bus is the slot's bus, when found by walking up. */
  port: string | null;
  /** An onboard device (SMBIOS type 41, HPE "Embedded"): it has no slot. */
  embedded: boolean;
}

export interface RmrrHit {
  /** Index of the RMRR among the DMAR structures, and its range. */
  structure: number;
  base: bigint;
  limit: bigint;
  /** The scope that names this function or a bridge above it, as text "00:1c.7 / 00.2". */
  scope: string;
  scopeType: number;
  /** Set when the scope names a bridge above the function, not the function itself. */
  viaBridge: string | null;
}

export interface IvmdHit {
  block: number;
  type: number;
  flags: number;
  start: bigint;
  length: bigint;
}

export interface Device {
  address: string;
  pci: PciAddress;
  config: PciConfig;
  configSource: ConfigSource;
  /** "Vendor Device" for tables; falls back to the ids. */
  name: string;
  classCode: number;
  className: string;
  isBridge: boolean;
  isHostBridge: boolean;
  driver: string | null | undefined;
  iommuGroup: number | null | undefined;
  resetMethods: string[] | null | undefined;
  bootVga: boolean | null | undefined;
  bars: BarSize[] | undefined;
  /** Upstream bridge (null: on a root bus); undefined when the topology is unknown. */
  parent: string | null | undefined;
  children: string[];
  slot: SlotInfo | null;
  /** undefined: the DMAR was not read, so RMRRs are unknown ([] means none names it). */
  rmrr: RmrrHit[] | undefined;
  ivmd: IvmdHit[];
  netInterfaces: string[] | undefined;
  /** An SR-IOV Virtual Function (sysfs physfn); undefined when not known. */
  isVirtualFunction: boolean | undefined;
  sriov: { totalVfs: number; numVfs: number } | null | undefined;
  /** Windows' answers for it, when the host is a Windows capture. */
  windows: WindowsFunctionFacts | undefined;
  /** The DDA handle: Windows' own, or derived from the topology (windows-dda.md §3); null with the reason when it cannot be. */
  locationPath: { path: string | null; source: 'windows' | 'derived' | null; reason: string | null };
}

export interface KernelFacts {
  release: string;
  major: number;
  minor: number;
  patch: number;
  /** Proxmox VE kernel ("6.2.16-13-pve") and its ABI number, for features backported there. */
  pve: { abi: number } | null;
}

export interface Host {
  origin: HostFacts['origin'];
  notes: HostNote[];
  system: { manufacturer: string | null; product: string | null; isHpeProliant: boolean; hpeGeneration: number | null } | null | undefined;
  kernel: KernelFacts | undefined;
  cmdline: string | undefined;
  dmesg: string | undefined;
  dmar: Dmar | null | undefined;
  ivrs: Ivrs | null | undefined;
  smbios: Smbios | null | undefined;
  /** Groups as the kernel made them; undefined when not captured. */
  groups: Map<number, { devices: string[]; reservedRegions: ReservedRegion[] | undefined }> | undefined;
  /** Groups as the kernel would form them with the IOMMU on, predicted from config space (src/host/grouping). */
  predicted: Grouping;
  devices: Device[];
  byAddress: Map<string, Device>;
  /** Devices by bus, key busKey(segment, bus) ("0:3"), in address order: bus-mates without a scan of every device. */
  byBus: Map<string, Device[]>;
  bootDiskFunctions: string[] | undefined;
  bootDiskEvidence: string[];
  bootDiskUnknown: string | undefined;
  defaultRouteFunctions: string[] | undefined;
  sysfsSlots: Array<{ name: string; address: string }> | undefined;
  vfioAllowUnsafeInterrupts: boolean | undefined;
  kernelConfig: KernelConfig | undefined;
  bootloader: Bootloader | undefined;
  windows: WindowsHostFacts | undefined;
  /** Module and boot configuration files; undefined when not read. */
  configFiles: ConfigFile[] | undefined;
  cpuFlags: string[] | undefined;
  kvm: HostFacts['kvm'];
  vfioModules: HostFacts['vfioModules'];
}
