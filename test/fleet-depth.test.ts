/**
 * `fleet` surveys each capture without fix ladders (runSurvey's fixLadders: false, issue 11
 * point 4's speed): what it reports per host must be exactly what a full survey finds — the
 * same finding codes per device and host, hence the same verdicts and counts — on every real
 * capture and host of the fixtures. The text survey (table, --all, --groups) uses it as well and
 * must print exactly the full survey's text. And the light survey must really skip the ladders,
 * or it saves nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTask } from '../src/cli/fleet-read.js';
import { loadHost, nameLookup } from '../src/cli/host-commands.js';
import { runSurvey, type Survey } from '../src/checks/index.js';
import { buildHost } from '../src/host/build.js';
import type { Host } from '../src/host/model.js';
import { hostFromSurvey } from '../src/report/fleet/index.js';
import { renderGroups } from '../src/report/groups.js';
import { renderSurvey } from '../src/report/survey.js';
import { TARGETS } from '../src/checks/finding.js';
import { readCapture } from '../src/sources/capture-archive.js';
import { realFs } from '../src/sources/fs.js';
import { ROOT, fixture, fixtureFiles, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const names = nameLookup({});

/** Every real host of the fixtures: the captures, the 41 pciutils dumps as capture trees, the machines with kernel groups, the DL380e Gen8. */
function hosts(): Array<{ name: string; host: () => Host; task?: { kind: 'file' | 'capture-dir'; path: string } }> {
  const out: Array<{ name: string; host: () => Host; task?: { kind: 'file' | 'capture-dir'; path: string } }> = [];
  for (const f of fixtureFiles('captures', '.tar.gz')) {
    const path = fixture('captures', f);
    out.push({ name: f, host: () => buildHost(readCapture(path), names), task: { kind: 'file', path } });
  }
  for (const f of fixtureFiles('pci/pciutils-tests', '.dump.txt')) {
    const path = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', f), { kernel: '6.8.0', cmdline: 'intel_iommu=on' });
    out.push({ name: f, host: () => buildHost(readCapture(path), names), task: { kind: 'capture-dir', path } });
  }
  for (const m of fixtureFiles('pci/iommu-groups', '')) {
    const d = fixture('pci/iommu-groups', m);
    const meta = JSON.parse(readFileSync(join(d, 'machine.json'), 'utf8'));
    const o = { lspci: join(d, meta.lspci), dmidecode: join(d, meta.dmidecode), kernel: meta.kernel, ...(meta.dmar ? { dmar: join(d, meta.dmar) } : {}), ...(meta.ivrs ? { ivrs: join(d, meta.ivrs) } : {}) };
    out.push({ name: m, host: () => loadHost(o, realFs) });
  }
  const ex = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
  out.push({ name: 'dl380e-gen8', host: () => loadHost({ lspci: join(ex, 'lspci-vvnn.txt'), dmar: join(ex, 'DMAR.dat'), dmidecode: join(ex, 'dmidecode.txt') }, realFs) });
  return out;
}

const codes = (sv: Survey) => ({
  host: sv.hostFindings.map((f) => f.code),
  devices: sv.devices.map((r) => ({ address: r.device.address, hidden: r.hidden, codes: r.findings.map((f) => f.code), verdicts: r.verdicts })),
});

describe('fleet surveys without fix ladders, reporting what a full survey does (issue 11 point 4)', () => {
  it('on every real host of the fixtures: the same finding codes per device and host, the same verdicts; fleet\'s row of each capture is the full survey\'s', () => {
    let ladders = 0;
    const all = hosts();
    assert.ok(all.length >= 50, `${all.length} hosts`);
    for (const h of all) {
      const full = runSurvey(h.host());
      const light = runSurvey(h.host(), { fixLadders: false });
      assert.deepEqual(codes(light), codes(full), h.name);
      // `survey` in text (the table, --all, --groups) is the light survey too: it prints what the full one would.
      for (const t of TARGETS) {
        for (const all of [false, true]) assert.equal(renderSurvey(light, t, all, { color: false }), renderSurvey(full, t, all, { color: false }), `${h.name} ${t}${all ? ' --all' : ''}`);
        assert.equal(renderGroups(light, t), renderGroups(full, t), `${h.name} ${t} --groups`);
      }
      // What the light survey leaves out: the isolation fixes ("Move the card…", kernel parameters).
      const fixes = (sv: Survey) => sv.devices.flatMap((r) => r.findings.flatMap((f) => f.fixes.map((x) => x.title)));
      const isolation = (t: string) => /^Move the card|^No slot of this host|^Kernel parameter/.test(t);
      if (fixes(full).some(isolation)) ladders++;
      assert.equal(fixes(light).filter(isolation).length, 0, h.name);
      if (h.task) {
        const r = readTask({ ...h.task, id: h.name }, { names });
        assert.deepEqual(r.errors, [], h.name);
        const expected = hostFromSurvey(full, h.name, h.task.path, null);
        assert.deepEqual({ ...r.hosts[0], rmrds: null }, expected, h.name);
      }
    }
    // Hosts where the full survey gives isolation fixes exist in the fixtures, so the skip is tested.
    assert.ok(ladders >= 5, `${ladders} hosts with isolation fixes`);
  });
});
