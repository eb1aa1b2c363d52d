/**
 * Which functions an IOMMU will probe at all (iommu-groups §1.2): a function no IOMMU unit covers
 * gets no group. Intel: a DRHD with INCLUDE_PCI_ALL covers its segment, others cover their device
 * scopes (a bridge scope covers everything below it); a DRHD of display devices only is ignored with
 * intel_iommu=igfx_off. AMD: the IVHD device entries of the IVHD type the kernel reads (check_device).
 */
import type { Dmar, Drhd } from '../../firmware/acpi/dmar.js';
import type { Ivrs } from '../../firmware/acpi/ivrs.js';
import { ivhdDevices } from './ivhd.js';
import { resolveScope, type ScopeNode } from '../attribution.js';
import type { Device } from '../model.js';

/** Base class 03: display controllers (the igfx DRHD). */
const DISPLAY_BASE_CLASS = 0x03;

export type Coverage = (d: Device) => boolean | undefined;

const rid = (d: Device) => (d.pci.bus << 8) | (d.pci.device << 3) | d.pci.function;

function dmarCoverage(dmar: Dmar, devices: Device[], cmdline: string | undefined): Set<string> {
  const nodes = new Map<string, ScopeNode>(devices.map((d) => [d.address, { address: d.address, segment: d.pci.segment, bus: d.pci.bus, device: d.pci.device, function: d.pci.function, bridge: d.config.bridge }]));
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const igfxOff = /(?:^|\s)intel_iommu=(?:[^\s]*,)?igfx_off\b/.test(cmdline ?? '');
  const covered = new Set<string>();
  const allSegments = new Set<number>();
  for (const s of dmar.structures) {
    if (s.type !== 'DRHD') continue;
    const drhd = s as Drhd;
    if (drhd.includePciAll) {
      allSegments.add(drhd.segment);
      continue;
    }
    const names = drhd.scopes.filter((sc) => sc.type === 1 || sc.type === 2).flatMap((sc) => resolveScope(sc, drhd.segment, nodes).covered);
    const present = names.filter((a) => byAddress.has(a));
    if (igfxOff && present.length > 0 && present.every((a) => byAddress.get(a)!.classCode >> 16 === DISPLAY_BASE_CLASS)) continue;
    for (const a of present) covered.add(a);
  }
  for (const d of devices) if (allSegments.has(d.pci.segment)) covered.add(d.address);
  return covered;
}

/** undefined from the returned function: unknown (no table read). */
export function iommuCoverage(host: { devices: Device[]; dmar: Dmar | null | undefined; ivrs: Ivrs | null | undefined; cmdline: string | undefined }): Coverage {
  if (host.ivrs) {
    const cov = ivhdDevices(host.ivrs);
    return (d) => cov.allSegments.has(d.pci.segment) || cov.devices.has(`${d.pci.segment}:${rid(d)}`);
  }
  if (host.dmar) {
    const covered = dmarCoverage(host.dmar, host.devices, host.cmdline);
    return (d) => covered.has(d.address);
  }
  return () => undefined;
}
