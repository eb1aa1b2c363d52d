/**
 * Test helper: finds PowerShell 7 and runs the real Windows probe on a simulated host
 * (test/fixtures/windows-probe/simulate.ps1), returning the document it wrote and the calls it made.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ROOT, spawnOutput } from './helpers.js';

export const PROBE = join(ROOT, 'windows', 'assignable-probe.ps1');
export const PROBE_FIXTURES = join(ROOT, 'test', 'fixtures', 'windows-probe');

/** pwsh on PATH, or where `dotnet tool install --global` puts it; null when absent. */
export function findPwsh(): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  dirs.push(join(homedir(), '.dotnet', 'tools'));
  for (const d of dirs) {
    const p = join(d, 'pwsh');
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The environment of every PowerShell the tests start: no telemetry, no update check, and no
 * dynamic PGO (.NET's instrumented tier: it pays back in long-running servers, while each run here
 * lasts seconds; measured, it costs these runs about a tenth of their CPU). JIT tuning only: the
 * same PowerShell runs the same scripts.
 */
export const PWSH_ENV = { POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_TieredPGO: '0' };

export function pwshRun(pwsh: string, args: string[], timeoutMs = 300_000) {
  return spawnSync(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    env: { ...process.env, ...PWSH_ENV },
  });
}

/** The bytes as a reader must take them: UTF-8 with or without BOM, or UTF-16LE with BOM. */
export function decodeCapture(raw: Buffer): string {
  if (raw[0] === 0xff && raw[1] === 0xfe) return raw.subarray(2).toString('utf16le');
  if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) return raw.subarray(3).toString('utf8');
  return raw.toString('utf8');
}

export interface ProbeRun {
  raw: Buffer;
  doc: Record<string, any>;
  calls: Record<string, number>;
  stderr: string;
}

export function runSimulated(pwsh: string, hostFile: string, probe = PROBE): ProbeRun {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-winprobe-'));
  try {
    const out = join(dir, 'out.json');
    const calls = join(dir, 'calls.json');
    const r = pwshRun(pwsh, ['-File', join(PROBE_FIXTURES, 'simulate.ps1'), '-HostFile', join(PROBE_FIXTURES, 'hosts', hostFile), '-Probe', probe, '-Out', out, '-Calls', calls]);
    if (r.status !== 0 || !existsSync(out)) throw new Error(`simulate.ps1 ${hostFile}: exit ${r.status} ${r.error ?? ''}\n${r.stdout}\n${r.stderr}`);
    const raw = readFileSync(out);
    return { raw, doc: JSON.parse(decodeCapture(raw)), calls: JSON.parse(readFileSync(calls, 'utf8').replace(/^\uFEFF/, '')), stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same for several hosts, from one PowerShell process (simulate-many.ps1: a runspace of its own per
 * host), without blocking this one: a PowerShell start and the doubles' first compile cost seconds of CPU
 * each, paid once instead of once per host. Results in the order of `hostFiles`; rejects naming the host
 * when its simulate.ps1 stopped or wrote nothing.
 */
export function runSimulatedMany(pwsh: string, hostFiles: readonly string[], probe = PROBE): Promise<ProbeRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-winprobe-'));
  const jobs = hostFiles.map((h, i) => ({ HostFile: join(PROBE_FIXTURES, 'hosts', h), Probe: probe, Out: join(dir, `${i}.out.json`), Calls: join(dir, `${i}.calls.json`) }));
  const jobsFile = join(dir, 'jobs.json');
  writeFileSync(jobsFile, JSON.stringify(jobs));
  const args = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', join(PROBE_FIXTURES, 'simulate-many.ps1'), '-Jobs', jobsFile];
  return spawnOutput(pwsh, args, { env: { ...process.env, ...PWSH_ENV }, timeout: 600_000 })
    .then(({ status, stdout, stderr }) => {
      if (status !== 0) throw new Error(`simulate-many.ps1: exit ${status}\n${stdout}\n${stderr}`);
      const said = new Map([...stdout.matchAll(/^JOB (\d+) (.*)$/gm)].map((m) => [Number(m[1]), m[2]!.trimEnd()]));
      return hostFiles.map((h, i) => {
        const { Out: out, Calls: calls } = jobs[i]!;
        if (said.get(i) !== 'ok' || !existsSync(out)) throw new Error(`simulate.ps1 ${h}: ${said.get(i) ?? 'no answer'}\n${stdout}\n${stderr}`);
        const raw = readFileSync(out);
        return { raw, doc: JSON.parse(decodeCapture(raw)), calls: JSON.parse(readFileSync(calls, 'utf8').replace(/^\uFEFF/, '')), stderr: readFileSync(`${out}.stderr`, 'utf8') };
      });
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** pwshRun(), without blocking: for a run that can go on while another PowerShell process works. */
export function pwshRunAsync(pwsh: string, args: string[], timeoutMs = 300_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return spawnOutput(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', ...args], { timeout: timeoutMs, env: { ...process.env, ...PWSH_ENV } });
}
