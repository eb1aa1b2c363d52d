/**
 * What is known about resetting particular devices, as data with its sources:
 *  - the kernel's own per-device reset knowledge (drivers/pci/quirks.c): device-specific reset
 *    methods (`pci_dev_reset_methods[]`) and the flags that take a method away
 *    (PCI_DEV_FLAGS_NO_BUS_RESET, _NO_PM_RESET, _NO_FLR_RESET);
 *  - the devices gnif/vendor-reset supports: GPUs users report as not resetting in a VM
 *    without it (the AMD "reset bug").
 * Rows paraphrase the sources; the device IDs are the sources' own.
 */
import { ASSUMED_KERNEL, type Release, releaseText } from '../host/grouping/kernel-version.js';
import type { KernelFacts } from '../host/model.js';

/** The kernel trees the rows were read from. A row records in which of them it is present. */
export const TREES = {
  /** A pre-5.0 tree: `int probe` reset methods, `d3_delay`; any 5.x or later kernel has what it has. */
  pre5: 'torvalds/linux drivers/pci/quirks.c at commit 84389343d35f (a 4.x tree)',
  v6_12: 'Linux 6.12.19 drivers/pci/quirks.c (wishday/linux-6.12.y)',
  v6_18: 'Linux 6.18.y drivers/pci/quirks.c (Crazh3/unifreq_linux-6.18.y at 11c8cf7a814e)',
} as const;

export interface Seen {
  pre5: boolean;
  v6_12: boolean;
  v6_18: boolean;
}

export type KernelResetKind = 'no-bus-reset' | 'no-pm-reset' | 'no-flr' | 'device-specific';

export interface KernelResetRow {
  /** The kernel's function name, so a reader can find the row. */
  fn: string;
  kind: KernelResetKind;
  vendor: number;
  /** Device IDs, 'any', or the IDs whose (id & mask) === value. */
  devices: 'any' | readonly number[] | { mask: number; value: number };
  /** Class match as the fixup declares it (class >> 8: base and sub-class). */
  class16?: number;
  /** Extra conditions the quirk body applies. */
  condition?: 'not-root-bus' | 'revision-1' | 'chelsio-t4' | 'nvme-with-flr' | 'with-flr';
  label: string;
  seen: Seen;
}

const ALL: Seen = { pre5: true, v6_12: true, v6_18: true };
const SINCE_612: Seen = { pre5: false, v6_12: true, v6_18: true };
const ONLY_618: Seen = { pre5: false, v6_12: false, v6_18: true };

const ATI = 0x1002;
const AMD = 0x1022;
const INTEL = 0x8086;
/** PCI_CLASS_DISPLAY_VGA (include/linux/pci_ids.h). */
export const PCI_CLASS_DISPLAY_VGA = 0x0300;
/** PCI_CLASS_STORAGE_EXPRESS: NVMe (class 01 08 02). */
const PCI_CLASS_STORAGE_EXPRESS = 0x010802;

export const KERNEL_RESET_ROWS: readonly KernelResetRow[] = [
  // quirk_no_bus_reset: a secondary bus reset leaves these unusable.
  { fn: 'quirk_nvidia_no_bus_reset', kind: 'no-bus-reset', vendor: 0x10de, devices: { mask: 0xffc0, value: 0x2340 }, label: 'NVIDIA GPUs 2340–237f (SBR must be prevented)', seen: SINCE_612 },
  { fn: 'quirk_no_bus_reset', kind: 'no-bus-reset', vendor: 0x168c, devices: [0x0030, 0x0032, 0x003c, 0x0033], label: 'Atheros AR9xxx / QCA988x (config space lost after a bus reset)', seen: ALL },
  { fn: 'quirk_no_bus_reset', kind: 'no-bus-reset', vendor: 0x168c, devices: [0x0034, 0x003e], label: 'Atheros AR9462 / QCA6174 (config space lost after a bus reset)', seen: SINCE_612 },
  { fn: 'quirk_no_bus_reset', kind: 'no-bus-reset', vendor: 0x177d, devices: [0xa100], label: 'Cavium CN8xxx Root Port (children fail config access after a bus reset)', seen: SINCE_612 },
  { fn: 'quirk_no_bus_reset', kind: 'no-bus-reset', vendor: 0x104c, devices: [0xb005], label: 'TI KeyStone C667X (LTSSM disabled by a secondary bus reset)', seen: SINCE_612 },
  // quirk_no_pm_reset: NoSoftRst- is advertised but D3hot→D0 resets nothing; off a root bus only.
  { fn: 'quirk_no_pm_reset', kind: 'no-pm-reset', vendor: ATI, devices: 'any', class16: PCI_CLASS_DISPLAY_VGA, condition: 'not-root-bus', label: 'AMD/ATI VGA GPUs (D3hot→D0 keeps the framebuffer: no PM reset)', seen: ALL },
  { fn: 'quirk_no_pm_reset', kind: 'no-pm-reset', vendor: 0x15b3, devices: [0xcb84, 0xcf6c, 0xcf70, 0xcf80], condition: 'not-root-bus', label: 'Mellanox Spectrum-1/2/3/4 (D3hot→D0 resets nothing)', seen: SINCE_612 },
  // quirk_no_flr: FLR may hang these.
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: AMD, devices: [0x1487], label: 'AMD Starship/Matisse HD Audio', seen: SINCE_612 },
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: AMD, devices: [0x148c], label: 'AMD Starship USB 3.0', seen: SINCE_612 },
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: AMD, devices: [0x149c], label: 'AMD Matisse USB 3.0', seen: SINCE_612 },
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: AMD, devices: [0x7901], label: 'AMD FCH SATA (AHCI)', seen: SINCE_612 },
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: INTEL, devices: [0x1502, 0x1503], label: 'Intel 82579LM/V Gigabit Ethernet', seen: SINCE_612 },
  { fn: 'quirk_no_flr', kind: 'no-flr', vendor: 0x14c3, devices: [0x0616], label: 'MediaTek MT7922 Wi-Fi', seen: ONLY_618 },
  { fn: 'quirk_no_flr_snet', kind: 'no-flr', vendor: 0xd063, devices: [0x1000], condition: 'revision-1', label: 'SolidRun SNET DPU rev 1', seen: SINCE_612 },
  // pci_dev_reset_methods[]: the kernel resets these its own way ("device_specific"); first match wins.
  { fn: 'reset_intel_82599_sfp_virtfn', kind: 'device-specific', vendor: INTEL, devices: [0x10ed], label: 'Intel 82599 VF (FLR works though the VF does not advertise it)', seen: ALL },
  { fn: 'reset_ivb_igd', kind: 'device-specific', vendor: INTEL, devices: [0x0156, 0x0166], label: 'Intel Ivy Bridge mobile IGD', seen: ALL },
  { fn: 'nvme_disable_and_flr', kind: 'device-specific', vendor: 0x144d, devices: [0xa804], condition: 'nvme-with-flr', label: 'Samsung SM961/PM961 NVMe (controller disabled before FLR)', seen: SINCE_612 },
  { fn: 'delay_250ms_after_flr', kind: 'device-specific', vendor: INTEL, devices: [0x0953, 0x0a54], condition: 'with-flr', label: 'Intel DC P3700 / NVMe (250 ms after FLR)', seen: SINCE_612 },
  { fn: 'delay_250ms_after_flr', kind: 'device-specific', vendor: 0x025e, devices: [0xf1ac], condition: 'with-flr', label: 'Solidigm P44 Pro (250 ms after FLR)', seen: SINCE_612 },
  { fn: 'reset_chelsio_generic_dev', kind: 'device-specific', vendor: 0x1425, devices: 'any', condition: 'chelsio-t4', label: 'Chelsio T4 adapters (device ID 4xxx)', seen: SINCE_612 },
  { fn: 'reset_hinic_vf_dev', kind: 'device-specific', vendor: 0x19e5, devices: [0x375e], label: 'Huawei HiNIC VF (FLR with firmware handshake)', seen: SINCE_612 },
];

export type Presence = 'yes' | 'no' | 'unknown';

const atLeast = (k: Release, r: Release) => k[0] > r[0] || (k[0] === r[0] && k[1] >= r[1]);

/** Whether `kernel` has the row: yes when a tree read at or below it has it; unknown when no tree read says. */
export function rowPresence(seen: Seen, kernel: KernelFacts | undefined): Presence {
  const k: Release = kernel ? [kernel.major, kernel.minor] : ASSUMED_KERNEL;
  if (seen.pre5) return atLeast(k, [5, 0]) ? 'yes' : 'unknown';
  if (seen.v6_12) return atLeast(k, [6, 12]) ? 'yes' : 'unknown';
  if (seen.v6_18) return atLeast(k, [6, 18]) ? 'yes' : 'unknown';
  return 'unknown';
}

export function seenText(seen: Seen): string {
  const t = [seen.pre5 && 'a 4.x tree', seen.v6_12 && '6.12.19', seen.v6_18 && '6.18.y'].filter(Boolean) as string[];
  const missing = !seen.pre5 && seen.v6_12 ? '; not in the 4.x tree read' : !seen.v6_12 && seen.v6_18 ? '; not in 6.12.19' : '';
  return `in ${t.join(', ')}${missing}`;
}

export interface DeviceIdentity {
  vendorId: number;
  deviceId: number;
  classCode: number;
  revision: number;
  /** On a root bus (no bridge above); undefined when unknown. */
  rootBus: boolean | undefined;
  /** DevCap FLReset+ (undefined: unknown). */
  flr: boolean | undefined;
}

export interface RowMatch {
  row: KernelResetRow;
  presence: Presence;
  /** Set when the row matches the IDs but its condition cannot be decided from what was read. */
  undecided?: string;
}

const idMatch = (row: KernelResetRow, id: number) =>
  row.devices === 'any' ? true : Array.isArray(row.devices) ? (row.devices as readonly number[]).includes(id) : (id & (row.devices as { mask: number }).mask) === (row.devices as { value: number }).value;

/** Every kernel row that applies to this function, with whether the kernel at hand has it. */
export function kernelRowsFor(d: DeviceIdentity, kernel: KernelFacts | undefined): RowMatch[] {
  const out: RowMatch[] = [];
  for (const row of KERNEL_RESET_ROWS) {
    if (row.vendor !== d.vendorId || !idMatch(row, d.deviceId)) continue;
    if (row.class16 !== undefined && d.classCode >> 8 !== row.class16) continue;
    let undecided: string | undefined;
    switch (row.condition) {
      case 'not-root-bus':
        if (d.rootBus === true) continue;
        if (d.rootBus === undefined) undecided = 'whether it is on a root bus is unknown';
        break;
      case 'revision-1':
        if (d.revision !== 1) continue;
        break;
      case 'chelsio-t4':
        // The reset body answers only for device IDs 4xxx (T4).
        if ((d.deviceId & 0xf000) !== 0x4000) continue;
        break;
      case 'nvme-with-flr':
        if (d.classCode !== PCI_CLASS_STORAGE_EXPRESS) continue;
        if (d.flr === false) continue;
        if (d.flr === undefined) undecided = 'whether it has FLR is unknown';
        break;
      case 'with-flr':
        if (d.flr === false) continue;
        if (d.flr === undefined) undecided = 'whether it has FLR is unknown';
        break;
    }
    out.push({ row, presence: rowPresence(row.seen, kernel), ...(undecided ? { undecided } : {}) });
  }
  return out;
}

export function rowText(m: RowMatch): string {
  const what: Record<KernelResetKind, string> = {
    'no-bus-reset': 'PCI_DEV_FLAGS_NO_BUS_RESET',
    'no-pm-reset': 'PCI_DEV_FLAGS_NO_PM_RESET',
    'no-flr': 'PCI_DEV_FLAGS_NO_FLR_RESET',
    'device-specific': 'device_specific reset',
  };
  const p = m.presence === 'yes' ? '' : m.presence === 'no' ? ' — not in this kernel' : ' — whether this kernel has the row is unknown';
  return `kernel table: drivers/pci/quirks.c ${m.row.fn} — ${m.row.label}: ${what[m.row.kind]} (${seenText(m.row.seen)})${p}${m.undecided ? `; ${m.undecided}` : ''}`;
}

/** gnif/vendor-reset: the families it resets and their device IDs, from its own device table. */
export const VENDOR_RESET_SOURCE = 'gnif/vendor-reset src/device-db.h at commit 084881c6e9e1 (2024-04-17)';
/** Its udev rule for kernels with reset_method (5.15+): load the module, then select device_specific. */
export const VENDOR_RESET_UDEV_SOURCE = 'gnif/vendor-reset udev/99-vendor-reset.rules';
export const VENDOR_RESET_URL = 'https://github.com/gnif/vendor-reset';

export interface VendorResetFamily {
  family: string;
  /** Marketing names from vendor-reset's README. */
  names: string;
  vendor: number;
  ids: readonly number[];
}

export const VENDOR_RESET_FAMILIES: readonly VendorResetFamily[] = [
  { family: 'AMD Polaris 10', names: 'RX 470, 480, 570, 580, 590', vendor: ATI, ids: [0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67d0, 0x67df, 0x67c8, 0x67c9, 0x67ca, 0x67cc, 0x67cf, 0x6fdf] },
  { family: 'AMD Polaris 11', names: 'RX 460, 560', vendor: ATI, ids: [0x67e0, 0x67e3, 0x67e8, 0x67eb, 0x67ef, 0x67ff, 0x67e1, 0x67e7, 0x67e9] },
  { family: 'AMD Polaris 12', names: 'RX 540, 550', vendor: ATI, ids: [0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995, 0x6997, 0x699f] },
  { family: 'AMD Vega 10', names: 'Vega 56/64/FE', vendor: ATI, ids: [0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867, 0x6868, 0x6869, 0x686a, 0x686b, 0x686c, 0x686d, 0x686e, 0x686f, 0x687f] },
  { family: 'AMD Vega 20', names: 'Radeon VII', vendor: ATI, ids: [0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7, 0x66af] },
  { family: 'AMD Navi 10', names: '5600XT, 5700, 5700XT', vendor: ATI, ids: [0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b, 0x731e, 0x731f] },
  { family: 'AMD Navi 14', names: 'Pro 5300, RX 5300, 5500XT', vendor: ATI, ids: [0x7340, 0x7341, 0x7347, 0x734f] },
  { family: 'AMD Navi 12', names: 'Pro 5600M', vendor: ATI, ids: [0x7360, 0x7362] },
  { family: 'AMD Arcturus (vega20 ops)', names: 'Instinct MI100', vendor: ATI, ids: [0x738c] },
];

export function vendorResetFamily(vendorId: number, deviceId: number): VendorResetFamily | null {
  return VENDOR_RESET_FAMILIES.find((f) => f.vendor === vendorId && f.ids.includes(deviceId)) ?? null;
}

/** reset_method (and `echo device_specific > …/reset_method`) exists from Linux 5.15 (peers.md: ABI dated March 2021). */
export const RESET_METHOD_SYSFS: Release = [5, 15];
export const resetMethodSysfsText = `Linux ${releaseText(RESET_METHOD_SYSFS)}`;
