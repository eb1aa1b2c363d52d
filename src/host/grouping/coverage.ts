/**
 * Which functions an IOMMU will probe at all (iommu-groups §1.2): a function no IOMMU unit covers
 * gets no group. Intel: a DRHD with INCLUDE_PCI_ALL covers its segment, others cover their device
 * scopes (a bridge scope covers everything below it); a DRHD of display devices only is ignored with
 * intel_iommu=igfx_off. AMD: the IVHD device entries of the IVHD type the kernel reads (check_device).
 */
import type { Dmar, Drhd } from '../../firmware/acpi/dmar.js';
import type { Ivrs } from '../../firmware/acpi/ivrs.js';
import { resolveScope, type ScopeNode } from '../attribution.js';
import type { Device } from '../model.js';

/** IVHD device entry types (AMD IOMMU specification, IVHD device entries). */
const IVHD_ALL = 0x01;
const IVHD_SELECT = 0x02;
const IVHD_RANGE_START = 0x03;
const IVHD_RANGE_END = 0x04;
const IVHD_ALIAS_SELECT = 0x42;
const IVHD_ALIAS_RANGE = 0x43;
const IVHD_EXT_SELECT = 0x46;
const IVHD_EXT_RANGE = 0x47;
const IVHD_SPECIAL = 0x48;
/** Base class 03: display controllers (the igfx DRHD). */
const DISPLAY_BASE_CLASS = 0x03;

export type Coverage = (d: Device) => boolean | undefined;

const rid = (d: Device) => (d.pci.bus << 8) | (d.pci.device << 3) | d.pci.function;

/** Requester IDs an AMD IOMMU translates for, per segment. */
function ivrsCoverage(ivrs: Ivrs): Map<number, { all: boolean; ids: Set<number> }> {
  const out = new Map<number, { all: boolean; ids: Set<number> }>();
  const ivhds = ivrs.blocks.filter((b) => b.kind === 'IVHD');
  const top = Math.max(...ivhds.map((b) => b.type), 0);
  for (const b of ivhds) {
    if (b.type !== top) continue;
    if (!out.has(b.segment)) out.set(b.segment, { all: false, ids: new Set() });
    const seg = out.get(b.segment)!;
    let start: number | null = null;
    for (const e of b.entries) {
      if (e.type === IVHD_ALL) seg.all = true;
      else if (e.type === IVHD_SELECT || e.type === IVHD_ALIAS_SELECT || e.type === IVHD_EXT_SELECT || e.type === IVHD_SPECIAL) seg.ids.add(e.deviceId);
      else if (e.type === IVHD_RANGE_START || e.type === IVHD_ALIAS_RANGE || e.type === IVHD_EXT_RANGE) start = e.deviceId;
      else if (e.type === IVHD_RANGE_END && start !== null) {
        for (let id = start; id <= e.deviceId; id++) seg.ids.add(id);
        start = null;
      }
    }
  }
  return out;
}

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
    const cov = ivrsCoverage(host.ivrs);
    return (d) => {
      const seg = cov.get(d.pci.segment);
      return seg ? seg.all || seg.ids.has(rid(d)) : false;
    };
  }
  if (host.dmar) {
    const covered = dmarCoverage(host.dmar, host.devices, host.cmdline);
    return (d) => covered.has(d.address);
  }
  return () => undefined;
}
