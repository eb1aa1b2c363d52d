/**
 * What a VM needs to be given for one device, independent of the hypervisor: the functions that
 * must go along (its IOMMU group minus bridges), grouped per PCI device (bus:dev) so a
 * multi-function device can be passed whole, the verdict that decides whether we print at all,
 * and the MMIO its BARs take. Pure: a Survey in, a plan out; the per-target files render it.
 */
import { effectOf, type FindingCode, type Target } from '../../checks/finding.js';
import type { DeviceReport, Survey } from '../../checks/index.js';
import { groupView } from '../../checks/groups.js';
import { deviceKey, hex4, vendorDevice } from '../../host/address.js';
import type { Device } from '../../host/model.js';
import { mmioNeed, window64For } from '../../checks/mmio.js';

export { LARGE_BARS, QEMU_Q35_HOLE64_DEFAULT, nextPow2, qemuSize, window64For } from '../../checks/mmio.js';

export const VM_TARGETS = ['proxmox', 'libvirt', 'qemu', 'hyperv'] as const;
export type VmTarget = (typeof VM_TARGETS)[number];

/** Proxmox, libvirt and QEMU hand the device to vfio-pci; Hyper-V uses DDA. */
export const VERDICT_TARGET: Record<VmTarget, Target> = { proxmox: 'vfio', libvirt: 'vfio', qemu: 'vfio', hyperv: 'dda' };

/** PCI base classes (PCI Code and ID Assignment spec). */
const CLASS_DISPLAY = 0x03;
const CLASS_STORAGE = 0x01;
/** Display sub-class 00: VGA compatible — the only one that decodes legacy VGA (x-vga). */
const CLASS_VGA = 0x0300;

export interface PlanFunction {
  address: string;
  name: string;
  /** "vvvv:dddd" as lspci -nn and Proxmox's mapping `id=` write it. */
  ids: string;
  /** "vvvv:dddd" of the subsystem; null when config space has none or it was not read. */
  subsystemIds: string | null;
  classCode: number;
  /** Has a PCI Express capability; null when the capabilities were not read. */
  pcie: boolean | null;
  /** A VGA-compatible display controller: passed as the VM's primary GPU (x-vga). */
  vga: boolean;
  /** Hide its option ROM from the VM (rombar=0 / <rom bar='off'/>), and why. */
  romOff: string | null;
  device: Device;
  report: DeviceReport;
}

/** One PCI device (bus:dev) in the VM: all its functions, or some of them. */
export interface PlanEntry {
  /** "0000:06:00" when every function of it goes (Proxmox "All Functions"), else "0000:06:00.0". */
  host: string;
  allFunctions: boolean;
  functions: PlanFunction[];
}

export interface Blocker {
  device: string | null;
  code: FindingCode;
  message: string;
}

export interface MmioPlan {
  /** Naturally aligned sizes (each BAR rounded up to its power of two), summed. */
  bars32: bigint;
  bars64: bigint;
  /** The 64-bit window to give the VM; null when its BARs are small enough for any default. */
  window64: bigint | null;
  /** BAR sizes of a function were not read (lspci without sizes): the sums miss them. */
  unknown: string[];
}

export interface VmPlan {
  target: VmTarget;
  verdictTarget: Target;
  device: DeviceReport;
  status: 'ok' | 'refused' | 'forced';
  blockers: Blocker[];
  group: { basis: 'kernel' | 'predicted'; name: string; members: string[] } | null;
  entries: PlanEntry[];
  mmio: MmioPlan;
  notes: string[];
}

export const mib = (n: bigint) => n / (1n << 20n);

function planFunction(r: DeviceReport): PlanFunction {
  const d = r.device;
  const c = d.config;
  const base = d.classCode >> 16;
  const vga = d.classCode >> 8 === CLASS_VGA;
  // A NIC's PXE ROM (or any other option ROM) only slows the VM's boot or stalls OVMF: the VM
  // boots from its own disk. A GPU needs its ROM (VGA BIOS/GOP); a storage controller may be booted from.
  const romOff = base === CLASS_DISPLAY || base === CLASS_STORAGE ? null : 'the VM boots from its own disks: the option ROM (PXE and the like) is not needed and can stall the VM firmware';
  return {
    address: d.address,
    name: d.name,
    ids: vendorDevice(c),
    subsystemIds: c.subsystemVendorId !== null && c.subsystemId !== null && c.subsystemVendorId !== 0 ? `${hex4(c.subsystemVendorId)}:${hex4(c.subsystemId)}` : null,
    classCode: d.classCode,
    pcie: c.pcie === undefined ? null : c.pcie !== null,
    vga,
    romOff,
    device: d,
    report: r,
  };
}

function blockersOf(sv: Survey, r: DeviceReport, t: Target): Blocker[] {
  if (r.verdicts[t].status !== 'blocked') return [];
  return [...r.findings, ...sv.hostFindings].filter((f) => effectOf(f.code, t) === 'block').map((f) => ({ device: f.device, code: f.code, message: f.message }));
}

/**
 * Sizes are not in config space: they come from sysfs or lspci's "[size=…]". A memory BAR
 * config space shows without a size (a hex dump, lspci without -v) is unknown, not empty.
 */
export function barSizesKnown(d: Device): boolean {
  if (d.bars === undefined) return false;
  return d.config.bars.every((b) => b.kind !== 'memory' || d.bars!.some((s) => s.index === b.index));
}

function mmioOf(fns: PlanFunction[]): MmioPlan {
  let bars32 = 0n;
  let bars64 = 0n;
  const unknown: string[] = [];
  for (const f of fns) {
    // Windows' allocated ranges stand in for sizes on a Windows capture (hyperv.ts).
    if (!barSizesKnown(f.device) && !f.device.windows?.memoryRanges?.length) unknown.push(f.address);
    // Each BAR naturally aligned (its size rounded up to a power of two), as mmioNeed sums them.
    const m = mmioNeed(f.device);
    if (!m) continue;
    bars32 += m.low;
    bars64 += m.high;
  }
  return { bars32, bars64, window64: window64For(bars64), unknown };
}

/**
 * The plan for `r` on `target`. The functions that go along are its IOMMU group's endpoints
 * (bridges stay with the host); with the group unknown, the other functions of the same
 * device go along and a note says the group may hold more.
 */
export function vmPlan(sv: Survey, r: DeviceReport, target: VmTarget, force: boolean): VmPlan {
  const t = VERDICT_TARGET[target];
  const host = sv.host;
  const notes: string[] = [];
  const byAddr = new Map(sv.devices.map((x) => [x.device.address, x]));
  const view = groupView(r.device, host);
  let members: string[];
  if (view) members = view.members;
  else {
    members = sv.devices.filter((x) => deviceKey(x.device.pci) === deviceKey(r.device.pci)).map((x) => x.device.address);
    notes.push(view === null
      ? 'it is in no IOMMU group: no IOMMU translates its DMA'
      : 'its IOMMU group is unknown: other devices may have to go along (`assignable collect` records the groups)');
  }
  if (view?.basis === 'predicted') notes.push(`the group is predicted from config space (the capture has no group data)${view.uncertain.length ? '; it rests on facts the capture lacks (`assignable explain` says which)' : ''}`);
  const reports = members.map((a) => byAddr.get(a)).filter((x): x is DeviceReport => x !== undefined && !x.device.isBridge && !x.device.isHostBridge);
  const missing = members.filter((a) => !byAddr.has(a));
  if (missing.length) notes.push(`the group names function(s) this capture does not describe: ${missing.join(', ')}`);
  if (!reports.includes(r)) reports.unshift(r);
  // The asked-for device first, then the others in address order.
  const mine = deviceKey(r.device.pci);
  const keys = [...new Set(reports.map((x) => deviceKey(x.device.pci)))].sort((a, b) => (a === mine ? -1 : b === mine ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const entries: PlanEntry[] = keys.map((k) => {
    const fns = reports.filter((x) => deviceKey(x.device.pci) === k).sort((a, b) => a.device.pci.function - b.device.pci.function).map(planFunction);
    // Whole only when every endpoint function of that device goes: Proxmox then passes them all.
    const all = sv.devices.filter((x) => deviceKey(x.device.pci) === k && !x.device.isBridge && !x.device.isHostBridge);
    const allFunctions = fns.length > 1 && all.every((x) => fns.some((f) => f.address === x.device.address));
    return { host: allFunctions ? k : fns[0]!.address, allFunctions, functions: fns };
  });
  const fns = entries.flatMap((e) => e.functions);
  const seen = new Set<string>();
  const blockers = fns.flatMap((f) => blockersOf(sv, f.report, t)).filter((b) => {
    const key = `${b.device}|${b.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const mmio = mmioOf(fns);
  if (mmio.unknown.length) notes.push(`BAR sizes of ${mmio.unknown.join(', ')} were not read: the MMIO sizing below leaves them out (assignable collect, or lspci -vv, gives them)`);
  return {
    target,
    verdictTarget: t,
    device: r,
    status: blockers.length === 0 ? 'ok' : force ? 'forced' : 'refused',
    blockers,
    group: view ? { basis: view.basis, name: view.name, members: view.members } : null,
    entries,
    mmio,
    notes,
  };
}
