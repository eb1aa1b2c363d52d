/** IOMMU groups for people: `survey --groups` (one block per group) and the grouping part of `explain`. */
import type { DeviceReport, Survey } from '../checks/index.js';
import type { Target } from '../checks/finding.js';
import type { Device, Host } from '../host/model.js';
import { printable } from './format.js';

const PORT_KIND: Record<number, string> = { 0x0: 'Endpoint', 0x1: 'Legacy Endpoint', 0x4: 'Root Port', 0x5: 'Upstream Port', 0x6: 'Downstream Port', 0x7: 'PCIe-to-PCI bridge', 0x8: 'PCI-to-PCIe bridge', 0x9: 'RC integrated Endpoint', 0xa: 'RC Event Collector' };

function kindOf(d: Device): string {
  const p = d.config.pcie;
  if (p === undefined) return 'capabilities unknown';
  if (p === null) return d.isBridge ? 'PCI bridge' : 'conventional PCI';
  return PORT_KIND[p.portType] ?? `PCIe type ${p.portType}`;
}

/** One block per group: the kernel's groups when the capture has them, else the predicted ones. */
export function renderGroups(sv: Survey, target: Target): string {
  const host = sv.host;
  const byAddress = new Map(sv.devices.map((r) => [r.device.address, r]));
  const out: string[] = [];
  const line = (a: string) => {
    const r = byAddress.get(a);
    if (!r) return `    ${a}  (not in the capture)`;
    const v = r.verdicts[target];
    return `    ${a}  ${printable(r.device.name)} [${r.device.className}]  ${target} ${v.status}${v.reasons.length ? ` (${v.reasons.join(', ')})` : ''}`;
  };
  if (host.groups) {
    out.push(`IOMMU groups as the kernel made them (${host.groups.size}):`);
    for (const [id, g] of [...host.groups].sort((a, b) => a[0] - b[0])) {
      out.push(`  IOMMU group ${id}`);
      for (const a of [...g.devices].sort()) out.push(line(a));
    }
  } else {
    const g = host.predicted;
    out.push(`IOMMU groups PREDICTED from config space as Linux forms them (${g.groups.length}; the capture has no group data${host.kernel ? `; kernel ${host.kernel.release}` : '; kernel unknown, Linux 6.12 assumed'}):`);
    for (const x of [...g.groups].sort((a, b) => (a.label < b.label ? -1 : 1))) {
      out.push(`  predicted group ${x.label}${x.certain ? '' : ' — uncertain'}`);
      for (const a of x.members) out.push(line(a));
      for (const u of x.uncertain) out.push(`      unknown: ${u}`);
    }
    if (g.uncovered.length) out.push(`  no group (no IOMMU unit covers them): ${g.uncovered.join(' ')}`);
    if (g.coverageUnknown) out.push('  (the DMAR/IVRS was not read: every function is assumed covered by an IOMMU)');
  }
  return out.join('\n') + '\n';
}

/** The grouping of one device, hop by hop, with the kernel's reason at each. */
export function explainGrouping(r: DeviceReport, host: Host): string[] {
  const d = r.device;
  const p = host.predicted;
  const out: string[] = [];
  const dg = p.byDevice.get(d.address);
  const kernelNote = d.iommuGroup !== undefined ? (d.iommuGroup === null ? 'the kernel gave it no group' : `the kernel's group: ${d.iommuGroup}`) : 'the capture has no group data';
  out.push(`  IOMMU grouping, as Linux forms it (${kernelNote}):`);
  if (!dg) {
    out.push(p.uncovered.includes(d.address) ? '    no IOMMU unit covers it (DMAR DRHD scopes / IVRS device entries): no group' : '    not predicted');
    return out;
  }
  out.push(`    itself (${kindOf(d)}): ${dg.acs.isolated ? 'isolated' : 'not isolated'} — ${dg.acs.reason}${dg.acs.quirk ? ` [${dg.acs.quirk.name}, ${dg.acs.quirk.arrival}]` : ''}`);
  const walked = new Map(dg.hops.map((h) => [h.address, h]));
  const seen = new Set<string>();
  for (let cur = d.parent; cur && !seen.has(cur); cur = host.byAddress.get(cur)?.parent) {
    seen.add(cur);
    const b = host.byAddress.get(cur);
    const a = p.acsOf(cur);
    if (!b || !a) break;
    const h = walked.get(cur);
    const role = h?.role === 'alias-bridge' ? 'DMA alias' : h ? 'walked' : 'above';
    out.push(`    ${role.padEnd(9)} ${b.address} (${kindOf(b)}): ${a.isolated ? 'isolates' : 'does not isolate'} — ${a.reason}${a.missing.length ? `; missing ${a.missing.join(' ')}` : ''}${a.quirk ? ` [${a.quirk.name}, ${a.quirk.arrival}]` : ''}${a.certain ? '' : ' (uncertain)'}`);
    if (h?.role === 'alias-bridge') out.push(`              ${h.note}`);
  }
  const others = dg.group.members.filter((m) => m !== d.address);
  out.push(`    → ${dg.group.certain ? 'predicted' : 'predicted (uncertain)'} group ${dg.group.label}: ${others.length ? `with ${others.join(' ')}` : 'alone'}${dg.isolationPoint !== d.address ? ` (taken at ${dg.isolationPoint})` : ''}`);
  for (const u of dg.group.uncertain) out.push(`      unknown: ${u}`);
  return out;
}
