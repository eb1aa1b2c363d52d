/**
 * The one place remedies run external programs (conrep, update-grub, proxmox-boot-tool).
 * Every run is bounded in time and its whole outcome is returned: callers decide on what
 * the program did (a read-back), never on its exit status alone.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RunResult {
  command: string;
  args: string[];
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Could not start at all (not found, not executable) or timed out. */
  error: string | null;
}

export interface Runner {
  run(command: string, args: string[], timeoutMs?: number): RunResult;
}

export const systemRunner: Runner = {
  run(command, args, timeoutMs = 120_000) {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 });
    const error = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : r.error.message) : null;
    return { command, args, status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error };
  },
};

export function ok(r: RunResult): boolean {
  return r.error === null && r.signal === null && r.status === 0;
}

/** "exit 1", "killed by SIGSEGV", "not started: …" — for messages. */
export function outcome(r: RunResult): string {
  if (r.error) return r.error;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.status}`;
}

/** Last meaningful lines of a program's output, for one-line error messages. */
export function tail(r: RunResult, n = 2): string {
  return (r.stdout + '\n' + r.stderr)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' / ');
}

export function findExecutable(names: string[], pathEnv = process.env.PATH ?? ''): string | null {
  for (const n of names) {
    const candidates = n.includes('/') ? [n] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, n));
    for (const c of candidates) {
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        /* next */
      }
    }
  }
  return null;
}
