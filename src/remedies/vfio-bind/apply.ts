/**
 * `bind --apply`: runtime binding through sysfs and persistent binding through modprobe.d /
 * udev, by the write contract (../write.ts). Runtime, per function: driver_override ←
 * vfio-pci, unbind from its driver, drivers_probe, read the `driver` link back; any failure
 * puts the functions done so far back on their drivers. Persistent: backup with sidecar,
 * intent record, atomic replace, read-back, initramfs refresh; on failure the files are put
 * back. The record (vfio-bind-ADDRESS.json in the state directory) is written before acting,
 * so `--unbind --apply` can put things back after a crash.
 */
import { readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SourceError } from '../../sources/errors.js';
import { ok, outcome, tail, type Runner, type RunResult } from '../runner.js';
import { stamp } from '../state.js';
import { bootIdOf, crashPoint, effectiveUid, lstatOrNull, readNoFollow, removeFile, replaceAtomic, resolveWithin, StateDir, WriteError, writeAttribute, writeSidecar } from '../write.js';
import { toBind, VFIO_DRIVER, type BindPlan } from './plan.js';
import type { BindEntry, FileEdit } from './persist.js';

/** How attributes are written: the kernel's sysfs (write.ts); tests wrap it with a fake kernel. */
export interface AttrWriter {
  write(path: string, value: string): void;
}
export const sysfsAttr: AttrWriter = { write: writeAttribute };

export interface BindContext {
  root: string;
  sd: StateDir;
  runner: Runner;
  now: Date;
  attr: AttrWriter;
  tool: string;
}

export class BindApplyError extends Error {
  override readonly name = 'BindApplyError';
  constructor(
    message: string,
    readonly state: 'unchanged' | 'restored' | 'unknown',
    readonly transcript: RunResult[] = [],
  ) {
    super(message);
  }
}

export interface FunctionRecord {
  address: string;
  /** Driver before the bind (null: none). */
  driver: string | null;
  /** driver_override before (null: unset). */
  override: string | null;
}

export interface BindRecord {
  schema: 'assignable/vfio-bind/v1';
  /** intent: about to bind (may be partly done); bound: done and read back; unbind-intent: putting back. */
  state: 'intent' | 'bound' | 'unbind-intent' | 'unbound';
  device: string;
  functions: FunctionRecord[];
  persistent?: { files: Array<{ path: string; backup: string | null }>; refresh: string[][]; state: 'intent' | 'written' };
  at: string;
  bootId: string | null;
  tool: string;
}

export const recordName = (device: string) => `vfio-bind-${device.replace(/:/g, '_')}.json`;

/** One record per set of functions, whichever of them was named: keyed by the lowest endpoint address. */
export const recordKey = (p: BindPlan) => p.functions.find((f) => f.action !== 'leave-bridge')?.address ?? p.device;

export function readRecord(sd: StateDir | null, device: string): BindRecord | null {
  if (!sd) return null;
  const path = sd.file(recordName(device));
  if (lstatOrNull(path) === null) return null;
  let r: BindRecord;
  try {
    r = JSON.parse(readNoFollow(path).toString('utf8')) as BindRecord;
  } catch (e) {
    throw new SourceError('usage', path, `${path} is not a bind record: ${(e as Error).message}`);
  }
  if (r?.schema !== 'assignable/vfio-bind/v1' || !Array.isArray(r.functions)) throw new SourceError('usage', path, `${path} is not an assignable/vfio-bind/v1 record`);
  return r;
}

function writeRecord(ctx: BindContext, r: BindRecord, event: string): void {
  replaceAtomic(ctx.sd.file(recordName(r.device)), JSON.stringify(r, null, 2) + '\n');
  // History names never end in -applied/-intent: those are the fix's records (state.ts lastChange).
  ctx.sd.create('history', `${stamp(ctx.now)}-vfio-bind-${event}.json`, JSON.stringify({ event, ...r }, null, 2) + '\n');
}

/** The runtime bind is over: archive the record, or keep it for its boot-time files. */
function closeRecord(ctx: BindContext, r: BindRecord, event: string): void {
  if (r.persistent?.state === 'written') {
    writeRecord(ctx, { ...r, state: 'unbound', functions: [] }, event);
    return;
  }
  writeRecord(ctx, { ...r, state: 'unbound' }, event);
  removeFile(ctx.sd.file(recordName(r.device)));
}

// ---- sysfs paths under the root -------------------------------------------------------------------

const devDir = (root: string, a: string) => resolveWithin(root, `/sys/bus/pci/devices/${a}`);
const driverDir = (root: string, drv: string) => resolveWithin(root, `/sys/bus/pci/drivers/${drv}`);

/** The driver a function is bound to now: the `driver` link's last component (null: none). */
export function currentDriver(root: string, a: string): string | null {
  try {
    return basename(readlinkSync(join(devDir(root, a), 'driver')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SourceError('io', join(devDir(root, a), 'driver'), `cannot read the driver link of ${a}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

/** driver_override now; null when unset (the kernel shows "(null)"). */
function currentOverride(path: string): string | null {
  const t = readNoFollow(path).toString('utf8').trim();
  return t === '' || t === '(null)' ? null : t;
}

/** An attribute that must be there as the kernel makes it: a regular file, not a link. */
function attribute(path: string, what: string): string {
  const st = lstatOrNull(path);
  if (st === null) throw new SourceError('not-found', path, `${path} does not exist: ${what}`);
  if (st.isSymbolicLink()) throw new SourceError('io', path, `${path} is a symbolic link, not a sysfs attribute: refused`);
  if (!st.isFile()) throw new SourceError('not-a-file', path, `${path} is not a sysfs attribute`);
  return path;
}

function byHandRestore(f: FunctionRecord): string {
  return `echo ${f.override ?? "''"} > /sys/bus/pci/devices/${f.address}/driver_override; ${f.driver ? `echo ${f.address} > /sys/bus/pci/drivers/${f.driver}/bind` : `echo ${f.address} > /sys/bus/pci/drivers_probe`}`;
}

/** Put one function back: override as it was, off vfio-pci, onto its driver; read back. */
function restoreFunction(ctx: BindContext, f: FunctionRecord): void {
  const dir = devDir(ctx.root, f.address);
  ctx.attr.write(join(dir, 'driver_override'), (f.override ?? '') + '\n');
  const now = currentDriver(ctx.root, f.address);
  if (now !== null && now !== f.driver) ctx.attr.write(join(driverDir(ctx.root, now), 'unbind'), f.address);
  if (f.driver !== null && now !== f.driver) ctx.attr.write(join(driverDir(ctx.root, f.driver), 'bind'), f.address);
  const back = currentDriver(ctx.root, f.address);
  if (back !== f.driver) throw new Error(`${f.address} reads back bound to ${back ?? 'no driver'}, not ${f.driver ?? 'no driver'}`);
}

/** Put functions back in reverse order; the message says what is left to do by hand. */
function putBack(ctx: BindContext, done: FunctionRecord[], why: string, record: BindRecord): never {
  const failed: string[] = [];
  for (const f of [...done].reverse()) {
    try {
      restoreFunction(ctx, f);
    } catch (e) {
      failed.push(`${f.address}: ${(e as Error).message} — by hand: ${byHandRestore(f)}`);
    }
  }
  if (failed.length) throw new BindApplyError(`${why}; putting back FAILED for ${failed.join('; ')}`, 'unknown');
  let note = '';
  try {
    closeRecord(ctx, record, 'restored');
  } catch (e) {
    note = ` (the record could not be cleared: ${(e as Error).message})`;
  }
  throw new BindApplyError(`${why}; ${done.map((f) => f.address).join(', ') || 'nothing'} put back on ${[...new Set(done.map((f) => f.driver ?? 'no driver'))].join(', ') || 'their drivers'} and read back${note}`, done.length ? 'restored' : 'unchanged');
}

/** vfio-pci must be there to bind to: `modprobe vfio-pci` when its driver directory is absent. */
function ensureVfioDriver(ctx: BindContext): RunResult[] {
  const has = () => lstatOrNull(driverDir(ctx.root, VFIO_DRIVER))?.isDirectory() === true;
  if (has()) return [];
  const r = ctx.runner.run('modprobe', [VFIO_DRIVER]);
  if (!ok(r) || !has()) throw new BindApplyError(`the vfio-pci driver is not loaded and \`modprobe vfio-pci\` ${ok(r) ? 'did not load it' : `failed (${outcome(r)}: ${tail(r)})`}; nothing was changed`, 'unchanged', [r]);
  return [r];
}

/** Runtime bind of every function of the plan; returns what was bound. */
export function applyRuntime(plan: BindPlan, ctx: BindContext): { bound: string[]; transcript: RunResult[] } {
  const fns = toBind(plan);
  // Live state, checked before anything is written: the attributes are there, the drivers as planned.
  const recs: FunctionRecord[] = fns.map((f) => {
    const dir = devDir(ctx.root, f.address);
    const ov = attribute(join(dir, 'driver_override'), 'this kernel has no driver_override (before 3.16): bind it by hand');
    return { address: f.address, driver: currentDriver(ctx.root, f.address), override: currentOverride(ov) };
  });
  for (const r of recs) if (r.driver === VFIO_DRIVER) throw new BindApplyError(`${r.address} is already bound to vfio-pci (the plan is stale): nothing was changed, run bind again`, 'unchanged');
  attribute(resolveWithin(ctx.root, '/sys/bus/pci/drivers_probe'), 'this kernel has no drivers_probe');
  const key = recordKey(plan);
  const prior = readRecord(ctx.sd, key);
  // An interrupted bind holds the only copy of the original drivers: undo it before anything new.
  if (prior && prior.functions.length > 0) throw new BindApplyError(`a bind of ${key} is recorded (${prior.state}, ${prior.at}) in ${ctx.sd.file(recordName(key))}: run \`assignable bind ${plan.device} --unbind --apply\` first; nothing was changed`, 'unchanged');
  const transcript = ensureVfioDriver(ctx);
  const record: BindRecord = { schema: 'assignable/vfio-bind/v1', state: 'intent', device: key, functions: recs, at: ctx.now.toISOString(), bootId: bootIdOf(ctx.root), tool: ctx.tool, ...(prior?.persistent ? { persistent: prior.persistent } : {}) };
  writeRecord(ctx, record, 'bind-begun');
  crashPoint('before-load');
  const done: FunctionRecord[] = [];
  for (const f of recs) {
    const dir = devDir(ctx.root, f.address);
    done.push(f);
    try {
      ctx.attr.write(join(dir, 'driver_override'), `${VFIO_DRIVER}\n`);
      if (f.driver !== null) ctx.attr.write(join(driverDir(ctx.root, f.driver), 'unbind'), f.address);
      ctx.attr.write(resolveWithin(ctx.root, '/sys/bus/pci/drivers_probe'), f.address);
    } catch (e) {
      // Any failure once writing has begun puts back what was done, not only write errors.
      putBack(ctx, done, `binding ${f.address} failed: ${(e as Error).message}`, record);
    }
    if (done.length === 1) crashPoint('after-load');
    const now = currentDriver(ctx.root, f.address);
    if (now !== VFIO_DRIVER) putBack(ctx, done, `${f.address} did not bind to vfio-pci (its driver link reads ${now ?? 'no driver'} after drivers_probe; \`dmesg | tail\` says why)`, record);
  }
  crashPoint('after-readback');
  try {
    writeRecord(ctx, { ...record, state: 'bound' }, 'bound');
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    throw new BindApplyError(`${recs.map((f) => f.address).join(', ')} WERE bound to vfio-pci, but recording it failed: ${e.message}. To undo by hand: ${recs.map(byHandRestore).join('; ')}`, 'unknown', transcript);
  }
  crashPoint('after-record');
  return { bound: recs.map((f) => f.address), transcript };
}

/**
 * `--unbind`: every function of the record (or, without one, of the plan that is on vfio-pci)
 * back to its original driver; without a record the original is unknown, so the override is
 * cleared and the kernel probes for a driver again.
 */
export function applyUnbind(plan: BindPlan, record: BindRecord | null, ctx: BindContext): { restored: string[]; probed: string[] } {
  // A record of boot-time files only has no runtime bind to undo.
  const rt = record && record.functions.length > 0 ? record : null;
  const targets: FunctionRecord[] = rt ? rt.functions : plan.functions.filter((f) => f.action === 'already').map((f) => ({ address: f.address, driver: null, override: null }));
  const probed = rt ? [] : targets.map((t) => t.address);
  for (const t of targets) attribute(join(devDir(ctx.root, t.address), 'driver_override'), 'this kernel has no driver_override');
  const base: BindRecord = rt ?? { schema: 'assignable/vfio-bind/v1', state: 'bound', device: recordKey(plan), functions: targets, at: ctx.now.toISOString(), bootId: bootIdOf(ctx.root), tool: ctx.tool, ...(record?.persistent ? { persistent: record.persistent } : {}) };
  writeRecord(ctx, { ...base, state: 'unbind-intent' }, 'unbind-begun');
  crashPoint('before-load');
  for (const t of [...targets].reverse()) {
    const dir = devDir(ctx.root, t.address);
    try {
      if (probed.includes(t.address)) {
        ctx.attr.write(join(dir, 'driver_override'), '\n');
        const now = currentDriver(ctx.root, t.address);
        if (now === VFIO_DRIVER) ctx.attr.write(join(driverDir(ctx.root, VFIO_DRIVER), 'unbind'), t.address);
        ctx.attr.write(resolveWithin(ctx.root, '/sys/bus/pci/drivers_probe'), t.address);
        const back = currentDriver(ctx.root, t.address);
        if (back === VFIO_DRIVER) throw new Error(`${t.address} is still bound to vfio-pci`);
      } else restoreFunction(ctx, t);
    } catch (e) {
      throw new BindApplyError(`putting ${t.address} back failed: ${(e as Error).message}; by hand: ${byHandRestore(t)}`, 'unknown');
    }
  }
  crashPoint('after-readback');
  // The boot-time files stay: they are undone with --unbind --persistent.
  closeRecord(ctx, base, 'unbound');
  return { restored: targets.filter((t) => !probed.includes(t.address)).map((t) => t.address), probed };
}

// ---- persistent ----------------------------------------------------------------------------------

interface Target {
  edit: FileEdit;
  path: string;
  keep: { mode: number; uid: number; gid: number };
  current: Buffer | null;
}

/** Default mode of a new modprobe.d / udev rules file: readable by all, as the distributions ship them. */
const CONFIG_MODE = 0o644;

function targetOf(root: string, edit: FileEdit): Target {
  const path = resolveWithin(root, edit.path);
  const st = lstatOrNull(path);
  if (st !== null && !st.isFile()) throw new SourceError('not-a-file', path, `${edit.path} is not a regular file: refused`);
  const dir = lstatOrNull(join(path, '..'));
  if (!dir?.isDirectory()) throw new SourceError('not-found', path, `${join(edit.path, '..')} does not exist on this host: nothing was changed`);
  const current = st === null ? null : readNoFollow(path);
  if ((current === null ? null : current.toString('utf8')) !== edit.before) throw new BindApplyError(`${edit.path} changed since the plan was made; nothing was changed, run bind again`, 'unchanged');
  return { edit, path, current, keep: st ? { mode: st.mode, uid: st.uid, gid: st.gid } : { mode: CONFIG_MODE, uid: effectiveUid(), gid: process.getegid?.() ?? 0 } };
}

function writeEdit(t: Target, data: string | null): void {
  if (data === null) removeFile(t.path);
  else replaceAtomic(t.path, data, t.keep);
}

function readsBack(t: Target, data: string | null): boolean {
  const st = lstatOrNull(t.path);
  if (data === null) return st === null;
  return st !== null && readNoFollow(t.path).toString('utf8') === data;
}

/** Write the boot-time files with backups, refresh the initramfs; on failure put them back. */
export function applyPersistent(device: string, edits: FileEdit[], refresh: string[][], entries: BindEntry[], ctx: BindContext): { backups: string[]; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  const targets = edits.map((e) => targetOf(ctx.root, e));
  const files: Array<{ path: string; backup: string | null }> = [];
  for (const t of targets) {
    let backup: string | null = null;
    if (t.current !== null) {
      backup = ctx.sd.create('backups', `${stamp(ctx.now)}-${t.edit.path.replace(/\//g, '_')}`, t.current);
      writeSidecar(backup, { kind: 'file', path: t.edit.path }, ctx.root, ctx.now);
    }
    files.push({ path: t.edit.path, backup });
  }
  const prior = readRecord(ctx.sd, device);
  const record: BindRecord = { ...(prior ?? { schema: 'assignable/vfio-bind/v1', state: 'unbound', device, functions: [], bootId: bootIdOf(ctx.root), tool: ctx.tool }), at: ctx.now.toISOString(), persistent: { files, refresh, state: 'intent' } };
  writeRecord(ctx, record, 'persistent-begun');
  const byHand = () => files.map((f) => (f.backup ? `cp ${f.backup} ${f.path}` : `rm -f ${f.path}`)).concat(refresh.map((c) => c.join(' '))).join(' && ');
  const restore = (why: string, upTo: number): never => {
    try {
      for (const t of targets.slice(0, upTo)) {
        writeEdit(t, t.current === null ? null : t.current.toString('utf8'));
        if (!readsBack(t, t.current === null ? null : t.current.toString('utf8'))) throw new Error(`${t.edit.path} does not read back as before`);
      }
    } catch (e) {
      throw new BindApplyError(`${why}; putting the files back FAILED (${(e as Error).message}): ${byHand()}`, 'unknown', transcript);
    }
    return finish(why);
  };
  const finish = (why: string, state: 'unchanged' | 'restored' = 'restored'): never => {
    let note = '';
    try {
      const { persistent: _dropped, ...rest } = record;
      writeRecord(ctx, rest, state === 'unchanged' ? 'persistent-unchanged' : 'persistent-restored');
      if (!prior) removeFile(ctx.sd.file(recordName(device)));
    } catch (e) {
      note = ` (the record could not be updated: ${(e as Error).message})`;
    }
    throw new BindApplyError(`${why}; ${state === 'unchanged' ? 'nothing was changed' : `${files.map((f) => f.path).join(' and ')} put back`}${note}`, state, transcript);
  };
  crashPoint('before-load');
  for (const [i, t] of targets.entries()) {
    try {
      writeEdit(t, t.edit.after);
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      if (i === 0) finish(e.message, 'unchanged');
      restore(e.message, i);
    }
    if (!readsBack(t, t.edit.after)) restore(`${t.edit.path} did not read back as written`, i + 1);
  }
  crashPoint('after-load');
  for (const cmd of refresh) {
    const r = ctx.runner.run(cmd[0]!, cmd.slice(1));
    transcript.push(r);
    if (!ok(r)) {
      const why = `${cmd.join(' ')} failed (${outcome(r)}: ${tail(r)})`;
      try {
        for (const t of targets) writeEdit(t, t.current === null ? null : t.current.toString('utf8'));
      } catch (e) {
        throw new BindApplyError(`${why}; putting the files back FAILED (${(e as Error).message}): ${byHand()}`, 'unknown', transcript);
      }
      // The initramfs may hold the new files: rebuild it from the restored ones.
      for (const c of refresh) {
        const r2 = ctx.runner.run(c[0]!, c.slice(1));
        transcript.push(r2);
        if (!ok(r2)) throw new BindApplyError(`${why}; the files were put back, but ${c.join(' ')} failed again (${outcome(r2)}): run ${refresh.map((x) => x.join(' ')).join(' && ')} by hand`, 'unknown', transcript);
      }
      finish(why);
    }
  }
  crashPoint('after-readback');
  const done: BindRecord = { ...record, persistent: { files, refresh, state: 'written' } };
  try {
    if (entries.length === 0 && record.functions.length === 0) {
      writeRecord(ctx, done, 'persistent-removed');
      removeFile(ctx.sd.file(recordName(device)));
    } else writeRecord(ctx, done, 'persistent-written');
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    throw new BindApplyError(`${files.map((f) => f.path).join(' and ')} WERE written and the initramfs rebuilt, but recording it failed: ${e.message}. To undo: ${byHand()}`, 'unknown', transcript);
  }
  crashPoint('after-record');
  return { backups: files.map((f) => f.backup).filter((b): b is string => b !== null), transcript };
}
