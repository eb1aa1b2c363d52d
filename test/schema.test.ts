/**
 * The JSON Schemas of docs/schema/: valid draft 2020-12, one for every document kind the code
 * prints, shipped in the package, in step with docs/json.md, and able to fail (a broken document
 * is refused). The run helpers of the other tests validate every --json output through
 * test/json-schema.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { ROOT, fixture } from './helpers.js';
import { assertValidDocument, SCHEMA_DIR, schemaFile, validatedJson, validatorFor } from './json-schema.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];

/** State records in the state directory (docs/json.md), not documents a command prints. */
const STATE_RECORDS = new Set(['assignable/pending/v1', 'assignable/pending/v2', 'assignable/backup/v1', 'assignable/windows-driver/v1', 'assignable/vfio-bind/v1']);

async function json(...args: string[]): Promise<Record<string, unknown>> {
  let out = '';
  await main(args, { out: (s) => void (out += s), err: () => undefined });
  return JSON.parse(out) as Record<string, unknown>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('JSON Schemas (docs/schema)', () => {
  const files = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')).sort();

  it('each is draft 2020-12, compiles in strict mode, and names the document it is for', () => {
    assert.ok(files.length >= 8, files.join(' '));
    for (const f of files) {
      const s = JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8')) as { $schema: string; $id: string; properties: { schema: { const: string } } };
      assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema', f);
      assert.equal(s.$id, f);
      const name = s.properties.schema.const;
      assert.equal(schemaFile(name), join(SCHEMA_DIR, f), `${f} is named for ${name}`);
      assert.equal(typeof validatorFor(name), 'function');
    }
  });

  it('every document kind the code writes has one (and the fleet has its placeholder)', () => {
    const names = new Set<string>();
    for (const f of sourceFiles(join(ROOT, 'src'))) for (const m of readFileSync(f, 'utf8').matchAll(/'(assignable\/[a-z-]+\/v[0-9]+)'/g)) names.add(m[1]!);
    for (const n of [...names].filter((n) => !STATE_RECORDS.has(n))) assert.ok(files.includes(relative(SCHEMA_DIR, schemaFile(n)!)), `${n} has no schema in docs/schema/`);
    for (const kind of ['dmar', 'ivrs', 'smbios', 'survey', 'slots', 'fix-plan', 'capture', 'fleet']) assert.ok(files.some((f) => f.startsWith(`${kind}-v`)), kind);
  });

  it('ship in the package (npm pack lists them)', () => {
    const p = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (p.status !== 0) throw new Error(`npm pack --dry-run: ${p.stderr}`);
    const packed = new Set((JSON.parse(p.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const f of files) assert.ok(packed.has(`docs/schema/${f}`), f);
  });

  it('the survey schema requires every key docs/json.md documents for the survey and a device', () => {
    const md = readFileSync(join(ROOT, 'docs/json.md'), 'utf8');
    const section = md.slice(md.indexOf('## `assignable/survey/v2`'), md.indexOf('## `assignable/slots/v1`'));
    const [top, device] = section.split('\nA device:\n');
    const keys = (t: string) => [...t!.matchAll(/^\| `([a-zA-Z.]+)`(?:, `([a-zA-Z]+)`)?(?:, `([a-zA-Z]+)`)? \|/gm)].flatMap((m) => m.slice(1).filter((x): x is string => x !== undefined));
    const s = JSON.parse(readFileSync(join(SCHEMA_DIR, 'survey-v2.schema.json'), 'utf8')) as { required: string[]; properties: Record<string, { required?: string[] }>; $defs: { device: { required: string[] } } };
    const topKeys = keys(top!);
    assert.ok(topKeys.length >= 10, topKeys.join(' '));
    for (const k of topKeys) {
      const [a, b] = k.split('.');
      if (b === undefined) assert.ok(s.required.includes(a!), k);
      else assert.ok(s.properties[a!]!.required!.includes(b), k);
    }
    const deviceKeys = keys(device!);
    assert.ok(deviceKeys.length >= 15, deviceKeys.join(' '));
    assert.deepEqual([...deviceKeys].sort(), [...s.$defs.device.required].sort());
  });

  it('real documents validate; broken ones are refused with the path that is wrong', async () => {
    const survey = await json('survey', '--json', ...DL380E);
    assertValidDocument(survey);
    const bad: Array<[string, (d: any) => void, RegExp]> = [
      ['a verdict status not in the list', (d) => (d.devices[0].verdicts.vfio.status = 'maybe'), /\/devices\/0\/verdicts\/vfio\/status/],
      ['a 64-bit value as a number', (d) => (d.devices.find((x: { rmrr: unknown[] | null }) => x.rmrr?.length).rmrr[0].base = 2113916928), /rmrr\/0\/base/],
      ['an address missing', (d) => delete d.devices[3].address, /\/devices\/3 .*address/],
      ['rmrr "none" given as []-less undefined', (d) => delete d.devices[0].rmrr, /rmrr/],
      ['a finding code in lower case', (d) => (d.host.findings[0].code = 'iommu'), /\/host\/findings\/0\/code/],
    ];
    for (const [what, mutate, where] of bad) {
      const d = clone(survey);
      mutate(d);
      assert.throws(() => assertValidDocument(d), where, what);
    }
    const dmar = await json('dmar', join(EX, 'DMAR.dat'), '--json');
    assertValidDocument(dmar);
    const d = clone(dmar) as { structures: Array<{ type: string; base?: string }> };
    delete d.structures.find((x) => x.type === 'RMRR')!.base;
    assert.throws(() => assertValidDocument(d), /base/);
    const ivrs = await json('ivrs', fixture('ivrs', 'aokzoe-a1x-6f0309.dat'), '--json');
    assertValidDocument(ivrs);
    const i = clone(ivrs) as { blocks: Array<{ kind: string; start?: unknown }> };
    i.blocks.find((b) => b.kind === 'IVMD')!.start = 1;
    assert.throws(() => assertValidDocument(i), /start/);
    const plan = await json('fix', '02:00.0', '--json', ...DL380E);
    assertValidDocument(plan);
    assert.throws(() => assertValidDocument({ ...plan, chosen: 'reboot' }), /chosen/);
    assertValidDocument(await json('slots', '--json', ...DL380E));
    assertValidDocument(await json('smbios', join(EX, 'dmidecode.txt'), '--json'));
  });

  it('the run helpers check: text passes, a document of an unknown kind or a broken one fails', () => {
    assert.doesNotThrow(() => validatedJson({ out: 'ADDRESS SLOT NAME\n' }));
    assert.doesNotThrow(() => validatedJson({ out: '{"no":"schema field"}' }));
    assert.throws(() => validatedJson({ out: '{"schema":"assignable/nothing/v1"}' }), /no schema in docs\/schema/);
    assert.throws(() => validatedJson({ out: '{"schema":"assignable/slots/v1","slots":[]}' }), /embedded/);
    assert.throws(() => validatedJson({ out: JSON.stringify({ schema: 'assignable/capture/v1', tool: 'assignable 0.1.0', created: 'yesterday', redacted: false, notes: [] }) }), /created/);
  });
});
