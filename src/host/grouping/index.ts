/** The kernel's IOMMU grouping, predicted from the Host's config space (see ./engine.ts). */
import { formGroups, type Grouping, type GroupingDevice } from './engine.js';
import { parseAcsParams, type AcsParams } from './params.js';
import { makeAddress } from '../address.js';
import { iommuCoverage } from './coverage.js';
import type { Device, Host } from '../model.js';

export { formGroups, ivrsAliases } from './engine.js';
export { simulateOverrides, type OverrideOption, type OverrideSimulation } from './override.js';
export { whereAlone, whereAloneFor, type SlotAlone } from './alone.js';
export type { DeviceGrouping, Grouping, GroupingDevice, GroupingOptions, Hop, PredictedGroup } from './engine.js';
export { parseAcsParams, parseOverride, type AcsOverride, type AcsParams } from './params.js';
export { ACS_QUIRKS, INTEL_PCH_ROOT_PORTS } from './acs-quirks.js';
export { DMA_ALIAS_QUIRKS } from './dma-alias-quirks.js';

/**
 * Virtual Functions the PFs' SR-IOV capabilities place (First VF Offset + n × VF Stride from the
 * PF's routing ID, SR-IOV §9.3.3.9–10): an lspci paste does not mark VFs, and the kernel treats a
 * VF as single-function whatever its function number.
 */
export function virtualFunctions(devices: readonly Device[]): Set<string> {
  const out = new Set<string>();
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  for (const pf of devices) {
    const s = pf.config.sriov;
    if (!s || s.numVfs === 0 || s.vfStride === 0) continue;
    const rid = (pf.pci.bus << 8) | (pf.pci.device << 3) | pf.pci.function;
    for (let n = 0; n < s.numVfs; n++) {
      const v = rid + s.vfOffset + n * s.vfStride;
      if (v > 0xffff) break;
      const a = makeAddress(pf.pci.segment, v >> 8, (v >> 3) & 0x1f, v & 0x7);
      const vf = byAddress.get(a);
      // A raw VF config dump reads Vendor/Device ID as FFFFh; lspci and sysfs show the VF Device ID.
      if (vf && (vf.config.deviceId === s.vfDeviceId || vf.config.deviceId === 0xffff)) out.add(a);
    }
  }
  return out;
}

/** One function as the engine sees it. */
export function groupingDevice(d: Device, vfs?: Set<string>): GroupingDevice {
  const c = d.config;
  return {
    address: d.address,
    pci: d.pci,
    vendor: c.vendorId,
    device: c.deviceId,
    subsystem: [c.subsystemVendorId, c.subsystemId],
    classCode: c.classCode,
    pcieType: c.pcie === undefined ? undefined : c.pcie === null ? null : c.pcie.portType,
    multifunctionBit: c.multifunction,
    isVf: d.isVirtualFunction ?? vfs?.has(d.address) ?? false,
    acs: c.acs === undefined ? undefined : c.acs === null ? null : { capability: c.acs.capabilityRaw, control: c.acs.controlRaw },
    isBridge: d.isBridge,
    parent: d.parent,
    lpcRcba: c.lpcRcba,
  };
}

/** Every function of the host as the engine sees it, VFs recognised (read afresh: O(n)). */
export function groupingInputs(devices: readonly Device[]): GroupingDevice[] {
  const vfs = virtualFunctions(devices);
  return devices.map((d) => groupingDevice(d, vfs));
}

/** Does this kernel carry the out-of-tree pcie_acs_override patch? */
export function overridePatchOf(host: Pick<Host, 'kernel'>): 'yes' | 'no' | 'unknown' {
  const k = host.kernel;
  if (!k) return 'unknown';
  if (k.pve || /zen|liquorix/i.test(k.release)) return 'yes';
  // Other enthusiast kernels (xanmod, …) may carry it too.
  if (/xanmod|cachyos|tkg/i.test(k.release)) return 'unknown';
  return 'no';
}

/** The groups the kernel would form on this host with the IOMMU on (optionally with other ACS parameters). */
export function predictGroups(host: Pick<Host, 'devices' | 'kernel' | 'ivrs' | 'dmar' | 'cmdline' | 'byAddress'>, params?: AcsParams): Grouping {
  const coverage = iommuCoverage(host);
  return formGroups(groupingInputs(host.devices), {
    covered: (a) => coverage(host.byAddress.get(a)!),
    kernel: host.kernel,
    params: params ?? parseAcsParams(host.cmdline),
    ivrs: host.ivrs,
    overridePatch: overridePatchOf(host),
  });
}
