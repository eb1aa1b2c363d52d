/**
 * The one place remedies run external programs (conrep, update-grub, proxmox-boot-tool).
 * Every run is bounded in time and its whole outcome is returned: callers decide on what
 * the program did (a read-back), never on its exit status alone.
 *
 * A program runs under a tiny supervisor (node -e; in the single executable, the program itself
 * started with SUPERVISE_ARG) that starts it detached, so it leads its
 * own process group; on the timeout the supervisor sends SIGTERM to the whole group, waits a
 * grace period, then SIGKILL — so neither the program nor anything it started (a child that
 * ignores SIGTERM) outlives the run and holds the lock. spawnSync keeps the caller synchronous;
 * its own timeout (SIGKILL of the supervisor) is the backstop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, writeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { singleExecutable } from '../sources/single-executable.js';
import { SUPERVISE_ARG } from './supervise-arg.js';

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

/** How long a program may run before its group is terminated; ASSIGNABLE_RUN_TIMEOUT_MS (tests) overrides. */
export const DEFAULT_TIMEOUT_MS = 300_000;
/** Between SIGTERM and SIGKILL of the group. */
export const GRACE_MS = 2_000;

// argv: timeoutMs graceMs command args… ; fd 3 receives {status, signal, timedOut, error} as JSON.
// Its code is given spawn, writeSync and argv: as `node -e` it requires them itself; the single
// executable runs the same code through its entry (superviseHere).
const SUPERVISOR_CODE = `
const [timeout, grace, cmd, ...args] = argv;
let timedOut = false, done = false;
const report = (o) => { if (done) return; done = true; try { writeSync(3, JSON.stringify(o)); } catch {} };
const kill = (sig) => { try { process.kill(-child.pid, sig); } catch {} };
const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
child.on('error', (e) => { report({ status: null, signal: null, timedOut: false, error: e.message }); process.exit(0); });
const t = setTimeout(() => { timedOut = true; kill('SIGTERM'); setTimeout(() => kill('SIGKILL'), Number(grace)).unref(); }, Number(timeout));
child.on('exit', (status, signal) => {
  clearTimeout(t);
  kill('SIGKILL'); // whatever the program left behind in its group goes with it
  report({ status, signal, timedOut, error: null });
  process.exit(0);
});
`;
const SUPERVISOR = `const { spawn } = require('node:child_process');
const { writeSync } = require('node:fs');
const argv = process.argv.slice(1);
${SUPERVISOR_CODE}`;

/** The single executable, started with SUPERVISE_ARG: this process becomes the supervisor of argv's program. */
export function superviseHere(argv: string[]): void {
  (new Function('spawn', 'writeSync', 'argv', SUPERVISOR_CODE) as (s: typeof spawn, w: typeof writeSync, a: string[]) => void)(spawn, writeSync, argv);
}

export function runSupervised(command: string, args: string[], timeoutMs: number, graceMs = GRACE_MS): RunResult {
  const how = singleExecutable() ? [SUPERVISE_ARG] : ['-e', SUPERVISOR];
  const r = spawnSync(process.execPath, [...how, timeoutMs.toString(), graceMs.toString(), command, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    // Backstop: the supervisor itself gets killed if it does not come back in time.
    timeout: timeoutMs + graceMs + 10_000,
    killSignal: 'SIGKILL',
    maxBuffer: 32 * 1024 * 1024,
  });
  const base = { command, args, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  let rep: { status: number | null; signal: string | null; timedOut: boolean; error: string | null } | null = null;
  try {
    rep = JSON.parse((r.output?.[3] as string | null) ?? '');
  } catch {
    rep = null;
  }
  if (!rep) return { ...base, status: null, signal: null, error: r.error ? r.error.message : `the supervisor of ${command} ended without a result (${r.signal ?? `exit ${r.status}`})` };
  if (rep.error) return { ...base, status: null, signal: null, error: `could not start ${command}: ${rep.error}` };
  if (rep.timedOut) return { ...base, status: rep.status, signal: rep.signal, error: `timed out after ${timeoutMs / 1000} s (its process group was killed)` };
  return { ...base, status: rep.status, signal: rep.signal, error: null };
}

export const systemRunner: Runner = {
  run(command, args, timeoutMs) {
    const env = Number(process.env.ASSIGNABLE_RUN_TIMEOUT_MS);
    const t = timeoutMs ?? (Number.isFinite(env) && env > 0 ? env : DEFAULT_TIMEOUT_MS);
    return runSupervised(command, args, t, Math.min(GRACE_MS, t));
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
