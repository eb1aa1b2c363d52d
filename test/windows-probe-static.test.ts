/**
 * Windows PowerShell 5.1 compatibility of the probe, checked statically (nothing here runs Windows):
 * PowerShell's own parser finds 7-only syntax and every command called, which must be on the allow-list of
 * Server 2016's 5.1 (test/fixtures/windows-probe/server2016-ps51-commands.txt); the embedded C# must compile
 * as C# 5, what 5.1's Add-Type (CodeDom) accepts, with Debian's mono-mcs at -langversion:5.
 * Each check is first shown to catch a bad input, so a green run means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPwsh, pwshRun, PROBE, PROBE_FIXTURES } from './windows-probe-run.js';

const pwsh = findPwsh();
const NO_PWSH = 'pwsh (PowerShell 7) is not installed: .ci/run installs it with `dotnet tool install --global PowerShell`';
const mcs = spawnSync('mcs', ['--version'], { encoding: 'utf8' });
const NO_MCS = mcs.error || mcs.status !== 0 ? 'mcs is not installed (Debian package mono-mcs; .ci/run installs it)' : false;

interface Report { parseErrors: string[]; syntax: string[]; commands: string[]; csharp: string | null }

/** The checker's report on each of `paths`, from one PowerShell start (each costs seconds). */
function check(...paths: string[]): Report[] {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const script = paths.map((p) => `& ${quote(join(PROBE_FIXTURES, 'ps51-check.ps1'))} -Path ${quote(p)}; '${END}'`).join('; ');
  const r = pwshRun(pwsh!, ['-Command', script], 120_000);
  assert.equal(r.status, 0, r.stderr);
  const docs = r.stdout.split(`${END}\n`).slice(0, -1);
  assert.equal(docs.length, paths.length, r.stdout);
  return docs.map((d) => {
    const j = JSON.parse(d);
    return { parseErrors: j.parseErrors ?? [], syntax: j.syntax ?? [], commands: j.commands ?? [], csharp: j.csharp ?? null };
  });
}
const END = '--- end of report ---';

/** A script with every construct the checker must catch (see the first test). */
const BAD = [
  '$a = $null ?? 1',
  '$b = $a ? 1 : 2',
  '$c = ${a}?.Length',
  'Get-Item x && Get-Item y',
  '1..3 | ForEach-Object -Parallel { $_ }',
  '$h = "{}" | ConvertFrom-Json -AsHashtable',
  'gwmi Win32_PnPEntity',
  'Get-WmiObject Win32_PnPEntity',
  'function Local-Thing { 1 }',
  'Local-Thing',
].join('\n');

let reports: { bad: Report; probe: Report } | undefined;
/** The reports on BAD and on the probe, from one run shared by the tests that read them. */
function checked(): { bad: Report; probe: Report } {
  if (reports) return reports;
  const dir = mkdtempSync(join(tmpdir(), 'assignable-ps51-'));
  try {
    const bad = join(dir, 'bad.ps1');
    writeFileSync(bad, BAD);
    const [b, p] = check(bad, PROBE);
    reports = { bad: b!, probe: p! };
    return reports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const allowList = new Set(
  readFileSync(join(PROBE_FIXTURES, 'server2016-ps51-commands.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean),
);

function compileCs5(source: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-cs5-'));
  try {
    writeFileSync(join(dir, 'src.cs'), source);
    const r = spawnSync('mcs', ['-langversion:5', '-target:library', `-out:${join(dir, 'out.dll')}`, join(dir, 'src.cs')], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the 5.1 checker catches 7-only syntax, -Parallel/-AsHashtable and commands off the list', { skip: pwsh ? false : NO_PWSH }, () => {
  const r = checked().bad;
  assert.deepEqual(r.parseErrors, []);
  const found = r.syntax.join('\n');
  for (const s of ['line 1: ??', 'line 2: ternary', 'line 3: ?.', 'line 4: &&', 'line 4: pipeline chain', 'line 5: -Parallel', 'line 6: -AsHashtable']) assert.ok(found.includes(s), `${s} in ${found}`);
  const off = r.commands.filter((c) => !allowList.has(c));
  assert.deepEqual(off.sort(), ['ConvertFrom-Json', 'Get-Item', 'Get-WmiObject', 'gwmi'].sort());
});

test('the probe: no parse error, no 7-only syntax, only commands of Server 2016\'s 5.1, no gwmi/Get-WmiObject', { skip: pwsh ? false : NO_PWSH }, () => {
  const r = checked().probe;
  assert.deepEqual(r.parseErrors, []);
  assert.deepEqual(r.syntax, []);
  assert.deepEqual(r.commands.filter((c) => !allowList.has(c)), []);
  for (const banned of ['gwmi', 'Get-WmiObject']) assert.ok(!allowList.has(banned));
  // The probe reads what the list says it may: the cmdlets the issue names are all called.
  for (const c of ['Get-PnpDevice', 'Get-PnpDeviceProperty', 'Get-CimAssociatedInstance', 'Add-Type', 'Get-VMHost']) assert.ok(r.commands.includes(c), c);
});

test('mcs -langversion:5 rejects C# 6 (the check can fail)', { skip: NO_MCS }, () => {
  const r = compileCs5('public static class X { public static string Y(int a) { return $"{a}" + nameof(a); } }');
  assert.notEqual(r.status, 0, r.output);
});

test('the probe\'s embedded C# compiles as C# 5 (Windows PowerShell 5.1\'s Add-Type)', { skip: !pwsh ? NO_PWSH : NO_MCS }, () => {
  const { csharp } = checked().probe;
  assert.ok(csharp && csharp.includes('GetSystemFirmwareTable'), 'the $FirmwareSource here-string');
  const r = compileCs5(csharp);
  assert.equal(r.status, 0, r.output);
});
