/**
 * The kernel remedy when firmware cannot help: intel_iommu=on,relax_rmrr on kernels that
 * have it (Proxmox VE from 6.2.16-13-pve). Edits the bootloader's command line — GRUB's
 * /etc/default/grub, or /etc/kernel/cmdline for systemd-boot and proxmox-boot-tool —
 * backed up, read back, reversible. Planning is pure; applying goes through a Runner.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ok, outcome, tail, type Runner, type RunResult } from '../runner.js';
import { ensureDir, stamp } from '../state.js';

export const RELAX_WARNING = 'Intel-IOMMU: assuming all RMRRs are relaxable. This can lead to instability or data loss';

export interface KernelPlan {
  kind: 'kernel-relax-rmrr';
  device: string;
  bootloader: 'systemd-boot' | 'grub';
  /** Path of the file under the host root, e.g. /etc/kernel/cmdline. */
  file: string;
  before: string;
  after: string;
  /** The command that makes the bootloader use it. */
  update: string[];
  warning: string;
}

/** Add relax_rmrr to intel_iommu= in a command line, keeping every other word. */
export function addRelaxRmrr(cmdline: string): string {
  const words = cmdline.trim().split(/\s+/).filter(Boolean);
  const i = words.findIndex((w) => w.startsWith('intel_iommu='));
  if (i < 0) return [...words, 'intel_iommu=on,relax_rmrr'].join(' ');
  const opts = words[i]!.slice('intel_iommu='.length).split(',').filter((o) => o !== '' && o !== 'off');
  if (!opts.includes('on')) opts.unshift('on');
  if (!opts.includes('relax_rmrr')) opts.push('relax_rmrr');
  words[i] = `intel_iommu=${opts.join(',')}`;
  return words.join(' ');
}

const GRUB_LINE = /^(\s*GRUB_CMDLINE_LINUX_DEFAULT=)(["']?)(.*?)\2\s*$/m;

/**
 * Plan from the bootloader files' contents (null where the file does not exist).
 * systemd-boot (Proxmox ZFS/UEFI) wins when /etc/kernel/cmdline exists, as proxmox-boot-tool does.
 */
export function planRelaxRmrr(device: string, files: { kernelCmdline: string | null; defaultGrub: string | null }): KernelPlan | { problem: string } {
  if (files.kernelCmdline !== null) {
    const line = files.kernelCmdline.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
    const after = addRelaxRmrr(line) + '\n';
    return { kind: 'kernel-relax-rmrr', device, bootloader: 'systemd-boot', file: '/etc/kernel/cmdline', before: files.kernelCmdline, after, update: ['proxmox-boot-tool', 'refresh'], warning: RELAX_WARNING };
  }
  if (files.defaultGrub !== null) {
    const m = GRUB_LINE.exec(files.defaultGrub);
    let after: string;
    if (m) after = files.defaultGrub.replace(GRUB_LINE, (_all, head: string, q: string, value: string) => `${head}${q || '"'}${addRelaxRmrr(value)}${q || '"'}`);
    else after = files.defaultGrub.replace(/\n?$/, '\n') + 'GRUB_CMDLINE_LINUX_DEFAULT="intel_iommu=on,relax_rmrr"\n';
    return { kind: 'kernel-relax-rmrr', device, bootloader: 'grub', file: '/etc/default/grub', before: files.defaultGrub, after, update: ['update-grub'], warning: RELAX_WARNING };
  }
  return { problem: 'neither /etc/kernel/cmdline (systemd-boot, proxmox-boot-tool) nor /etc/default/grub (GRUB) exists: add intel_iommu=on,relax_rmrr to your bootloader\'s kernel command line by hand' };
}

export class KernelApplyError extends Error {
  override readonly name = 'KernelApplyError';
  constructor(
    message: string,
    readonly restored: boolean,
    readonly transcript: RunResult[],
  ) {
    super(message);
  }
}

function atomicWrite(path: string, text: string): void {
  const tmp = join(dirname(path), `.${Date.now()}.assignable.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Back up, write, read back, refresh the bootloader; on failure put the file back. */
export function applyRelaxRmrr(plan: KernelPlan, root: string, stateDir: string, runner: Runner, now: Date): { backup: string; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  const path = join(root, plan.file);
  const current = readFileSync(path, 'utf8');
  if (current !== plan.before) throw new KernelApplyError(`${plan.file} changed since the plan was made; run fix again`, false, transcript);
  ensureDir(join(stateDir, 'backups'));
  const backup = join(stateDir, 'backups', `${stamp(now)}-${plan.file.replace(/\//g, '_')}`);
  writeFileSync(backup, current);
  const restore = (why: string): never => {
    atomicWrite(path, current);
    throw new KernelApplyError(`${why}; ${plan.file} was restored from ${backup}`, true, transcript);
  };
  atomicWrite(path, plan.after);
  if (readFileSync(path, 'utf8') !== plan.after) restore(`${plan.file} did not read back as written`);
  const r = runner.run(plan.update[0]!, plan.update.slice(1));
  transcript.push(r);
  if (!ok(r)) {
    atomicWrite(path, current);
    const r2 = runner.run(plan.update[0]!, plan.update.slice(1));
    transcript.push(r2);
    throw new KernelApplyError(`${plan.update.join(' ')} failed (${outcome(r)}: ${tail(r)}); ${plan.file} was restored from ${backup}${ok(r2) ? ' and the bootloader refreshed again' : `, but refreshing the bootloader again failed too (${outcome(r2)}): run ${plan.update.join(' ')} by hand`}`, true, transcript);
  }
  return { backup, transcript };
}

/** `fix --rollback` for the kernel remedy: the file from its backup, then refresh. */
export function rollbackRelaxRmrr(file: string, backup: string, root: string, runner: Runner, update: string[]): RunResult[] {
  const path = join(root, file);
  atomicWrite(path, readFileSync(backup, 'utf8'));
  const r = runner.run(update[0]!, update.slice(1));
  if (!ok(r)) throw new KernelApplyError(`${file} restored, but ${update.join(' ')} failed (${outcome(r)}): run it by hand`, true, [r]);
  return [r];
}
