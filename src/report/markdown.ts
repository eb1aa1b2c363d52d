/**
 * `survey --format markdown`: a compact table and the blockers, sized for a forum post
 * (GitHub / Discourse Markdown). Every string from the input is escaped: a device name or
 * SMBIOS string holding `|` or a backtick must not break the table or open a code span.
 */
import { CATALOG, effectOf, TARGETS, type Target } from '../checks/finding.js';
import type { Survey } from '../checks/index.js';
import { printable } from './format.js';
import { groupLabel, hostLine, slotLabel } from './survey.js';

/** Markdown's punctuation escaped with a backslash (CommonMark: any ASCII punctuation may be). */
export function mdEscape(s: string | null | undefined): string {
  return printable(s).replace(/[\\`*_[\]<>|~#!&]/g, '\\$&');
}

const MARK = { assignable: '✅ assignable', warnings: '⚠️ warnings', blocked: '❌ blocked' } as const;

/** The longest forum posts (Discourse's default) are 32 000 characters; stay well below. */
const MAX_BLOCKER_LINES = 40;

export function renderMarkdown(sv: Survey, target: Target): string {
  const out: string[] = [];
  const [what, iommu] = hostLine(sv);
  out.push(`**${mdEscape(what)}**  `, mdEscape(iommu), '');
  const shown = sv.devices.filter((r) => !r.hidden);
  out.push(`| Address | Slot | Device | Group | ${TARGETS.map((t) => (t === target ? `**${t}**` : t)).join(' | ')} | Why (${target}) |`);
  out.push(`|---|---|---|---|${TARGETS.map(() => '---').join('|')}|---|`);
  for (const r of shown) {
    const v = r.verdicts[target];
    const why = v.reasons.length ? v.reasons.map((c) => `\`${c}\``).join(' ') : '';
    out.push(`| \`${r.device.address}\` | ${mdEscape(slotLabel(r.device))} | ${mdEscape(r.device.name)} | ${mdEscape(groupLabel(r.device, sv.host))} | ${TARGETS.map((t) => MARK[r.verdicts[t].status]).join(' | ')} | ${why}${v.confidence === 'believed' ? ' (believed)' : ''} |`);
  }
  const counts = { assignable: 0, warnings: 0, blocked: 0 };
  for (const r of shown) counts[r.verdicts[target].status]++;
  out.push('', `${shown.length} device(s) for ${target}: ${counts.assignable} assignable, ${counts.warnings} with warnings, ${counts.blocked} blocked${sv.devices.length > shown.length ? ` (${sv.devices.length - shown.length} bridges and chipset functions not listed)` : ''}.`);

  const blockers: string[] = [];
  for (const f of sv.hostFindings) if (effectOf(f.code, target) === 'block') blockers.push(`- host: \`${f.code}\` ${mdEscape(f.message)}`);
  for (const r of shown) {
    const blocking = r.findings.filter((f) => effectOf(f.code, target) === 'block');
    if (blocking.length === 0) continue;
    const fix = blocking.find((f) => f.fixes.length > 0)?.fixes[0];
    blockers.push(`- \`${r.device.address}\` ${mdEscape(r.device.name)}: ${blocking.map((f) => `\`${f.code}\``).join(' ')}${fix ? ` — first fix: ${mdEscape(fix.title)}` : ''}`);
  }
  if (blockers.length > 0) {
    out.push('', `**Blockers for ${target}**`, '');
    out.push(...blockers.slice(0, MAX_BLOCKER_LINES));
    if (blockers.length > MAX_BLOCKER_LINES) out.push(`- … and ${blockers.length - MAX_BLOCKER_LINES} more (\`assignable survey --target ${target}\`)`);
  }
  if (sv.host.notes.length > 0) {
    out.push('', '**Not in the input**', '');
    for (const n of sv.host.notes) out.push(`- ${mdEscape(n.message)}`);
  }
  const codes = [...new Set(shown.flatMap((r) => r.verdicts[target].reasons))];
  if (codes.length > 0) out.push('', codes.map((c) => `\`${c}\`: ${mdEscape(CATALOG[c].title)}`).join('  \n'));
  out.push('', '<sub>assignable survey --format markdown; details: assignable explain ADDRESS</sub>');
  return out.join('\n') + '\n';
}
