/**
 * The one write contract both remedies follow: the state directory is checked (ours, not
 * writable by others, no symbolic link anywhere on the way), files in it are created with
 * O_EXCL|O_NOFOLLOW under names never used before, replaced only by a temporary file in the
 * same directory + fsync + rename, and the directory is fsynced after every change. Files a
 * remedy edits (boot files) are replaced the same way, keeping mode and owner.
 *
 * The sequence every remedy runs (hpe-rmrds/apply.ts, kernel-cmdline/relax-rmrr.ts):
 *   backup (+ sidecar saying what it is of) → intent record → change → read-back → record.
 *
 * Test-only seams (environment; not user options, documented in README "Testing the write path"):
 *   ASSIGNABLE_TEST_CRASH_AT=STEP      SIGKILL ourselves at a named step (crashPoint)
 *   ASSIGNABLE_TEST_WRITE_FAULT=CODE:N the N-th write of this run fails with errno CODE
 *   ASSIGNABLE_TEST_EUID=UID           the effective uid the root / owner checks use
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { SourceError } from '../sources/errors.js';

/** Permission bits that let group or others write. */
const GROUP_OTHER_WRITE = 0o022;
const FILE_MODE = 0o600;
/** S_ISVTX: in a sticky directory only a file's owner may rename or remove it. */
const STICKY = 0o1000;
const DIR_MODE = 0o700;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
/** Bound on what we read back from our own state files and boot files. */
const MAX_READ = 16 * 1024 * 1024;

/** A write in the fix path failed: errno code and the path, for the README's table. */
export class WriteError extends SourceError {
  constructor(
    readonly code: string,
    path: string,
    what: string,
  ) {
    super(code === 'EACCES' || code === 'EPERM' ? 'permission' : 'io', path, `cannot ${what} ${path}: ${code}${hint(code)}`);
  }
}

function hint(code: string): string {
  if (code === 'ENOSPC') return ' (no space left on the device)';
  if (code === 'EROFS') return ' (read-only file system)';
  if (code === 'EACCES' || code === 'EPERM') return ' (permission denied)';
  if (code === 'ENOENT') return ' (no such file or directory)';
  if (code === 'ELOOP' || code === 'EEXIST') return ' (a symbolic link or another file is in the way)';
  return '';
}

// ---- test seams -------------------------------------------------------------------------

let writes = 0;
/** Start counting writes afresh (one CLI run). */
export function resetWriteCount(): void {
  writes = 0;
}

function fault(what: string, path: string): void {
  writes++;
  const spec = process.env.ASSIGNABLE_TEST_WRITE_FAULT;
  if (!spec) return;
  const [code, n] = spec.split(':');
  if (code && Number(n) === writes) throw new WriteError(code, path, what);
}

/** Named steps of apply and rollback where the crash tests kill the process. */
export type CrashStep = 'before-load' | 'after-load' | 'after-readback' | 'after-record';

export function crashPoint(step: CrashStep): void {
  if (process.env.ASSIGNABLE_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}

export function effectiveUid(): number {
  const t = process.env.ASSIGNABLE_TEST_EUID;
  if (t !== undefined && /^\d+$/.test(t)) return Number(t);
  return process.geteuid?.() ?? -1;
}

export function isRoot(): boolean {
  return effectiveUid() === 0;
}

// ---- low-level, no-follow operations ------------------------------------------------------

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EIO';
}

function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new WriteError(errno(e), dir, 'open the directory');
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some file systems do not sync directories (EINVAL); that is not a failed write.
    if (errno(e) !== 'EINVAL') throw new WriteError(errno(e), dir, 'sync the directory');
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: Uint8Array, path: string): void {
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    throw new WriteError(errno(e), path, 'write');
  }
}

const bytesOf = (data: Uint8Array | string) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** Create `path` new (never an existing name, never through a link), write, sync. */
export function createNew(path: string, data: Uint8Array | string, mode = FILE_MODE): void {
  fault('create', path);
  const bytes = bytesOf(data);
  let fd: number;
  try {
    fd = openSync(path, CREATE_NEW, mode);
  } catch (e) {
    throw new WriteError(errno(e), path, 'create');
  }
  try {
    writeAll(fd, bytes, path);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      /* best effort: the half-written file is ours */
    }
    throw e;
  }
  closeSync(fd);
  fsyncDir(dirname(path));
}

/**
 * `bytes` written and synced to a new temporary file beside `path` (never an existing name),
 * closed; its name. `keep` gives the mode and owner to carry over. Nothing is left on failure.
 */
function writeTemp(path: string, bytes: Uint8Array, keep?: { mode: number; uid: number; gid: number }): string {
  let tmp = '';
  let fd = -1;
  for (let i = 0; fd < 0; i++) {
    tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${i}.tmp`);
    try {
      fd = openSync(tmp, CREATE_NEW, FILE_MODE);
    } catch (e) {
      if (errno(e) !== 'EEXIST' || i > 100) throw new WriteError(errno(e), tmp, 'create');
    }
  }
  try {
    if (keep) {
      fchownSync(fd, keep.uid, keep.gid);
      fchmodSync(fd, keep.mode & 0o7777);
    }
    writeAll(fd, bytes, tmp);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(tmp);
    throw e instanceof WriteError ? e : new WriteError(errno(e), tmp, 'write');
  }
  closeSync(fd);
  return tmp;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}

/**
 * Create `path` new with its whole content at once: written and synced under a temporary name,
 * then hard-linked to `path` (link fails with EEXIST on any existing name, a link included, and
 * never follows one). Another process never sees `path` empty or half written, as it can between
 * createNew's open and write: what a lock file needs, whose content (a pid) decides whether it
 * is held.
 */
export function createNewWhole(path: string, data: Uint8Array | string): void {
  fault('create', path);
  const tmp = writeTemp(path, bytesOf(data));
  try {
    linkSync(tmp, path);
  } catch (e) {
    throw new WriteError(errno(e), path, 'create');
  } finally {
    unlinkQuietly(tmp);
  }
  fsyncDir(dirname(path));
}

/**
 * Replace `path` atomically: a new temporary file in the same directory, synced, renamed
 * over it (rename replaces a link planted at `path`, never writes through it). `keep` gives
 * the mode and owner to carry over.
 */
export function replaceAtomic(path: string, data: Uint8Array | string, keep?: { mode: number; uid: number; gid: number }): void {
  fault('replace', path);
  const tmp = writeTemp(path, bytesOf(data), keep);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkQuietly(tmp);
    throw new WriteError(errno(e), path, 'rename into place');
  }
  fsyncDir(dirname(path));
}

export function removeFile(path: string): void {
  fault('remove', path);
  try {
    unlinkSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw new WriteError(errno(e), path, 'remove');
  }
  fsyncDir(dirname(path));
}

/** Read a regular file without following a link at its name; bounded. */
export function readNoFollow(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, READ_NOFOLLOW);
  } catch (e) {
    const code = errno(e);
    throw new SourceError(code === 'ENOENT' ? 'not-found' : code === 'EACCES' ? 'permission' : 'io', path, `cannot read ${path}: ${code}${code === 'ELOOP' ? ' (a symbolic link: refused)' : hint(code)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SourceError('not-a-file', path, `${path} is not a regular file`);
    if (st.size > MAX_READ) throw new SourceError('too-large', path, `${path} is ${st.size} bytes, more than a state or boot file can be`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw new SourceError('io', path, `cannot stat ${path}: ${errno(e)}`);
  }
}

// ---- the state directory --------------------------------------------------------------------

function refuse(path: string, why: string): never {
  throw new SourceError('permission', path, `refusing the state directory: ${path} ${why}`);
}

/** A directory we may keep state in: a real directory, ours, not writable by group or others. */
function checkOwnDir(path: string, st: Stats): void {
  if (st.isSymbolicLink()) refuse(path, 'is a symbolic link');
  if (!st.isDirectory()) refuse(path, 'is not a directory');
  const uid = effectiveUid();
  if (st.uid !== uid) refuse(path, `is owned by uid ${st.uid}, not ${uid === 0 ? 'root' : `uid ${uid}`}`);
  if ((st.mode & GROUP_OTHER_WRITE) !== 0) refuse(path, `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

/** Every directory above the state directory: real directories, no link, not open to others unless sticky. */
function checkAncestors(dir: string): void {
  const parts = resolve(dir).split(sep).filter(Boolean);
  let p: string = sep;
  for (const part of parts.slice(0, -1)) {
    p = join(p, part);
    const st = lstatOrNull(p);
    if (st === null) return; // created below, by us
    if (st.isSymbolicLink()) refuse(dir, `has a symbolic link on its way (${p}); give the real path`);
    if (!st.isDirectory()) refuse(dir, `has a non-directory on its way (${p})`);
    if ((st.mode & GROUP_OTHER_WRITE) !== 0 && (st.mode & STICKY) === 0) refuse(dir, `lies under ${p}, which others may write to`);
  }
}

function makeDir(path: string): void {
  fault('mkdir', path);
  try {
    mkdirSync(path, { mode: DIR_MODE });
  } catch (e) {
    if (errno(e) !== 'EEXIST') throw new WriteError(errno(e), path, 'create the directory');
  }
  fsyncDir(dirname(path));
}

export const SUBDIRS = ['backups', 'history'] as const;

export class StateDir {
  private constructor(readonly path: string) {}

  /**
   * Open (and with `create`, make) the state directory: checks it and its subdirectories.
   * Returns null when it does not exist and `create` is false (read-only modes write nothing).
   */
  static open(dir: string, create: boolean): StateDir | null {
    const path = resolve(dir);
    checkAncestors(path);
    let st = lstatOrNull(path);
    if (st === null) {
      if (!create) return null;
      for (const a of ancestorsToCreate(path)) makeDir(a);
      makeDir(path);
      st = lstatOrNull(path);
      if (st === null) refuse(path, 'vanished after it was created');
    }
    checkOwnDir(path, st);
    for (const s of SUBDIRS) {
      const sp = join(path, s);
      let sst = lstatOrNull(sp);
      if (sst === null) {
        if (!create) continue;
        makeDir(sp);
        sst = lstatOrNull(sp);
        if (sst === null) refuse(sp, 'vanished after it was created');
      }
      checkOwnDir(sp, sst);
    }
    return new StateDir(path);
  }

  file(...names: string[]): string {
    return join(this.path, ...names);
  }

  /** A name in `sub` that no file has (for a program, conrep -s, to write into). */
  freshPath(sub: string | null, name: string): string {
    const d = sub ? join(this.path, sub) : this.path;
    for (let i = 0; ; i++) {
      const p = join(d, i === 0 ? name : name.replace(/(\.[a-z]+)?$/, `-${i}$1`));
      if (lstatOrNull(p) === null) return p;
    }
  }

  /** Create a new file under a name never used before; returns its path. */
  create(sub: string | null, name: string, data: Uint8Array | string): string {
    for (;;) {
      const p = this.freshPath(sub, name);
      try {
        createNew(p, data);
        return p;
      } catch (e) {
        if (e instanceof WriteError && e.code === 'EEXIST') continue; // raced: take the next name
        throw e;
      }
    }
  }
}

function ancestorsToCreate(path: string): string[] {
  const out: string[] = [];
  for (let p = dirname(path); p !== dirname(p) && lstatOrNull(p) === null; p = dirname(p)) out.unshift(p);
  return out;
}

// ---- backups and what they are of -----------------------------------------------------------

export interface HostIdentity {
  machineId: string | null;
  productUuid: string | null;
  productSerial: string | null;
}

export type BackupOf = { kind: 'hpe-rmrds'; sections: string[]; schema: string } | { kind: 'file'; path: string };

export interface BackupMeta {
  schema: 'assignable/backup/v1';
  of: BackupOf;
  host: HostIdentity;
  bootId: string | null;
  takenAt: string;
  sha256: string;
  bytes: number;
}

export const SIDECAR = '.meta.json';

function readSmall(path: string): string | null {
  try {
    const t = readNoFollow(path).toString('latin1').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

/** Who this host is, from what is readable (each field null when it is not). */
export function hostIdentity(root: string): HostIdentity {
  return {
    machineId: readSmall(join(root, 'etc/machine-id')),
    productUuid: readSmall(join(root, 'sys/class/dmi/id/product_uuid')),
    productSerial: readSmall(join(root, 'sys/class/dmi/id/product_serial')),
  };
}

export function bootIdOf(root: string): string | null {
  return readSmall(join(root, 'proc/sys/kernel/random/boot_id'));
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Write the sidecar of a backup already in place (conrep -s wrote it, or createNew). */
export function writeSidecar(backup: string, of: BackupOf, root: string, now: Date): BackupMeta {
  const data = readNoFollow(backup);
  const meta: BackupMeta = { schema: 'assignable/backup/v1', of, host: hostIdentity(root), bootId: bootIdOf(root), takenAt: now.toISOString(), sha256: sha256(data), bytes: data.length };
  createNew(backup + SIDECAR, JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/**
 * A backup and what it is of, checked: the sidecar exists, the bytes are the ones backed
 * up, and it was taken on this host (where both sides can tell). Mismatch → usage (exit 2).
 */
export function readBackup(backup: string, root: string): { data: Buffer; meta: BackupMeta } {
  const data = readNoFollow(backup);
  let meta: BackupMeta;
  try {
    meta = JSON.parse(readNoFollow(backup + SIDECAR).toString('utf8')) as BackupMeta;
  } catch (e) {
    if (e instanceof SourceError && e.kind === 'not-found') throw new SourceError('usage', backup, `${backup} has no ${basename(backup)}${SIDECAR} saying what it is a backup of: refusing to restore it anywhere`);
    throw new SourceError('usage', backup + SIDECAR, `${backup}${SIDECAR} is not a backup record (${e instanceof Error ? e.message : String(e)})`);
  }
  if (meta?.schema !== 'assignable/backup/v1' || !meta.of || (meta.of.kind !== 'file' && meta.of.kind !== 'hpe-rmrds')) throw new SourceError('usage', backup + SIDECAR, `${backup}${SIDECAR} is not an assignable/backup/v1 record`);
  if (meta.sha256 !== sha256(data)) throw new SourceError('usage', backup, `${backup} is not the file that was backed up (its SHA-256 differs from the one recorded in ${basename(backup)}${SIDECAR}): refusing`);
  const here = hostIdentity(root);
  for (const k of ['machineId', 'productUuid', 'productSerial'] as const) {
    const then = meta.host?.[k] ?? null;
    if (then !== null && here[k] !== null && then !== here[k]) throw new SourceError('usage', backup, `${backup} was taken on another host (${k} ${then}, this host ${here[k]}): refusing to restore it here`);
  }
  return { data, meta };
}

// ---- boot files: resolved inside the root, replaced keeping mode and owner -----------------------

/** Follow symbolic links of `rel` (a path like /etc/default/grub) inside `root`, as the host would see them. */
export function resolveWithin(root: string, rel: string): string {
  const base = resolve(root);
  let parts = rel.split('/').filter(Boolean);
  let cur = base;
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      cur = cur === base ? base : dirname(cur);
      continue;
    }
    const next = join(cur, part);
    const st = lstatOrNull(next);
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw new SourceError('io', join(root, rel), `${rel}: too many symbolic links`);
      const target = readlinkSync(next);
      parts = [...target.split('/').filter(Boolean), ...parts];
      cur = isAbsolute(target) ? base : cur;
      continue;
    }
    cur = next;
  }
  if (cur !== base && !cur.startsWith(base + sep) && base !== sep) throw new SourceError('io', rel, `${rel} resolves outside ${root}`);
  return cur;
}

// ---- sysfs attributes ------------------------------------------------------------------------------

/**
 * Write a sysfs attribute (driver_override, unbind, bind, drivers_probe). These are special
 * files: the kernel acts on the write itself, so no temporary file + rename (that would replace
 * the attribute, not write to it). Opened O_WRONLY|O_NOFOLLOW without O_CREAT — a link planted
 * at the name is refused, an attribute that is not there is not created — and O_TRUNC, as the
 * shell's `>` does (sysfs ignores it; a stand-in file in a test tree then reads as written).
 */
export function writeAttribute(path: string, value: string): void {
  fault(`write "${value.trim()}" to`, path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  } catch (e) {
    throw new WriteError(errno(e), path, 'open');
  }
  try {
    const b = Buffer.from(value, 'utf8');
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
  } catch (e) {
    throw new WriteError(errno(e), path, `write "${value.trim()}" to`);
  } finally {
    closeSync(fd);
  }
}
