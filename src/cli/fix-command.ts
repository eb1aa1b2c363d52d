/** `assignable fix`: plan (default), --apply, --verify, --rollback. Nothing is written without --apply. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runSurvey, type DeviceReport, type Survey } from '../checks/index.js';
import { DecodeError } from '../firmware/errors.js';
import { applyRmrds, ApplyError, loadByHand, readNow, rollbackRmrds, type ConrepContext, type RecordBase } from '../remedies/hpe-rmrds/apply.js';
import { diffSettings } from '../remedies/hpe-rmrds/lint.js';
import { parseConrepSettings, valueOf, type ConrepSettings } from '../remedies/hpe-rmrds/settings.js';
import type { RmrdsPlan } from '../remedies/hpe-rmrds/plan.js';
import { builtinRmrdsSchemaText } from '../remedies/hpe-rmrds/rmrds.js';
import { findSection, parseConrepSchema } from '../remedies/hpe-rmrds/schema.js';
import { applyRelaxRmrr, KernelApplyError, rollbackRelaxRmrr, updateFor, type KernelFiles, type KernelPlan } from '../remedies/kernel-cmdline/relax-rmrr.js';
import { decideFix, type FixDecision, type Method } from '../remedies/fix.js';
import { findExecutable, systemRunner, type Runner } from '../remedies/runner.js';
import { acquireLock, clearPending, lastChange, readPending, stamp, stateDir, writeHistory, writePending, type PendingChange } from '../remedies/state.js';
import { bootIdOf, createNew, crashPoint, isRoot, lstatOrNull, readBackup, readNoFollow, resetWriteCount, resolveWithin, sha256, StateDir, WriteError } from '../remedies/write.js';
import { findDevices } from '../report/survey.js';
import { toJson } from '../report/json.js';
import { SourceError } from '../sources/errors.js';
import { realFs, type Fs } from '../sources/fs.js';
import { VERSION } from '../version.js';
import { EXIT, type ExitCode } from './exit.js';
import { loadHost, type HostSourceOptions } from './host-commands.js';
import { conrepCandidates, hpsstkioPaths, isWindowsPlatform, windowsStateDir } from '../sources/windows/platform.js';
import { UsageError, type Io } from './run.js';

export interface FixOptions extends HostSourceOptions {
  apply?: boolean;
  force?: boolean;
  verify?: boolean;
  rollback?: string | boolean;
  conrep?: string;
  schema?: string;
  stateDir?: string;
  method?: string;
  json?: boolean;
}

export const CONREP_NAMES = ['conrep', 'hp-conrep', '/opt/hp/hp-scripting-tools/bin/conrep', '/usr/bin/conrep', '/sbin/hp-conrep'];
const HPE_SCHEMA_PATH = '/opt/hp/hp-scripting-tools/etc/conrep_rmrds.xml';

function isCapture(o: HostSourceOptions): boolean {
  return ['capture', 'surveydda', 'lspci', 'acpidump', 'dmar', 'ivrs', 'dmidecode', 'cmdline', 'kernel', 'dmesg'].some((k) => (o as Record<string, unknown>)[k] !== undefined);
}

function pickDevice(sv: Survey, query: string): DeviceReport {
  const hits = findDevices(sv, query).filter((h) => !h.device.isBridge);
  if (hits.length === 0) throw new UsageError(`no device matches "${query}" (an address like 0000:06:00.0, a slot like slot2, or part of a name)`);
  if (hits.length > 1) {
    // All functions of one slot are one fix: take the first, the plan names them all.
    const slots = new Set(hits.map((h) => h.device.slot?.physical ?? h.device.address));
    if (slots.size > 1) throw new UsageError(`"${query}" matches ${hits.length} devices (${hits.map((h) => h.device.address).join(', ')}): give one address`);
  }
  return hits[0]!;
}

function renderDecision(x: FixDecision, fromFiles = false): string {
  const d = x.report.device;
  const out: string[] = [`${d.address}  ${d.name}`];
  const v = x.report.verdicts;
  out.push(`  now: vfio ${v.vfio.status}${v.vfio.reasons.length ? ` (${v.vfio.reasons.join(', ')})` : ''} · dda ${v.dda.status} · esxi ${v.esxi.status}`);
  if (d.rmrr?.length) out.push(`  RMRR: ${[...new Map(d.rmrr.map((h) => [h.structure, h])).values()].map((h) => `0x${h.base.toString(16)}-0x${h.limit.toString(16)} via scope ${h.scope}`).join('; ')}`);
  out.push('');
  const f = x.firmware;
  if (f.kind === 'nothing') out.push(`Nothing to fix: ${f.reason}.`);
  else if (f.kind === 'refused') {
    out.push('Firmware fix: not possible —');
    for (const r of f.reasons) out.push(`  · ${r}`);
    out.push('Instead:');
    for (const a of f.alternatives) out.push(`  · ${a}`);
  } else out.push(...renderRmrds(f));
  const k = x.kernel;
  if (k) {
    out.push('');
    if (k.kind === 'kernel-relax-rmrr') out.push(...renderKernel(k));
    else out.push(`Kernel remedy (intel_iommu=relax_rmrr): ${k.reason}.`);
  }
  out.push('');
  if (x.chosen) out.push(`Nothing has been changed. To apply${fromFiles ? ', on that host itself' : ''}: assignable fix ${d.address}${x.chosen.kind === 'kernel-relax-rmrr' && x.firmware.kind === 'hpe-rmrds' ? ' --method relax-rmrr' : ''} --apply${x.chosen.kind === 'hpe-rmrds' && !x.chosen.verified ? ' --force' : ''}`);
  return out.join('\n') + '\n';
}

function renderRmrds(p: RmrdsPlan): string[] {
  return [
    `Firmware fix: HPE RMRDS — set ${p.section} = ${p.value} (NVRAM 0x${p.nvram.address.toString(16).toUpperCase()}, bit mask 0x${p.nvram.mask.toString(16).padStart(2, '0')}) for slot ${p.slot}${p.designation ? ` (${p.designation})` : ''}.`,
    ...(p.verified ? [] : ['  UNVERIFIED here — --apply also needs --force:', ...p.unverified.map((u) => `  · ${u}`)]),
    '  What it costs:',
    ...p.cost.map((c) => `  · ${c}`),
    '  Override file (override-rmrds.xml):',
    `    ${p.override}`,
    '  By hand on Linux:',
    ...p.linux.map((l) => `    ${l}`),
    '  By hand on Windows (Hyper-V):',
    ...p.windows.map((l) => `    ${l}`),
  ];
}

function renderKernel(k: KernelPlan): string[] {
  return [
    `Kernel remedy: add intel_iommu=on,relax_rmrr (${k.bootloader}, ${k.file}).`,
    `  The kernel warns: "${k.warning}". Do not use it for devices the firmware really uses (an iLO-shared NIC, a RAID controller in RAID mode with its driver on the host).`,
    `  ${k.file} before:`,
    ...k.before.trimEnd().split('\n').filter((l) => k.bootloader === 'systemd-boot' || /GRUB_CMDLINE_LINUX_DEFAULT/.test(l)).map((l) => `    ${l}`),
    '  after:',
    ...k.after.trimEnd().split('\n').filter((l) => k.bootloader === 'systemd-boot' || /GRUB_CMDLINE_LINUX_DEFAULT/.test(l)).map((l) => `    ${l}`),
    `  then: ${k.update.join(' ')} && reboot`,
  ];
}

/** The bootloader files of the host under `root`, byte-exact (latin1), links resolved inside the root. */
function kernelFilesOf(root: string): KernelFiles {
  const read = (rel: string): string | null => {
    try {
      return readNoFollow(resolveWithin(root, rel)).toString('latin1');
    } catch {
      return null;
    }
  };
  const dropIns: Array<{ name: string; text: string }> = [];
  try {
    const d = resolveWithin(root, '/etc/default/grub.d');
    for (const name of readdirSync(d).filter((n) => n.endsWith('.cfg')).sort()) {
      const t = read(`/etc/default/grub.d/${name}`);
      if (t !== null) dropIns.push({ name, text: t });
    }
  } catch {
    /* no drop-in directory */
  }
  return { kernelCmdline: read('/etc/kernel/cmdline'), defaultGrub: read('/etc/default/grub'), grubDropIns: dropIns };
}

/** Test-only: the host tree `--apply` reads and changes (README "Testing the write path"); never a user option. */
function hostRoot(o: FixOptions): string {
  return o.root ?? process.env.ASSIGNABLE_TEST_HOST_ROOT ?? '/';
}

/** On Windows: the HPE BIOS cmdlets' conrep.exe, the Scripting Toolkit's, or one on PATH. */
function findWindowsConrep(o: FixOptions): string {
  if (o.conrep) {
    if (!existsSync(o.conrep)) throw new SourceError('not-found', o.conrep, `${o.conrep} does not exist`);
    return o.conrep;
  }
  const list = (d: string) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  const found = conrepCandidates(process.env, list).find((p) => existsSync(p));
  if (!found) throw new SourceError('not-found', 'conrep.exe', 'conrep.exe not found (looked in the HPE BIOS cmdlets\' Tools\\ConfigurationData, the Scripting Toolkit and PATH): install HPEBIOSCmdlets-x64.msi, or give --conrep PATH');
  return found;
}

/**
 * conrep.exe needs hpsstkio.sys in System32\drivers. When it is missing, copy the one shipped
 * next to conrep.exe — created exclusively, never over an existing file — and record it, so the
 * undo is deleting exactly the file we created.
 */
function ensureHpsstkio(io: Io, conrep: string, sd: StateDir, now: Date): void {
  const { source, target } = hpsstkioPaths(dirname(conrep));
  if (existsSync(target)) return;
  if (!existsSync(source)) throw new SourceError('not-found', source, `${target} is missing and conrep.exe's folder has no ${source} to copy: reinstall the HPE BIOS cmdlets (nothing was changed)`);
  // The record first (the intent), then the file, created exclusively through write.ts.
  const record = sd.create('backups', `${stamp(now)}-hpsstkio-installed.json`, JSON.stringify({ schema: 'assignable/windows-driver/v1', created: target, from: source, at: now.toISOString(), undo: `Remove-Item -LiteralPath '${target}'` }, null, 2) + '\n');
  createNew(target, readFileSync(source));
  io.err(`assignable: copied ${source} to ${target} (it was missing); recorded in ${record}; to undo: Remove-Item -LiteralPath '${target}'\n`);
}

function findConrep(o: FixOptions): string {
  if (isWindowsPlatform()) return findWindowsConrep(o);
  const conrep = o.conrep ? (existsSync(o.conrep) ? o.conrep : null) : findExecutable(CONREP_NAMES);
  if (!conrep) {
    throw new SourceError('not-found', o.conrep ?? 'conrep', `${o.conrep ? `${o.conrep} does not exist` : 'conrep not found (looked for conrep, hp-conrep, /opt/hp/hp-scripting-tools/bin/conrep)'}: install HPE's Scripting Toolkit (Debian/Ubuntu: the hp-scripting-tools package from https://downloads.linux.hpe.com/SDR/repo/stk/) or give --conrep PATH`);
  }
  return conrep;
}

function conrepContext(o: FixOptions, plan: RmrdsPlan | null, sd: StateDir, root: string, runner: Runner, now: Date, recorded?: string): ConrepContext {
  const conrep = findConrep(o);
  let schemaPath = o.schema ?? (recorded && lstatOrNull(recorded)?.isFile() ? recorded : null) ?? (existsSync(HPE_SCHEMA_PATH) ? HPE_SCHEMA_PATH : null);
  if (schemaPath) {
    let text: string;
    try {
      text = readFileSync(schemaPath, 'utf8');
    } catch (e) {
      throw new SourceError('not-found', schemaPath, `cannot read the RMRDS schema ${schemaPath}: ${(e as Error).message}`);
    }
    const schema = parseConrepSchema(text);
    if (plan && !findSection(schema, plan.section, null)) throw new UsageError(`${schemaPath} does not define ${plan.section}: is it conrep_rmrds.xml?`);
  } else {
    // Without HPE's file, our definitions, kept next to the backups so the by-hand command works later.
    schemaPath = sd.create('backups', `${stamp(now)}-conrep_rmrds-builtin.xml`, builtinRmrdsSchemaText());
  }
  return { runner, conrep, schemaPath, sd, root, now };
}

function pendingBefore(r: DeviceReport): PendingChange['before'] {
  return { rmrr: (r.device.rmrr ?? []).map((h) => ({ base: '0x' + h.base.toString(16), limit: '0x' + h.limit.toString(16) })), verdicts: r.verdicts };
}

function recordBase(r: DeviceReport): RecordBase {
  return { device: r.device.address, before: pendingBefore(r), tool: `assignable ${VERSION}` };
}

/** --apply changes this host: refused with a host read from elsewhere, and without root. */
function checkApply(o: FixOptions): void {
  if (!o.apply) return;
  if (isCapture(o) || o.root !== undefined || o.surveydda !== undefined) throw new UsageError(`--apply changes the host it runs on; it cannot be combined with ${o.root !== undefined ? '--root' : 'a capture'} (plan from it without --apply, then apply on that host)`);
  // On Windows the probe says whether it ran elevated (checked once the host is read).
  if (isWindowsPlatform()) return;
  if (!isRoot()) throw new SourceError('permission', 'fix --apply', '--apply changes firmware settings and boot files: run it as root (nothing was changed)');
}

export function runFix(io: Io, device: string | undefined, o: FixOptions, fs: Fs = realFs, runner: Runner = systemRunner, now = new Date()): ExitCode {
  resetWriteCount();
  const modes = [o.verify, o.rollback !== undefined && o.rollback !== false, device !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give a DEVICE to fix, or --verify, or --rollback [BACKUP]');
  if (o.method !== undefined && o.method !== 'rmrds' && o.method !== 'relax-rmrr') throw new UsageError(`--method ${o.method}: choose rmrds (HPE firmware) or relax-rmrr (kernel)`);
  checkApply(o);
  const dir = stateDir(o.stateDir ?? (isWindowsPlatform() && !process.env.ASSIGNABLE_STATE_DIR ? windowsStateDir() : undefined));
  const root = hostRoot(o);
  const hostOpts: FixOptions = root === '/' || isCapture(o) ? o : { ...o, root };
  if (o.verify) return runVerify(io, o, hostOpts, dir, root, fs, runner, now);
  if (o.rollback !== undefined && o.rollback !== false) return runRollback(io, o, typeof o.rollback === 'string' ? o.rollback : null, dir, root, runner, now);

  const sv = runSurvey(loadHost(hostOpts, fs));
  if (o.apply && sv.host.windows && sv.host.windows.elevated !== true) throw new SourceError('permission', 'fix --apply', '--apply changes firmware settings: run it from an elevated PowerShell (Run as administrator); nothing was changed');
  const r = pickDevice(sv, device!);
  const kernelFiles = isCapture(o) || sv.host.windows ? null : kernelFilesOf(root);
  const x = decideFix(sv, r, kernelFiles, o.method as Method | undefined);
  if (!o.apply) {
    if (o.json) io.out(toJson('assignable/fix-plan/v1', { device: r.device.address, firmware: x.firmware, kernel: x.kernel, chosen: x.chosen?.kind ?? null }) + '\n');
    else io.out(renderDecision(x, isCapture(o)));
    return x.chosen || x.firmware.kind === 'nothing' ? EXIT.OK : EXIT.BLOCKED;
  }
  if (!x.chosen) {
    io.out(renderDecision(x));
    return x.firmware.kind === 'nothing' ? EXIT.OK : EXIT.BLOCKED;
  }
  if (x.chosen.kind === 'hpe-rmrds' && !x.chosen.verified && !o.force) {
    throw new UsageError(`the RMRDS fix is unverified here (${x.chosen.unverified.join('; ')}): add --force to apply it anyway`);
  }
  const sd = StateDir.open(dir, true)!;
  const release = acquireLock(sd);
  try {
    if (x.chosen.kind === 'hpe-rmrds') return applyFirmware(io, x.chosen, o, r, sd, root, runner, now);
    return applyKernel(io, x.chosen, r, sd, root, runner, now);
  } finally {
    release();
  }
}

function applyFirmware(io: Io, plan: RmrdsPlan, o: FixOptions, r: DeviceReport, sd: StateDir, root: string, runner: Runner, now: Date): ExitCode {
  const ctx = conrepContext(o, plan, sd, root, runner, now);
  if (isWindowsPlatform()) ensureHpsstkio(io, ctx.conrep, sd, now);
  io.err(`assignable: backing up the settings, then setting ${plan.section} = ${plan.value} with ${ctx.conrep} (schema ${ctx.schemaPath})\n`);
  try {
    const res = applyRmrds(plan, ctx, recordBase(r));
    for (const n of res.notes) io.err(`assignable: note: ${n}\n`);
    if (res.status === 'already') {
      io.out(`${plan.section} is already ${plan.value}. Nothing was changed. If ${r.device.address} is still in an RMRR, reboot; then: assignable fix --verify\n`);
      return EXIT.OK;
    }
    io.out(
      [
        `Done: ${plan.section} reads back ${plan.value} (was ${res.sections[0]!.before}).`,
        `Backup of every setting: ${res.backup}`,
        `Read-back: ${res.after}`,
        `A reboot is needed before the firmware drops slot ${plan.slot} from its RMRRs.`,
        'After the reboot: assignable fix --verify',
        `To undo: assignable fix --rollback ${res.backup} --apply`,
      ].join('\n') + '\n',
    );
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ApplyError) return applyFailed(io, e.message, e.firmware);
    throw e;
  }
}

function applyFailed(io: Io, message: string, state: 'unchanged' | 'restored' | 'unknown'): ExitCode {
  io.err(`assignable: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return state === 'unknown' ? EXIT.APPLY_UNKNOWN : EXIT.APPLY_FAILED;
}

function applyKernel(io: Io, plan: KernelPlan, r: DeviceReport, sd: StateDir, root: string, runner: Runner, now: Date): ExitCode {
  try {
    const res = applyRelaxRmrr(plan, { root, sd, runner, now }, recordBase(r));
    io.out([`Done: ${plan.file} now has intel_iommu=on,relax_rmrr; ${plan.update.join(' ')} ran.`, `Backup: ${res.backup}`, 'Reboot, then: assignable fix --verify', `To undo: assignable fix --rollback ${res.backup} --apply`].join('\n') + '\n');
    return EXIT.OK;
  } catch (e) {
    if (e instanceof KernelApplyError) return applyFailed(io, e.message, e.state);
    throw e;
  }
}

function describe(p: PendingChange): string {
  return p.kind === 'hpe-rmrds' ? (p.sections?.map((s) => `${s.name} ${s.before} → ${s.after}`).join(', ') ?? 'RMRDS') : `${p.file}: intel_iommu=on,relax_rmrr`;
}

/**
 * An interrupted apply or rollback: read back (conrep -s, or the file) and settle the record.
 * Returns the record to verify next, or an exit status.
 */
function settleInterrupted(io: Io, o: FixOptions, p: PendingChange, dir: string, root: string, runner: Runner, now: Date): PendingChange | ExitCode {
  const what = p.state === 'rollback-intent' ? 'a rollback' : 'a change';
  if (!o.apply) {
    io.out(
      [
        `${what === 'a change' ? 'A change' : 'A rollback'} of ${p.device} (${describe(p)}, ${p.appliedAt}) was interrupted: the record says "${p.state}", so whether the ${p.kind === 'hpe-rmrds' ? 'firmware settings' : `file ${p.file}`} changed is unknown until read back.`,
        `Not verified. \`assignable fix --verify --apply\` reads it back and settles the record; \`assignable fix --rollback ${p.backup} --apply\` restores the backup.`,
      ].join('\n') + '\n',
    );
    return EXIT.BLOCKED;
  }
  const sd = StateDir.open(dir, true)!;
  const release = acquireLock(sd);
  try {
    const { data, meta } = readBackup(p.backup, root);
    const settle = (event: string, next: PendingChange | null) => {
      writeHistory(sd, next ?? p, event, now);
      if (next) writePending(sd, next);
      else clearPending(sd);
    };
    let same: boolean;
    let intended: boolean;
    let after: string | undefined;
    let byHand: string;
    if (p.kind === 'hpe-rmrds') {
      const ctx = conrepContext(o, null, sd, root, runner, now, meta.of.kind === 'hpe-rmrds' ? meta.of.schema : undefined);
      const backup = parseConrepSettings(data.toString('utf8'));
      const cur = readNow(ctx, `${stamp(now)}-settle`, []);
      if (!cur.settings) throw new SourceError('io', cur.path, `cannot read the settings back: ${cur.problem}`);
      const d = diffSettings(backup, cur.settings);
      same = d.changed.length === 0;
      const ours = new Map((p.sections ?? []).map((s) => [s.name, s.after]));
      intended = d.changed.length > 0 && d.changed.every((c) => ours.get(c.section) === c.b) && [...ours].every(([n, v]) => valueOf(cur.settings!, n) === v);
      after = cur.path;
      byHand = loadByHand(ctx, p.backup);
    } else {
      const file = meta.of.kind === 'file' ? meta.of.path : p.file!;
      const now_ = readNoFollow(resolveWithin(root, file));
      same = now_.equals(data);
      intended = p.afterSha256 !== undefined && sha256(now_) === p.afterSha256;
      byHand = `cp ${p.backup} ${file} && ${updateFor(file).join(' ')}`;
      if (intended && p.state === 'intent') {
        // The edit is in the file; whether the bootloader was refreshed is unknown: refresh now.
        const u = updateFor(file);
        const rr = runner.run(u[0]!, u.slice(1));
        if (rr.status !== 0 || rr.error) {
          io.err(`assignable: ${file} holds the change but ${u.join(' ')} failed (${rr.error ?? `exit ${rr.status}`}); run it by hand, or undo: ${byHand}\n`);
          return EXIT.APPLY_UNKNOWN;
        }
      }
    }
    if (same) {
      settle(p.state === 'rollback-intent' ? 'rolled-back' : 'unchanged', null);
      if (p.state === 'rollback-intent') {
        io.out(`The interrupted rollback had completed: the ${p.kind === 'hpe-rmrds' ? 'settings' : 'file'} match ${p.backup}. Nothing is pending.\n`);
        return EXIT.OK;
      }
      io.out(`The interrupted change never took: the ${p.kind === 'hpe-rmrds' ? 'settings' : 'file'} still match ${p.backup}. Nothing is pending; run fix again to apply it.\n`);
      return EXIT.APPLY_FAILED;
    }
    if (intended && p.state === 'intent') {
      const applied: PendingChange = { ...p, state: 'applied', after };
      settle('applied', applied);
      io.out(`The interrupted change had taken (read back: ${describe(p)}); it is now recorded.\n`);
      return applied;
    }
    io.err(`assignable: the ${p.kind === 'hpe-rmrds' ? 'settings' : 'file'} match neither ${p.backup} nor the intended change after ${what} was interrupted: check them, and to put the backup back by hand: ${byHand}\n`);
    return EXIT.APPLY_UNKNOWN;
  } finally {
    release();
  }
}

function runVerify(io: Io, o: FixOptions, hostOpts: FixOptions, dir: string, root: string, fs: Fs, runner: Runner, now: Date): ExitCode {
  const sd0 = StateDir.open(dir, false);
  let p = sd0 ? (readPending(dir) ?? lastChange(dir)) : null;
  if (!p) {
    io.out(`No change recorded in ${dir}: nothing to verify.\n`);
    return EXIT.OK;
  }
  if (p.state !== 'applied') {
    const s = settleInterrupted(io, o, p, dir, root, runner, now);
    if (typeof s === 'number') return s;
    p = s;
  }
  const sv = runSurvey(loadHost(hostOpts, fs));
  const r = sv.devices.find((x) => x.device.address === p.device);
  if (!r) throw new UsageError(`${p.device}, changed on ${p.appliedAt}, is not on this host now`);
  // What cannot be seen is not verified.
  if (sv.host.dmar === undefined) {
    io.out(`Not verified: the DMAR table could not be read, so whether an RMRR still names ${p.device} is unknown (run as root, or give --dmar).\n`);
    return EXIT.ENVIRONMENT;
  }
  if (sv.host.dmar === null) {
    io.out(`Not verified: this host has no DMAR table now (VT-d off in the firmware?), so there is nothing to check ${p.device} against.\n`);
    return EXIT.ABSENT;
  }
  const bootNow = isCapture(o) ? null : bootIdOf(root);
  const rebooted = p.bootId === null || bootNow === null ? null : bootNow !== p.bootId;
  const nowRmrrs = (r.device.rmrr ?? []).map((h) => `0x${h.base.toString(16)}-0x${h.limit.toString(16)}`);
  const beforeRmrr = [...new Set(p.before.rmrr.map((x) => `${x.base}-${x.limit}`))];
  const nowRmrr = [...new Set(nowRmrrs)];
  const col = (s: string) => s.padEnd(44);
  const lines = [`${p.device}  (${describe(p)}, applied ${p.appliedAt})`, `${''.padEnd(6)}${col('before')}now`];
  lines.push(`${'RMRR'.padEnd(6)}${col(beforeRmrr.length ? `${beforeRmrr.length} range(s)` : 'none')}${nowRmrr.length ? `${nowRmrr.length} range(s)` : 'none'}`);
  for (const t of ['vfio', 'dda', 'esxi'] as const) {
    const b = p.before.verdicts[t];
    const n = r.verdicts[t];
    lines.push(`${t.padEnd(6)}${col(`${b?.status ?? '?'}${b?.reasons.length ? ` (${b.reasons.join(', ')})` : ''}`)}${n.status}${n.reasons.length ? ` (${n.reasons.join(', ')})` : ''}`);
  }
  io.out(lines.join('\n') + '\n');
  if (rebooted === false) {
    io.out(`Not rebooted since the change (same boot id ${bootNow}): not verified yet — the ${p.kind === 'hpe-rmrds' ? 'firmware applies it' : 'kernel reads it'} at the next boot.\n`);
    return EXIT.BLOCKED;
  }
  const fixed = p.kind === 'hpe-rmrds' ? nowRmrr.length === 0 : r.findings.some((f) => f.code === 'RMRR_RELAXED_BY_OPTION') || !r.verdicts.vfio.reasons.includes('RMRR_DIRECT');
  const bootNote = rebooted === null ? ' (whether the host rebooted since is unknown: no boot id)' : '';
  if (fixed) {
    const what = p.kind === 'hpe-rmrds' ? 'no RMRR names the device any more' : 'the kernel relaxes its RMRR';
    if (o.apply) {
      const sd = StateDir.open(dir, true)!;
      const release = acquireLock(sd);
      try {
        writeHistory(sd, p, 'verified', now);
        if (readPending(dir)) clearPending(sd);
      } finally {
        release();
      }
      io.out(`Verified: ${what}${bootNote}. The record is archived in history.\n`);
    } else io.out(`Verified: ${what}${bootNote}. (Nothing was written; \`assignable fix --verify --apply\` archives the record.)\n`);
    return EXIT.OK;
  }
  io.out(`Not fixed: ${p.kind === 'hpe-rmrds' ? 'an RMRR still names the device' : 'the kernel does not relax its RMRR'}.${rebooted ? ' The host has rebooted: check the setting with conrep -s.' : bootNote}\n`);
  return EXIT.BLOCKED;
}

function runRollback(io: Io, o: FixOptions, backupArg: string | null, dir: string, root: string, runner: Runner, now: Date): ExitCode {
  const sd0 = StateDir.open(dir, false);
  const p = sd0 ? (readPending(dir) ?? lastChange(dir)) : null;
  const backup = backupArg ?? p?.backup ?? null;
  if (!backup) throw new UsageError(`no change recorded in ${dir}: give the backup to restore (fix --rollback BACKUP)`);
  // The backup's sidecar, not the last record, says what it is a backup of.
  const { data, meta } = readBackup(backup, root);
  const of = meta.of;
  if (!o.apply) {
    const target = of.kind === 'file' ? `put ${backup} back as ${of.path} (byte for byte), then ${updateFor(of.path).join(' ')}` : `load the settings of ${backup} that differ now with conrep, then read back`;
    io.out(`Rollback plan: ${target}.\nNothing has been changed. To do it: assignable fix --rollback ${backup} --apply\n`);
    return EXIT.OK;
  }
  const sd = StateDir.open(dir, true)!;
  const release = acquireLock(sd);
  const record: PendingChange =
    p && p.backup === backup
      ? p
      : { schema: 'assignable/pending/v2', state: 'applied', kind: of.kind === 'file' ? 'kernel-cmdline' : 'hpe-rmrds', device: p?.device ?? 'unknown', backup, ...(of.kind === 'file' ? { file: of.path } : {}), appliedAt: meta.takenAt, bootId: meta.bootId, before: { rmrr: [], verdicts: {} }, tool: `assignable ${VERSION}` };
  try {
    let message: string;
    if (of.kind === 'hpe-rmrds') {
      let settings: ConrepSettings;
      try {
        settings = parseConrepSettings(data.toString('utf8'));
      } catch (e) {
        throw new SourceError('usage', backup, `${backup} is not a conrep settings file: ${(e as Error).message}`);
      }
      const ctx = conrepContext(o, null, sd, root, runner, now, of.schema);
      const res = rollbackRmrds(settings, backup, ctx, record);
      message = res.restored.length ? `Restored ${res.restored.join(', ')} from ${backup}; the read-back matches. Reboot for the firmware to use it.` : `Nothing to restore: the settings already match ${backup}.`;
    } else {
      const res = rollbackRelaxRmrr(of.path, data, backup, { root, sd, runner, now }, record);
      message = `${res.changed ? 'Restored' : 'Already as backed up:'} ${of.path} from ${backup} and ran ${updateFor(of.path).join(' ')}. Reboot to use it.`;
    }
    try {
      writeHistory(sd, record, 'rolled-back', now);
      if (readPending(dir)) clearPending(sd);
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      io.err(`assignable: the rollback took, but recording it failed: ${e.message}; \`assignable fix --verify --apply\` settles the record\n`);
      return EXIT.APPLY_UNKNOWN;
    }
    crashPoint('after-record');
    io.out(message + '\n');
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ApplyError) return applyFailed(io, e.message, e.firmware);
    if (e instanceof KernelApplyError) return applyFailed(io, e.message, e.state);
    throw e;
  } finally {
    release();
  }
}

