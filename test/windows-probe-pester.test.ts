/**
 * The probe's Pester tests (test/fixtures/windows-probe/probe.Tests.ps1): Pester's Mock and Should -Invoke
 * check how the probe calls Windows — one batched Get-PnpDeviceProperty for every function and key, memory
 * through CIM associations, never WMI's old cmdlets, and the per-device fallback when the batch throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findPwsh, pwshRun, PROBE_FIXTURES } from './windows-probe-run.js';

const pwsh = findPwsh();
const NO_PWSH = 'pwsh (PowerShell 7) is not installed: .ci/run installs it';

test('Pester: the probe\'s calls to Windows', { skip: pwsh ? false : NO_PWSH }, (t) => {
  // One PowerShell start (a few seconds each): whether Pester 5 is there is asked of the import
  // itself, in the run, rather than of a scan of every module path in a run of its own.
  const script = [
    "try { Import-Module Pester -MinimumVersion 5.0 -ErrorAction Stop } catch { 'NO PESTER 5'; exit 0 }",
    '$c = New-PesterConfiguration',
    `$c.Run.Path = '${join(PROBE_FIXTURES, 'probe.Tests.ps1')}'`,
    '$c.Run.PassThru = $true',
    "$c.Output.Verbosity = 'Detailed'",
    '$r = Invoke-Pester -Configuration $c',
    '"RESULT passed=$($r.PassedCount) failed=$($r.FailedCount)"',
  ].join('; ');
  const r = pwshRun(pwsh!, ['-Command', script], 600_000);
  if (/^NO PESTER 5$/m.test(r.stdout)) return t.skip('Pester 5 is not installed: .ci/run installs it from NuGet');
  const m = /RESULT passed=(\d+) failed=(\d+)/.exec(r.stdout);
  assert.ok(m, `${r.stdout}\n${r.stderr}`);
  assert.equal(Number(m[2]), 0, r.stdout);
  assert.equal(Number(m[1]), 6, r.stdout);
});
