/**
 * `survey|explain|slots|fix` on a Windows host: run the shipped probe (a temporary copy, so the
 * admin can read the same file first with `assignable windows-probe`) and read its capture.
 * Not yet run on a real Windows Server: the argument building is unit-tested, the spawn is
 * exercised with a stand-in for powershell.exe (ASSIGNABLE_TEST_POWERSHELL).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostFacts } from '../host/model.js';
import { outcome, runSupervised, tail } from '../remedies/runner.js';
import { SourceError } from '../sources/errors.js';
import { parseProbeBytes } from '../sources/windows/index.js';
import { packageFile } from './package-file.js';
import { probeCommand, type Env } from '../sources/windows/platform.js';

/** A probe on a large host takes seconds; a hung WMI provider must not hang us. */
const PROBE_TIMEOUT_MS = 300_000;

/** The script shipped in the package: <package>/windows/assignable-probe.ps1 (from src/cli or dist/cli). */
export function probeScriptPath(env: Env = process.env): string | null {
  if (env.ASSIGNABLE_TEST_PROBE_SCRIPT) return env.ASSIGNABLE_TEST_PROBE_SCRIPT;
  const p = packageFile('windows/assignable-probe.ps1');
  return existsSync(p) ? p : null;
}

export function readWindowsLiveHost(o: { pwsh?: boolean }, env: Env = process.env): HostFacts {
  const script = probeScriptPath(env);
  if (!script) throw new SourceError('not-found', 'windows/assignable-probe.ps1', 'the Windows probe script is not in this installation (windows/assignable-probe.ps1): reinstall assignable, or run the probe by hand and use --capture');
  const dir = mkdtempSync(join(tmpdir(), 'assignable-probe-'));
  try {
    const copy = join(dir, 'assignable-probe.ps1');
    copyFileSync(script, copy);
    const outFile = join(dir, 'probe.json');
    const cmd = probeCommand({ pwsh: o.pwsh === true, script: copy, outFile, env });
    const r = runSupervised(cmd.command, cmd.args, PROBE_TIMEOUT_MS);
    if (!existsSync(outFile)) {
      throw new SourceError('io', cmd.command, `the probe (${cmd.command} -File ${copy}) wrote no capture (${outcome(r)}${tail(r) ? `: ${tail(r)}` : ''})${o.pwsh ? '' : '; with PowerShell 7 installed, try --pwsh'}`);
    }
    const facts = parseProbeBytes(new Uint8Array(readFileSync(outFile)), `${cmd.command} probe output`);
    facts.origin = { kind: 'live', description: `this Windows host (probe run with ${cmd.command})` };
    return facts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
