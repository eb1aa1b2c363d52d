/**
 * The state directory of remedies: backups, the pending-reboot record, history, and the
 * lock that keeps two `fix --apply` runs from interleaving. Default /var/lib/assignable;
 * --state-dir or ASSIGNABLE_STATE_DIR elsewhere.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceError } from '../sources/errors.js';

export const DEFAULT_STATE_DIR = '/var/lib/assignable';

export function stateDir(given?: string): string {
  return given ?? process.env.ASSIGNABLE_STATE_DIR ?? DEFAULT_STATE_DIR;
}

export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SourceError(code === 'EACCES' || code === 'EPERM' ? 'permission' : 'io', dir, `cannot create the state directory ${dir}: ${(e as Error).message}${code === 'EACCES' ? ' (run as root, or give --state-dir)' : ''}`);
  }
}

/** A timestamp usable in file names, sortable. */
export function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '-$1Z');
}

export class LockHeld extends Error {
  override readonly name = 'LockHeld';
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
 * An exclusive lock file (O_EXCL create) holding our pid. A lock left by a process that
 * no longer exists is taken over; a live holder makes us stop.
 */
export function acquireLock(dir: string): () => void {
  ensureDir(dir);
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SourceError('io', path, `cannot create lock ${path}: ${(e as Error).message}`);
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new LockHeld(`another assignable fix is changing firmware settings (pid ${holder}, lock ${path}); wait for it to finish`);
      }
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new LockHeld(`could not take the lock ${path}`);
}

export interface PendingChange {
  schema: 'assignable/pending/v1';
  kind: 'hpe-rmrds' | 'kernel-cmdline';
  device: string;
  /** HPE: the sections changed, with their values before and after. */
  sections?: Array<{ name: string; before: string; after: string }>;
  /** Kernel: the file changed and its backup. */
  file?: string;
  backup: string;
  after?: string;
  appliedAt: string;
  bootId: string | null;
  /** The device as the survey saw it before the change, for `--verify`. */
  before: { rmrr: Array<{ base: string; limit: string }>; verdicts: Record<string, { status: string; reasons: string[] }> };
  tool: string;
}

const PENDING = 'pending.json';

export function writePending(dir: string, p: PendingChange): void {
  ensureDir(join(dir, 'history'));
  const tmp = join(dir, `${PENDING}.tmp`);
  writeFileSync(tmp, JSON.stringify(p, null, 2) + '\n');
  renameSync(tmp, join(dir, PENDING));
  writeFileSync(join(dir, 'history', `${p.appliedAt.replace(/[:.]/g, '')}-${p.kind}.json`), JSON.stringify(p, null, 2) + '\n');
}

export function readPending(dir: string): PendingChange | null {
  const path = join(dir, PENDING);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as PendingChange;
}

export function clearPending(dir: string): void {
  const path = join(dir, PENDING);
  if (existsSync(path)) unlinkSync(path);
}

/** The most recent change recorded in history (pending or verified). */
export function lastChange(dir: string): PendingChange | null {
  const h = join(dir, 'history');
  if (!existsSync(h)) return null;
  const files = readdirSync(h).filter((f) => f.endsWith('.json')).sort();
  const last = files.at(-1);
  return last ? (JSON.parse(readFileSync(join(h, last), 'utf8')) as PendingChange) : null;
}
