/**
 * What the running (or captured) kernel does about RMRRs and IOMMUs, by version:
 *  - 3.17: devices named by an RMRR may not be attached to VFIO (USB exempt);
 *  - 5.3: USB (class 0c03) and display (base class 03) RMRRs become "relaxable";
 *  - 6.6: the rule moves into the IOMMU core (IOMMU_RESV_DIRECT), with a new message, and
 *    also covers AMD IVMD unity ranges;
 *  - Proxmox VE kernels from 6.2.16-13-pve accept intel_iommu=relax_rmrr.
 */
import type { KernelFacts } from './model.js';

export function parseKernelRelease(release: string): KernelFacts | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) return undefined;
  const pve = /^\d+\.\d+\.\d+-(\d+)-pve\b/.exec(release.trim());
  return { release: release.trim(), major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), pve: pve ? { abi: Number(pve[1]) } : null };
}

export function atLeast(k: KernelFacts, major: number, minor: number, patch = 0): boolean {
  if (k.major !== major) return k.major > major;
  if (k.minor !== minor) return k.minor > minor;
  return k.patch >= patch;
}

/** Does this kernel enforce RMRRs against device assignment at all (3.17+)? */
export function enforcesRmrr(k: KernelFacts): boolean {
  return atLeast(k, 3, 17);
}

/** The kernel's relaxable rule (device_rmrr_is_relaxable): USB always since 3.17, display from 5.3. */
export function rmrrRelaxable(k: KernelFacts, classCode: number): boolean {
  const baseSub = classCode >> 8;
  if (baseSub === 0x0c03) return true;
  return atLeast(k, 5, 3) && classCode >> 16 === 0x03;
}

/** What this kernel will print when VFIO attach fails for an RMRR device. */
export function rmrrMessage(k: KernelFacts): string {
  return atLeast(k, 6, 6)
    ? 'Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.'
    : 'Device is ineligible for IOMMU domain attach due to platform RMRR requirement.  Contact your platform vendor.';
}

/** intel_iommu=relax_rmrr exists in Proxmox VE kernels from 6.2.16-13-pve (and any later pve series). */
export function hasRelaxRmrr(k: KernelFacts): boolean {
  if (!k.pve) return false;
  if (k.major !== 6 || k.minor !== 2) return atLeast(k, 6, 2);
  return k.patch > 16 || (k.patch === 16 && k.pve.abi >= 13);
}

export interface Cmdline {
  raw: string;
  params: Map<string, string | null>;
}

export function parseCmdline(raw: string): Cmdline {
  const params = new Map<string, string | null>();
  // Arguments after "--" belong to init, not the kernel.
  for (const tok of raw.split(' -- ')[0]!.trim().split(/\s+/)) {
    if (!tok) continue;
    const eq = tok.indexOf('=');
    if (eq < 0) params.set(tok, null);
    else params.set(tok.slice(0, eq), tok.slice(eq + 1).replace(/^"|"$/g, ''));
  }
  return { raw, params };
}

/** Sub-options of intel_iommu= ("on,relax_rmrr" → ["on", "relax_rmrr"]). */
export function intelIommuOptions(c: Cmdline): string[] {
  const v = c.params.get('intel_iommu');
  return v ? v.split(',') : [];
}
