/** `assignable fix`: plan (default), --apply, --verify, --rollback. Nothing is written without --apply. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSurvey, type DeviceReport, type Survey } from '../checks/index.js';
import { DecodeError } from '../firmware/errors.js';
import { applyRmrds, ApplyError, rollbackRmrds, type ConrepContext } from '../remedies/hpe-rmrds/apply.js';
import type { RmrdsPlan } from '../remedies/hpe-rmrds/plan.js';
import { builtinRmrdsSchemaText } from '../remedies/hpe-rmrds/rmrds.js';
import { findSection, parseConrepSchema } from '../remedies/hpe-rmrds/schema.js';
import { applyRelaxRmrr, KernelApplyError, rollbackRelaxRmrr, type KernelPlan } from '../remedies/kernel-cmdline/relax-rmrr.js';
import { decideFix, type FixDecision, type Method } from '../remedies/fix.js';
import { findExecutable, systemRunner, type Runner } from '../remedies/runner.js';
import { acquireLock, clearPending, lastChange, LockHeld, readPending, stateDir, writePending, type PendingChange } from '../remedies/state.js';
import { findDevices } from '../report/survey.js';
import { toJson } from '../report/json.js';
import { SourceError } from '../sources/errors.js';
import { realFs, type Fs } from '../sources/fs.js';
import { VERSION } from '../version.js';
import { EXIT, type ExitCode } from './exit.js';
import { loadHost, type HostSourceOptions } from './host-commands.js';
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
  return ['capture', 'lspci', 'acpidump', 'dmar', 'ivrs', 'dmidecode', 'cmdline', 'kernel', 'dmesg'].some((k) => (o as Record<string, unknown>)[k] !== undefined);
}

function readIfExists(fs: Fs, path: string): string | null {
  try {
    return new TextDecoder().decode(fs.readFileSync(path));
  } catch {
    return null;
  }
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
    ...(p.verified ? [] : [`  UNVERIFIED on this generation (${p.generation ? `Gen${p.generation}` : 'unknown'}): HPE's advisory c04781229 covers Gen8 and Gen9. --apply also needs --force.`]),
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

function bootId(root: string, fs: Fs): string | null {
  return readIfExists(fs, join(root, 'proc/sys/kernel/random/boot_id'))?.trim() ?? null;
}

function conrepContext(o: FixOptions, plan: RmrdsPlan | null, dir: string, runner: Runner, now: Date): ConrepContext {
  const conrep = o.conrep ? (existsSync(o.conrep) ? o.conrep : null) : findExecutable(CONREP_NAMES);
  if (!conrep) {
    throw new SourceError('not-found', o.conrep ?? 'conrep', `${o.conrep ? `${o.conrep} does not exist` : 'conrep not found (looked for conrep, hp-conrep, /opt/hp/hp-scripting-tools/bin/conrep)'}: install HPE's Scripting Toolkit (Debian/Ubuntu: the hp-scripting-tools package from https://downloads.linux.hpe.com/SDR/repo/stk/) or give --conrep PATH`);
  }
  let schemaPath = o.schema ?? (existsSync(HPE_SCHEMA_PATH) ? HPE_SCHEMA_PATH : null);
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
    // Without HPE's file, write our definitions where conrep can read them.
    schemaPath = join(dir, 'conrep_rmrds-builtin.xml');
    writeFileSync(schemaPath, builtinRmrdsSchemaText());
  }
  return { runner, conrep, schemaPath, stateDir: dir, now };
}

function pendingBefore(r: DeviceReport): PendingChange['before'] {
  return { rmrr: (r.device.rmrr ?? []).map((h) => ({ base: '0x' + h.base.toString(16), limit: '0x' + h.limit.toString(16) })), verdicts: r.verdicts };
}

export function runFix(io: Io, device: string | undefined, o: FixOptions, fs: Fs = realFs, runner: Runner = systemRunner, now = new Date()): ExitCode {
  const modes = [o.verify, o.rollback !== undefined && o.rollback !== false, device !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give a DEVICE to fix, or --verify, or --rollback [BACKUP]');
  if (o.method !== undefined && o.method !== 'rmrds' && o.method !== 'relax-rmrr') throw new UsageError(`--method ${o.method}: choose rmrds (HPE firmware) or relax-rmrr (kernel)`);
  const dir = stateDir(o.stateDir);
  const root = o.root ?? '/';
  if (o.apply && isCapture(o)) throw new UsageError('--apply changes the host it runs on; it cannot be combined with a capture');
  if (o.verify) return runVerify(io, o, dir, root, fs);
  if (o.rollback !== undefined && o.rollback !== false) return runRollback(io, o, typeof o.rollback === 'string' ? o.rollback : null, dir, root, runner, now);

  const sv = runSurvey(loadHost(o, fs));
  const r = pickDevice(sv, device!);
  const kernelFiles = isCapture(o) ? null : { kernelCmdline: readIfExists(fs, join(root, 'etc/kernel/cmdline')), defaultGrub: readIfExists(fs, join(root, 'etc/default/grub')) };
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
  const release = lockOrFail(dir);
  try {
    if (x.chosen.kind === 'hpe-rmrds') return applyFirmware(io, x.chosen, o, r, dir, root, fs, runner, now);
    return applyKernel(io, x.chosen, r, dir, root, fs, runner, now);
  } finally {
    release();
  }
}

function applyFirmware(io: Io, plan: RmrdsPlan, o: FixOptions, r: DeviceReport, dir: string, root: string, fs: Fs, runner: Runner, now: Date): ExitCode {
  if (!plan.verified && !o.force) throw new UsageError(`the RMRDS fix is unverified on ${plan.generation ? `Gen${plan.generation}` : 'this generation'} (HPE documents Gen8 and Gen9): add --force to apply it anyway`);
  const ctx = conrepContext(o, plan, dir, runner, now);
  io.err(`assignable: backing up the settings, then setting ${plan.section} = ${plan.value} with ${ctx.conrep} (schema ${ctx.schemaPath})\n`);
  try {
    const res = applyRmrds(plan, ctx);
    for (const n of res.notes) io.err(`assignable: note: ${n}\n`);
    if (res.status === 'already') {
      io.out(`${plan.section} is already ${plan.value}. Nothing was written. If ${r.device.address} is still in an RMRR, reboot; then: assignable fix --verify\n`);
      return EXIT.OK;
    }
    writePending(dir, {
      schema: 'assignable/pending/v1',
      kind: 'hpe-rmrds',
      device: r.device.address,
      sections: res.sections,
      backup: res.backup,
      after: res.after ?? undefined,
      appliedAt: now.toISOString(),
      bootId: bootId(root, fs),
      before: pendingBefore(r),
      tool: `assignable ${VERSION}`,
    });
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

function applyFailed(io: Io, message: string, firmware: 'unchanged' | 'restored' | 'unknown'): ExitCode {
  io.err(`assignable: ${message}\n`);
  return firmware === 'unknown' ? EXIT.APPLY_UNKNOWN : EXIT.APPLY_FAILED;
}

function applyKernel(io: Io, plan: KernelPlan, r: DeviceReport, dir: string, root: string, fs: Fs, runner: Runner, now: Date): ExitCode {
  try {
    const res = applyRelaxRmrr(plan, root, dir, runner, now);
    writePending(dir, { schema: 'assignable/pending/v1', kind: 'kernel-cmdline', device: r.device.address, file: plan.file, backup: res.backup, appliedAt: now.toISOString(), bootId: bootId(root, fs), before: pendingBefore(r), tool: `assignable ${VERSION}` });
    io.out([`Done: ${plan.file} now has intel_iommu=on,relax_rmrr; ${plan.update.join(' ')} ran.`, `Backup: ${res.backup}`, 'Reboot, then: assignable fix --verify', `To undo: assignable fix --rollback ${res.backup} --apply`].join('\n') + '\n');
    return EXIT.OK;
  } catch (e) {
    if (e instanceof KernelApplyError) return applyFailed(io, e.message, e.restored ? 'restored' : 'unchanged');
    throw e;
  }
}

function runVerify(io: Io, o: FixOptions, dir: string, root: string, fs: Fs): ExitCode {
  const p = readPending(dir) ?? lastChange(dir);
  if (!p) {
    io.out(`No change recorded in ${dir}: nothing to verify.\n`);
    return EXIT.OK;
  }
  const sv = runSurvey(loadHost(o, fs));
  const r = sv.devices.find((x) => x.device.address === p.device);
  if (!r) throw new UsageError(`${p.device}, changed on ${p.appliedAt}, is not on this host now`);
  const rebooted = p.bootId === null || isCapture(o) ? null : bootId(root, fs) !== p.bootId;
  const now = { rmrr: (r.device.rmrr ?? []).map((h) => `0x${h.base.toString(16)}-0x${h.limit.toString(16)}`), verdicts: r.verdicts };
  const beforeRmrr = [...new Set(p.before.rmrr.map((x) => `${x.base}-${x.limit}`))];
  const nowRmrr = [...new Set(now.rmrr)];
  const col = (s: string) => s.padEnd(44);
  const lines = [`${p.device}  (${p.kind === 'hpe-rmrds' ? p.sections?.map((s) => `${s.name} ${s.before} → ${s.after}`).join(', ') : `${p.file}: intel_iommu=on,relax_rmrr`}, applied ${p.appliedAt})`, `${''.padEnd(6)}${col('before')}now`];
  lines.push(`${'RMRR'.padEnd(6)}${col(beforeRmrr.length ? `${beforeRmrr.length} range(s)` : 'none')}${nowRmrr.length ? `${nowRmrr.length} range(s)` : 'none'}`);
  for (const t of ['vfio', 'dda', 'esxi'] as const) {
    const b = p.before.verdicts[t];
    const n = now.verdicts[t];
    lines.push(`${t.padEnd(6)}${col(`${b?.status ?? '?'}${b?.reasons.length ? ` (${b.reasons.join(', ')})` : ''}`)}${n.status}${n.reasons.length ? ` (${n.reasons.join(', ')})` : ''}`);
  }
  io.out(lines.join('\n') + '\n');
  const fixed = p.kind === 'hpe-rmrds' ? nowRmrr.length === 0 : r.findings.some((f) => f.code === 'RMRR_RELAXED_BY_OPTION') || !r.verdicts.vfio.reasons.includes('RMRR_DIRECT');
  if (fixed) {
    clearPending(dir);
    io.out(`Verified: ${p.kind === 'hpe-rmrds' ? 'no RMRR names the device any more' : 'the kernel relaxes its RMRR'}.\n`);
    return EXIT.OK;
  }
  io.out(rebooted === false ? 'Not rebooted since the change (same boot id): the firmware applies it at the next boot.\n' : `Not fixed: ${p.kind === 'hpe-rmrds' ? 'an RMRR still names the device' : 'the kernel does not relax its RMRR'}.${rebooted ? ' The host has rebooted: check the setting with conrep -s.' : ''}\n`);
  return EXIT.BLOCKED;
}

function runRollback(io: Io, o: FixOptions, backupArg: string | null, dir: string, root: string, runner: Runner, now: Date): ExitCode {
  const p = readPending(dir) ?? lastChange(dir);
  const backup = backupArg ?? p?.backup ?? null;
  if (!backup) throw new UsageError(`no change recorded in ${dir}: give the backup to restore (fix --rollback BACKUP)`);
  const kind: PendingChange['kind'] = p && p.backup === backup ? p.kind : /\.dat$/.test(backup) ? 'hpe-rmrds' : 'kernel-cmdline';
  if (kind === 'hpe-rmrds') {
    const sections = p && p.backup === backup && p.sections ? p.sections.map((s) => s.name) : sectionsIn(backup);
    if (!o.apply) {
      io.out(`Rollback plan: load ${sections.join(', ')} from ${backup} with conrep, then read back.\nNothing has been changed. To do it: assignable fix --rollback ${backup} --apply\n`);
      return EXIT.OK;
    }
    const release = lockOrFail(dir);
    try {
      const ctx = conrepContext(o, null, dir, runner, now);
      const res = rollbackRmrds(sections, backup, ctx);
      clearPending(dir);
      io.out(res.restored.length ? `Restored ${res.restored.join(', ')} from ${backup}; the read-back matches. Reboot for the firmware to use it.\n` : `Nothing to restore: the settings already match ${backup}.\n`);
      return EXIT.OK;
    } catch (e) {
      if (e instanceof ApplyError) return applyFailed(io, e.message, e.firmware);
      throw e;
    } finally {
      release();
    }
  }
  const file = p?.file ?? '/etc/kernel/cmdline';
  const update = file === '/etc/default/grub' ? ['update-grub'] : ['proxmox-boot-tool', 'refresh'];
  if (!o.apply) {
    io.out(`Rollback plan: put ${backup} back as ${file}, then ${update.join(' ')}.\nNothing has been changed. To do it: assignable fix --rollback ${backup} --apply\n`);
    return EXIT.OK;
  }
  const release = lockOrFail(dir);
  try {
    rollbackRelaxRmrr(file, backup, root, runner, update);
    clearPending(dir);
    io.out(`Restored ${file} from ${backup} and ran ${update.join(' ')}. Reboot to use it.\n`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof KernelApplyError) return applyFailed(io, e.message, 'restored');
    throw e;
  } finally {
    release();
  }
}

function lockOrFail(dir: string): () => void {
  try {
    return acquireLock(dir);
  } catch (e) {
    if (e instanceof LockHeld) throw new SourceError('io', join(dir, 'lock'), e.message);
    throw e;
  }
}

/** The RMRDS sections of a backup that are Excluded-able: a rollback given only a file restores RMRDS settings. */
function sectionsIn(backup: string): string[] {
  let text: string;
  try {
    text = readFileSync(backup, 'utf8');
  } catch (e) {
    throw new SourceError('not-found', backup, `cannot read ${backup}: ${(e as Error).message}`);
  }
  const names = [...text.matchAll(/name="(RMRDS_Slot\d+)"/g)].map((m) => m[1]!);
  if (names.length === 0) throw new DecodeError('conrep settings', 1, 'Section', `${backup} holds no RMRDS_SlotN settings`, 'line');
  return names;
}

