/**
 * Hyper-V Discrete Device Assignment from Windows' own answers (a Windows probe capture or a
 * SurveyDDA paste), explained by our firmware analysis: pci.sys's RequiresReservedMemoryRegion
 * decides the RMRR block and the DMAR decode names which RMRR, scope and slot; DeviceType 5 /
 * NativePciExpressControl false is one host finding; AcsCompatibleUpHierarchy with the ACS
 * register of every hop; InterruptSupport (a capability, valid for disabled devices); the MMIO
 * split from the allocated ranges; the host's SKU, role and IovSupportReasons; the pool and
 * VMs. Values from ../shared/docs/windows-dda.md §1 and corpus 15-pciprop-devpkeys.json.
 */
import { byteSize, rangeSize } from '../firmware/format.js';
import { ACS_BITS } from '../firmware/pci/config.js';
import type { Device, Host, WindowsVm } from '../host/model.js';
import { finding, type Finding, type Fix } from './finding.js';

/** DEVPKEY_PciDevice_DeviceType (pid 1). */
export const DEVICE_TYPE = {
  PciConventional: 0,
  PciX: 1,
  PciExpressEndpoint: 2,
  PciExpressLegacyEndpoint: 3,
  PciExpressRootComplexIntegratedEndpoint: 4,
  PciExpressTreatedAsPci: 5,
  BridgeFirst: 6,
  BridgePciExpressTreatedAsPci: 13,
} as const;
/** DEVPKEY_PciDevice_AcsCompatibleUpHierarchy (pid 31). */
export const ACS_UP_HIERARCHY: Record<number, string> = { 0: 'NotSupported', 1: 'SingleFunctionSupported', 2: 'NoP2PSupported', 3: 'Supported', 4: 'Enhanced' };
/** DEVPKEY_PciDevice_InterruptSupport bits (pid 14). */
export const INTERRUPT_SUPPORT = { LineBased: 0x1, Msi: 0x2, MsiX: 0x4 } as const;
/** Win32_OperatingSystem.ProductType: 1 = workstation (DDA is Server-only). */
const PRODUCT_TYPE_WORKSTATION = 1;
/** Hyper-V's defaults, kept as headroom (windows-dda.md §4). */
export const DEFAULT_LOW_MMIO_MB = 128n;
export const DEFAULT_HIGH_MMIO_MB = 512n;
const FOUR_GIB = 1n << 32n;
const MIB = 1n << 20n;

const SURVEY_RMRR = 'BIOS requires that this device remain attached to BIOS-owned memory.  Not assignable.';
const SURVEY_KEPT = 'BIOS kept control of PCI Express for this device.  Not assignable.';
const SURVEY_ACS = 'Traffic from this device may be redirected to other devices in the system.  Not assignable.';

export const isWindowsDevice = (d: Device) => d.configSource === 'windows-pnp' || d.configSource === 'surveydda';

/** The PowerShell to dismount and assign it (windows-dda.md §4), for `explain --target dda` and fixes. */
export function ddaProcedure(d: Device, vm: string, force: { needed: boolean; why: string } | null, mmio: { lowMb: bigint; highMb: bigint } | null): string[] {
  const lp = d.locationPath.path ?? '<location path: unknown>';
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const out = [`# Hyper-V DDA of ${d.address} to VM ${vm} (run elevated; the VM must be off)`];
  // Without Windows' own instance ID (a Linux capture, a SurveyDDA paste) look it up by the path.
  const known = d.configSource === 'windows-pnp' && d.windows?.instanceId;
  let id: string;
  if (known) id = q(d.windows!.instanceId);
  else {
    out.push(`$id = (Get-PnpDevice -PresentOnly | Where-Object { (Get-PnpDeviceProperty -InstanceId $_.InstanceId -KeyName DEVPKEY_Device_LocationPaths).Data -contains ${q(lp)} }).InstanceId`);
    id = '$id';
  }
  out.push(`Set-VM -Name ${q(vm)} -AutomaticStopAction TurnOff`);
  if (d.classCode >> 16 === 0x03) out.push(`Set-VM -Name ${q(vm)} -GuestControlledCacheTypes $true`);
  if (mmio) out.push(`Set-VM -Name ${q(vm)} -LowMemoryMappedIoSpace ${mmio.lowMb}Mb -HighMemoryMappedIoSpace ${mmio.highMb}Mb`);
  out.push(`Disable-PnpDevice -InstanceId ${id} -Confirm:$false`);
  if (force?.needed) out.push(`# -Force: ${force.why}`);
  out.push(`Dismount-VMHostAssignableDevice${force?.needed ? ' -Force' : ''} -LocationPath ${q(lp)}`);
  out.push(`Add-VMAssignableDevice -LocationPath ${q(lp)} -VMName ${q(vm)}`);
  out.push('# undo:');
  out.push(`Remove-VMAssignableDevice -LocationPath ${q(lp)} -VMName ${q(vm)}`);
  out.push(`Mount-VMHostAssignableDevice -LocationPath ${q(lp)}`);
  out.push(`Enable-PnpDevice -InstanceId ${id} -Confirm:$false`);
  return out;
}

/** MMIO from the allocated ranges: those below 4 GiB are what the VM's low gap must hold. */
export function windowsMmio(d: Device): { low: bigint; high: bigint; lowMb: bigint; highMb: bigint } | null {
  const ranges = d.windows?.memoryRanges;
  if (!ranges || ranges.length === 0) return null;
  let low = 0n;
  let high = 0n;
  for (const r of ranges) {
    // Windows gives inclusive ends (SurveyDDA's sum is one byte short per range).
    const size = r.end - r.start + 1n;
    if (r.start >= FOUR_GIB) high += size;
    else low += size;
  }
  const ceil = (n: bigint) => (n + MIB - 1n) / MIB;
  return { low, high, lowMb: ceil(low) + DEFAULT_LOW_MMIO_MB, highMb: ceil(high) + DEFAULT_HIGH_MMIO_MB };
}

function acsBits(reg: number): string {
  return ACS_BITS.filter((_, i) => (reg & (1 << i)) !== 0).join(' ') || '(none)';
}

/** ACS capability register of every Windows-known port above the function. */
function acsHops(d: Device, host: Host): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let cur = d.parent; cur && !seen.has(cur); cur = host.byAddress.get(cur)?.parent) {
    seen.add(cur);
    const p = host.byAddress.get(cur);
    const r = p?.windows?.acsCapabilityRegister;
    out.push(`${cur}: ACS capability register ${r === undefined ? 'not read' : r === null ? 'not published (Empty)' : `0x${r.toString(16).padStart(4, '0')} (${acsBits(r)})`}`);
  }
  return out;
}

function hpeFixes(d: Device, host: Host): Fix[] {
  const fixes: Fix[] = [];
  if (host.system?.isHpeProliant && d.slot?.hpeRmrdsSlot) {
    fixes.push({
      rank: 1,
      title: `Exclude ${d.slot.designation ?? `slot ${d.slot.physical}`} from RMRR: HPE ${d.slot.hpeRmrdsSlot}=Endpoints_Excluded`,
      risk: 'medium',
      detail: `HPE's RMRDS setting removes slot ${d.slot.physical} from the RMRR device scopes, so Windows no longer reports RequiresReservedMemoryRegion for the card after a reboot; iLO then no longer monitors that slot. conrep.exe comes with the HPE BIOS cmdlets (Tools\\ConfigurationData\\) or the Scripting Toolkit.`,
      commands: [`assignable fix ${d.address}            # the plan: override file, backup, the conrep.exe commands`, `assignable fix ${d.address} --apply    # with conrep.exe found: backup, load, read back`],
    });
  } else if (d.slot?.physical) {
    fixes.push({ rank: 1, title: 'Move the card to another slot', risk: 'low', detail: 'Firmware often names only some slots (or the onboard devices) in RMRRs; check the new slot again.' });
  } else {
    fixes.push({ rank: 1, title: 'No firmware switch known for this device', risk: 'none', detail: d.slot?.embedded ? 'It is embedded on the system board: no per-slot RMRR switch applies.' : 'Its slot is unknown, so no per-slot switch can be named.' });
  }
  return fixes;
}

function rmrrEvidence(d: Device): string[] {
  if (d.rmrr === undefined) return ['the DMAR was not read, so which RMRR names it is unknown'];
  if (d.rmrr.length === 0) return ['no DMAR RMRR scope names it or a bridge above it (Windows may know of reservations the DMAR does not show)'];
  const uniq = [...new Map(d.rmrr.map((h) => [h.structure, h])).values()];
  return uniq.map((h) => `DMAR RMRR (structure ${h.structure}) 0x${h.base.toString(16)}-0x${h.limit.toString(16)} (${rangeSize(h.base, h.limit)}), scope ${h.scope}${h.viaBridge ? ` via the bridge ${h.viaBridge}` : ''}`);
}

function slotEvidence(d: Device): string[] {
  if (!d.slot) return ['slot: unknown'];
  if (d.slot.embedded) return [`embedded (${d.slot.designation ?? 'on the system board'})`];
  return [`slot ${d.slot.physical ?? '?'}${d.slot.designation ? ` (${d.slot.designation})` : ''}${d.slot.hpeRmrdsSlot ? `, HPE ${d.slot.hpeRmrdsSlot}` : ''}`];
}

/** Device-level DDA findings from Windows' properties. */
export function checkDda(d: Device, host: Host): Finding[] {
  if (!isWindowsDevice(d) || d.isBridge || d.isHostBridge) return [];
  const w = d.windows;
  const out: Finding[] = [];
  if (!w) return out;
  const survey = w.surveyLines?.length ? [`SurveyDDA: ${w.surveyLines.join(' / ')}`] : [];
  const dt = w.deviceType;
  const keptControl = dt === DEVICE_TYPE.PciExpressTreatedAsPci;
  if (dt === DEVICE_TYPE.PciConventional || dt === DEVICE_TYPE.PciX) {
    out.push(finding('CONVENTIONAL_PCI', d.address, `Windows runs it as ${dt === 0 ? 'conventional PCI' : 'PCI-X'} (DeviceType ${dt}): Hyper-V refuses it ("Old-style PCI device, switch port, etc.  Not assignable.").`, [`DEVPKEY_PciDevice_DeviceType = ${dt}`, ...survey]));
  } else if (dt === DEVICE_TYPE.PciExpressLegacyEndpoint) {
    out.push(d.classCode >> 16 === 0x03
      ? finding('LEGACY_GRAPHICS_ENDPOINT', d.address, 'A PCI Express legacy endpoint (graphics), DeviceType 3: Hyper-V allows it.', [`DEVPKEY_PciDevice_DeviceType = ${dt}`, ...survey])
      : finding('LEGACY_ENDPOINT', d.address, 'A PCI Express legacy endpoint (DeviceType 3): Hyper-V refuses it ("Legacy, non-VGA PCI device.  Not assignable.").', [`DEVPKEY_PciDevice_DeviceType = ${dt}`, ...survey]));
  } else if (dt === DEVICE_TYPE.PciExpressRootComplexIntegratedEndpoint) {
    out.push(finding('INTEGRATED_ENDPOINT', d.address, 'A root-complex integrated endpoint (DeviceType 4): Hyper-V calls it "Embedded Endpoint -- less secure."', [`DEVPKEY_PciDevice_DeviceType = ${dt}`, ...survey]));
  } else if ((dt === undefined || dt === null) && w.surveyLines?.some((l) => /^Old-style PCI device/i.test(l))) {
    out.push(finding('CONVENTIONAL_PCI', d.address, 'SurveyDDA found it is not a PCI Express endpoint ("Old-style PCI device, switch port, etc.  Not assignable."): conventional PCI, PCI-X or a port — Hyper-V refuses it.', survey));
  } else if (dt === undefined || dt === null) {
    // DeviceType 5 is judged once, for the host (checkDdaHost).
    out.push(finding('CAPABILITIES_UNKNOWN', d.address, `Windows' DeviceType for it is unknown (${dt === null ? 'published as Empty' : 'not in the capture'}): whether it is PCI Express, and so assignable, is unknown.`, [...survey]));
  }
  // Firmware-reserved memory: Windows' answer decides, our DMAR decode says which and where.
  if (w.requiresReservedMemoryRegion === true) {
    out.push(finding('DDA_RESERVED_MEMORY', d.address, `Windows reports RequiresReservedMemoryRegion: the firmware reserved memory (an RMRR) this device must keep mapped, so Hyper-V refuses it ("${SURVEY_RMRR}").`, [
      'DEVPKEY_PciDevice_RequiresReservedMemoryRegion = true',
      ...rmrrEvidence(d),
      ...slotEvidence(d),
      ...survey,
    ], hpeFixes(d, host)));
  }
  // ACS: only published for functions Windows runs as native PCI Express.
  if (!keptControl && dt !== DEVICE_TYPE.PciConventional && dt !== DEVICE_TYPE.PciX) {
    const up = w.acsCompatibleUpHierarchy;
    if (up === 0) {
      out.push(finding('ACS_MISSING_UPSTREAM', d.address, `Windows reports AcsCompatibleUpHierarchy 0 (NotSupported): a port above it does not isolate peer-to-peer traffic, so Hyper-V says "${SURVEY_ACS}". Dismount-VMHostAssignableDevice -Force overrides this check, at the cost of that isolation.`, [`DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = 0 (NotSupported)`, ...acsHops(d, host), ...survey]));
    } else if ((up === undefined || up === null) && dt !== undefined && dt !== null) {
      out.push(finding('DDA_ACS_UNKNOWN', d.address, d.configSource === 'surveydda'
        ? 'SurveyDDA did not flag ACS, but its test ($acsUp -eq 0) also passes when Windows published no value: whether peer-to-peer traffic is isolated is unknown.'
        : `Windows published no AcsCompatibleUpHierarchy for it (${up === null ? 'Type Empty' : 'not read'}): whether peer-to-peer traffic is isolated is unknown (SurveyDDA would take the missing value as "no ACS problem").`, [...acsHops(d, host), ...survey]));
    }
  }
  // Interrupts: InterruptSupport is a capability, valid for disabled devices too.
  const is = w.interruptSupport;
  if (typeof is === 'number' && is !== 0) {
    if ((is & (INTERRUPT_SUPPORT.Msi | INTERRUPT_SUPPORT.MsiX)) === 0) {
      out.push(finding('INTX_ONLY', d.address, 'Windows reports line-based interrupts only (no MSI or MSI-X): Hyper-V refuses it ("All of the interrupts are line-based, no assignment can work.").', [`DEVPKEY_PciDevice_InterruptSupport = 0x${is.toString(16)}`, ...survey]));
    }
  } else {
    out.push(finding('DDA_INTERRUPTS_UNKNOWN', d.address, d.configSource === 'surveydda'
      ? 'How it interrupts is unknown: SurveyDDA\'s interrupt line is missing or meaningless here (under PowerShell 7 its gwmi calls fail and it prints "no interrupts at all -- assignment can work" regardless).'
      : `How it interrupts is unknown: Windows' InterruptSupport is ${is === null ? 'Empty' : is === 0 ? '0' : 'not in the capture'}.`, survey));
  }
  if (w.surveyMmioMb !== undefined && !w.memoryRanges) {
    out.push(finding('MMIO', d.address, `SurveyDDA summed ${w.surveyMmioMb} MB of allocated MMIO (no split between below and above 4 GiB; each range one byte short).`, survey, [{ rank: 1, title: 'Hyper-V', risk: 'none', detail: 'At least this much MMIO gap; which part must lie below 4 GiB is unknown from SurveyDDA — the assignable probe gives the split.', commands: [`Set-VM -VMName <vm> -HighMemoryMappedIoSpace ${BigInt(w.surveyMmioMb + 1) + DEFAULT_HIGH_MMIO_MB}Mb`] }]));
  }
  // MMIO the VM must provide, split as Set-VM takes it.
  const m = windowsMmio(d);
  if (m) {
    out.push(finding('MMIO', d.address, `Its allocated ranges take ${byteSize(m.low)} below 4 GiB and ${byteSize(m.high)} above.`, [
      `${w.memoryRanges!.length} allocated memory range(s) (Win32_DeviceMemoryAddress, inclusive ends)`,
    ], [{ rank: 1, title: 'Hyper-V', risk: 'none', detail: 'MMIO for this device plus the default headroom (128 MB low, 512 MB high).', commands: [`Set-VM -VMName <vm> -LowMemoryMappedIoSpace ${m.lowMb}Mb -HighMemoryMappedIoSpace ${m.highMb}Mb`] }]));
  }
  out.push(...checkAssignment(d, host, m));
  return out;
}

/** Dismounted or assigned already, and the assigning VM's settings that conflict with DDA. */
function checkAssignment(d: Device, host: Host, m: ReturnType<typeof windowsMmio>): Finding[] {
  const w = d.windows!;
  const hv = host.windows?.hyperV;
  const lp = d.locationPath.path?.toUpperCase();
  const same = (x: { instanceId?: string; locationPath?: string }) => (x.instanceId !== undefined && x.instanceId.toUpperCase() === w.instanceId.toUpperCase()) || (lp !== undefined && x.locationPath?.toUpperCase() === lp);
  const vm = hv?.vms?.find((v) => v.assignedDevices?.some(same));
  const inPool = w.dismounted || hv?.assignableDevices?.some(same) === true;
  const out: Finding[] = [];
  if (vm || inPool) {
    out.push(finding('DDA_ASSIGNED', d.address, vm ? `Already assigned to VM "${vm.name}" with DDA.` : 'Already dismounted from the host (PCIP\\ device, in the assignable pool), assigned to no VM.', [`instance ${w.instanceId}`]));
  }
  if (vm) {
    const issues = vmIssues(vm, m);
    if (issues.length > 0) out.push(finding('DDA_VM_SETTINGS', d.address, `VM "${vm.name}" has settings that conflict with DDA: ${issues.map((i) => i.what).join('; ')}.`, [], [{ rank: 1, title: 'Fix the VM settings (VM off)', risk: 'low', detail: 'DDA needs TurnOff as the stop action, no dynamic memory, no checkpoints, and MMIO space for the device.', commands: issues.map((i) => i.fix) }]));
  }
  return out;
}

function vmIssues(vm: WindowsVm, m: ReturnType<typeof windowsMmio>): Array<{ what: string; fix: string }> {
  const n = `'${vm.name.replace(/'/g, "''")}'`;
  const out: Array<{ what: string; fix: string }> = [];
  if (vm.automaticStopAction !== undefined && vm.automaticStopAction !== 'TurnOff') out.push({ what: `automatic stop action ${vm.automaticStopAction} (DDA needs TurnOff)`, fix: `Set-VM -Name ${n} -AutomaticStopAction TurnOff` });
  if (vm.dynamicMemoryEnabled === true) out.push({ what: 'dynamic memory on', fix: `Set-VMMemory -VMName ${n} -DynamicMemoryEnabled $false` });
  if (vm.checkpointType !== undefined && vm.checkpointType !== 'Disabled') out.push({ what: `checkpoints ${vm.checkpointType}`, fix: `Set-VM -Name ${n} -CheckpointType Disabled` });
  if (m && vm.lowMemoryMappedIoSpace !== undefined && vm.lowMemoryMappedIoSpace < m.low) out.push({ what: `low MMIO ${byteSize(vm.lowMemoryMappedIoSpace)} is less than the device's ${byteSize(m.low)}`, fix: `Set-VM -Name ${n} -LowMemoryMappedIoSpace ${m.lowMb}Mb` });
  if (m && vm.highMemoryMappedIoSpace !== undefined && vm.highMemoryMappedIoSpace < m.high) out.push({ what: `high MMIO ${byteSize(vm.highMemoryMappedIoSpace)} is less than the device's ${byteSize(m.high)}`, fix: `Set-VM -Name ${n} -HighMemoryMappedIoSpace ${m.highMb}Mb` });
  return out;
}

/** What Windows' IovSupportReasons ask to change, in plain words. */
export function translateIovReason(r: string): string {
  if (/BIOS must be updated to allow Windows to control PCI Express/i.test(r)) return 'the firmware keeps PCI Express control (_OSC): look for a firmware update, or a setup option such as "SR-IOV", "PCIe native control", "OS native PCIe" or "ASPM/AER OS control"';
  if (/interrupt remapping/i.test(r)) return 'interrupt remapping is off: enable VT-d / AMD-Vi (IOMMU) in the firmware setup';
  if (/DMA remapping|IOMMU|I\/O virtuali[sz]ation/i.test(r)) return 'no DMA remapping: enable VT-d / AMD-Vi (IOMMU) in the firmware setup';
  if (/SR-IOV/i.test(r)) return 'SR-IOV is not enabled in the firmware setup (this concerns SR-IOV NICs, not DDA itself)';
  return 'see the reason as Windows gives it';
}

/** Host-level DDA findings: one for the firmware keeping PCIe control, however many devices show it. */
export function checkDdaHost(host: Host): Finding[] {
  const w = host.windows;
  if (!w) return [];
  const out: Finding[] = [];
  const treatedAsPci = host.devices.filter((d) => d.windows?.deviceType === DEVICE_TYPE.PciExpressTreatedAsPci || d.windows?.deviceType === DEVICE_TYPE.BridgePciExpressTreatedAsPci);
  const deniedRoots = (w.rootBuses ?? []).filter((r) => r.nativePciExpressControl === false);
  if (treatedAsPci.length > 0 || deniedRoots.length > 0) {
    out.push(finding('DDA_FIRMWARE_KEPT_PCIE_CONTROL', null, `The firmware kept control of PCI Express (it did not grant Windows native control through ACPI _OSC): Windows runs every PCIe function as plain PCI, and Hyper-V refuses them all ("${SURVEY_KEPT}"). One platform setting, not ${treatedAsPci.length} device problems.`, [
      ...deniedRoots.map((r) => `root bus ${r.instanceId}${r.busNumber !== undefined ? ` (bus ${r.busNumber.toString(16)})` : ''}: NativePciExpressControl = false`),
      treatedAsPci.length > 0 ? `${treatedAsPci.length} function(s) with DeviceType 5/13 (PCI Express treated as PCI): ${treatedAsPci.slice(0, 8).map((d) => d.address).join(', ')}${treatedAsPci.length > 8 ? ', …' : ''}` : 'no function shows DeviceType 5 (none read, or no PCIe function on that root bus)',
    ], [
      { rank: 1, title: 'Let the OS control PCI Express', risk: 'low', detail: 'In the firmware setup look for "SR-IOV" / "SR-IOV Global Enable", "Above 4G decoding", "Native PCIe" / "OS Native PCIe control", "PCIe AER/ASPM: OS controlled"; else a firmware update (Windows\' own words: "the system BIOS must be updated to allow Windows to control PCI Express"). Consumer boards often never grant it.' },
    ]));
  }
  if (w.os?.productType === PRODUCT_TYPE_WORKSTATION) {
    out.push(finding('DDA_NOT_SERVER', null, `This is a client edition of Windows (${w.os.caption ?? 'ProductType 1'}): Discrete Device Assignment is available on Windows Server only.`, [`Win32_OperatingSystem.ProductType = 1`], [{ rank: 1, title: 'Windows Server 2016 or later', risk: 'medium', detail: 'DDA is a Windows Server Hyper-V feature.' }]));
  }
  const hv = w.hyperV;
  const roleOff = hv && (hv.vmmsStatus === null || (hv.featureState !== undefined && !/^(Installed|Enabled)$/i.test(hv.featureState)));
  if (roleOff) {
    out.push(finding('DDA_HYPERV_MISSING', null, 'The Hyper-V role is not installed (or its management service vmms is absent): there is nothing to assign devices to.', [
      ...(hv!.featureState !== undefined ? [`Hyper-V feature: ${hv!.featureState}`] : []),
      ...(hv!.vmmsStatus === null ? ['service vmms: does not exist'] : []),
    ], [{ rank: 1, title: 'Install Hyper-V', risk: 'low', commands: ['Install-WindowsFeature -Name Hyper-V -IncludeManagementTools -Restart'], detail: 'Needs a reboot.' }]));
  }
  const reasons = hv?.iovSupportReasons;
  if (reasons && reasons.length > 0) {
    out.push(finding('DDA_IOV_REASONS', null, `Hyper-V reports IovSupport ${hv!.iovSupport === false ? 'false' : 'with reasons'}: ${reasons.map(translateIovReason).join('; ')}.`, reasons.map((r) => `Get-VMHost IovSupportReasons: "${r}"`)));
  }
  return out;
}
