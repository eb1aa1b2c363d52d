/** diagnose: text and JSON (assignable/diagnose/v1, docs/schema/diagnose-v1.schema.json). */
import { CATALOG, TARGETS, effectOf, type Fix } from '../checks/finding.js';
import type { Diagnosis, DiagnosedError } from '../checks/diagnose/index.js';
import { printable } from './format.js';
import { findingJson } from './survey.js';

export const DIAGNOSE_SCHEMA = 'assignable/diagnose/v1';

function fixLines(fixes: Fix[], indent: string): string[] {
  const out: string[] = [];
  for (const x of fixes) {
    out.push(`${indent}${x.rank}. ${x.title} [risk: ${x.risk}]${x.detail ? ` — ${x.detail}` : ''}`);
    for (const c of x.commands ?? []) out.push(`${indent}     ${c.startsWith('#') ? c : `$ ${c}`}`);
  }
  return out;
}

function where(e: DiagnosedError): string {
  const h = e.hit;
  const parts = [h.device, h.group !== null ? `IOMMU group ${h.group}` : null, h.deviceName !== null ? `"${printable(h.deviceName)}"` : null].filter((x) => x !== null);
  return parts.length > 0 ? parts.join(', ') : 'no device named';
}

function renderError(e: DiagnosedError, hasHost: boolean): string[] {
  const m = e.hit.message;
  const lines = e.hit.lines.length > 6 ? `${e.hit.lines.slice(0, 6).join(', ')} … (${e.hit.lines.length} lines)` : e.hit.lines.join(', ');
  const out: string[] = [];
  out.push(`line ${lines}: ${e.codes.join(' or ')} — ${where(e)}`);
  out.push(`  > ${printable(e.hit.text)}`);
  out.push(`  ${m.meaning}`);
  out.push(`  (${m.from}: ${m.versions}; wording from ${m.source})`);
  if (!e.decided) out.push(`  This message alone cannot tell ${e.codes.join(' from ')}; ${hasHost ? 'the host data did not settle it' : 'the host data (--capture) or the kernel log line next to it can'}.`);
  for (const c of e.codes) out.push(`  ${c}: ${CATALOG[c].title} [${TARGETS.map((t) => `${t} ${effectOf(c, t)}`).join(' · ')}]`);
  const j = e.joined;
  if (j === null) {
    if (m.fixes.length > 0) {
      out.push('  What to do (generic; the host data gives the exact ladder):');
      out.push(...fixLines(m.fixes, '    '));
    }
    const target = e.hit.device ?? (e.hit.deviceName !== null ? `"${printable(e.hit.deviceName)}"` : 'DEVICE');
    out.push(`  On that host: assignable explain ${target}${e.hit.deviceName !== null && e.hit.device === null ? ' --target dda' : ''}`);
    return out;
  }
  for (const d of j.devices) {
    const r = d.report;
    out.push(`  host: ${r.device.address} ${printable(r.device.name)} — vfio ${r.verdicts.vfio.status}${r.verdicts.vfio.reasons.length ? ` (${r.verdicts.vfio.reasons.join(', ')})` : ''}, dda ${r.verdicts.dda.status}`);
    if (d.confirmed.length > 0) out.push(`    the host's checks confirm ${d.confirmed.join(', ')}:`);
    for (const f of d.findings) {
      out.push(`    ${f.code}${f.device === null ? ' (host)' : ''}: ${printable(f.message)}`);
      for (const ev of f.evidence) out.push(`      · ${printable(ev)}`);
      out.push(...fixLines(f.fixes, '      '));
    }
  }
  if (j.note !== null) out.push(`  note: ${printable(j.note)}`);
  if (j.devices.length === 0 && m.fixes.length > 0) {
    out.push('  What to do (generic):');
    out.push(...fixLines(m.fixes, '    '));
  }
  return out;
}

export function renderDiagnosis(dx: Diagnosis, source: string, hasHost: boolean): string {
  const out: string[] = [];
  if (dx.errors.length === 0) {
    out.push(`${printable(source)}: no known passthrough error in ${dx.lineCount} line${dx.lineCount === 1 ? '' : 's'} (nothing guessed; README, \`assignable diagnose\`, lists what is recognised)`);
    return out.join('\n') + '\n';
  }
  out.push(`${printable(source)}: ${dx.errors.length} known passthrough error${dx.errors.length === 1 ? '' : 's'} in ${dx.lineCount} lines`);
  for (const e of dx.errors) {
    out.push('');
    out.push(...renderError(e, hasHost));
  }
  return out.join('\n') + '\n';
}

export function diagnosisJson(dx: Diagnosis, source: string, hasHost: boolean) {
  return {
    source,
    lineCount: dx.lineCount,
    host: hasHost,
    recognized: dx.errors.length > 0,
    errors: dx.errors.map((e) => ({
      id: e.hit.message.id,
      lines: e.hit.lines,
      text: e.hit.text,
      device: e.hit.device,
      deviceName: e.hit.deviceName,
      iommuGroup: e.hit.group,
      codes: e.codes,
      decided: e.decided,
      from: e.hit.message.from,
      versions: e.hit.message.versions,
      wordingSource: e.hit.message.source,
      meaning: e.hit.message.meaning,
      fixes: e.hit.message.fixes,
      joined: e.joined === null
        ? null
        : {
            note: e.joined.note,
            devices: e.joined.devices.map((d) => ({ address: d.report.device.address, name: d.report.device.name, confirmed: d.confirmed, findings: d.findings.map(findingJson), verdicts: d.report.verdicts })),
          },
    })),
  };
}
