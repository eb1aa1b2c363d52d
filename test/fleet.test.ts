/**
 * `assignable fleet` (issue 11 point 4): 100 real and synthetic inputs in one summary, a bad
 * input among good ones, RMRDS differences from conrep saves, --device/--slot, the four
 * formats, the schema, worker threads and the atomic Prometheus file.
 *
 * Oracles: each dump's own function count (its header lines, read by a regex here), the
 * `survey` command's own summary line for the same input (another code path than fleet's
 * aggregation), the lspci text's [vendor:device] ids, the conrep files' Section lines, the
 * Prometheus project's parser (python3-prometheus-client) and ajv for the schema.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it, before } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { main } from './main-validated.js';
import { EXIT } from '../src/cli/exit.js';
import { runFleet } from '../src/cli/fleet-command.js';
import { collect } from '../src/sources/collect.js';
import { realFs } from '../src/sources/fs.js';
import { writeTar } from '../src/sources/tar.js';
import { ROOT, fixture, fixtureFiles, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { buildSmbios, parseDump } from './smbios-plant.js';

function io() {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }, get out() { return out; }, get err() { return err; } };
}
async function run(...args: string[]) {
  const c = io();
  const code = await main(args, c.io);
  return { code, out: c.out, err: c.err };
}

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/schema/fleet-v1.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
function valid(doc: unknown) {
  const ok = validate(doc);
  assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5)));
}

/** Function headers of a pciutils dump or lspci text: `[dddd:]bb:dd.f `. */
const HEADER = /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /gm;
const functionsIn = (text: string) => (text.match(HEADER) ?? []).length;

/** survey's own last summary line: "N device(s): a assignable, w with warnings, b blocked for vfio". */
function surveyCounts(out: string) {
  const m = /(\d+) device\(s\): (\d+) assignable, (\d+) with warnings, (\d+) blocked for vfio/.exec(out);
  assert.ok(m, out.slice(-400));
  return { devices: Number(m[1]), assignable: Number(m[2]), warnings: Number(m[3]), blocked: Number(m[4]) };
}

interface Expected {
  functions: number;
  counts: { devices: number; assignable: number; warnings: number; blocked: number };
}

const DUMPS = fixtureFiles('pci/pciutils-tests', '.dump.txt');
const GROUP_MACHINES = readdirSync(fixture('pci/iommu-groups')).sort();
const EXAMPLE = join(ROOT, 'examples/hp-proliant-dl380e-gen8');

let dir = '';
const expected = new Map<string, Expected>();

/** The loose-file arguments survey takes for one iommu-groups machine (its machine.json says which). */
function machineArgs(m: string): string[] {
  const d = fixture('pci/iommu-groups', m);
  const meta = JSON.parse(readFileSync(join(d, 'machine.json'), 'utf8'));
  return ['--lspci', join(d, meta.lspci), ...(meta.dmar ? ['--dmar', join(d, meta.dmar)] : []), ...(meta.ivrs ? ['--ivrs', join(d, meta.ivrs)] : []), '--dmidecode', join(d, meta.dmidecode), '--kernel', meta.kernel];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assignable-fleet-'));
  const inputs = join(dir, 'inputs');
  mkdirSync(join(inputs, 'captures'), { recursive: true });
  mkdirSync(join(inputs, 'surveys'), { recursive: true });
  // 41 real dumps → host trees → captures, as `collect` writes them.
  for (const f of DUMPS) {
    const text = fixtureText('pci/pciutils-tests', f);
    const root = sysfsTreeFromDump(text, { kernel: '6.8.0', cmdline: 'intel_iommu=on' });
    const c = collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' });
    const name = f.replace('.dump.txt', '');
    const file = join(inputs, 'captures', `${name}.tar.gz`);
    writeFileSync(file, gzipSync(writeTar(c.entries)));
    const sv = await run('survey', '--capture', file, '--no-color');
    expected.set(`captures/${name}`, { functions: functionsIn(text), counts: surveyCounts(sv.out) });
  }
  // 7 real machines as survey JSON documents (the six whose kernel groups are known, and the DL380e Gen8).
  const docs: Array<[string, string[], string]> = [
    ...GROUP_MACHINES.map((m) => [m, machineArgs(m), readFileSync(join(fixture('pci/iommu-groups', m), 'lspci-vvnn.txt'), 'latin1')] as [string, string[], string]),
    ['hp-proliant-dl380e-gen8', ['--lspci', join(EXAMPLE, 'lspci-vvnn.txt'), '--dmar', join(EXAMPLE, 'DMAR.dat'), '--dmidecode', join(EXAMPLE, 'dmidecode.txt')], readFileSync(join(EXAMPLE, 'lspci-vvnn.txt'), 'latin1')],
  ];
  for (const [name, args, lspci] of docs) {
    const js = await run('survey', '--json', ...args);
    assert.ok(js.code === 0 || js.code === 1, js.err);
    writeFileSync(join(inputs, 'surveys', `${name}.survey.json`), js.out);
    const sv = await run('survey', '--no-color', ...args);
    expected.set(`surveys/${name}`, { functions: functionsIn(lspci), counts: surveyCounts(sv.out) });
  }
  // 52 synthetic hosts: copies under another host's name, as a fleet of identical servers is.
  let n = 0;
  const originals = [...expected.keys()];
  while (expected.size < 100) {
    const from = originals[n % originals.length]!;
    const [kind, name] = from.split('/') as [string, string];
    const copy = `${kind}/fleet-${String(n).padStart(3, '0')}-${name}`;
    const suffix = kind === 'captures' ? '.tar.gz' : '.survey.json';
    copyFileSync(join(inputs, `${from}${suffix}`), join(inputs, `${copy}${suffix}`));
    expected.set(copy, expected.get(from)!);
    n++;
  }
});

/**
 * `fleet INPUTS --json`, run once for the tests that read it (the first checks it against the
 * surveys, the archive test against a run over the archive): the same command over the same
 * unchanged directory, a hundred hosts read once instead of twice.
 */
let inputsJson: ReturnType<typeof run> | null = null;
const fleetInputsJson = () => (inputsJson ??= run('fleet', join(dir, 'inputs'), '--json'));

describe('fleet over 100 real and synthetic inputs (issue 11 point 4)', () => {
  it('every host with the function count of its dump and the verdict counts survey gives it; the JSON validates', async () => {
    const r = await fleetInputsJson();
    assert.equal(r.code, EXIT.OK, r.err);
    const doc = JSON.parse(r.out);
    valid(doc);
    assert.equal(doc.hosts.length, 100);
    assert.equal(doc.errors.length, 0);
    for (const h of doc.hosts) {
      const e = expected.get(h.id);
      assert.ok(e, `unexpected host ${h.id}`);
      assert.equal(h.functions, e.functions, `${h.id}: functions`);
      assert.equal(h.devices, e.counts.devices, `${h.id}: devices`);
      assert.deepEqual(h.counts.vfio, { assignable: e.counts.assignable, warnings: e.counts.warnings, blocked: e.counts.blocked }, h.id);
    }
  });

  it('a device model: every host whose lspci lists its ids, with its verdict there', async () => {
    const r = await run('fleet', join(dir, 'inputs', 'surveys'), '--json', '--device', '8086:1521');
    const doc = JSON.parse(r.out);
    valid(doc);
    // The oracle: the lspci text of each machine, [8086:1521] on a function header line.
    const lists = (text: string) => /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] .*\[8086:1521\]/m.test(text);
    const having = new Set<string>();
    for (const h of doc.hosts) {
      const base = h.id.replace(/^fleet-\d+-/, '');
      const text = base === 'hp-proliant-dl380e-gen8' ? readFileSync(join(EXAMPLE, 'lspci-vvnn.txt'), 'latin1') : readFileSync(join(fixture('pci/iommu-groups', base), 'lspci-vvnn.txt'), 'latin1');
      if (lists(text)) having.add(h.id);
    }
    assert.ok(having.size > 0);
    const hit = new Set([...doc.query.assignable, ...doc.query.notAssignable].map((x: { host: string }) => x.host));
    assert.deepEqual([...hit].sort(), [...having].sort());
    assert.deepEqual(doc.query.absent.sort(), doc.hosts.map((h: { id: string }) => h.id).filter((id: string) => !having.has(id)).sort());
    // The DL380e Gen8's I350 ports sit in an RMRR's device scope: blocked, as on the real machine.
    const dl = doc.query.notAssignable.filter((x: { host: string }) => x.host === 'hp-proliant-dl380e-gen8');
    assert.ok(dl.length > 0 && dl.every((x: { reasons: string[] }) => x.reasons.includes('RMRR_DIRECT')));
    const model = doc.models.find((m: { ids: string }) => m.ids === '8086:1521');
    assert.equal(model.hosts, having.size);
  });

  it('--slot: the hosts whose device in that slot is assignable, from the SMBIOS slot of the survey', async () => {
    const r = await run('fleet', join(dir, 'inputs', 'surveys'), '--json', '--slot', '1');
    const doc = JSON.parse(r.out);
    valid(doc);
    const docs = readdirSync(join(dir, 'inputs', 'surveys')).map((f) => [f.replace('.survey.json', ''), JSON.parse(readFileSync(join(dir, 'inputs', 'surveys', f), 'utf8'))] as const);
    for (const [id, sv] of docs) {
      const inSlot = sv.devices.filter((d: { hidden: boolean; slot: { physical: number | null; embedded: boolean } | null }) => !d.hidden && d.slot && !d.slot.embedded && d.slot.physical === 1);
      const hits = [...doc.query.assignable, ...doc.query.notAssignable].filter((x: { host: string }) => x.host === id);
      assert.equal(hits.length, inSlot.length, id);
    }
  });

  it('text, HTML and Prometheus formats say the same counts; the HTML makes no request', async () => {
    const t = await run('fleet', join(dir, 'inputs'));
    assert.equal(t.code, EXIT.OK);
    assert.match(t.out, /^100 host\(s\) summarised; verdicts for vfio\./);
    const h = await run('fleet', join(dir, 'inputs'), '--format', 'html');
    assert.doesNotMatch(h.out, /<script|<link|src=|url\(|https?:\/\//i);
    for (const id of expected.keys()) assert.ok(h.out.includes(`<th scope="row">${id}</th>`), id);
  });

  it('--jobs 2 (worker threads) gives the summary one thread gives', async () => {
    const one = await run('fleet', join(dir, 'inputs'), '--json', '--jobs', '1');
    const two = await run('fleet', join(dir, 'inputs'), '--json', '--jobs', '2');
    assert.equal(two.code, EXIT.OK, two.err);
    assert.deepEqual(JSON.parse(two.out), JSON.parse(one.out));
  });

  it('an archive of inputs (a fetched fleet as one .tar.gz) gives the same hosts', async (t) => {
    const tar = join(dir, 'fetched.tar.gz');
    const r0 = spawnSync('tar', ['-czf', tar, '-C', join(dir, 'inputs'), '.'], { encoding: 'utf8' });
    if (r0.status !== 0) return t.skip(`GNU tar could not pack the inputs: ${r0.error?.message ?? r0.stderr}`);
    const a = JSON.parse((await run('fleet', tar, '--json')).out);
    const d = JSON.parse((await fleetInputsJson()).out);
    valid(a);
    assert.deepEqual(a.hosts.map((h: { id: string; counts: unknown }) => [h.id.replace(/^fetched\//, ''), h.counts]), d.hosts.map((h: { id: string; counts: unknown }) => [h.id, h.counts]));
  });
});

describe('fleet: bad inputs are reported and the rest summarised', () => {
  it('a truncated capture, a DMAR document and a non-JSON file: each named on one line, exit 1, the others summarised', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-bad-'));
    cpSync(join(dir, 'inputs', 'surveys'), join(d, 'ok'), { recursive: true });
    const good = readdirSync(join(d, 'ok')).length;
    const cap = readFileSync(join(dir, 'inputs', 'captures', `${DUMPS[0]!.replace('.dump.txt', '')}.tar.gz`));
    writeFileSync(join(d, 'cut.tar.gz'), cap.subarray(0, cap.length >> 1));
    writeFileSync(join(d, 'dmar.json'), (await run('dmar', '--json', fixture('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat'))).out);
    writeFileSync(join(d, 'garbage.json'), '{"schema": "assignable/survey/v2", "host": ');
    const r = await run('fleet', d, '--json');
    assert.equal(r.code, EXIT.BLOCKED);
    const doc = JSON.parse(r.out);
    valid(doc);
    assert.equal(doc.hosts.length, good);
    assert.deepEqual(doc.errors.map((e: { input: string }) => e.input.slice(d.length + 1)).sort(), ['cut.tar.gz', 'dmar.json', 'garbage.json']);
    assert.match(doc.errors.find((e: { input: string }) => e.input.endsWith('dmar.json')).message, /schema.*assignable\/dmar\/v1/);
    const lines = r.err.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, new RegExp(`^assignable: fleet: ${d}/(cut\\.tar\\.gz|dmar\\.json|garbage\\.json): `));
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('nothing readable: exit 2 for bad input, 3 for a missing path; a survey JSON field that is wrong is named', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-none-'));
    const sv = JSON.parse(readFileSync(join(dir, 'inputs', 'surveys', 'hp-proliant-dl380e-gen8.survey.json'), 'utf8'));
    sv.devices[3].verdicts.vfio.status = 'maybe';
    writeFileSync(join(d, 'h.json'), JSON.stringify(sv));
    const r = await run('fleet', d);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /h\.json: survey JSON field devices\[3\]\.verdicts\.vfio\.status: "maybe" is not assignable, warnings or blocked/);
    const m = await run('fleet', join(d, 'absent'));
    assert.equal(m.code, EXIT.ENVIRONMENT);
    assert.match(m.err, /absent: no such file/);
    const e = await run('fleet', mkdtempSync(join(tmpdir(), 'assignable-fleet-empty-')));
    assert.equal(e.code, EXIT.INPUT);
    assert.match(e.err, /no captures .* or survey JSON documents/);
    assert.equal((await run('fleet', d, '--format', 'yaml')).code, EXIT.INPUT);
    assert.equal((await run('fleet', d, '--slot', 'two')).code, EXIT.INPUT);
  });
});

describe('fleet: RMRDS settings from conrep saves in captures', () => {
  it('the slots whose setting differs, with the hosts of each value, read from the saves themselves', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-rmrds-'));
    const save = fixtureText('conrep', 'busterswt-verify.clean.dat');
    // A second host with the factory setting in slot 2 (the save as conrep -s writes it before the change).
    const factory = save.replace('<Section name="RMRDS_Slot2" helptext=".">Endpoints_Excluded</Section>', '<Section name="RMRDS_Slot2" helptext=".">Endpoints_Included</Section>');
    assert.notEqual(factory, save);
    const text = fixtureText('pci/pciutils-tests', DUMPS[0]!);
    for (const [host, conrep] of [['a', save], ['b', factory], ['c', null]] as const) {
      const root = sysfsTreeFromDump(text, { kernel: '6.8.0', cmdline: 'quiet' });
      const c = collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' });
      if (conrep) c.entries.push({ path: 'conrep.dat', type: 'file', data: new TextEncoder().encode(conrep) });
      writeFileSync(join(d, `${host}.tar.gz`), gzipSync(writeTar(c.entries)));
    }
    // The oracle: every Section line of the saves.
    const sections = (s: string) => new Map([...s.matchAll(/<Section name="(RMRDS_Slot\d+)"[^>]*>([^<]*)<\/Section>/g)].map((m) => [m[1]!, m[2]!]));
    const a = sections(save);
    const b = sections(factory);
    const differing = [...a.keys()].filter((k) => a.get(k) !== b.get(k));
    const r = await run('fleet', d, '--json');
    const doc = JSON.parse(r.out);
    valid(doc);
    assert.equal(doc.firmwareSettings.rmrds.hostsWithSave, 2);
    assert.equal(doc.firmwareSettings.rmrds.hostsWithout, 1);
    assert.deepEqual(doc.firmwareSettings.rmrds.slots.filter((x: { differs: boolean }) => x.differs).map((x: { setting: string }) => x.setting), differing);
    const slot2 = doc.firmwareSettings.rmrds.slots.find((x: { setting: string }) => x.setting === 'RMRDS_Slot2');
    assert.deepEqual(slot2.values, { [a.get('RMRDS_Slot2')!]: ['a'], [b.get('RMRDS_Slot2')!]: ['b'] });
    assert.equal(doc.firmwareSettings.rmrds.slots.length, a.size);
    const t = await run('fleet', d);
    assert.match(t.out, /RMRDS_Slot2: Endpoints_Excluded on a; Endpoints_Included on b/);
  });
});

describe('fleet --format prom: a textfile-collector file, written atomically', () => {
  it('the Prometheus parser reads it, and its device counts are the JSON summary\'s', async (t) => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-prom-'));
    const out = join(d, 'assignable.prom');
    writeFileSync(out, 'old\n');
    const before = statSync(out).ino;
    const r = await run('fleet', join(dir, 'inputs', 'surveys'), '--format', 'prom', '-o', out);
    assert.equal(r.code, EXIT.OK, r.err);
    // Replaced by a rename (a new inode), never rewritten in place; no temp file left behind.
    assert.notEqual(statSync(out).ino, before);
    assert.deepEqual(readdirSync(d), ['assignable.prom']);
    const json = JSON.parse((await run('fleet', join(dir, 'inputs', 'surveys'), '--json')).out);
    // Debian's python3-prometheus-client installs for the system python.
    const py = spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))`, out], { encoding: 'utf8' });
    if (py.status !== 0 && /No module named/.test(py.stderr)) return t.skip('python3-prometheus-client not installed (apt install python3-prometheus-client)');
    assert.equal(py.status, 0, py.stderr);
    const samples = JSON.parse(py.stdout) as Array<[string, Record<string, string>, number]>;
    for (const h of json.hosts) {
      for (const v of ['assignable', 'warnings', 'blocked']) {
        const s = samples.find(([n, l]) => n === 'assignable_host_devices' && l.host === h.id && l.target === 'vfio' && l.verdict === v);
        assert.equal(s?.[2], h.counts.vfio[v], `${h.id} ${v}`);
      }
    }
    assert.equal(samples.find(([n]) => n === 'assignable_fleet_hosts')?.[2], json.hosts.length);
    // Unknown is not 0: hosts whose kernel state is unknown have no iommu_enabled sample.
    const known = json.hosts.filter((h: { iommu: { kernelEnabled: boolean | null } }) => h.iommu.kernelEnabled !== null).length;
    assert.equal(samples.filter(([n]) => n === 'assignable_host_iommu_enabled').length, known);
  });

  it('a directory that does not exist: exit 3, nothing written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-prom-'));
    const r = await run('fleet', join(dir, 'inputs', 'surveys'), '--format', 'prom', '-o', join(d, 'no', 'x.prom'));
    assert.equal(r.code, EXIT.ENVIRONMENT);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.equal(existsSync(join(d, 'no')), false);
  });
});

describe('fleet progress', () => {
  it('on a terminal: a redrawn counter on stderr, cleared at the end; otherwise none', async () => {
    const tty = io();
    assert.equal(await runFleet(tty.io, [join(dir, 'inputs', 'surveys')], {}, true), EXIT.OK);
    assert.match(tty.err, /\rfleet: \d+\/\d+ inputs read/);
    assert.ok(tty.err.endsWith('\r\x1b[K'));
    const pipe = io();
    await runFleet(pipe.io, [join(dir, 'inputs', 'surveys')], {}, false);
    assert.equal(pipe.err, '');
  });
});

describe('fleet: model and BIOS from the capture\'s SMBIOS', () => {
  it('as dmidecode reads the same dump', async (t) => {
    const dmidecode = ['/usr/sbin/dmidecode', '/sbin/dmidecode'].find((p) => existsSync(p));
    if (!dmidecode) return t.skip('dmidecode is not installed (apt install dmidecode)');
    const dumpFile = fixture('smbios/raw', 'dell-poweredge-r630-gosmbios.dump');
    const field = (type: string, name: string) => {
      const r = spawnSync(dmidecode, ['--from-dump', dumpFile, '-t', type], { encoding: 'latin1' });
      const m = new RegExp(`^\\s+${name}: (.*)$`, 'm').exec(r.stdout);
      assert.ok(m, `dmidecode -t ${type} ${name}`);
      return m[1]!.trim();
    };
    const { ep, structures } = parseDump(new Uint8Array(readFileSync(dumpFile)));
    const smbios = buildSmbios(ep, structures);
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', DUMPS[0]!), { kernel: '6.8.0', cmdline: 'quiet' });
    mkdirSync(join(root, 'sys/firmware/dmi/tables'), { recursive: true });
    writeFileSync(join(root, 'sys/firmware/dmi/tables/smbios_entry_point'), smbios.ep);
    writeFileSync(join(root, 'sys/firmware/dmi/tables/DMI'), smbios.table);
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-bios-'));
    const c = collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' });
    writeFileSync(join(d, 'r630.tar.gz'), gzipSync(writeTar(c.entries)));
    const doc = JSON.parse((await run('fleet', d, '--json')).out);
    valid(doc);
    const h = doc.hosts[0];
    assert.deepEqual(h.bios, { vendor: field('0', 'Vendor'), version: field('0', 'Version'), date: field('0', 'Release Date') });
    assert.deepEqual(h.model, { manufacturer: field('1', 'Manufacturer'), product: field('1', 'Product Name') });
    assert.match((await run('fleet', d)).out, new RegExp(`${field('1', 'Product Name')}.*${field('0', 'Version')}`));
  });
});

describe('fleet: one row per host', () => {
  it('a capture and a survey document of the same host make one row, the capture\'s; two documents of one name stay two hosts', async () => {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fleet-dup-'));
    const name = DUMPS[0]!.replace('.dump.txt', '');
    copyFileSync(join(dir, 'inputs', 'captures', `${name}.tar.gz`), join(d, 'h1.tar.gz'));
    writeFileSync(join(d, 'h1.survey.json'), (await run('survey', '--json', '--capture', join(d, 'h1.tar.gz'))).out);
    const one = JSON.parse((await run('fleet', d, '--json')).out);
    assert.deepEqual(one.hosts.map((h: { id: string; kind: string }) => [h.id, h.kind]), [['h1', 'capture']]);
    const d2 = mkdtempSync(join(tmpdir(), 'assignable-fleet-dup-'));
    copyFileSync(join(d, 'h1.survey.json'), join(d2, 'h1.survey.json'));
    const two = JSON.parse((await run('fleet', join(d, 'h1.survey.json'), join(d2, 'h1.survey.json'), '--json')).out);
    assert.equal(two.hosts.length, 2);
    assert.deepEqual(two.hosts.map((h: { source: string }) => h.source).sort(), [join(d, 'h1.survey.json'), join(d2, 'h1.survey.json')].sort());
  });
});
