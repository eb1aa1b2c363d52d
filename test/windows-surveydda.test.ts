/**
 * `--surveydda FILE` on every SurveyDDA output of the corpus (test/fixtures/windows/06, 08; the
 * retyped paste 07 named in the corpus SOURCES.md is not in the corpus, so a retyped variant of 06
 * is made here the way users mangle pastes). The oracle is the real text: each device name line
 * and SurveyDDA's message under it, read here with plain string matching, and SurveyDDA's
 * source (01/02) for what each message means.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { main } from './main-validated.js';
import { EXIT } from '../src/cli/exit.js';
import { buildHost } from '../src/host/build.js';
import { parseSurveyDda, surveyDdaFacts } from '../src/sources/windows/surveydda.js';
import { fixture, fixtureText } from './helpers.js';

const Z390 = fixtureText('windows', '06-haxm-149-2020-06-13-surveydda-z390-ws2019.txt');
const PS7 = fixtureText('windows', '08-vdoc-issue-1734-pwsh7-gwmi-false-positive.txt');

/** The real paste's device blocks: a name line, then SurveyDDA's message (blank lines between blocks). */
function oracle(text: string): Array<{ name: string; message: string }> {
  const body = text.slice(text.indexOf('Generating a list of PCI Express endpoint devices'));
  return body.split(/\n\s*\n/).slice(1).map((b) => b.split('\n').map((l) => l.trim()).filter(Boolean)).filter((ls) => ls.length >= 2).map((ls) => ({ name: ls[0]!, message: ls[1]! }));
}

const sv = (text: string) => runSurvey(buildHost(surveyDdaFacts(text, 'paste.txt')));

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('SurveyDDA output: the Z390 paste (firmware kept PCIe control)', () => {
  it('every device of the paste, in order, with SurveyDDA\'s reason turned into ours', () => {
    const expected = oracle(Z390);
    assert.equal(expected.length, 11);
    const s = sv(Z390);
    assert.deepEqual(s.devices.map((r) => r.device.name), expected.map((e) => e.name));
    s.devices.forEach((r, i) => {
      const m = expected[i]!.message;
      const codes = r.findings.map((f) => f.code);
      assert.equal(r.verdicts.dda.status, 'blocked', r.device.name);
      if (/^BIOS requires/.test(m)) assert.ok(codes.includes('DDA_RESERVED_MEMORY'), `${r.device.name}: ${codes}`);
      else if (/^Old-style/.test(m)) assert.ok(codes.includes('CONVENTIONAL_PCI'), `${r.device.name}: ${codes}`);
      else if (/^BIOS kept cont/.test(m)) assert.ok(r.verdicts.dda.reasons.includes('DDA_FIRMWARE_KEPT_PCIE_CONTROL'), r.device.name);
      else assert.fail(`unexpected message ${m}`);
    });
  });

  it('"BIOS kept control" printed once per device is ONE host finding', () => {
    const s = sv(Z390);
    assert.equal(s.hostFindings.filter((f) => f.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL').length, 1);
    const perDevice = oracle(Z390).filter((e) => /^BIOS kept cont/.test(e.message)).length;
    assert.equal(perDevice, 4);
    assert.ok(!s.devices.some((r) => r.findings.some((f) => f.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL')));
  });

  it('the paste is cut off ("BIOS kept cont"): said in a note, the unambiguous prefix kept', () => {
    const p = parseSurveyDda(Z390);
    assert.equal(p.truncated, true);
    assert.ok(sv(Z390).host.notes.some((n) => n.code === 'SURVEYDDA_TRUNCATED'));
  });

  it('a retyped paste (stray and doubled spaces, lost blank lines, case) parses the same', () => {
    const retyped = Z390.split('\n').filter((l) => l.trim() !== '').map((l, i) => (i % 2 ? `  ${l.replace(/ /g, '  ')}  ` : l.toLowerCase().startsWith('bios') ? l.toUpperCase() : l)).join('\n');
    const a = sv(Z390).devices.map((r) => [r.verdicts.dda.status, r.findings.map((f) => f.code).join()]);
    const b = sv(retyped).devices.map((r) => [r.verdicts.dda.status, r.findings.map((f) => f.code).join()]);
    assert.deepEqual(b, a);
  });
});

describe('SurveyDDA output: a PowerShell 7 run (gwmi missing)', () => {
  it('interrupts are unknown, never "assignable", and the broken run is said', async () => {
    const s = sv(PS7);
    assert.equal(s.devices.length, 1);
    const nvme = s.devices[0]!;
    assert.equal(nvme.device.name, 'Standard NVM Express Controller');
    // SurveyDDA printed the green "And it has no interrupts at all -- assignment can work."
    assert.match(PS7, /And it has no interrupts at all -- assignment can work\./);
    assert.ok(nvme.findings.some((f) => f.code === 'DDA_INTERRUPTS_UNKNOWN'));
    assert.notEqual(nvme.verdicts.dda.status, 'assignable');
    assert.equal(nvme.device.windows?.interruptSupport, undefined);
    assert.ok(s.host.notes.some((n) => n.code === 'SURVEYDDA_POWERSHELL7'));
    assert.equal(parseSurveyDda(PS7).revision, 'revision 1');
    const r = await run('survey', '--surveydda', fixture('windows', '08-vdoc-issue-1734-pwsh7-gwmi-false-positive.txt'), '--target', 'dda', '--json');
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(JSON.parse(r.out).devices[0].verdicts.dda.status, 'warnings');
  });
});

describe('SurveyDDA output: the revision-1 lines and location paths', () => {
  // Messages verbatim from the script (01-…ps1); the path is a real one (04-…md, the Dell T620 NVMe).
  const paste = [
    'Executing SurveyDDA.ps1, revision 1',
    'Generating a list of PCI Express endpoint devices',
    '',
    '',
    'Samsung NVMe',
    'Express Endpoint -- more secure.',
    '    And its interrupts are message-based, assignment can work.',
    '    And it requires at least: 1 MB of MMIO gap space',
    'PCIROOT(40) #PCI(0200)#PCI(0000)',
    '',
    '',
    'Legacy card',
    'Legacy, non-VGA PCI device.  Not assignable.',
  ].join('\n');
  it('message-based interrupts, MMIO, the (retyped) location path, a legacy endpoint', async () => {
    const s = sv(paste);
    const [nvme, legacy] = s.devices;
    assert.equal(nvme!.device.locationPath.path, 'PCIROOT(40)#PCI(0200)#PCI(0000)');
    assert.ok(!nvme!.findings.some((f) => f.code === 'DDA_INTERRUPTS_UNKNOWN' || f.code === 'INTX_ONLY'));
    assert.ok(nvme!.findings.some((f) => f.code === 'MMIO'));
    assert.ok(legacy!.findings.some((f) => f.code === 'LEGACY_ENDPOINT'));
    const dir = mkdtempSync(join(tmpdir(), 'assignable-sdda-'));
    writeFileSync(join(dir, 'p.txt'), paste);
    const r = await run('explain', 'PCIROOT(40)#PCI(0200)#PCI(0000)', '--surveydda', join(dir, 'p.txt'), '--target', 'dda', '--vm', 'v');
    assert.match(r.out, /Dismount-VMHostAssignableDevice( -Force)? -LocationPath 'PCIROOT\(40\)#PCI\(0200\)#PCI\(0000\)'/);
    // SurveyDDA gives no instance ID: the procedure finds it by the location path.
    assert.match(r.out, /\$id = \(Get-PnpDevice -PresentOnly \| Where-Object \{ \(Get-PnpDeviceProperty -InstanceId \$_\.InstanceId -KeyName DEVPKEY_Device_LocationPaths\)\.Data -contains 'PCIROOT\(40\)#PCI\(0200\)#PCI\(0000\)' \}\)\.InstanceId/);
    assert.match(r.out, /Disable-PnpDevice -InstanceId \$id -Confirm:\$false/);
  });

  it('text with no SurveyDDA verdict is bad input: one line, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-sdda-'));
    writeFileSync(join(dir, 'p.txt'), 'hello\nworld\n');
    const r = await run('survey', '--surveydda', join(dir, 'p.txt'));
    assert.equal(r.code, EXIT.INPUT);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.match(r.err, /p\.txt.*SurveyDDA output line 1/);
  });
});
