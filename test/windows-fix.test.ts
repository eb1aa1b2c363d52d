/**
 * The Windows code path of `survey` and `fix --apply`, away from Windows: the platform forced by
 * the test-only seam (ASSIGNABLE_TEST_PLATFORM=win32), powershell.exe replaced by a stand-in that
 * writes the simulated Gen8 capture where the real probe would (-OutFile), conrep.exe by the
 * conrep simulator (test/sim/conrep) placed where the HPE BIOS cmdlets install it. What this
 * cannot show — the real probe, conrep.exe and hpsstkio.sys on a real Windows Server — is said
 * in README ("Windows").
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/cli/exit.js';
import { conrepCandidates, hpsstkioPaths, probeCommand, windowsStateDir } from '../src/sources/windows/platform.js';
import { conrepSimBundle, hpeHost, nvramByte, runWithEnv } from './fix-host.js';
import { ROOT } from './helpers.js';
import { gen8Probe } from './windows-hosts.js';

const SIM = join(ROOT, 'test/sim/conrep');
const CONFIG_DATA = ['Hewlett Packard Enterprise', 'PowerShell', 'Modules', 'HPEBIOSCmdlets', 'Tools', 'ConfigurationData'];

function windowsHost(elevated = true) {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-winfix-'));
  mkdirSync(join(dir, 'sim'), { recursive: true });
  // Only its simulated NVRAM image and conrep log are used: the host itself comes from the probe.
  const h2 = hpeHost(join(dir, 'sim'), { product: 'ProLiant DL380e Gen8', storage: true });
  const programFiles = join(dir, 'Program Files');
  const cd = join(programFiles, ...CONFIG_DATA);
  mkdirSync(join(cd, 'winpe50', 'hpsstkio'), { recursive: true });
  // conrep.exe: the simulator, reached through a wrapper (the simulator finds itself by its own path).
  writeFileSync(join(cd, 'conrep.exe'), `#!/bin/sh\nexec "${SIM}" "$@"\n`);
  chmodSync(join(cd, 'conrep.exe'), 0o755);
  writeFileSync(join(cd, 'winpe50', 'hpsstkio', 'hpsstkio.sys'), 'MZ stand-in for HPE hpsstkio.sys');
  const windows = join(dir, 'Windows');
  mkdirSync(join(windows, 'System32', 'drivers'), { recursive: true });
  const probeJson = join(dir, 'probe-output.json');
  const doc = gen8Probe() as Record<string, any>;
  doc.probe.elevated = elevated;
  writeFileSync(probeJson, JSON.stringify(doc));
  // powershell.exe: writes the capture to the path after -OutFile, and logs its arguments.
  const ps = join(dir, 'powershell.exe');
  writeFileSync(ps, `#!/bin/sh\necho "$@" >> "${dir}/powershell.log"\nwhile [ $# -gt 0 ]; do if [ "$1" = "-OutFile" ]; then /bin/cp "${probeJson}" "$2"; fi; shift; done\n`);
  chmodSync(ps, 0o755);
  const script = join(dir, 'assignable-probe.ps1');
  writeFileSync(script, '# stand-in: the real probe is windows/assignable-probe.ps1\n');
  const env = {
    ASSIGNABLE_TEST_PLATFORM: 'win32',
    ASSIGNABLE_TEST_POWERSHELL: ps,
    ASSIGNABLE_TEST_PROBE_SCRIPT: script,
    ProgramFiles: programFiles,
    ProgramData: join(dir, 'ProgramData'),
    SystemRoot: windows,
    CONREP_SIM_BUNDLE: conrepSimBundle(),
    CONREP_SIM_STATE: h2.image,
    CONREP_SIM_LOG: h2.log,
    CONREP_SIM_FAIL: '',
  };
  return { dir, env, h: h2, windows, cd };
}

describe('Windows: the probe command line, conrep.exe discovery, the state directory', () => {
  it('powershell.exe (5.1) by default, pwsh.exe with --pwsh; -File on a copy, -OutFile', () => {
    const a = probeCommand({ pwsh: false, script: 'C:\\T\\p.ps1', outFile: 'C:\\T\\o.json', env: {} });
    assert.equal(a.command, 'powershell.exe');
    assert.deepEqual(a.args, ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', 'C:\\T\\p.ps1', '-OutFile', 'C:\\T\\o.json']);
    assert.equal(probeCommand({ pwsh: true, script: 's', outFile: 'o', env: {} }).command, 'pwsh.exe');
  });
  it('conrep.exe: the cmdlets\' Tools\\ConfigurationData (newest module version first), the Scripting Toolkit, then PATH', () => {
    const env = { ProgramFiles: '/pf', PATH: '/a;/b' };
    const list = (d: string) => (d === join('/pf', 'WindowsPowerShell', 'Modules', 'HPEBIOSCmdlets') ? ['2.0.0.0', '3.1.0.0', 'x'] : []);
    const c = conrepCandidates(env, list);
    assert.equal(c[0], join('/pf', ...CONFIG_DATA, 'conrep.exe'));
    const v31 = c.indexOf(join('/pf', 'WindowsPowerShell', 'Modules', 'HPEBIOSCmdlets', '3.1.0.0', 'Tools', 'ConfigurationData', 'conrep.exe'));
    const v20 = c.indexOf(join('/pf', 'WindowsPowerShell', 'Modules', 'HPEBIOSCmdlets', '2.0.0.0', 'Tools', 'ConfigurationData', 'conrep.exe'));
    assert.ok(v31 > 0 && v20 > v31);
    assert.ok(c.some((p) => p.includes('Scripting Toolkit')));
    assert.deepEqual(c.slice(-2), [join('/a', 'conrep.exe'), join('/b', 'conrep.exe')]);
    assert.equal(windowsStateDir({ ProgramData: '/pd' }), join('/pd', 'assignable'));
    assert.deepEqual(hpsstkioPaths('/cd', { SystemRoot: '/w' }), { source: join('/cd', 'winpe50', 'hpsstkio', 'hpsstkio.sys'), target: join('/w', 'System32', 'drivers', 'hpsstkio.sys') });
  });
});

describe('Windows: survey runs the probe itself', () => {
  it('survey --target dda with no input on a (forced) Windows host spawns the probe and judges its capture', async () => {
    const w = windowsHost();
    const r = await runWithEnv(['survey', '--target', 'dda', '--json'], w.env);
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    const card = JSON.parse(r.out).devices.find((d: any) => d.address === '0000:09:00.0');
    assert.ok(card.verdicts.dda.reasons.includes('DDA_RESERVED_MEMORY'));
    const log = readFileSync(join(w.dir, 'powershell.log'), 'utf8');
    assert.match(log, /^-NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \S+assignable-probe\.ps1 -OutFile \S+probe\.json$/m);
    // The temporary copy and the capture are gone.
    const tmpCopy = /-File (\S+)/.exec(log)![1]!;
    assert.equal(existsSync(tmpCopy), false);
  });
});

describe('Windows: fix --apply against the conrep simulator', () => {
  it('finds conrep.exe, installs the missing hpsstkio.sys (recorded), backs up → loads → reads back, state under %ProgramData%\\assignable', async () => {
    const w = windowsHost();
    const r = await runWithEnv(['fix', '09:00.0', '--apply', '--force'], w.env);
    assert.equal(r.code, EXIT.OK, r.err + r.out);
    const calls = readFileSync(w.h.log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    assert.deepEqual(calls, ['-s', '-l', '-s']);
    assert.equal(nvramByte(w.h, 0x26a), 0x02);
    assert.match(r.out, /Done: RMRDS_Slot2 reads back Endpoints_Excluded \(was Endpoints_Included\)/);
    const driver = join(w.windows, 'System32', 'drivers', 'hpsstkio.sys');
    assert.equal(readFileSync(driver, 'utf8'), 'MZ stand-in for HPE hpsstkio.sys');
    const state = join(w.env.ProgramData, 'assignable');
    const backups = readdirSync(join(state, 'backups'));
    const rec = backups.find((f) => f.endsWith('-hpsstkio-installed.json'))!;
    assert.equal(JSON.parse(readFileSync(join(state, 'backups', rec), 'utf8')).created, driver);
    assert.ok(backups.some((f) => f.endsWith('-before.dat')));
    assert.ok(existsSync(join(state, 'pending.json')));
    assert.match(r.err, /to undo: Remove-Item -LiteralPath/);
  });

  it('rollback on the Windows path: the backup loaded back with conrep.exe, read back', async () => {
    const w = windowsHost();
    assert.equal((await runWithEnv(['fix', '09:00.0', '--apply', '--force'], w.env)).code, EXIT.OK);
    const state = join(w.env.ProgramData, 'assignable');
    const before = readdirSync(join(state, 'backups')).find((f) => f.endsWith('-before.dat'))!;
    const rb = await runWithEnv(['fix', '--rollback', join(state, 'backups', before), '--apply'], w.env);
    assert.equal(rb.code, EXIT.OK, rb.err + rb.out);
    assert.equal(nvramByte(w.h, 0x26a) & 0x02, 0, 'slot 2 included again');
  });

  it('an existing hpsstkio.sys is left alone', async () => {
    const w = windowsHost();
    const driver = join(w.windows, 'System32', 'drivers', 'hpsstkio.sys');
    writeFileSync(driver, 'the one already installed');
    const r = await runWithEnv(['fix', '09:00.0', '--apply', '--force'], w.env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(readFileSync(driver, 'utf8'), 'the one already installed');
  });

  it('not elevated: refused before anything runs (exit 3)', async () => {
    const w = windowsHost(false);
    const r = await runWithEnv(['fix', '09:00.0', '--apply', '--force'], w.env);
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /elevated/);
    assert.equal(existsSync(w.h.log), false, 'conrep never ran');
  });

  it('conrep.exe nowhere: exit 3 naming the cmdlets', async () => {
    const w = windowsHost();
    const r = await runWithEnv(['fix', '09:00.0', '--apply', '--force'], { ...w.env, ProgramFiles: join(w.dir, 'nothing'), PATH: '' });
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /conrep\.exe not found.*HPEBIOSCmdlets-x64\.msi/);
  });
});
