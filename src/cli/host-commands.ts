/** `survey`, `explain`, `slots`: read a host (live or captured), run the checks, report. */
import { renderGroups } from '../report/groups.js';
import { join } from 'node:path';
import { TARGETS, type Target } from '../checks/finding.js';
import { runSurvey, type DeviceReport, type Survey } from '../checks/index.js';
import { buildHost, type NameLookup } from '../host/build.js';
import type { Host, HostFacts } from '../host/model.js';
import { pciIdsLookup } from '../host/pciids.js';
import { renderExplain, renderSurvey, findDevices, surveyJson, SURVEY_SCHEMA, type Style } from '../report/survey.js';
import { renderSlots, slotsView } from '../report/slots.js';
import { lintConfig } from '../checks/lint.js';
import { lintSummary } from '../report/lint.js';
import { toJson } from '../report/json.js';
import { readCaptureFiles, type CaptureFileOptions } from '../sources/capture-files.js';
import { readCapture } from '../sources/capture-archive.js';
import { readLiveHost } from '../sources/live.js';
import { readSurveyDda, readWindowsCaptureIfJson } from '../sources/windows/index.js';
import { isWindowsPlatform } from '../sources/windows/platform.js';
import { readWindowsLiveHost } from './windows-live.js';
import { readInput, realFs, type Fs } from '../sources/fs.js';
import { EXIT, type ExitCode } from './exit.js';
import { UsageError, type Io } from './run.js';

/** pci.ids is about 1.4 MB today; ten times that is not a pci.ids. */
const PCI_IDS_MAX = 16 * 1024 * 1024;

export interface HostSourceOptions extends CaptureFileOptions {
  root?: string;
  capture?: string;
  pciIds?: string;
  /** SurveyDDA.ps1's printed output. */
  surveydda?: string;
  /** On Windows: run the probe with PowerShell 7. */
  pwsh?: boolean;
}

export interface SurveyOptions extends HostSourceOptions {
  json?: boolean;
  all?: boolean;
  target?: string;
  color?: boolean;
  /** survey: only devices matching an address, slotN or name (as explain takes). */
  device?: string;
  /** survey: only devices of a class: hex "03", "0300", or a name (gpu, nic, storage…). */
  class?: string;
  /** survey: one block per IOMMU group (the kernel's, else predicted). */
  groups?: boolean;
  /** explain --target dda: the VM to assign to. */
  vm?: string;
  /** survey: text (default), json, html or markdown. */
  format?: string;
}

const FORMATS = ['text', 'json', 'html', 'markdown'] as const;

/** --class names → the base class (2 hex digits) or class/sub-class (4) they stand for. */
export const CLASS_NAMES: Record<string, string[]> = {
  storage: ['01'],
  nvme: ['0108'],
  nic: ['02'],
  network: ['02'],
  ethernet: ['0200'],
  gpu: ['03'],
  display: ['03'],
  vga: ['0300'],
  audio: ['0401', '0403'],
  multimedia: ['04'],
  usb: ['0c03'],
  serial: ['0c'],
  accelerator: ['12'],
  bridge: ['06'],
};

const LOOSE: Array<keyof CaptureFileOptions> = ['lspci', 'acpidump', 'dmar', 'ivrs', 'dmidecode', 'cmdline', 'kernel', 'dmesg'];

export function readFacts(o: HostSourceOptions, fs: Fs = realFs): HostFacts {
  const loose = LOOSE.filter((k) => o[k] !== undefined);
  const stdin = loose.filter((k) => o[k] === '-' && k !== 'cmdline' && k !== 'kernel');
  if (stdin.length > 1) throw new UsageError(`--${stdin[0]} - and --${stdin[1]} -: standard input can be read once; name a file (or a pipe, <(…)) for the others`);
  if (o.pwsh && (o.surveydda !== undefined || o.capture !== undefined || loose.length > 0)) throw new UsageError('--pwsh runs the probe on this Windows host; it cannot be combined with an input file');
  if (o.surveydda !== undefined) {
    if (o.capture !== undefined || loose.length > 0) throw new UsageError(`--surveydda reads what SurveyDDA printed; it cannot be combined with --${o.capture !== undefined ? 'capture' : loose[0]}`);
    return readSurveyDda(o.surveydda, fs);
  }
  if (o.capture !== undefined) {
    if (loose.length > 0) throw new UsageError(`--capture reads a whole capture; it cannot be combined with --${loose[0]}`);
    // A Windows probe capture is JSON; a Linux one is a tar(.gz) or a directory.
    return (o.capture !== '-' ? readWindowsCaptureIfJson(o.capture, fs) : null) ?? readCapture(o.capture, fs);
  }
  if (loose.length > 0) {
    if (o.root !== undefined && o.root !== '/') throw new UsageError('--root reads a live host tree; it cannot be combined with capture files');
    // A release is what `uname -r` prints: "6.8.12-4-pve", "5.14.0-427.el9.x86_64".
    if (o.kernel !== undefined && !/^\d+\.\d+[0-9A-Za-z._+~-]{0,120}$/.test(o.kernel)) {
      throw new UsageError(`--kernel ${JSON.stringify(o.kernel.slice(0, 60))}: not a kernel release (give what \`uname -r\` prints, e.g. 6.8.12-4-pve)`);
    }
    return readCaptureFiles(o, fs);
  }
  // On Windows this host is read by the probe (README, "Windows").
  if (o.root === undefined && isWindowsPlatform()) return readWindowsLiveHost(o);
  if (o.pwsh) throw new UsageError('--pwsh picks the PowerShell that runs the probe on a Windows host; here nothing runs it (give --capture with the probe\'s output)');
  return readLiveHost(o.root ?? '/', fs);
}

/** Names from pci.ids when lspci did not give them: the given file, else the system's. */
export function nameLookup(o: HostSourceOptions, fs: Fs = realFs): NameLookup | undefined {
  const system = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'];
  // A host tree may carry its own pci.ids; otherwise this machine's names do.
  const candidates = o.pciIds ? [o.pciIds] : [...(o.root && o.root !== '/' ? system.map((p) => join(o.root!, p)) : []), ...system];
  // A file the user named must be readable (bounded, regular file); the system's are optional.
  if (o.pciIds) return pciIdsLookup(readInput(o.pciIds, 'pci.ids', fs, PCI_IDS_MAX));
  for (const p of candidates) {
    try {
      return pciIdsLookup(readInput(p, 'pci.ids', fs, PCI_IDS_MAX));
    } catch {
      /* try the next one; names then fall back to ids */
    }
  }
  return undefined;
}

export function loadHost(o: HostSourceOptions, fs: Fs = realFs): Host {
  return buildHost(readFacts(o, fs), nameLookup(o, fs));
}

function target(o: SurveyOptions): Target {
  const t = (o.target ?? 'vfio') as Target;
  if (!TARGETS.includes(t)) throw new UsageError(`--target ${o.target}: choose vfio (KVM, Proxmox, libvirt), dda (Hyper-V) or esxi`);
  return t;
}

function style(io: Io, o: SurveyOptions): Style {
  return { color: o.color !== false && io.isTTY === true && !process.env.NO_COLOR };
}

/** Bridges and host bridges are shown with --all but are never candidates for assignment. */
const isCandidate = (r: DeviceReport) => !r.device.isBridge && !r.device.isHostBridge;

/**
 * 1 when a shown candidate is blocked for the target; bridges never decide it — unless
 * `--device`/`--class` asked about exactly these devices (`asked`), bridges included.
 */
export function surveyExit(sv: Survey, t: Target, all: boolean, asked = false): ExitCode {
  if (sv.hostFindings.some((f) => f.code === 'IOMMU_ABSENT')) return EXIT.ABSENT;
  const shown = asked ? sv.devices : sv.devices.filter((r) => (all || !r.hidden) && isCandidate(r));
  return shown.some((r) => r.verdicts[t].status === 'blocked') ? EXIT.BLOCKED : EXIT.OK;
}

function classPrefixes(spec: string): string[] {
  const q = spec.trim().toLowerCase();
  if (/^[0-9a-f]{2}$|^[0-9a-f]{4}$/.test(q)) return [q];
  const named = CLASS_NAMES[q];
  if (!named) throw new UsageError(`--class ${spec}: give a PCI class in hex (03, 0300) or one of ${Object.keys(CLASS_NAMES).join(', ')}`);
  return named;
}

/** --device / --class: the survey narrowed to what a script asks about; no match is a usage error. */
export function filterSurvey(sv: Survey, o: SurveyOptions): Survey | null {
  if (o.device === undefined && o.class === undefined) return null;
  let keep = sv.devices;
  if (o.device !== undefined) {
    const hits = new Set(findDevices(sv, o.device));
    keep = keep.filter((r) => hits.has(r));
  }
  if (o.class !== undefined) {
    const prefixes = classPrefixes(o.class);
    keep = keep.filter((r) => prefixes.some((p) => (r.device.classCode >> 8).toString(16).padStart(4, '0').startsWith(p)));
  }
  if (keep.length === 0) throw new UsageError(`no device matches${o.device !== undefined ? ` --device ${o.device}` : ''}${o.class !== undefined ? ` --class ${o.class}` : ''} (\`assignable survey --all\` lists them)`);
  // What was asked for is shown, hidden or not.
  return { ...sv, devices: keep.map((r) => ({ ...r, hidden: false })) };
}

export async function runSurveyCommand(io: Io, o: SurveyOptions, fs: Fs = realFs): Promise<ExitCode> {
  const t = target(o);
  const format = o.format ?? (o.json ? 'json' : 'text');
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${o.format}: choose ${FORMATS.join(', ')}`);
  if (o.json && format !== 'json') throw new UsageError(`--json and --format ${format}: choose one`);
  // The table and the group listing show verdicts and first reasons, never a fix ladder: the
  // slot and override simulations behind the ladders (most of a survey's time) are skipped.
  const ladders = format !== 'text';
  const full = runSurvey(loadHost(o, fs), { fixLadders: ladders });
  const filtered = filterSurvey(full, o);
  const sv = filtered ?? full;
  // The page and the forum post are loaded only when asked for.
  if (format === 'html') io.out((await import('../report/html/index.js')).renderHtml(sv, t));
  else if (format === 'markdown') io.out((await import('../report/markdown.js')).renderMarkdown(sv, t));
  else if (format === 'json') io.out(toJson(SURVEY_SCHEMA, surveyJson(sv, t)) + '\n');
  else if (o.groups) io.out(renderGroups(full, t));
  else io.out(renderSurvey(sv, t, o.all ?? false, style(io, o)));
  // One line about the configuration files, when they were read (`assignable lint` details them).
  const lint = format === 'text' ? lintSummary(lintConfig(full.host)) : undefined;
  if (lint !== undefined) io.out(`${lint}\n`);
  return surveyExit(sv, t, o.all ?? false, filtered !== null);
}

export function runExplain(io: Io, query: string, o: SurveyOptions, fs: Fs = realFs): ExitCode {
  const t = target(o);
  const sv = runSurvey(loadHost(o, fs));
  const hits = findDevices(sv, query);
  // The name goes into PowerShell lines (quoted) and a comment: no line breaks or control characters.
  if (o.vm !== undefined && (o.vm.trim() === '' || /[\x00-\x1f\x7f]/.test(o.vm))) throw new UsageError('--vm: give the VM name as Get-VM shows it (no control characters)');
  if (o.vm !== undefined && t !== 'dda') throw new UsageError('--vm names the Hyper-V VM of the DDA procedure: use it with --target dda');
  if (hits.length === 0) throw new UsageError(`no device matches "${query}" (give an address like 0000:06:00.0 or 06:00.0, a slot like slot2, a location path like PCIROOT(0)#PCI(0300)#PCI(0000), or part of a name; \`assignable survey --all\` lists them)`);
  if (o.json) {
    const doc = surveyJson(sv, t);
    const wanted = new Set(hits.map((h) => h.device.address));
    io.out(toJson(SURVEY_SCHEMA, { ...doc, devices: doc.devices.filter((d) => wanted.has(d.address)) }) + '\n');
  } else {
    io.out(hits.map((h) => renderExplain(sv, h, style(io, o), t, o.vm)).join('\n'));
  }
  return hits.some((h) => h.verdicts[t].status === 'blocked') ? EXIT.BLOCKED : EXIT.OK;
}

export function runSlots(io: Io, o: SurveyOptions, fs: Fs = realFs): ExitCode {
  const host = loadHost(o, fs);
  const v = slotsView(host);
  if (o.json) io.out(toJson('assignable/slots/v1', v) + '\n');
  else io.out(renderSlots(v, host));
  return EXIT.OK;
}
