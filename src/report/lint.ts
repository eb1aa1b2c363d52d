/** `assignable lint` as text and JSON, and the one line `survey` prints about it. */
import type { LintReport } from '../checks/lint.js';
import type { Host } from '../host/model.js';
import { printable } from './format.js';

export const LINT_SCHEMA = 'assignable/lint/v1';

/** Unknowns the report must state: no devices means the host-device checks did not run. */
function unknowns(host: Host): string[] {
  const out: string[] = [];
  if (host.devices.length === 0) out.push('no PCI devices were read: vfio-pci ids and blacklists were not checked against the devices the host needs');
  if (host.kernel === undefined) out.push('the kernel release is unknown: version-dependent items (vfio_virqfd, pcie_acs_override, intel_iommu=on) say "may be"');
  if (host.bootloader === undefined) out.push('the bootloader is unknown: /etc/default/grub and /etc/kernel/cmdline are both read as live');
  return out;
}

export function lintJson(host: Host, r: LintReport) {
  return {
    origin: host.origin,
    kernel: host.kernel?.release ?? null,
    bootloader: host.bootloader?.kind ?? null,
    files: r.files ?? null,
    findings: r.findings.map((f) => ({ code: f.code, file: f.file, line: f.line, text: f.text, certain: f.certain, message: f.message, fix: f.fix })),
    unknown: unknowns(host),
    notes: host.notes.filter((n) => n.code === 'CONFIG_UNREADABLE'),
  };
}

export function renderLint(host: Host, r: LintReport): string {
  const out: string[] = [];
  const certain = r.findings.filter((f) => f.certain).length;
  const maybe = r.findings.length - certain;
  out.push(`${host.origin.description}: ${r.files?.length ?? 0} configuration file(s) read; ${certain} stale or conflicting setting(s)${maybe ? `, ${maybe} that may be` : ''}`);
  for (const f of r.findings) {
    out.push('');
    out.push(`${f.file}:${f.line}: ${f.code}${f.certain ? '' : ' (may be)'} ${printable(f.message)}`);
    out.push(`    ${printable(f.text.trim())}`);
    out.push(`  fix: ${printable(f.fix)}`);
  }
  const u = unknowns(host);
  const notes = host.notes.filter((n) => n.code === 'CONFIG_UNREADABLE');
  if (u.length || notes.length) out.push('');
  for (const x of u) out.push(`unknown: ${x}`);
  for (const n of notes) out.push(`note: ${printable(n.message)}`);
  return out.join('\n') + '\n';
}

/** survey's summary line; undefined when the configuration files were not read. */
export function lintSummary(r: LintReport): string | undefined {
  if (r.files === undefined) return undefined;
  const certain = r.findings.filter((f) => f.certain).length;
  const maybe = r.findings.length - certain;
  if (certain === 0 && maybe === 0) return `lint: no stale or conflicting settings in ${r.files.length} configuration file(s)`;
  return `lint: ${certain} stale or conflicting setting${certain === 1 ? '' : 's'}${maybe ? ` (and ${maybe} that may be)` : ''} — run assignable lint`;
}
