/** Run every check over a Host and derive the verdicts. Pure: Host in, Survey out. */
import type { Device, Host } from '../host/model.js';
import { checkDda, checkDdaHost, isWindowsDevice } from './dda.js';
import { checkType } from './device-type.js';
import { TARGETS, verdict, type Finding, type Target, type Verdict } from './finding.js';
import { checkAcs, checkGroup, checkGroupsAgainstPrediction } from './groups.js';
import { checkHostCritical, managementFunctions } from './host-critical.js';
import { checkInterrupts } from './interrupts.js';
import { checkEmbedded, checkSriov } from './inventory.js';
import { checkIommu, iommuState, type IommuState } from './iommu.js';
import { checkMmio } from './mmio.js';
import { checkReadiness, readiness, type Readiness } from './readiness.js';
import { checkReset } from './reset.js';
import { checkIvmd, checkRmrr } from './rmrr.js';

export interface DeviceReport {
  device: Device;
  findings: Finding[];
  verdicts: Record<Target, Verdict>;
  /** Bridges and chipset internals: shown only with --all. */
  hidden: boolean;
}

export interface Survey {
  host: Host;
  iommu: IommuState;
  /** Host readiness: CPU virtualization, /dev/kvm, IOMMU mode, vfio modules, is it a VM. */
  readiness: Readiness;
  hostFindings: Finding[];
  devices: DeviceReport[];
}

const INTERNAL_VENDORS = new Set([0x8086, 0x1022, 0x1002]);

/** Bridges, and system peripherals / performance counters of the CPU or chipset on a root bus. */
export function isInternal(d: Device): boolean {
  if (d.isBridge || d.isHostBridge) return true;
  const base = d.classCode >> 16;
  const baseSub = d.classCode >> 8;
  const chipsetClass = base === 0x08 || base === 0x11 || baseSub === 0x0580 || baseSub === 0x0601 || baseSub === 0x0c05;
  return chipsetClass && d.parent === null && INTERNAL_VENDORS.has(d.config.vendorId);
}

export interface SurveyOptions {
  /**
   * false: findings, codes and verdicts only — no group-isolation fixes or override evidence
   * (what `fleet` needs: it prints verdicts and codes, never a fix ladder). Default true.
   */
  fixLadders?: boolean;
}

export function runSurvey(host: Host, o: SurveyOptions = {}): Survey {
  const ladders = o.fixLadders !== false;
  const s = iommuState(host);
  const ready = readiness(host, s);
  const hostFindings = [...checkIommu(host, s), ...checkGroupsAgainstPrediction(host), ...checkDdaHost(host), ...checkReadiness(host, ready)];
  const mgmt = managementFunctions(host);
  const devices = host.devices.map((d) => {
    const findings = [
      ...checkType(d),
      ...checkHostCritical(d, host, mgmt),
      // Windows' RequiresReservedMemoryRegion, when it gave one, decides instead (checkDda).
      ...(isWindowsDevice(d) && typeof d.windows?.requiresReservedMemoryRegion === 'boolean' ? [] : checkRmrr(d, host, s)),
      ...checkIvmd(d, host),
      ...checkGroup(d, host, s, mgmt, ladders),
      ...checkAcs(d, host, s),
      ...checkInterrupts(d),
      ...checkReset(d, host),
      ...checkEmbedded(d),
      ...checkSriov(d),
      ...checkMmio(d),
      ...checkDda(d, host),
    ];
    // Host-level findings apply to every device's verdict; the device's own reasons come first.
    const all = [...findings, ...hostFindings];
    const verdicts = Object.fromEntries(TARGETS.map((t) => [t, verdict(all, t)])) as Record<Target, Verdict>;
    return { device: d, findings, verdicts, hidden: isInternal(d) };
  });
  return { host, iommu: s, readiness: ready, hostFindings, devices };
}
