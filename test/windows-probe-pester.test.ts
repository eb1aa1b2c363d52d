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
const pester = pwsh ? pwshRun(pwsh, ['-Command', "if (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.0' }) { 'yes' }"], 120_000).stdout.trim() === 'yes' : false;
const SKIP = !pwsh ? 'pwsh (PowerShell 7) is not installed: .ci/run installs it' : !pester ? 'Pester 5 is not installed: .ci/run installs it from NuGet' : false;

test('Pester: the probe\'s calls to Windows', { skip: SKIP }, () => {
  const script = [
    'Import-Module Pester -MinimumVersion 5.0',
    '$c = New-PesterConfiguration',
    `$c.Run.Path = '${join(PROBE_FIXTURES, 'probe.Tests.ps1')}'`,
    '$c.Run.PassThru = $true',
    "$c.Output.Verbosity = 'Detailed'",
    '$r = Invoke-Pester -Configuration $c',
    '"RESULT passed=$($r.PassedCount) failed=$($r.FailedCount)"',
  ].join('; ');
  const r = pwshRun(pwsh!, ['-Command', script], 600_000);
  const m = /RESULT passed=(\d+) failed=(\d+)/.exec(r.stdout);
  assert.ok(m, `${r.stdout}\n${r.stderr}`);
  assert.equal(Number(m[2]), 0, r.stdout);
  assert.equal(Number(m[1]), 6, r.stdout);
});
