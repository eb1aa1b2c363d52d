/**
 * The conrep engine on HPE's real files: the conrep 5.48 schema, a user's copy of the RMRDS
 * definitions, and real saved and partial settings files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../src/firmware/errors.js';
import { applySettings, emptyImage, readSettings } from '../src/remedies/hpe-rmrds/codec.js';
import { diffSettings, lintSettings, platformOf } from '../src/remedies/hpe-rmrds/lint.js';
import { builtinRmrdsSchema, rmrdsBit } from '../src/remedies/hpe-rmrds/rmrds.js';
import { findSection, parseConrepSchema } from '../src/remedies/hpe-rmrds/schema.js';
import { overrideFile, parseConrepSettings, writeConrepSettings, type ConrepSettings } from '../src/remedies/hpe-rmrds/settings.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main-validated.js';
import { fixture, fixtureText } from './helpers.js';

const C = 'conrep';
const F = {
  schema548: 'mazad01_docker-conrep__data__conrep_5.48.xml',
  korean: 'korean-howto__RMRDS-sections-added-to-conrep.xml',
  verify: 'busterswt-verify.clean.dat',
  exclude: 'busterswt_busterswt.github.io___posts_2018-08-06-proliant-intel-dpdk.markdown__exclude.dat',
  override: 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__override-rmrds.xml',
  existing: 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__existing-settings-excerpt.xml',
  ht: 'mazad01_docker-conrep__data__hyperthreading_disable.dat',
  power: 'mazad01_docker-conrep__data__powerprofile_max_perf.dat',
};

/** Whitespace between tags does not count. */
const squeeze = (s: string) => s.replace(/>\s+</g, '><').replace(/^\s+|\s+$/g, '');
/** The Silvenga file is an excerpt: its author elided the rest with "..." and no closing tag. */
const existingSettings = () => fixtureText(C, F.existing).replace(/\n\.\.\.\n?$/, '\n') + '</Conrep>\n';

describe('conrep schema', () => {
  const text = fixtureText(C, F.schema548);
  const schema = parseConrepSchema(text);
  it('reads every Section of conrep.xml 5.48 with its storage (counts taken from the file itself)', () => {
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    assert.equal(schema.sections.length, count(/<Section /g));
    assert.equal(schema.sections.reduce((n, s) => n + s.values.length, 0), count(/<value /g));
    assert.equal(schema.sections.filter((s) => s.storage.kind === 'ev').length, count(/<ev>/g));
    assert.equal(schema.sections.filter((s) => s.storage.kind === 'nvram').length, count(/<nvram>/g));
    assert.equal(schema.sections.filter((s) => s.storage.kind === 'cmos').length, count(/<cmos>/g));
    assert.equal(schema.fileversion, '5.48');
    assert.equal(schema.minimumConrepVersion, '3.40');
    assert.equal(schema.onMismatch, 'exception');
    assert.ok(schema.platforms!.includes('Gen9'));
  });
  it('decodes hex and decimal value ids, masks, bytes, filters and altnames as written', () => {
    const vtd = schema.sections.find((s) => s.name === 'Intel_VT-d2')!;
    assert.deepEqual(vtd.storage, { kind: 'ev', name: 'CQSBKT', length: 15, byte: 14 });
    assert.deepEqual(vtd.values, [{ id: 0x00, name: 'Disabled' }, { id: 0x08, name: 'Enabled' }]);
    assert.equal(vtd.mask, 0x08);
    const sriov = schema.sections.find((s) => s.name === 'SR-IOV')!;
    assert.deepEqual([sriov.storage, sriov.mask], [{ kind: 'nvram', address: 0x45, byte: 0 }, 0x04]);
    assert.equal(schema.sections.find((s) => s.name === 'CPU_Virtualization')!.altname, 'Intel_Virtualization');
    assert.deepEqual(schema.sections.find((s) => s.name === 'Intel_NIC_DMA_Channels')!.filters.procMans, ['Intel']);
    const ipl = schema.sections.find((s) => s.name === 'IPL_Order')!;
    assert.deepEqual(ipl.record, { recordSize: 1, format: 'bytes', fields: [{ name: 'Index', size: 1, start: 0 }], emptyDelete: false });
    assert.equal(schema.sections.find((s) => s.name === 'IMD_ServerName')!.record!.format, 'text');
    const slot = schema.sections.find((s) => s.name === 'Intel_PCI_Express_Gen3_Slot_1_Control')!;
    assert.deepEqual([slot.storage, slot.mask], [{ kind: 'nvram', address: 0x233, byte: 0 }, 0x01]);
  });
  it('the built-in RMRDS definitions are those of the published copy (nvram 0x26A/0x26B, one bit per slot)', () => {
    const korean = parseConrepSchema(`<Conrep>\n${fixtureText(C, F.korean)}</Conrep>\n`);
    const ours = builtinRmrdsSchema();
    assert.equal(korean.sections.length, 16);
    for (const k of korean.sections) {
      const o = ours.sections.find((s) => s.name === k.name)!;
      assert.deepEqual([o.storage, o.values, o.mask], [k.storage, k.values, k.mask], k.name);
    }
    assert.deepEqual(rmrdsBit(2), { nvram: 0x26a, mask: 0x02 });
    assert.deepEqual(rmrdsBit(16), { nvram: 0x26b, mask: 0x80 });
  });
  it('a settings file is not a schema, and garbage is one line of error', () => {
    assert.throws(() => parseConrepSchema(fixtureText(C, F.verify)), /settings file, not a schema/);
    assert.throws(() => parseConrepSchema('<Conrep><Section name="x">'), (e: unknown) => e instanceof DecodeError && /conrep schema line 1 \(XML\)/.test(e.message));
    assert.throws(() => parseConrepSchema('<!DOCTYPE Conrep [<!ENTITY x "xxxxxxxxxx">]><Conrep>&x;</Conrep>'), /no DTD, no entity expansion/);
    assert.throws(() => parseConrepSchema('not xml at all'), DecodeError);
  });
});

describe('real settings files', () => {
  const schema548 = parseConrepSchema(fixtureText(C, F.schema548));
  const rmrds = builtinRmrdsSchema();
  const cases: Array<[string, string, typeof rmrds]> = [
    ['busterswt verify.dat (conrep -s, DL360e Gen8)', fixtureText(C, F.verify), rmrds],
    ['busterswt exclude.dat (partial)', fixtureText(C, F.exclude), rmrds],
    ['Silvenga override-rmrds.xml (partial)', fixtureText(C, F.override), rmrds],
    ['Silvenga saved settings (DL380p Gen8, excerpt)', existingSettings(), schema548],
    ['mazad01 hyperthreading_disable.dat', fixtureText(C, F.ht), schema548],
    ['mazad01 powerprofile_max_perf.dat', fixtureText(C, F.power), schema548],
  ];
  for (const [what, text, schema] of cases) {
    it(`${what}: parses, lints clean, writes back unchanged (whitespace aside)`, () => {
      const s = parseConrepSettings(text);
      assert.ok(s.sections.length > 0);
      assert.deepEqual(lintSettings(s, schema), []);
      const written = writeConrepSettings(s);
      assert.deepEqual(parseConrepSettings(written), s);
      assert.equal(squeeze(written), squeeze(text.replace(/^<\?xml[^>]*>\s*/, s.declaration ? '<?xml version="1.0" encoding="UTF-8"?>' : '')));
    });
  }
  it('multi-field records keep their children in order', () => {
    const s = parseConrepSettings(existingSettings());
    assert.deepEqual(s.sections[0]!.records, [['Line0', 'GH2']]);
    assert.equal(s.sections[1]!.records.length, 16);
    assert.deepEqual(platformOf(s), { platform: 'ProLiant DL380p Gen8', family: 'P70', romDate: '05/24/2019', procMan: 'Intel' });
  });
  it('the override assignable writes is byte for byte the one users loaded', () => {
    assert.equal(overrideFile([{ name: 'RMRDS_Slot2', value: 'Endpoints_Excluded' }]), fixtureText(C, F.override).trimEnd());
    // busterswt's file only differs in whitespace.
    assert.deepEqual(parseConrepSettings(overrideFile([{ name: 'RMRDS_Slot2', value: 'Endpoints_Excluded' }])).sections, parseConrepSettings(fixtureText(C, F.exclude)).sections);
  });
});

describe('settings ⇄ bytes', () => {
  const rmrds = builtinRmrdsSchema();
  const dl360e = { platform: 'ProLiant DL360e Gen8', family: 'P73', romDate: '08/02/2014', procMan: 'Intel' };
  it('loading exclude.dat sets bit 1 of NVRAM 0x26A, and saving gives busterswt\'s verify.dat', () => {
    const img = emptyImage();
    applySettings(img, rmrds, dl360e, parseConrepSettings(fixtureText(C, F.exclude)));
    assert.equal(img.nvram[0x26a], 0x02);
    assert.equal(img.nvram[0x26b], 0x00);
    const verify = parseConrepSettings(fixtureText(C, F.verify));
    const saved = readSettings(img, rmrds, dl360e, verify.attrs, verify.prolog);
    assert.deepEqual(saved.sections, verify.sections);
    assert.equal(squeeze(writeConrepSettings(saved)), squeeze(fixtureText(C, F.verify)));
  });
  it('other bits of the byte are kept', () => {
    const img = emptyImage();
    img.nvram[0x26a] = 0xfd;
    applySettings(img, rmrds, dl360e, parseConrepSettings(fixtureText(C, F.exclude)));
    assert.equal(img.nvram[0x26a], 0xff);
    applySettings(img, rmrds, dl360e, parseConrepSettings('<Conrep><Section name="RMRDS_Slot2">Endpoints_Included</Section></Conrep>'));
    assert.equal(img.nvram[0x26a], 0xfd);
  });
  it('records and EV bit fields of conrep.xml 5.48 round-trip', () => {
    const schema = parseConrepSchema(fixtureText(C, F.schema548));
    const dl380p = platformOf(parseConrepSettings(existingSettings()))!;
    const img = emptyImage();
    const s = parseConrepSettings(existingSettings());
    applySettings(img, schema, dl380p, s);
    assert.equal(String.fromCharCode(...img.ev.get('CQHLS1')!.subarray(0, 3)), 'GH2');
    assert.deepEqual([...img.ev.get('CQHIPL')!], [0, 1, 3, 2, 4, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const back = readSettings(img, schema, dl380p, s.attrs);
    for (const sec of s.sections) assert.deepEqual(back.sections.find((x) => x.name === sec.name)!.records, sec.records, sec.name);
    applySettings(img, schema, dl380p, parseConrepSettings(fixtureText(C, F.power)));
    assert.equal(img.ev.get('CQHPWR')![0]! & 0x03, 0x02);
    const vtd = findSection(schema, 'Intel_VT-d2', dl380p)!;
    applySettings(img, schema, dl380p, parseConrepSettings('<Conrep><Section name="Intel_VT-d2">Enabled</Section></Conrep>'));
    assert.equal(img.ev.get('CQSBKT')![14]! & vtd.mask, 0x08);
  });
});

describe('lint and diff', () => {
  const rmrds = builtinRmrdsSchema();
  const parse = (x: string) => parseConrepSettings(x);
  it('finds unknown sections, values outside the schema, duplicates and platform mismatches', () => {
    const issues = lintSettings(parse('<Conrep originating_platform="ProLiant DL380 Gen10"><Section name="RMRDS_Slot2">Excluded</Section><Section name="RMRDS_Slot17">Endpoints_Excluded</Section><Section name="RMRDS_Slot3">Endpoints_Excluded</Section><Section name="RMRDS_Slot3">Endpoints_Included</Section></Conrep>'), rmrds);
    assert.ok(issues.some((i) => i.section === 'RMRDS_Slot2' && /value "Excluded" is not one of/.test(i.message)));
    assert.ok(issues.some((i) => i.section === 'RMRDS_Slot17' && /unknown section/.test(i.message)));
    assert.ok(issues.some((i) => i.section === 'RMRDS_Slot3' && /appears 2 times/.test(i.message)));
    const schema548 = parseConrepSchema(fixtureText(C, F.schema548));
    // Not among 5.48's platforms ("ProLiant DL3…" would match the DL3 prefix).
    const mismatch = lintSettings(parse('<Conrep originating_platform="Synergy 480 Gen10" originating_processor_manufacturer="AMD"><Section name="Intel_Hyperthreading">Disabled</Section></Conrep>'), schema548);
    assert.ok(mismatch.some((i) => /does not list among its platforms/.test(i.message)));
    assert.ok(mismatch.some((i) => i.section === 'Intel_Hyperthreading' && /defined only for other/.test(i.message)));
  });
  it('diff names the changed section', () => {
    const a = parse(fixtureText(C, F.verify));
    const b: ConrepSettings = { ...a, sections: a.sections.map((s) => (s.name === 'RMRDS_Slot2' ? { ...s, value: 'Endpoints_Included' } : s)) };
    assert.deepEqual(diffSettings(a, b), { header: [], changed: [{ section: 'RMRDS_Slot2', a: 'Endpoints_Excluded', b: 'Endpoints_Included' }], onlyA: [], onlyB: [] });
  });
});

describe('assignable conrep (CLI)', () => {
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
    return { code, out, err };
  };
  it('lint: clean files exit 0; errors exit 1 with one line each', async () => {
    const ok = await run('conrep', 'lint', fixture(C, F.verify));
    assert.equal(ok.code, 0);
    assert.match(ok.out, /16 section\(s\), clean against the built-in RMRDS definitions/);
    const ok548 = await run('conrep', 'lint', fixture(C, F.ht), '--schema', fixture(C, F.schema548));
    assert.equal(ok548.code, 0, ok548.out);
    const bad = join(mkdtempSync(join(tmpdir(), 'assignable-conrep-')), 'bad.xml');
    writeFileSync(bad, '<Conrep><Section name="RMRDS_Slot2">Excluded</Section><Section name="Slot99">x</Section></Conrep>');
    const r = await run('conrep', 'lint', bad);
    assert.equal(r.code, 1);
    assert.equal(r.out.trim().split('\n').length, 2);
    assert.match(r.out, /RMRDS_Slot2: value "Excluded" is not one of: Endpoints_Included, Endpoints_Excluded/);
    const broken = join(mkdtempSync(join(tmpdir(), 'assignable-conrep-')), 'broken.xml');
    writeFileSync(broken, '<Conrep>\n<Section name="x">\n');
    const b = await run('conrep', 'lint', broken);
    assert.equal(b.code, 2);
    assert.match(b.err, /^assignable: .*broken\.xml: conrep settings line \d+ \(XML\): /);
    assert.equal(b.err.trim().split('\n').length, 1);
  });
  it('diff: the one section busterswt changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-conrep-'));
    writeFileSync(join(dir, 'before.dat'), fixtureText(C, F.verify).replace('RMRDS_Slot2" helptext=".">Endpoints_Excluded', 'RMRDS_Slot2" helptext=".">Endpoints_Included'));
    const r = await run('conrep', 'diff', join(dir, 'before.dat'), fixture(C, F.verify));
    assert.equal(r.code, 1);
    assert.equal(r.out, 'RMRDS_Slot2: Endpoints_Included → Endpoints_Excluded\n');
    assert.equal((await run('conrep', 'diff', fixture(C, F.verify), fixture(C, F.verify))).code, 0);
  });
  it('decode: image → settings, and settings → image, both ways', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-conrep-'));
    const image = join(dir, 'image.json');
    writeFileSync(image, JSON.stringify({ platform: { platform: 'ProLiant DL360e Gen8', family: 'P73', romDate: '08/02/2014', procMan: 'Intel' }, nvram: '00'.repeat(4096), cmos: '00'.repeat(256), ev: {} }));
    const w = await run('conrep', 'decode', image, '--settings', fixture(C, F.exclude), '-o', join(dir, 'after.json'));
    assert.equal(w.code, 0, w.err);
    assert.equal(JSON.parse(readFileSync(join(dir, 'after.json'), 'utf8')).nvram.slice(0x26a * 2, 0x26a * 2 + 2), '02');
    const r = await run('conrep', 'decode', join(dir, 'after.json'));
    assert.equal(r.code, 0);
    assert.deepEqual(parseConrepSettings(r.out).sections, parseConrepSettings(fixtureText(C, F.verify)).sections);
  });
});
