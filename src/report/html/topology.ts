/**
 * The topology picture: the PCI tree from the root buses down, one row per function, with the
 * IOMMU groups drawn as boxes around their members (the kernel's when the input has them, else
 * the predicted ones, drawn dashed), RMRR/IVMD and slot marks, and a verdict square whose colour
 * follows the target chosen in the page (CSS on data-* attributes, so it works without script).
 */
import { TARGETS, type FindingCode } from '../../checks/finding.js';
import type { DeviceReport, Survey } from '../../checks/index.js';
import type { Device } from '../../host/model.js';
import { slotsView } from '../slots.js';
import { cut, deviceId, esc } from './escape.js';

const ROW = 24;
const INDENT = 20;
const LEFT = 12;
const WIDTH = 1180;
const NAME_CHARS = 64;

/** Findings that mean the host itself needs the function. */
export const HOST_CRITICAL: ReadonlySet<FindingCode> = new Set<FindingCode>(['MANAGEMENT_CONTROLLER', 'HOST_BOOT_DISK', 'HOST_CONSOLE', 'HOST_NETWORK']);

export interface Row {
  report: DeviceReport;
  depth: number;
}

/** Depth-first from the functions on root buses; functions whose parent is unknown follow at depth 0. */
export function treeRows(sv: Survey): Row[] {
  const byAddress = new Map(sv.devices.map((r) => [r.device.address, r]));
  const rows: Row[] = [];
  const seen = new Set<string>();
  const walk = (r: DeviceReport, depth: number) => {
    if (seen.has(r.device.address)) return;
    seen.add(r.device.address);
    rows.push({ report: r, depth });
    for (const c of [...r.device.children].sort()) {
      const child = byAddress.get(c);
      if (child) walk(child, depth + 1);
    }
  };
  for (const r of sv.devices) if (r.device.parent === null) walk(r, 0);
  for (const r of sv.devices) if (!seen.has(r.device.address) && !(r.device.parent && byAddress.has(r.device.parent))) walk(r, 0);
  for (const r of sv.devices) walk(r, 0);
  return rows;
}

/** The group a function is drawn in: the kernel's number, or the predicted label; null for none/unknown. */
export function groupKey(d: Device, sv: Survey): { key: string; label: string; kind: 'kernel' | 'predicted' | 'uncertain' } | null {
  if (sv.host.groups) return typeof d.iommuGroup === 'number' ? { key: `k${d.iommuGroup}`, label: `group ${d.iommuGroup}`, kind: 'kernel' } : null;
  const p = sv.host.predicted.byDevice.get(d.address);
  if (!p) return null;
  const short = p.group.label.startsWith('0000:') ? p.group.label.slice(5) : p.group.label;
  return { key: `p${p.group.label}`, label: `predicted ${short}${p.group.certain ? '' : ' (uncertain)'}`, kind: p.group.certain ? 'predicted' : 'uncertain' };
}

/** data-vfio="blocked" … for the CSS that colours by the chosen target; bridges are never candidates. */
export function verdictAttrs(r: DeviceReport): string {
  const bridge = r.device.isBridge || r.device.isHostBridge;
  return TARGETS.map((t) => `data-${t}="${bridge ? 'bridge' : r.verdicts[t].status}"`).join(' ');
}

function slotText(d: Device): string {
  if (!d.slot) return '';
  if (d.slot.embedded) return `embedded${d.slot.designation ? ` (${cut(d.slot.designation, 24)})` : ''}`;
  const parts = [`slot ${d.slot.physical ?? '?'}`];
  if (d.slot.designation) parts.push(cut(d.slot.designation, 24));
  if (d.slot.hpeRmrdsSlot) parts.push(d.slot.hpeRmrdsSlot);
  return parts.join(' · ');
}

export function renderTopology(sv: Survey): string {
  const rows = treeRows(sv);
  // Empty slots are marked on the port whose secondary bus SMBIOS names: where a card would go.
  const emptyAt = new Map<string, string[]>();
  for (const s of slotsView(sv.host).slots) {
    if (s.functions.length > 0 || !s.port) continue;
    const what = `slot ${s.physical ?? '?'}${s.designation ? ` · ${cut(s.designation, 24)}` : ''}${s.hpeRmrdsSlot ? ` · ${s.hpeRmrdsSlot}` : ''}: empty`;
    emptyAt.set(s.port, [...(emptyAt.get(s.port) ?? []), what]);
  }
  const index = new Map(rows.map((r, i) => [r.report.device.address, i]));
  const height = rows.length * ROW + 16;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="topology" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" aria-labelledby="topo-title">`);
  out.push(`<title id="topo-title">PCI tree with IOMMU groups (${sv.host.groups ? "the kernel's" : 'predicted'}), ${rows.length} functions</title>`);

  // Group boxes behind the rows: one box per run of consecutive rows in the same group.
  interface Box { key: string; label: string; kind: string; first: number; last: number; depth: number }
  const boxes: Box[] = [];
  let run: Box | null = null;
  for (const [i, r] of rows.entries()) {
    const g = groupKey(r.report.device, sv);
    if (run !== null && g && run.key === g.key && run.last === i - 1) {
      run.last = i;
      run.depth = Math.min(run.depth, r.depth);
      continue;
    }
    if (run !== null) boxes.push(run);
    run = g ? { ...g, first: i, last: i, depth: r.depth } : null;
  }
  if (run !== null) boxes.push(run);
  for (const b of boxes) {
    const x = LEFT + b.depth * INDENT - 6;
    const y = 8 + b.first * ROW;
    out.push(`<g class="grp grp-${b.kind}"><rect x="${x}" y="${y + 1}" width="${WIDTH - x - 6}" height="${(b.last - b.first + 1) * ROW - 2}" rx="4"/><text x="${WIDTH - 12}" y="${y + 16}" text-anchor="end">${esc(b.label)}</text></g>`);
  }

  // Tree lines: from the parent's square down, then across to the child.
  for (const [i, r] of rows.entries()) {
    const p = r.report.device.parent ? index.get(r.report.device.parent) : undefined;
    if (p === undefined) continue;
    const px = LEFT + rows[p]!.depth * INDENT + 5;
    const y = 8 + i * ROW + ROW / 2;
    out.push(`<path class="edge" d="M${px} ${8 + p * ROW + ROW / 2 + 6}V${y}H${LEFT + r.depth * INDENT}"/>`);
  }

  for (const [i, r] of rows.entries()) {
    const d = r.report.device;
    const x = LEFT + r.depth * INDENT;
    const y = 8 + i * ROW;
    const codes = new Set(r.report.findings.map((f) => f.code));
    const marks: string[] = [];
    if (d.rmrr?.length) marks.push('<tspan class="mk mk-rmrr">RMRR</tspan>');
    if (d.ivmd.length) marks.push('<tspan class="mk mk-ivmd">IVMD</tspan>');
    if ([...HOST_CRITICAL].some((c) => codes.has(c))) marks.push('<tspan class="mk mk-host">host-critical</tspan>');
    const slot = slotText(d);
    if (slot) marks.push(`<tspan class="mk mk-slot">${esc(slot)}</tspan>`);
    for (const e of emptyAt.get(d.address) ?? []) marks.push(`<tspan class="mk mk-slot mk-empty">${esc(e)}</tspan>`);
    const tip = TARGETS.map((t) => `${t} ${d.isBridge || d.isHostBridge ? 'bridge' : r.report.verdicts[t].status}${r.report.verdicts[t].reasons.length ? ` (${r.report.verdicts[t].reasons.join(', ')})` : ''}`).join('; ');
    out.push(
      `<a href="#${deviceId(d.address)}" class="node" ${verdictAttrs(r.report)}><title>${esc(`${d.address} ${d.name}: ${tip}`)}</title>` +
        `<rect class="vc" x="${x}" y="${y + 6}" width="11" height="11" rx="2"/>` +
        `<text x="${x + 16}" y="${y + 16}"><tspan class="addr">${esc(d.address)}</tspan> <tspan>${esc(cut(d.name, NAME_CHARS))}</tspan>${marks.length ? ' ' + marks.join(' ') : ''}</text></a>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
