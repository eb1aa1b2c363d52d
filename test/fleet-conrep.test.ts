/**
 * Issue 11 point 4, "firmware settings that differ (RMRDS per slot where a conrep save is
 * present)", end to end: `collect --conrep-save FILE` keeps a real conrep save in the capture
 * (as conrep.xml), and `fleet` over such captures shows each RMRDS_SlotN setting with its hosts.
 * The oracle is the saves' own Section lines, read here by a regular expression.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { main } from './main-validated.js';
import { EXIT } from '../src/cli/exit.js';
import { readTar } from '../src/sources/tar.js';
import { fixture, fixtureFiles, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s: string) => void (out += s), err: (s: string) => void (err += s) });
  return { code, out, err };
}

/** Every `<Section name="…">value</Section>` line with a plain value: the oracle. */
const sections = (s: string) => new Map([...s.matchAll(/<Section name="([A-Za-z0-9_]+)"[^>]*>([^<]*)<\/Section>/g)].map((m) => [m[1]!, m[2]!]));
const rmrdsOf = (s: string) => new Map([...sections(s)].filter(([k]) => /^RMRDS_Slot\d+$/.test(k)));

/** The real save busterswt verified after loading the override (slot 2 excluded), without his annotation (conrep/SOURCES.md). */
const VERIFY = fixture('conrep', 'busterswt-verify.clean.dat');
/** His save before the change: the same file with slot 2 at the factory setting (his exclude.dat loaded the one change). */
const factory = readFileSync(VERIFY, 'latin1').replace('<Section name="RMRDS_Slot2" helptext=".">Endpoints_Excluded</Section>', '<Section name="RMRDS_Slot2" helptext=".">Endpoints_Included</Section>');
/** A full save names the server: the real IMD_ServerName section of Silvenga's DL380p Gen8 save, inside the RMRDS save. */
const SERVER_NAME = fixtureText('conrep', 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__existing-settings-excerpt.xml').split('\n').find((l) => l.includes('IMD_ServerName'))!;

function hostTree() {
  return sysfsTreeFromDump(fixtureText('pci/pciutils-tests', fixtureFiles('pci/pciutils-tests', '.dump.txt')[0]!), { kernel: '6.8.0', cmdline: 'quiet' });
}

function member(capture: string, name: string): string | undefined {
  const e = readTar(new Uint8Array(gunzipSync(readFileSync(capture)))).find((x) => x.path === name);
  return e?.data ? new TextDecoder().decode(e.data) : undefined;
}

describe('collect --conrep-save, then fleet: RMRDS per slot across hosts (issue 11 point 4)', () => {
  it('the save is kept as conrep.xml byte for byte; fleet gives each slot\'s setting with its hosts, and the slots that differ', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-conrep-'));
    const before = join(d, 'factory.dat');
    writeFileSync(before, factory);
    const caps = join(d, 'caps');
    mkdirSync(caps);
    for (const [host, save] of [['a', VERIFY], ['b', before], ['c', null]] as const) {
      const out = join(caps, `${host}.tar.gz`);
      const r = await run('collect', '--root', hostTree(), '--no-lspci', '-o', out, ...(save ? ['--conrep-save', save] : []));
      assert.equal(r.code, EXIT.OK, r.err);
      if (save) assert.equal(member(out, 'conrep.xml'), readFileSync(save, 'utf8'));
      else assert.equal(member(out, 'conrep.xml'), undefined);
    }
    const a = rmrdsOf(readFileSync(VERIFY, 'latin1'));
    const b = rmrdsOf(factory);
    assert.equal(a.size, 16);
    const r = await run('fleet', caps, '--json');
    assert.equal(r.code, EXIT.OK, r.err);
    const doc = JSON.parse(r.out);
    const rm = doc.firmwareSettings.rmrds;
    assert.equal(rm.hostsWithSave, 2);
    assert.equal(rm.hostsWithout, 1);
    assert.deepEqual(new Map(doc.hosts.map((h: { id: string; rmrds: unknown }) => [h.id, h.rmrds])), new Map([['a', Object.fromEntries(a)], ['b', Object.fromEntries(b)], ['c', null]]));
    assert.deepEqual(rm.slots.filter((x: { differs: boolean }) => x.differs).map((x: { setting: string }) => x.setting), [...a.keys()].filter((k) => a.get(k) !== b.get(k)));
    assert.deepEqual(rm.slots.find((x: { setting: string }) => x.setting === 'RMRDS_Slot2').values, { Endpoints_Excluded: ['a'], Endpoints_Included: ['b'] });
    const text = await run('fleet', caps);
    assert.match(text.out, /RMRDS_Slot2: Endpoints_Excluded on a; Endpoints_Included on b/);
  });

  it('--redact keeps only the RMRDS sections (a full save names the server); their values unchanged', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-conrep-'));
    const full = readFileSync(VERIFY, 'latin1').replace('  <Section name="RMRDS_Slot1"', `${SERVER_NAME}\n  <Section name="RMRDS_Slot1"`);
    assert.match(full, /IMD_ServerName/);
    const save = join(d, 'full.dat');
    writeFileSync(save, full);
    const plain = join(d, 'plain.tar.gz');
    assert.equal((await run('collect', '--root', hostTree(), '--no-lspci', '-o', plain, '--conrep-save', save)).code, EXIT.OK);
    assert.match(member(plain, 'conrep.xml')!, /IMD_ServerName/);
    const out = join(d, 'redacted.tar.gz');
    const r = await run('collect', '--root', hostTree(), '--no-lspci', '-o', out, '--redact', '--conrep-save', save);
    assert.equal(r.code, EXIT.OK, r.err);
    const kept = member(out, 'conrep.xml')!;
    assert.doesNotMatch(kept, /IMD_ServerName|GH2/);
    assert.deepEqual(sections(kept), rmrdsOf(full));
  });

  it('a file that is not a conrep settings file: exit 2, one line naming it, nothing written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-conrep-'));
    // Silvenga's excerpt ends in his "..." elision (no </Conrep>); busterswt's post has his annotation inside the XML; HPE's RMRDS schema is no save.
    const bad = [
      fixture('conrep', 'busterswt_busterswt.github.io___posts_2018-08-06-proliant-intel-dpdk.markdown__verify.dat'),
      fixture('conrep', 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__existing-settings-excerpt.xml'),
      fixture('conrep', 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__conrep_rmrds.xml-excerpt.txt'),
      join(d, 'missing.dat'),
    ];
    for (const f of bad) {
      const out = join(d, 'cap.tar.gz');
      const r = await run('collect', '--root', hostTree(), '--no-lspci', '-o', out, '--conrep-save', f);
      assert.equal(r.code, f.endsWith('missing.dat') ? EXIT.ENVIRONMENT : EXIT.INPUT, `${f}: ${r.err}`);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.ok(r.err.includes(f), r.err);
      assert.ok(!existsSync(out));
    }
  });
});
