/**
 * Every finding code, asserted (issue 7, point 26). Each row is a small host made of REAL
 * config-space bytes (functions of the pciutils `lspci -xxxx` dumps in test/fixtures/pci),
 * real firmware tables (DMAR, IVRS) or a real capture (the HPE DL380e Gen8 example), with one
 * fact changed to provoke the code. Each row states the effect on vfio, dda and esxi and WHY
 * (the kernel, Microsoft's SurveyDDA, or "unknown, so it warns") — the expectation is written
 * here from those sources, never read back from our catalog. The test then checks that:
 *  - the code is emitted for that device (or the host) on those bytes;
 *  - the catalog's effect per target is the stated one;
 *  - the device's verdict per target is consistent with it.
 * A last test fails when a catalog code has no row here.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOG, TARGETS, effectOf, type Effect, type FindingCode, type Target, type Verdict } from '../src/checks/finding.js';
import { runSurvey } from '../src/checks/index.js';
import { DIAGNOSE_ONLY_CODES } from '../src/checks/diagnose/index.js';
import { loadHost } from '../src/cli/host-commands.js';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { decodeIvrsTable } from '../src/firmware/acpi/ivrs.js';
import { parseAcpiTable } from '../src/firmware/acpi/table.js';
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { buildHost } from '../src/host/build.js';
import type { FunctionFacts, Host, HostFacts } from '../src/host/model.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { windowsFactsFromProbe } from '../src/sources/windows/index.js';
import { ROOT, fixtureBytes, fixtureText } from './helpers.js';
import { gen8Probe, type SimOptions } from './windows-hosts.js';

const DIR = 'pci/pciutils-tests';
const dump = (name: string) => functionsFromLspci(fixtureText(DIR, `${name}.dump.txt`));
const P6T6 = dump('asus-p6t6-pciutils-tree');
/** A KVM guest: virtio functions and one physical GPU function (test/fixtures/pci/kvm-guest). */
const GUEST = functionsFromLspci(fixtureText('pci/kvm-guest', 'kvm-guest-gpu.dump.txt'));
const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const addr = (f: FunctionFacts) => `${hex(f.address.segment, 4)}:${hex(f.address.bus, 2)}:${hex(f.address.device, 2)}.${f.address.function}`;
const byAddr = (fns: FunctionFacts[], a: string) => fns.find((f) => addr(f) === a)!;

/** iasl -d: "Flags : 01" (INTR_REMAP set) for this DMAR, "Flags : 00" for the other. */
const DMAR_IR = decodeDmarTable(parseAcpiTable(fixtureBytes('dmar', 'supermicro-x10dai-4a64a6.dat'), 'DMAR'));
const DMAR_NO_IR = decodeDmarTable(parseAcpiTable(fixtureBytes('dmar', 'supermicro-x8sil-40aecb.dat'), 'DMAR'));
/**
 * iasl -d of this IVRS: an IVMD type 21h with flags 07 (Unity, Readable, Writeable) for
 * DeviceId 0060 (00:0c.0), and one with flags 08 (Exclusion Range) for DeviceId 6407 (64:00.7).
 */
const IVRS_IVMD = decodeIvrsTable(parseAcpiTable(fixtureBytes('ivrs', 'asus-rog-xbox-ally-x-56b11a.dat'), 'IVRS'));

/** Each function alone in its IOMMU group, as on a board with ACS everywhere. */
function ownGroups(fns: FunctionFacts[]) {
  return fns.map((f, i) => ({ id: i, devices: [addr(f)] }));
}

/** A quiet host: IOMMU on with remapping, own groups, root disk and route known to be elsewhere. */
function host(fns: FunctionFacts[], over: Partial<HostFacts> = {}): Host {
  return buildHost({
    origin: { kind: 'capture', description: 'synthetic' },
    functions: fns,
    notes: [],
    dmar: DMAR_IR,
    ivrs: null,
    iommuGroups: ownGroups(fns),
    kernelRelease: '6.8.0',
    cmdline: 'ro quiet intel_iommu=on',
    bootDiskFunctions: [],
    defaultRouteFunctions: [],
    ...over,
  });
}

/** A function with a changed address or sysfs facts; the config bytes stay real. */
function moved(f: FunctionFacts, a: string, sysfs?: FunctionFacts['sysfs']): FunctionFacts {
  const [seg, bus, dev, fn] = a.split(/[:.]/).map((x) => parseInt(x, 16));
  return { ...f, address: { segment: seg!, bus: bus!, device: dev!, function: fn! }, ...(sysfs ? { sysfs } : {}) };
}

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
function dl380e(kernel: string, cmdline = 'ro quiet intel_iommu=on'): Host {
  return loadHost({ lspci: join(EX, 'lspci-vvnn.txt'), dmar: join(EX, 'DMAR.dat'), dmidecode: join(EX, 'dmidecode.txt'), kernel, cmdline });
}

/** The simulated Windows Gen8 (test/windows-hosts.ts: real DL380e lspci/DMAR/SMBIOS as Windows publishes them), one fact changed. */
function win(o: SimOptions = {}, edit?: (d: Record<string, any>) => void): Host {
  const doc = gen8Probe(o) as Record<string, any>;
  edit?.(doc);
  return buildHost(windowsFactsFromProbe(JSON.parse(JSON.stringify(doc)), 'sim.json'));
}
const winCard = (d: Record<string, any>) => d.pciDevices.find((x: any) => /DEV_0072/.test(x.instanceId));
const WIN_VM = { name: 'vm1', automaticStopAction: 'Save', dynamicMemoryEnabled: true, checkpointType: 'Standard', assignedDevices: [{ locationPath: 'PCIROOT(0)#PCI(0302)#PCI(0000)' }] };

interface Row {
  code: FindingCode;
  /** The function that carries it; null for host-level codes (checked on `probe`). */
  device: string | null;
  probe?: string;
  host: () => Host;
  expect: Record<Target, Effect>;
  why: string;
}

const e = (vfio: Effect, dda: Effect, esxi: Effect) => ({ vfio, dda, esxi });

const ROWS: Row[] = [
  // The IOMMU itself (host-level).
  { code: 'IOMMU_ABSENT', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { dmar: null, ivrs: null, iommuGroups: [] }), expect: e('block', 'block', 'block'), why: 'No DMAR/IVRS: no DMA remapping hardware, which VFIO, DDA and DirectPath I/O all require.' },
  { code: 'IOMMU_DISABLED_BY_KERNEL', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { iommuGroups: [], cmdline: 'ro quiet' }), expect: e('block', 'none', 'none'), why: 'No IOMMU groups: vfio-pci has no group to bind; another OS on this hardware is not bound by this kernel.' },
  { code: 'IOMMU_KERNEL_STATE_UNKNOWN', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { iommuGroups: undefined }), expect: e('warn', 'none', 'none'), why: 'Unknown kernel state only concerns this Linux kernel; unknown is not ok, so it warns.' },
  { code: 'IOMMU_TABLES_UNKNOWN', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { dmar: undefined, ivrs: undefined }), expect: e('warn', 'warn', 'warn'), why: 'Reserved regions unknown for every target: unknown warns.' },
  { code: 'INTERRUPT_REMAPPING_ABSENT', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { dmar: DMAR_NO_IR }), expect: e('block', 'block', 'warn'), why: 'vfio_iommu_type1 refuses the group without IRQ remapping (-EPERM); SurveyDDA requires interrupt remapping; ESXi behaviour not sourced: warn.' },
  { code: 'INTERRUPT_REMAPPING_UNSAFE_ALLOWED', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { dmar: DMAR_NO_IR, vfioAllowUnsafeInterrupts: true }), expect: e('warn', 'block', 'warn'), why: 'allow_unsafe_interrupts lets vfio attach (unsafe: warn); DDA still requires remapping.' },
  // Firmware reservations: the real DL380e Gen8 capture (its RMRRs name the Smart Array, the I350s and USB).
  { code: 'RMRR_DIRECT', device: '0000:05:00.0', host: () => dl380e('6.8.12-4-pve'), expect: e('block', 'block', 'warn'), why: 'Since 3.17 an RMRR device cannot be attached to VFIO; SurveyDDA: "BIOS requires that this device remain attached to BIOS-owned memory"; ESXi: not sourced, warn.' },
  { code: 'RMRR_RELAXABLE', device: '0000:00:1d.0', host: () => dl380e('5.15.0'), expect: e('warn', 'block', 'warn'), why: 'device_rmrr_is_relaxable(): USB is relaxable, VFIO attaches; DDA refuses any RMRR device.' },
  { code: 'RMRR_RELAXED_BY_OPTION', device: '0000:02:00.0', host: () => dl380e('6.8.12-4-pve', 'ro quiet intel_iommu=on,relax_rmrr'), expect: e('warn', 'block', 'warn'), why: 'relax_rmrr (Proxmox 6.2.16-13+) makes every RMRR relaxable: attaches, with a logged risk.' },
  { code: 'RMRR_NOT_ENFORCED', device: '0000:02:00.0', host: () => dl380e('3.16.7'), expect: e('warn', 'block', 'warn'), why: 'Before 3.17 the kernel did not check RMRRs on attach: it works, the firmware may still DMA there.' },
  { code: 'IVMD_UNITY_DIRECT', device: '0000:00:0c.0', host: () => host([moved(byAddr(P6T6, '0000:06:00.0'), '0000:00:0c.0')], { dmar: null, ivrs: IVRS_IVMD, iommuGroups: [{ id: 0, devices: ['0000:00:0c.0'] }] }), expect: e('block', 'warn', 'warn'), why: 'From 6.6 unity ranges are IOMMU_RESV_DIRECT and the core refuses a non-identity domain; Hyper-V on IVMD unity ranges: not documented, warn.' },
  { code: 'IVMD_UNITY', device: '0000:00:0c.0', host: () => host([moved(byAddr(P6T6, '0000:06:00.0'), '0000:00:0c.0')], { dmar: null, ivrs: IVRS_IVMD, kernelRelease: '6.1.0', iommuGroups: [{ id: 0, devices: ['0000:00:0c.0'] }] }), expect: e('warn', 'warn', 'warn'), why: 'Before 6.6 AMD unity ranges were mapped 1:1 and the attach went ahead.' },
  { code: 'IVMD_EXCLUSION', device: '0000:64:00.7', host: () => host([moved(byAddr(P6T6, '0000:06:00.0'), '0000:64:00.7')], { dmar: null, ivrs: IVRS_IVMD, iommuGroups: [{ id: 0, devices: ['0000:64:00.7'] }] }), expect: e('info', 'info', 'info'), why: 'An exclusion range becomes IOMMU_RESV_RESERVED: reserved, not a reason to refuse.' },
  // Isolation.
  { code: 'GROUP_SHARED', device: '0000:07:00.0', host: () => host(P6T6, { iommuGroups: [{ id: 1, devices: ['0000:07:00.0', '0000:08:00.0'] }, ...ownGroups(P6T6).filter((g) => !['0000:07:00.0', '0000:08:00.0'].includes(g.devices[0]!)).map((g) => ({ ...g, id: g.id + 100 }))] }), expect: e('warn', 'none', 'none'), why: 'VFIO: every endpoint of the group must go to the VM ("group is not viable"); groups are a Linux notion.' },
  { code: 'GROUP_HOST_CRITICAL', device: '0000:06:00.0', host: () => host(P6T6, { bootDiskFunctions: ['0000:00:1f.2'], iommuGroups: [{ id: 1, devices: ['0000:06:00.0', '0000:00:1f.2'] }, ...ownGroups(P6T6).filter((g) => !['0000:06:00.0', '0000:00:1f.2'].includes(g.devices[0]!)).map((g) => ({ ...g, id: g.id + 100 }))] }), expect: e('block', 'none', 'none'), why: 'The whole group goes to the VM, so the host loses its root disk controller.' },
  { code: 'GROUP_UNKNOWN', device: '0000:07:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:07:00.0' ? { ...f, config: decodePciConfig(f.lspci!.config!.slice(0, 64)), lspci: undefined } : f)), { iommuGroups: undefined }), expect: e('warn', 'none', 'none'), why: 'No group data and only 64 bytes of config space: not even a prediction can be made; unknown warns, for VFIO only.' },
  { code: 'GROUP_PREDICTED_UNCERTAIN', device: '0000:02:00.0', host: () => dl380e('6.8.12-4-pve'), expect: e('warn', 'none', 'none'), why: 'DL380e I350 behind a C600 Root Port: Linux\'s PCH quirk isolates it only with the LPC bridge\'s RCBA enabled, which lspci text does not show: an uncertain prediction warns, for VFIO only.' },
  { code: 'GROUPS_DIFFER_FROM_PREDICTION', device: null, probe: '0000:07:00.0', host: () => host(P6T6), expect: e('info', 'none', 'none'), why: 'P6T6: every function alone in its group, although ICH10 Root Ports have no ACS and no quirk, so Linux would group each with the port above it: the kernel knows something config space does not (override); information.' },
  { code: 'NO_IOMMU_GROUP', device: '0000:06:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:06:00.0' ? { ...f, sysfs: { iommuGroup: null } } : f)), { iommuGroups: ownGroups(P6T6.filter((f) => addr(f) !== '0000:06:00.0')) }), expect: e('block', 'none', 'none'), why: 'No iommu_group link: vfio-pci refuses to probe a device without a group.' },
  { code: 'ACS_MISSING_UPSTREAM', device: '0000:07:00.0', host: () => host(P6T6), expect: e('info', 'block', 'none'), why: 'Root port 00:1c.2 (ICH10) has no ACS capability: SurveyDDA "Traffic from this device may be redirected…"; for VFIO the groups already reflect it.' },
  // The function itself.
  { code: 'BRIDGE', device: '0000:00:1c.2', host: () => host(P6T6), expect: e('block', 'block', 'block'), why: 'A port carries other devices: not assignable (SurveyDDA: "switch port… Not assignable").' },
  { code: 'HOST_BRIDGE', device: '0000:00:00.0', host: () => host(P6T6), expect: e('block', 'block', 'block'), why: 'The host bridge is the CPU/chipset side of the bus.' },
  { code: 'CONVENTIONAL_PCI', device: '0000:00:1a.0', host: () => host(P6T6), expect: e('warn', 'block', 'warn'), why: 'No PCI Express capability (ICH10 UHCI): SurveyDDA "Old-style PCI device… Not assignable"; VFIO works with caveats.' },
  { code: 'LEGACY_ENDPOINT', device: '0000:04:00.0', host: () => host(dump('fujitsu-esprimo-p8010-pciutils-tree')), expect: e('warn', 'block', 'warn'), why: 'Marvell 88E8055: Express Legacy Endpoint; SurveyDDA "Legacy, non-VGA PCI device. Not assignable".' },
  { code: 'LEGACY_GRAPHICS_ENDPOINT', device: '0000:09:00.0', host: () => host(dump('pciutils-cap-rebar')), expect: e('warn', 'info', 'warn'), why: 'AMD Fiji VGA: legacy endpoint allowed by SurveyDDA ("Legacy Express Endpoint -- graphics controller").' },
  { code: 'INTEGRATED_ENDPOINT', device: '0000:00:1b.0', host: () => host(P6T6), expect: e('info', 'info', 'none'), why: 'ICH10 HD audio: RC integrated endpoint; SurveyDDA "Embedded Endpoint -- less secure" (allowed).' },
  { code: 'INTX_ONLY', device: '0000:00:1a.0', host: () => host(P6T6), expect: e('warn', 'block', 'warn'), why: 'Pin A, no MSI/MSI-X: SurveyDDA "All of the interrupts are line-based, no assignment can work"; VFIO masks the line.' },
  { code: 'NO_RESET', device: '0000:00:14.0', host: () => host(P6T6), expect: e('warn', 'warn', 'warn'), why: 'X58 00:14.0: DevCap FLReset-, no PM or AF capability, on a root bus (no bridge to reset): "Cannot reset device".' },
  { code: 'BUS_RESET_ONLY', device: '0000:07:00.0', host: () => host(P6T6), expect: e('info', 'none', 'info'), why: 'RTL8111: no FLR, PM NoSoftRst+, alone behind 00:1c.2: only a secondary bus reset.' },
  { code: 'VENDOR_RESET_NEEDED', device: '0000:04:00.0', host: () => host(functionsFromLspci(fixtureText('pci/iommu-groups/dell-precision-t7500-428b8d', 'lspci-vvnn.txt'))), expect: e('warn', 'warn', 'warn'), why: 'RX 580 (1002:67df) is in gnif/vendor-reset src/device-db.h (_AMD_POLARIS10): without it the GPU does not come back after a VM stops; the same hardware reset failure is reported under DDA and ESXi (believed).' },
  { code: 'CAPABILITIES_UNKNOWN', device: '0000:07:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:07:00.0' ? { ...f, config: decodePciConfig(f.lspci!.config!.slice(0, 64)), lspci: undefined } : f))), expect: e('warn', 'warn', 'warn'), why: 'Only 64 bytes readable (not root): MSI, reset and PCIe type unknown, so it warns everywhere.' },
  // What the host needs.
  { code: 'MANAGEMENT_CONTROLLER', device: '0000:01:00.2', host: () => dl380e('6.8.12-4-pve'), expect: e('block', 'block', 'block'), why: 'HPE iLO 4 (103c:3307): the server\'s remote management; no target may take it.' },
  { code: 'HOST_BOOT_DISK', device: '0000:00:1f.2', host: () => host(P6T6, { bootDiskFunctions: ['0000:00:1f.2'] }), expect: e('block', 'block', 'block'), why: 'Passing the root disk controller takes the host down, whatever the hypervisor.' },
  { code: 'HOST_BOOT_DISK_UNKNOWN', device: '0000:04:00.0', host: () => host(P6T6, { bootDiskFunctions: undefined }), expect: e('warn', 'warn', 'warn'), why: 'LSI SAS2008: a storage controller, and the root disk is unknown: it may be the boot disk.' },
  { code: 'HOST_CONSOLE', device: '0000:06:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:06:00.0' ? { ...f, sysfs: { bootVga: true, iommuGroup: 0 } } : f))), expect: e('warn', 'warn', 'warn'), why: 'boot_vga=1: the host loses its console; the guest must handle the shadowed ROM.' },
  { code: 'HOST_NETWORK', device: '0000:07:00.0', host: () => host(P6T6, { defaultRouteFunctions: ['0000:07:00.0'] }), expect: e('warn', 'warn', 'warn'), why: 'The default route leaves through it: the host loses its network.' },
  { code: 'SHARED_WITH_MANAGEMENT', device: '0000:02:00.0', host: () => dl380e('6.8.12-4-pve'), expect: e('info', 'info', 'info'), why: 'HPE embedded NIC port 1 may carry the iLO shared network port: only if enabled.' },
  // For information.
  { code: 'DRIVER_BOUND', device: '0000:07:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:07:00.0' ? { ...f, sysfs: { driver: 'r8169' } } : f))), expect: e('info', 'none', 'none'), why: 'A host driver is unbound when vfio-pci takes it: information for VFIO.' },
  { code: 'MMIO', device: '0000:06:00.0', host: () => host(P6T6.map((f) => (addr(f) === '0000:06:00.0' ? { ...f, sysfs: { bars: [{ index: 0, kind: 'memory', is64: false, prefetchable: false, size: 16n << 20n }, { index: 1, kind: 'memory', is64: true, prefetchable: true, size: 256n << 20n }] } } : f))), expect: e('info', 'info', 'info'), why: 'BAR sizes tell how much MMIO the VM must provide: information.' },
  { code: 'SRIOV', device: '0002:01:00.0', host: () => host(dump('pciutils-cap-ea-1')), expect: e('info', 'info', 'info'), why: 'lspci: "Single Root I/O Virtualization (SR-IOV)… Total VFs: 128": information.' },
  // Hyper-V DDA from Windows' own answers.
  { code: 'DDA_RESERVED_MEMORY', device: '0000:09:00.0', host: () => win(), expect: e('warn', 'block', 'warn'), why: 'RequiresReservedMemoryRegion true: SurveyDDA "BIOS requires that this device remain attached to BIOS-owned memory.  Not assignable."; Linux relaxes USB/GPU RMRRs, so only a warning for vfio; ESXi not sourced.' },
  { code: 'DDA_FIRMWARE_KEPT_PCIE_CONTROL', device: null, probe: '0000:09:00.0', host: () => win({ keptPcieControl: true }), expect: e('none', 'block', 'none'), why: 'NativePciExpressControl false / DeviceType 5: SurveyDDA "BIOS kept control of PCI Express for this device.  Not assignable."; a Windows _OSC outcome.' },
  { code: 'DDA_ACS_UNKNOWN', device: '0000:02:00.0', host: () => win({}, (d) => { d.pciDevices.find((x: any) => /DEV_1521/.test(x.instanceId)).properties.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = null; }), expect: e('none', 'warn', 'none'), why: 'A native PCIe function without AcsCompatibleUpHierarchy: unknown, so it warns (SurveyDDA wrongly passes $null).' },
  { code: 'DDA_INTERRUPTS_UNKNOWN', device: '0000:09:00.0', host: () => win({}, (d) => { winCard(d).properties.DEVPKEY_PciDevice_InterruptSupport = null; }), expect: e('none', 'warn', 'none'), why: 'No InterruptSupport: line-based-only cannot be ruled out; unknown warns.' },
  { code: 'DDA_NOT_SERVER', device: null, probe: '0000:09:00.0', host: () => win({}, (d) => { d.os.productType = 1; }), expect: e('none', 'block', 'none'), why: 'ProductType 1 (client): DDA is a Windows Server feature.' },
  { code: 'DDA_HYPERV_MISSING', device: null, probe: '0000:09:00.0', host: () => win({}, (d) => { d.hyperV.vmms = null; }), expect: e('none', 'block', 'none'), why: 'No vmms service: no Hyper-V to assign to.' },
  { code: 'DDA_IOV_REASONS', device: null, probe: '0000:09:00.0', host: () => win({ keptPcieControl: true }), expect: e('none', 'info', 'none'), why: 'IovSupportReasons concern SR-IOV; translated for information.' },
  { code: 'DDA_ASSIGNED', device: '0000:09:00.0', host: () => win({ vms: [{ ...WIN_VM, automaticStopAction: 'TurnOff', dynamicMemoryEnabled: false, checkpointType: 'Disabled' }] }), expect: e('none', 'info', 'none'), why: 'Get-VMAssignableDevice lists it: already assigned; information.' },
  { code: 'DDA_VM_SETTINGS', device: '0000:09:00.0', host: () => win({ vms: [WIN_VM] }), expect: e('none', 'warn', 'none'), why: 'Stop action Save, dynamic memory, checkpoints: DDA requires TurnOff and neither of the others (Microsoft DDA docs).' },
  // Host readiness (issue 10 point 1): the facts as the live reader gives them (test/readiness.test.ts reads them from trees).
  { code: 'HOST_IS_VIRTUAL_MACHINE', device: null, probe: '0000:00:10.0', host: () => host(GUEST, { dmar: null, ivrs: null, iommuGroups: [], cpuFlags: ['hypervisor'], dmesg: fixtureText('pci/kvm-guest', 'dmesg.txt') }), expect: e('info', 'info', 'info'), why: 'virtio functions, the CPUID hypervisor bit and "Hypervisor detected: KVM": a KVM guest; information that changes the advice, not a verdict.' },
  { code: 'CPU_VIRTUALIZATION_MISSING', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { cpuFlags: [] }), expect: e('block', 'none', 'none'), why: 'No vmx/svm flag: KVM cannot create a guest (kvm_intel/kvm_amd refuse to load); Hyper-V and ESXi run on the bare hardware, not this Linux.' },
  { code: 'KVM_UNAVAILABLE', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { kvm: { state: 'absent', detail: '/sys/class/misc has no kvm: the kvm module is not loaded' } }), expect: e('block', 'none', 'none'), why: 'QEMU/libvirt open /dev/kvm to run a VFIO guest; without it there is no KVM guest.' },
  { code: 'VFIO_MODULES_MISSING', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { kernelConfig: { path: '/boot/config-6.8.0', options: { CONFIG_VFIO: null } } }), expect: e('block', 'none', 'none'), why: '"# CONFIG_VFIO is not set": no vfio-pci driver to bind a device to.' },
  { code: 'VFIO_NOT_LOADED', device: null, probe: '0000:06:00.0', host: () => host(P6T6, { vfioModules: { loaded: [], builtin: [], files: ['vfio', 'vfio_iommu_type1', 'vfio_pci'] } }), expect: e('info', 'none', 'none'), why: 'Module files present but not loaded: binding to vfio-pci loads them, so only the timing (before the host driver) is at stake.' },
  { code: 'EMBEDDED', device: '0000:02:00.0', host: () => dl380e('6.8.12-4-pve'), expect: e('info', 'info', 'info'), why: 'SMBIOS type 41 / HPE embedded record: no slot; information.' },
];

describe('every finding code on real bytes, with its effect on all three targets', () => {
  for (const row of ROWS) {
    it(`${row.code} — ${row.why}`, () => {
      const sv = runSurvey(row.host());
      const where = row.device ?? row.probe!;
      const report = sv.devices.find((r) => r.device.address === where);
      assert.ok(report, `${where} is in the host`);
      const findings = row.device === null ? sv.hostFindings : report.findings;
      assert.ok(findings.some((f) => f.code === row.code), `${row.code} on ${where}: got ${findings.map((f) => f.code).join(', ')}`);
      for (const t of TARGETS) {
        assert.equal(effectOf(row.code, t), row.expect[t], `${row.code} effect on ${t}`);
        const v: Verdict = report.verdicts[t];
        if (row.expect[t] === 'block') {
          assert.equal(v.status, 'blocked', `${t} verdict`);
          assert.ok(v.reasons.includes(row.code), `${t} reasons ${v.reasons}`);
        } else if (row.expect[t] === 'warn') {
          assert.notEqual(v.status, 'assignable', `${t} verdict`);
          if (v.status === 'warnings') assert.ok(v.reasons.includes(row.code), `${t} reasons ${v.reasons}`);
        } else {
          assert.ok(!v.reasons.includes(row.code), `${t}: ${row.code} must not decide the verdict`);
        }
      }
    });
  }

  it('every catalog code has a row (a new code needs its test here)', () => {
    const tested = new Set(ROWS.map((r) => r.code));
    // Codes only `diagnose` gives (states a capture cannot show) are produced from real pastes in test/diagnose.test.ts.
    const diagnoseOnly = new Set<string>(DIAGNOSE_ONLY_CODES);
    assert.deepEqual(Object.keys(CATALOG).filter((c) => !tested.has(c as FindingCode) && !diagnoseOnly.has(c)), []);
  });
});
