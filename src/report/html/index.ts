/**
 * `survey --format html`: one self-contained page a person would rather look at than read —
 * the host and what the input lacked, verdict counts per target, the PCI tree with its IOMMU
 * groups, each device's findings and fix ladder, the survey JSON for reuse, and the forum text.
 * Pure: Survey in, a string out. Nothing is fetched: style and script are inline, the picture
 * is SVG, and a Content-Security-Policy forbids any request the page might still try.
 */
import { createHash } from 'node:crypto';
import { effectOf, confidenceOf, TARGETS, type Effect, type Finding, type Target } from '../../checks/finding.js';
import type { DeviceReport, Survey } from '../../checks/index.js';
import type { Host } from '../../host/model.js';
import { toJson } from '../json.js';
import { renderMarkdown } from '../markdown.js';
import { hostLine, surveyJson, SURVEY_SCHEMA } from '../survey.js';
import { deviceId, esc, escLines, scriptJson } from './escape.js';
import { CSS, SCRIPT } from './style.js';
import { groupKey, HOST_CRITICAL, renderTopology, verdictAttrs } from './topology.js';

const EFFECT_WORD: Record<Effect, string> = { block: 'blocks', warn: 'warns', info: 'info', none: 'none' };

/** What each firmware table or kernel fact was: read, absent from the firmware, or not in the input. */
function inputs(host: Host): Array<[string, string]> {
  const table = (v: unknown, what: string) => (v ? 'read' : v === null ? `absent (the firmware has no ${what})` : 'not in the input: unknown');
  const bytes = host.devices.filter((d) => d.configSource === 'bytes').length;
  return [
    ['Source', host.origin.kind === 'live' ? 'this host' : host.origin.description],
    ['PCI functions', `${host.devices.length} (${bytes} from config-space bytes, ${host.devices.length - bytes} from lspci text)`],
    ['DMAR (Intel VT-d)', table(host.dmar, 'DMAR')],
    ['IVRS (AMD-Vi)', table(host.ivrs, 'IVRS')],
    ['SMBIOS', table(host.smbios, 'SMBIOS')],
    ['IOMMU groups', host.groups ? `the kernel's (${host.groups.size})` : `not in the input: predicted from config space (${host.predicted.groups.length})`],
    ['Kernel', host.kernel ? host.kernel.release : 'not in the input: unknown'],
    ['Command line', host.cmdline ?? 'not in the input: unknown'],
  ];
}

function countsTable(sv: Survey): string {
  const shown = sv.devices.filter((r) => !r.hidden);
  const rows = TARGETS.map((t) => {
    const c = { assignable: 0, warnings: 0, blocked: 0 };
    for (const r of shown) c[r.verdicts[t].status]++;
    return `<tr><th scope="row" class="col-${t}">${t}</th><td>${c.assignable}</td><td>${c.warnings}</td><td>${c.blocked}</td></tr>`;
  });
  return `<table class="counts"><caption class="muted">${shown.length} device(s); bridges and chipset functions (${sv.devices.length - shown.length}) not counted</caption><thead><tr><th scope="col">target</th><th scope="col">assignable</th><th scope="col">warnings</th><th scope="col">blocked</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function findingHtml(f: Finding, target: Target): string {
  const effects = TARGETS.map((t) => `<span class="col-${t} st-${effectOf(f.code, t) === 'block' ? 'blocked' : effectOf(f.code, t) === 'warn' ? 'warnings' : 'assignable'}">${t} ${EFFECT_WORD[effectOf(f.code, t)]}${confidenceOf(f.code, t) === 'believed' ? ' (believed)' : ''}</span>`).join(' · ');
  const out = [`<li class="finding eff-${effectOf(f.code, target)}"><span class="code">${esc(f.code)}</span> [${effects}]: ${esc(f.message)}`];
  if (f.evidence.length) out.push(`<ul class="evidence">${f.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
  if (f.fixes.length) {
    out.push(`<ol class="ladder" aria-label="fix ladder for ${esc(f.code)}">`);
    for (const x of [...f.fixes].sort((a, b) => a.rank - b.rank)) {
      out.push(`<li value="${x.rank}"><b>${esc(x.title)}</b> <span class="muted">[risk: ${esc(x.risk)}]</span>${x.detail ? ` — ${esc(x.detail)}` : ''}`);
      if (x.commands?.length) out.push(`<pre><code>${x.commands.map((c) => esc(c.startsWith('#') ? c : `$ ${c}`)).join('\n')}</code></pre>`);
      out.push('</li>');
    }
    out.push('</ol>');
  }
  out.push('</li>');
  return out.join('');
}

function deviceHtml(r: DeviceReport, sv: Survey, target: Target): string {
  const d = r.device;
  const bridge = d.isBridge || d.isHostBridge;
  const verdicts = TARGETS.map((t) => `<span class="col-${t} st-${r.verdicts[t].status}">${t} ${bridge ? 'bridge' : r.verdicts[t].status}</span>`).join(' · ');
  const g = groupKey(d, sv);
  const group = g ? g.label : d.iommuGroup === null ? 'none (the kernel gave it no group)' : sv.host.predicted.uncovered.includes(d.address) ? 'none (no IOMMU unit covers it)' : 'unknown';
  const slot = !d.slot ? 'unknown' : d.slot.embedded ? `embedded${d.slot.designation ? ` (${d.slot.designation})` : ''}: no slot` : `slot ${d.slot.physical ?? '?'}${d.slot.designation ? ` (${d.slot.designation})` : ''}${d.slot.hpeRmrdsSlot ? `, HPE ${d.slot.hpeRmrdsSlot}` : ''}`;
  const critical = r.findings.some((f) => HOST_CRITICAL.has(f.code));
  const order: Record<Effect, number> = { block: 0, warn: 1, info: 2, none: 3 };
  const findings = [...r.findings].sort((a, b) => order[effectOf(a.code, target)] - order[effectOf(b.code, target)]);
  return [
    `<details class="dev" id="${deviceId(d.address)}" ${verdictAttrs(r)}>`,
    `<summary><span class="vb" aria-hidden="true"></span><code>${esc(d.address)}</code> ${esc(d.name)} — ${verdicts}${d.rmrr?.length ? ' · <b>RMRR</b>' : ''}${critical ? ' · <b>host-critical</b>' : ''}</summary>`,
    `<p>${esc(d.className)} [${esc(d.config.vendorId.toString(16).padStart(4, '0'))}:${esc(d.config.deviceId.toString(16).padStart(4, '0'))}], driver ${esc(d.driver === undefined ? 'unknown' : (d.driver ?? 'none'))}; IOMMU ${esc(group)}; ${esc(slot)}${d.parent ? `; behind <a href="#${deviceId(d.parent)}">${esc(d.parent)}</a>` : ''}${d.rmrr === undefined ? '; RMRR unknown (no DMAR read)' : ''}</p>`,
    findings.length ? `<ul class="findings">${findings.map((f) => findingHtml(f, target)).join('')}</ul>` : '<p>No findings.</p>',
    sv.hostFindings.length ? `<p class="muted">and the ${sv.hostFindings.length} host finding(s) above.</p>` : '',
    '</details>',
  ].join('\n');
}

export function renderHtml(sv: Survey, target: Target): string {
  const host = sv.host;
  const [what, iommu] = hostLine(sv);
  const title = host.system ? `${host.system.manufacturer ?? ''} ${host.system.product ?? ''}`.trim() || 'host' : 'host';
  const json = toJson(SURVEY_SCHEMA, surveyJson(sv, target));
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const shown = sv.devices.filter((r) => !r.hidden);
  const hidden = sv.devices.filter((r) => r.hidden);
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<meta http-equiv="Content-Security-Policy" content="${csp}">`, '<meta name="viewport" content="width=device-width, initial-scale=1">', '<meta name="generator" content="assignable">');
  out.push(`<title>assignable: ${esc(title)}</title>`, `<style>${CSS}</style>`, '</head>', '<body>');
  out.push('<header>', `<h1>${esc(title)}</h1>`, `<p>${esc(what)}<br>${esc(iommu)}</p>`);
  out.push('<h2>Inputs</h2>', '<table class="inputs"><tbody>', ...inputs(host).map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`), '</tbody></table>');
  if (host.notes.length) out.push('<h2>What was missing</h2>', `<ul class="notes">${host.notes.map((n) => `<li><code>${esc(n.code)}</code> ${esc(n.message)}</li>`).join('')}</ul>`);
  out.push('</header>');
  // The radios' :checked state picks the colours (CSS :has), so switching needs no script.
  const radios = TARGETS.map((t) => `<input class="tgt-radio" type="radio" name="target" id="tgt-${t}" value="${t}"${t === target ? ' checked' : ''}><label for="tgt-${t}">${t === 'vfio' ? 'vfio (KVM, Proxmox)' : t === 'dda' ? 'dda (Hyper-V)' : 'esxi'}</label>`);
  out.push(`<nav class="switch" aria-label="target">Verdict colours for: ${radios.join('')}</nav>`);
  out.push('<main>');
  out.push('<h2>Verdicts per target</h2>', countsTable(sv));
  if (sv.hostFindings.length) {
    out.push('<h2>Host findings</h2>', `<ul class="findings host">${sv.hostFindings.map((f) => findingHtml(f, target)).join('')}</ul>`);
  }
  out.push('<h2>Topology</h2>');
  out.push(`<p class="legend muted"><span><span class="vb" style="background:#1a7f37"></span>assignable</span><span><span class="vb" style="background:#bf8700"></span>warnings</span><span><span class="vb" style="background:#cf222e"></span>blocked</span><span><span class="vb"></span>bridge</span> Boxes: IOMMU groups (${host.groups ? "the kernel's, solid" : 'predicted from config space, dashed; yellow when uncertain'}). Marks: RMRR, IVMD, host-critical, slot (SMBIOS designation, HPE RMRDS_SlotN).</p>`);
  out.push(`<div class="topo-wrap">${renderTopology(sv)}</div>`);
  out.push('<h2>Devices</h2>', '<p class="muted">Click a device for its findings and fix ladder.</p>');
  out.push(...shown.map((r) => deviceHtml(r, sv, target)));
  if (hidden.length) {
    out.push(`<h2>Bridges and chipset functions (${hidden.length})</h2>`);
    out.push(...hidden.map((r) => deviceHtml(r, sv, target)));
  }
  out.push('<h2>Copy as forum text</h2>', '<p class="muted"><label for="forum">Markdown for a forum post (GitHub, Discourse):</label></p>');
  out.push(`<textarea id="forum" readonly spellcheck="false">${escLines(renderMarkdown(sv, target))}</textarea>`, '<p><button type="button" id="copy" hidden>Copy</button></p>');
  out.push('<h2>Survey JSON</h2>', `<p class="muted">The <code>${SURVEY_SCHEMA}</code> document (as <code>assignable survey --json --target ${target}</code> prints it) is embedded in this page: <code>JSON.parse(document.getElementById('survey-json').textContent)</code>.</p>`);
  out.push('</main>');
  out.push(`<script type="application/json" id="survey-json">${scriptJson(json)}</script>`);
  out.push(`<script>${SCRIPT}</script>`);
  out.push('</body>', '</html>');
  return out.join('\n') + '\n';
}
