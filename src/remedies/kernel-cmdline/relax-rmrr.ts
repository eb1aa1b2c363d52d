/**
 * The kernel remedy when firmware cannot help: intel_iommu=on,relax_rmrr on kernels that
 * have it (Proxmox VE from 6.2.16-13-pve). Edits the bootloader's command line — GRUB's
 * /etc/default/grub, or /etc/kernel/cmdline for systemd-boot and proxmox-boot-tool — by the
 * write contract (../write.ts): byte-exact backup with sidecar, intent record, atomic replace
 * keeping mode and owner (through a symbolic link, resolved inside the root), read-back,
 * bootloader refresh, record. Planning is pure and byte-preserving: file contents are latin1
 * strings (one char per byte), so every line the edit does not touch is written back as it was.
 */
import { join } from 'node:path';
import { ok, outcome, tail, type Runner, type RunResult } from '../runner.js';
import { clearPending, stamp, writeHistory, writePending, type PendingChange } from '../state.js';
import { bootIdOf, crashPoint, sha256, lstatOrNull, readNoFollow, replaceAtomic, resolveWithin, StateDir, WriteError, writeSidecar } from '../write.js';
import { SourceError } from '../../sources/errors.js';

export const RELAX_WARNING = 'Intel-IOMMU: assuming all RMRRs are relaxable. This can lead to instability or data loss';
const WANT = 'intel_iommu=on,relax_rmrr';

export interface KernelPlan {
  kind: 'kernel-relax-rmrr';
  device: string;
  bootloader: 'systemd-boot' | 'grub';
  /** Path of the file under the host root, e.g. /etc/kernel/cmdline. */
  file: string;
  /** Contents as latin1 (byte-exact). */
  before: string;
  after: string;
  /** The command that makes the bootloader use it. */
  update: string[];
  warning: string;
}

export interface KernelFiles {
  kernelCmdline: string | null;
  defaultGrub: string | null;
  /** /etc/default/grub.d/*.cfg, sourced after /etc/default/grub by grub-mkconfig. */
  grubDropIns?: Array<{ name: string; text: string }>;
}

/** Add relax_rmrr to intel_iommu= in a command line, keeping every other byte; null when it is ambiguous. */
function addRelaxInPlace(cmdline: string): { value: string } | { problem: string } {
  const hits = [...cmdline.matchAll(/(^|\s)intel_iommu=(\S*)/g)];
  if (hits.length > 1) return { problem: `intel_iommu= is given ${hits.length} times; merge them by hand` };
  if (hits.length === 0) {
    const m = /\s*$/.exec(cmdline)!;
    const head = cmdline.slice(0, m.index);
    return { value: head === '' ? WANT + m[0] : `${head} ${WANT}${m[0]}` };
  }
  const h = hits[0]!;
  const opts = h[2]!.split(',').filter((o) => o !== '' && o !== 'off');
  if (!opts.includes('on')) opts.unshift('on');
  if (!opts.includes('relax_rmrr')) opts.push('relax_rmrr');
  const at = h.index! + h[1]!.length;
  return { value: cmdline.slice(0, at) + `intel_iommu=${opts.join(',')}` + cmdline.slice(at + 'intel_iommu='.length + h[2]!.length) };
}

/** Add relax_rmrr to intel_iommu= in a command line, keeping every other word. */
export function addRelaxRmrr(cmdline: string): string {
  const r = addRelaxInPlace(cmdline.trim());
  return 'value' in r ? r.value : cmdline;
}

/** Lines with their own line ends, so a file is rebuilt byte for byte. */
function lines(text: string): Array<{ body: string; eol: string }> {
  const parts = text.split(/(\r\n|\n|\r)/);
  const out: Array<{ body: string; eol: string }> = [];
  for (let i = 0; i < parts.length; i += 2) out.push({ body: parts[i]!, eol: parts[i + 1] ?? '' });
  return out;
}

const joinLines = (ls: Array<{ body: string; eol: string }>) => ls.map((l) => l.body + l.eol).join('');

/** systemd-boot: the line that carries the command line (the one with intel_iommu=, else the first). */
function planCmdline(text: string): { after: string } | { problem: string } {
  const ls = lines(text);
  const words = ls.filter((l) => l.body.trim() !== '' && !l.body.trim().startsWith('#'));
  if (words.length === 0) return { problem: '/etc/kernel/cmdline holds no command line: refusing to write one without root= (add intel_iommu=on,relax_rmrr to it by hand)' };
  const all = words.map((l) => l.body).join(' ');
  if ((all.match(/(^|\s)intel_iommu=/g) ?? []).length > 1) return { problem: '/etc/kernel/cmdline gives intel_iommu= more than once; merge them by hand' };
  const target = words.find((l) => /(^|\s)intel_iommu=/.test(l.body)) ?? words[0]!;
  const r = addRelaxInPlace(target.body);
  if ('problem' in r) return r;
  target.body = r.value;
  return { after: joinLines(ls) };
}

const GRUB_VAR = 'GRUB_CMDLINE_LINUX_DEFAULT';
const ASSIGN = /^(\s*(?:export\s+)?GRUB_CMDLINE_LINUX_DEFAULT=)(.*)$/;

/** The value of one assignment line, the way sh reads it — only the plain forms; anything else is refused. */
function parseAssignment(rhs: string): { value: string; quote: string; rest: string } | { problem: string } {
  let m = /^"([^"\\$`]*)"(\s*(?:#.*)?)$/.exec(rhs);
  if (m) return { value: m[1]!, quote: '"', rest: m[2]! };
  m = /^'([^']*)'(\s*(?:#.*)?)$/.exec(rhs);
  if (m) return { value: m[1]!, quote: "'", rest: m[2]! };
  m = /^([^\s"'$`\\#;|&<>()]*)((?:\s+#.*|\s*))$/.exec(rhs);
  if (m) return { value: m[1]!, quote: '', rest: m[2]! };
  return { problem: `${GRUB_VAR}=${rhs.length > 60 ? rhs.slice(0, 60) + '…' : rhs} is not a plain quoted value (variables, escapes or line continuations): edit it by hand` };
}

function effectiveGrub(text: string): { index: number; parsed: { value: string; quote: string; rest: string } } | { problem: string } | null {
  const ls = lines(text);
  let last: number | null = null;
  for (let i = 0; i < ls.length; i++) if (ASSIGN.test(ls[i]!.body)) last = i;
  if (last === null) return null;
  const parsed = parseAssignment(ASSIGN.exec(ls[last]!.body)![2]!);
  return 'problem' in parsed ? parsed : { index: last, parsed };
}

function planGrub(text: string, dropIns: Array<{ name: string; text: string }>): { after: string } | { problem: string } {
  const over = dropIns.filter((d) => d.text.split(/\r?\n/).some((l) => ASSIGN.test(l)));
  if (over.length > 0) return { problem: `/etc/default/grub.d/${over.at(-1)!.name} sets ${GRUB_VAR} after /etc/default/grub, so an edit there would have no effect: add intel_iommu=on,relax_rmrr in that file by hand` };
  const ls = lines(text);
  const eff = effectiveGrub(text);
  if (eff && 'problem' in eff) return eff;
  if (eff === null) {
    const eol = ls.find((l) => l.eol !== '')?.eol ?? '\n';
    const last = ls.at(-1);
    if (last && last.eol === '' && last.body !== '') last.eol = eol;
    else if (last && last.eol === '' && last.body === '') ls.pop();
    ls.push({ body: `${GRUB_VAR}="${WANT}"`, eol });
  } else {
    const line = ls[eff.index]!;
    const head = ASSIGN.exec(line.body)![1]!;
    const r = addRelaxInPlace(eff.parsed.value);
    if ('problem' in r) return r;
    const q = eff.parsed.quote || '"';
    line.body = `${head}${q}${r.value}${q}${eff.parsed.rest}`;
  }
  const after = joinLines(ls);
  // Never "Done" for an edit grub would not see: read the result back the way it will.
  const check = effectiveGrub(after);
  if (!check || 'problem' in check || !/(^|\s)intel_iommu=\S*relax_rmrr/.test(check.parsed.value)) return { problem: `the edited /etc/default/grub would not give ${GRUB_VAR} relax_rmrr: edit it by hand` };
  return { after };
}

/**
 * Plan from the bootloader files' contents (null where the file does not exist).
 * systemd-boot (Proxmox ZFS/UEFI) wins when /etc/kernel/cmdline exists, as proxmox-boot-tool does.
 */
export function planRelaxRmrr(device: string, files: KernelFiles): KernelPlan | { problem: string } {
  if (files.kernelCmdline !== null) {
    const r = planCmdline(files.kernelCmdline);
    if ('problem' in r) return r;
    return { kind: 'kernel-relax-rmrr', device, bootloader: 'systemd-boot', file: '/etc/kernel/cmdline', before: files.kernelCmdline, after: r.after, update: ['proxmox-boot-tool', 'refresh'], warning: RELAX_WARNING };
  }
  if (files.defaultGrub !== null) {
    const r = planGrub(files.defaultGrub, files.grubDropIns ?? []);
    if ('problem' in r) return r;
    return { kind: 'kernel-relax-rmrr', device, bootloader: 'grub', file: '/etc/default/grub', before: files.defaultGrub, after: r.after, update: ['update-grub'], warning: RELAX_WARNING };
  }
  return { problem: 'neither /etc/kernel/cmdline (systemd-boot, proxmox-boot-tool) nor /etc/default/grub (GRUB) exists: add intel_iommu=on,relax_rmrr to your bootloader\'s kernel command line by hand' };
}

/** The refresh that makes a bootloader read the file again. */
export function updateFor(file: string): string[] {
  return file === '/etc/default/grub' ? ['update-grub'] : ['proxmox-boot-tool', 'refresh'];
}

export class KernelApplyError extends Error {
  override readonly name = 'KernelApplyError';
  constructor(
    message: string,
    readonly state: 'unchanged' | 'restored' | 'unknown',
    readonly transcript: RunResult[],
  ) {
    super(message);
  }
}

export interface KernelContext {
  root: string;
  sd: StateDir;
  runner: Runner;
  now: Date;
}

/** The real file behind `file` inside the root, a regular file, with what to keep of it. */
function target(root: string, file: string): { path: string; keep: { mode: number; uid: number; gid: number } } {
  const path = resolveWithin(root, file);
  const st = lstatOrNull(path);
  if (st === null) throw new SourceError('not-found', path, `${file} does not exist${path !== join(root, file) ? ` (it links to ${path})` : ''}`);
  if (!st.isFile()) throw new SourceError('not-a-file', path, `${file} is not a regular file`);
  return { path, keep: { mode: st.mode, uid: st.uid, gid: st.gid } };
}

function byHand(backup: string, file: string, update: string[]): string {
  return `cp ${backup} ${file} && ${update.join(' ')}`;
}

/** Back up, record intent, write, read back, refresh the bootloader, record; on failure put the file back. */
export function applyRelaxRmrr(plan: KernelPlan, ctx: KernelContext, base: Pick<PendingChange, 'device' | 'before' | 'tool'>): { backup: string; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  const { path, keep } = target(ctx.root, plan.file);
  const current = readNoFollow(path);
  if (current.toString('latin1') !== plan.before) throw new KernelApplyError(`${plan.file} changed since the plan was made; nothing was changed, run fix again`, 'unchanged', transcript);
  const backup = ctx.sd.create('backups', `${stamp(ctx.now)}-${plan.file.replace(/\//g, '_')}`, current);
  writeSidecar(backup, { kind: 'file', path: plan.file }, ctx.root, ctx.now);
  const record: PendingChange = { schema: 'assignable/pending/v2', state: 'intent', kind: 'kernel-cmdline', ...base, file: plan.file, update: plan.update, afterSha256: sha256(Buffer.from(plan.after, 'latin1')), backup, appliedAt: ctx.now.toISOString(), bootId: bootIdOf(ctx.root) };
  writePending(ctx.sd, record);
  const settle = (event: string) => {
    try {
      writeHistory(ctx.sd, record, event, ctx.now);
      clearPending(ctx.sd);
      return '';
    } catch (e) {
      return ` (the record ${ctx.sd.file('pending.json')} could not be cleared: ${(e as Error).message})`;
    }
  };
  const putBack = (why: string): never => {
    try {
      replaceAtomic(path, current, keep);
      if (!readNoFollow(path).equals(current)) throw new Error('it does not read back as the backup');
    } catch (e) {
      throw new KernelApplyError(`${why}; putting ${plan.file} back FAILED (${(e as Error).message}): ${byHand(backup, plan.file, plan.update)}`, 'unknown', transcript);
    }
    throw new KernelApplyError(`${why}; ${plan.file} was restored from ${backup}${settle('restored')}`, 'restored', transcript);
  };

  crashPoint('before-load');
  try {
    replaceAtomic(path, Buffer.from(plan.after, 'latin1'), keep);
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    throw new KernelApplyError(`${e.message}; ${plan.file} is unchanged${settle('unchanged')}`, 'unchanged', transcript);
  }
  crashPoint('after-load');
  if (readNoFollow(path).toString('latin1') !== plan.after) putBack(`${plan.file} did not read back as written`);
  crashPoint('after-readback');
  const r = ctx.runner.run(plan.update[0]!, plan.update.slice(1));
  transcript.push(r);
  if (!ok(r)) {
    const why = `${plan.update.join(' ')} failed (${outcome(r)}: ${tail(r)})`;
    try {
      replaceAtomic(path, current, keep);
    } catch (e) {
      throw new KernelApplyError(`${why}; putting ${plan.file} back FAILED (${(e as Error).message}): ${byHand(backup, plan.file, plan.update)}`, 'unknown', transcript);
    }
    const r2 = ctx.runner.run(plan.update[0]!, plan.update.slice(1));
    transcript.push(r2);
    if (!ok(r2)) throw new KernelApplyError(`${why}; ${plan.file} was restored from ${backup}, but refreshing the bootloader again failed too (${outcome(r2)}): run ${plan.update.join(' ')} by hand`, 'unknown', transcript);
    throw new KernelApplyError(`${why}; ${plan.file} was restored from ${backup} and the bootloader refreshed again${settle('restored')}`, 'restored', transcript);
  }
  const applied: PendingChange = { ...record, state: 'applied' };
  try {
    writeHistory(ctx.sd, applied, 'applied', ctx.now);
    writePending(ctx.sd, applied);
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    throw new KernelApplyError(`${plan.file} WAS changed and ${plan.update.join(' ')} ran, but recording it failed: ${e.message}. To undo: ${byHand(backup, plan.file, plan.update)}`, 'unknown', transcript);
  }
  crashPoint('after-record');
  return { backup, transcript };
}

/** `fix --rollback` for the kernel remedy: the file its backup was taken from, byte-exact, then refresh. */
export function rollbackRelaxRmrr(file: string, data: Buffer, backupPath: string, ctx: KernelContext, record: PendingChange): { changed: boolean; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  const update = updateFor(file);
  const { path, keep } = target(ctx.root, file);
  const current = readNoFollow(path);
  const changed = !current.equals(data);
  if (changed) {
    const pre = ctx.sd.create('backups', `${stamp(ctx.now)}-rollback-${file.replace(/\//g, '_')}`, current);
    writeSidecar(pre, { kind: 'file', path: file }, ctx.root, ctx.now);
    writePending(ctx.sd, { ...record, state: 'rollback-intent', backup: backupPath });
    crashPoint('before-load');
    try {
      replaceAtomic(path, data, keep);
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      throw new KernelApplyError(`${e.message}; ${file} is unchanged (still as saved in ${pre})`, 'unchanged', transcript);
    }
    crashPoint('after-load');
    if (!readNoFollow(path).equals(data)) throw new KernelApplyError(`${file} does not read back as ${backupPath}: ${byHand(backupPath, file, update)}`, 'unknown', transcript);
    crashPoint('after-readback');
  }
  // The bootloader may have been refreshed with the changed file: refresh in any case.
  const r = ctx.runner.run(update[0]!, update.slice(1));
  transcript.push(r);
  if (!ok(r)) throw new KernelApplyError(`${file} is restored from ${backupPath}, but ${update.join(' ')} failed (${outcome(r)}: ${tail(r)}): run ${update.join(' ')} by hand`, 'unknown', transcript);
  return { changed, transcript };
}
