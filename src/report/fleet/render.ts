/** The fleet summary as text, Prometheus textfile-collector metrics and a small HTML page. */
import { TARGETS } from '../../checks/finding.js';
import { printable } from '../format.js';
import type { FleetSummary } from './summary.js';

type HostRow = FleetSummary['hosts'][number];

const yesNo = (v: boolean | null, yes: string, no: string, unknown: string) => (v === true ? yes : v === false ? no : unknown);

export function modelText(h: Pick<HostRow, 'model'>): string {
  if (!h.model) return 'unknown';
  return `${h.model.manufacturer ?? ''} ${h.model.product ?? ''}`.trim() || 'unknown';
}

export function biosText(h: Pick<HostRow, 'bios'>): string {
  if (!h.bios) return 'unknown';
  return [h.bios.version, h.bios.date].filter((x) => x !== null).join(' ') || 'unknown';
}

export function iommuText(h: Pick<HostRow, 'iommu'>): string {
  const i = h.iommu;
  if (i.firmware === 'unknown') return 'tables not captured';
  if (i.firmware === 'absent' || i.vendor === null) return 'none in firmware';
  return `${i.vendor === 'intel' ? 'VT-d' : 'AMD-Vi'} ${yesNo(i.kernelEnabled, 'on', 'OFF', 'kernel ?')}`;
}

const pad = (s: string, w: number) => (s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w));
const list = (xs: string[], max = 8) => (xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', '));

export function renderFleetText(s: FleetSummary): string {
  const t = s.target;
  const out: string[] = [];
  out.push(`${s.inputs.hosts} host(s) summarised${s.inputs.failed ? `, ${s.inputs.failed} input(s) could not be read (listed at the end)` : ''}; verdicts for ${t}.`);
  out.push('');
  const w = Math.min(40, Math.max(4, ...s.hosts.map((h) => h.id.length)));
  out.push(`${pad('HOST', w)} ${pad('MODEL', 28)} ${pad('BIOS', 20)} ${pad('IOMMU', 20)} ${'OK'.padStart(4)} ${'WARN'.padStart(4)} ${'BLKD'.padStart(4)}  BLOCKERS`);
  for (const h of s.hosts) {
    const c = h.counts[t];
    const codes = [...new Set([...h.blockers.host, ...h.blockers.devices.flatMap((d) => d.reasons)])];
    out.push(`${pad(printable(h.id), w)} ${pad(printable(modelText(h)), 28)} ${pad(printable(biosText(h)), 20)} ${pad(iommuText(h), 20)} ${String(c.assignable).padStart(4)} ${String(c.warnings).padStart(4)} ${String(c.blocked).padStart(4)}  ${codes.join(', ') || '-'}`);
  }
  if (s.models.length) {
    out.push('');
    out.push(`Device models across hosts (${t}):`);
    for (const m of s.models) {
      const c = m.counts[t];
      const parts = (['assignable', 'warnings', 'blocked'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k === 'warnings' ? 'with warnings' : k}`);
      const reasons = Object.entries(m.reasons).map(([k, n]) => `${k}×${n}`).join(', ');
      out.push(`  ${m.ids} ${pad(printable(m.name ?? '-'), 40)} ${m.devices} on ${m.hosts} host(s): ${parts.join(', ')}${reasons ? ` (${reasons})` : ''}${m.differs ? '  ← differs between hosts' : ''}`);
    }
  }
  const rm = s.firmwareSettings.rmrds;
  out.push('');
  if (rm.hostsWithSave === 0) out.push('RMRDS settings: no capture holds a conrep save.');
  else {
    const differing = rm.slots.filter((x) => x.differs);
    out.push(`RMRDS settings (conrep saves of ${rm.hostsWithSave} host(s)${rm.hostsWithout ? `; ${rm.hostsWithout} without one` : ''}): ${differing.length ? `${differing.length} differ` : 'the same everywhere'}`);
    for (const x of differing) {
      const vals = Object.entries(x.values).map(([v, hs]) => `${v} on ${list(hs)}`);
      if (x.missing.length) vals.push(`absent on ${list(x.missing)}`);
      out.push(`  ${x.setting}: ${vals.join('; ')}`);
    }
  }
  if (s.query) {
    const q = s.query;
    const what = [q.device !== null ? `--device ${q.device}` : '', q.slot !== null ? `--slot ${q.slot}` : ''].filter(Boolean).join(' ');
    out.push('');
    out.push(`${what}: assignable (${t}) on ${new Set(q.assignable.map((x) => x.host)).size} host(s), blocked on ${new Set(q.notAssignable.map((x) => x.host)).size}, absent on ${q.absent.length}.`);
    for (const x of q.assignable) out.push(`  yes  ${printable(x.host)}  ${x.address}  ${printable(x.name ?? '-')}${x.status === 'warnings' ? ' (with warnings)' : ''}`);
    for (const x of q.notAssignable) out.push(`  no   ${printable(x.host)}  ${x.address}  ${printable(x.name ?? '-')}: ${x.reasons.join(', ')}`);
    if (q.absent.length) out.push(`  none on ${list(q.absent.map(printable))}`);
  }
  if (s.errors.length) {
    out.push('');
    out.push('Inputs that could not be read:');
    for (const e of s.errors) out.push(`  ${printable(e.input)}: ${printable(e.message)}`);
  }
  return out.join('\n') + '\n';
}

/** Prometheus exposition format: label values escape backslash, double quote and newline. */
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderFleetProm(s: FleetSummary): string {
  const out: string[] = [];
  const metric = (name: string, help: string, type: 'gauge', rows: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${label(x)}"`).join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
  };
  metric('assignable_fleet_hosts', 'Hosts summarised by assignable fleet.', 'gauge', [[{}, s.inputs.hosts]]);
  metric('assignable_fleet_input_errors', 'Inputs assignable fleet could not read.', 'gauge', [[{}, s.inputs.failed]]);
  metric('assignable_host_info', 'One per host: model, BIOS and kernel as read ("unknown" when the input lacks them).', 'gauge',
    s.hosts.map((h) => [{ host: h.id, model: modelText(h), bios: biosText(h), kernel: h.kernel ?? 'unknown', source: h.kind }, 1]));
  // Unknown is not 0: a host whose kernel state was not captured has no sample.
  metric('assignable_host_iommu_enabled', 'Whether the kernel enabled the IOMMU (1 yes, 0 no); absent when not known.', 'gauge',
    s.hosts.filter((h) => h.iommu.kernelEnabled !== null).map((h) => [{ host: h.id, vendor: h.iommu.vendor ?? 'none' }, h.iommu.kernelEnabled ? 1 : 0]));
  metric('assignable_host_devices', 'Devices a survey shows (bridges and chipset internals aside) by verdict and target.', 'gauge',
    s.hosts.flatMap((h) => TARGETS.flatMap((t) => (['assignable', 'warnings', 'blocked'] as const).map((v) => [{ host: h.id, target: t, verdict: v }, h.counts[t][v]] as [Record<string, string>, number]))));
  metric('assignable_host_blockers', `Host-wide findings that block ${s.target}.`, 'gauge',
    s.hosts.map((h) => [{ host: h.id, target: s.target }, h.blockers.host.length]));
  return out.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One page, no script, no external request: the host table, the models, the RMRDS differences. */
export function renderFleetHtml(s: FleetSummary): string {
  const t = s.target;
  const rows = s.hosts.map((h) => {
    const c = h.counts[t];
    const codes = [...new Set([...h.blockers.host, ...h.blockers.devices.flatMap((d) => d.reasons)])];
    return `<tr><th scope="row">${esc(h.id)}</th><td>${esc(modelText(h))}</td><td>${esc(biosText(h))}</td><td>${esc(iommuText(h))}</td><td class="n">${c.assignable}</td><td class="n">${c.warnings}</td><td class="n b">${c.blocked}</td><td>${esc(codes.join(', ') || '-')}</td></tr>`;
  });
  const models = s.models.map((m) => {
    const c = m.counts[t];
    return `<tr${m.differs ? ' class="d"' : ''}><td><code>${m.ids}</code></td><td>${esc(m.name ?? '-')}</td><td class="n">${m.hosts}</td><td class="n">${c.assignable}</td><td class="n">${c.warnings}</td><td class="n b">${c.blocked}</td><td>${esc(Object.keys(m.reasons).join(', '))}</td></tr>`;
  });
  const rm = s.firmwareSettings.rmrds.slots.filter((x) => x.differs).map((x) => `<li><code>${esc(x.setting)}</code>: ${Object.entries(x.values).map(([v, hs]) => `${esc(v)} on ${esc(hs.join(', '))}`).join('; ')}${x.missing.length ? `; absent on ${esc(x.missing.join(', '))}` : ''}</li>`);
  const errs = s.errors.map((e) => `<li><code>${esc(e.input)}</code>: ${esc(e.message)}</li>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>assignable fleet — ${s.inputs.hosts} hosts</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#111}table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #bbb;padding:.2em .5em;text-align:left}td.n{text-align:right}td.b{color:#a00}tr.d{background:#fff4d6}caption{text-align:left;font-weight:bold}</style></head>
<body><h1>assignable fleet</h1>
<p>${s.inputs.hosts} host(s) summarised${s.inputs.failed ? `, ${s.inputs.failed} input(s) could not be read` : ''}; verdicts for <strong>${t}</strong>.</p>
<table><caption>Hosts</caption><thead><tr><th>Host</th><th>Model</th><th>BIOS</th><th>IOMMU</th><th>Assignable</th><th>Warnings</th><th>Blocked</th><th>Blockers</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<table><caption>Device models across hosts (highlighted: the verdict differs between hosts)</caption><thead><tr><th>Ids</th><th>Name</th><th>Hosts</th><th>Assignable</th><th>Warnings</th><th>Blocked</th><th>Reasons</th></tr></thead><tbody>
${models.join('\n')}
</tbody></table>
<h2>RMRDS settings that differ</h2>
${s.firmwareSettings.rmrds.hostsWithSave === 0 ? '<p>No capture holds a conrep save.</p>' : rm.length ? `<ul>${rm.join('')}</ul>` : `<p>The same on all ${s.firmwareSettings.rmrds.hostsWithSave} hosts with a conrep save.</p>`}
${errs.length ? `<h2>Inputs that could not be read</h2><ul>${errs.join('')}</ul>` : ''}
</body></html>
`;
}
