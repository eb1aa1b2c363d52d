/**
 * The state directory of remedies: backups (each with a sidecar saying what it is of), the
 * pending record, history, and the lock that keeps two `fix --apply` runs from interleaving.
 * Default /var/lib/assignable; --state-dir or ASSIGNABLE_STATE_DIR elsewhere. Every write
 * goes through write.ts (no links followed, no name reused, atomic replace).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SourceError } from '../sources/errors.js';
import { createNewWhole, lstatOrNull, readNoFollow, removeFile, replaceAtomic, StateDir, WriteError } from './write.js';

export const DEFAULT_STATE_DIR = '/var/lib/assignable';

export function stateDir(given?: string): string {
  return given ?? process.env.ASSIGNABLE_STATE_DIR ?? DEFAULT_STATE_DIR;
}

/** A timestamp usable in file names, sortable. */
export function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '-$1Z');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock file (O_EXCL|O_NOFOLLOW create) holding our pid. A lock left by a
 * process that no longer exists is taken over; a live holder makes us stop; anything at
 * the lock's name that is not a regular file is refused.
 */
export function acquireLock(sd: StateDir): () => void {
  const path = sd.file('lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // Whole or not at all: a lock read while half written (empty) would pass for a stale one.
      createNewWhole(path, `${process.pid}\n`);
      return () => {
        try {
          if (readNoFollow(path).toString('utf8').trim() === String(process.pid)) removeFile(path);
        } catch {
          /* gone, or cannot be removed: the next run takes a dead pid's lock over */
        }
      };
    } catch (e) {
      if (!(e instanceof WriteError) || e.code !== 'EEXIST') throw e;
      const st = lstatOrNull(path);
      if (st && !st.isFile()) throw new SourceError('io', path, `the lock ${path} is not a regular file (a symbolic link?): remove it by hand after checking it`);
      if (st === null) continue;
      const holder = Number(readNoFollow(path).toString('utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        // An environment error (exit 3), as the commands that take the lock (fix, bind) document.
        throw new SourceError('io', path, `another assignable fix is changing firmware settings or driver bindings (pid ${holder}, lock ${path}); wait for it to finish`);
      }
      removeFile(path); // stale: its process is gone
    }
  }
  throw new SourceError('io', path, `could not take the lock ${path}`);
}

/**
 * intent           about to change (the backup is taken; the change may or may not have happened)
 * applied          changed and read back; waits for the reboot and `--verify`
 * rollback-intent  about to restore the backup (may or may not have happened)
 */
export type PendingState = 'intent' | 'applied' | 'rollback-intent';

export interface PendingChange {
  schema: 'assignable/pending/v2';
  state: PendingState;
  kind: 'hpe-rmrds' | 'kernel-cmdline';
  device: string;
  /** HPE: the sections changed, with their values before and after. */
  sections?: Array<{ name: string; before: string; after: string }>;
  /** HPE: the file loaded (or about to be) with conrep -l, and the schema. */
  loaded?: string;
  schemaPath?: string;
  /** Kernel: the file changed, the bootloader refresh. */
  file?: string;
  update?: string[];
  /** Kernel: SHA-256 of the file as the change writes it, to tell it apart after a crash. */
  afterSha256?: string;
  backup: string;
  after?: string;
  appliedAt: string;
  bootId: string | null;
  /** The device as the survey saw it before the change, for `--verify`. */
  before: { rmrr: Array<{ base: string; limit: string }>; verdicts: Record<string, { status: string; reasons: string[] }> };
  tool: string;
}

const PENDING = 'pending.json';

/** Replace the pending record (atomic, synced). */
export function writePending(sd: StateDir, p: PendingChange): void {
  replaceAtomic(sd.file(PENDING), JSON.stringify(p, null, 2) + '\n');
}

/** A line in history: what happened, never overwritten. */
export function writeHistory(sd: StateDir, p: PendingChange, event: string, now: Date): void {
  sd.create('history', `${stamp(now)}-${p.kind}-${event}.json`, JSON.stringify({ event, ...p }, null, 2) + '\n');
}

export function readPending(dir: string): PendingChange | null {
  const path = join(dir, PENDING);
  if (lstatOrNull(path) === null) return null;
  return parseRecord(path);
}

function parseRecord(path: string): PendingChange {
  const text = readNoFollow(path).toString('utf8');
  let p: PendingChange;
  try {
    p = JSON.parse(text) as PendingChange;
  } catch (e) {
    throw new SourceError('usage', path, `${path} is not a pending record: ${(e as Error).message}`);
  }
  if (p === null || typeof p !== 'object' || typeof p.backup !== 'string' || (p.kind !== 'hpe-rmrds' && p.kind !== 'kernel-cmdline')) throw new SourceError('usage', path, `${path} is not a pending record (no kind or backup)`);
  // v1 records (before intent records existed) were only written after the read-back.
  if ((p.schema as string) === 'assignable/pending/v1') p.state = 'applied';
  return p;
}

export function clearPending(sd: StateDir): void {
  removeFile(sd.file(PENDING));
}

/** The most recent change recorded in history (applied, or an interrupted one). */
export function lastChange(dir: string): PendingChange | null {
  const h = join(dir, 'history');
  const st = lstatOrNull(h);
  if (!st?.isDirectory()) return null;
  const files = readdirSync(h).filter((f) => /-(applied|intent)(-\d+)?\.json$/.test(f)).sort();
  const last = files.at(-1);
  return last ? parseRecord(join(h, last)) : null;
}
