/**
 * The package as a user gets it: `npm pack` of a tree that has no dist/ (as a fresh clone),
 * installed offline into an empty prefix together with the runtime dependencies packed from
 * our own node_modules, then `import('assignable')`, the docs/library.md example and the
 * installed `assignable` binary run from there. The oracles are outside our code: the tar
 * listing, ACPICA iasl's disassembly of the same DMAR, lspci's text, the corpus's hand-derived
 * RMRR mapping.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { before, describe, it } from 'node:test';
import { main } from './main-validated.js';
import { parseDsl } from './oracle/iasl-dsl.js';
import { ROOT, fixture, fixtureText, spawnOutput } from './helpers.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const EXAMPLE = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];

/** The same command in the source build, in this process. */
async function sourceBuild(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  main: string;
  types: string;
  exports: Record<string, { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
};

/** npm as the user has it; the lifecycle variables of an outer `npm test` are not passed on. */
function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return spawnSync('npm', args, { cwd, env, encoding: 'utf8' });
}
const npmMissing = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0 ? 'npm is not installed here' : null;

/** The runtime dependency closure, resolved the way Node does from our node_modules. */
function runtimeDependencyDirs(): string[] {
  const found = new Map<string, string>();
  const queue: Array<[string, string]> = Object.keys(PKG.dependencies ?? {}).map((n) => [n, ROOT]);
  while (queue.length) {
    const [name, from] = queue.shift()!;
    let dir: string | null = null;
    for (let d = from; ; d = dirname(d)) {
      if (existsSync(join(d, 'node_modules', name, 'package.json'))) {
        dir = realpathSync(join(d, 'node_modules', name));
        break;
      }
      if (dirname(d) === d) break;
    }
    assert.ok(dir, `runtime dependency ${name} is not installed (run npm ci)`);
    if ([...found.values()].includes(dir)) continue;
    assert.ok(!found.has(name), `two versions of ${name} in the runtime closure`);
    found.set(name, dir);
    const deps = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {};
    for (const n of Object.keys(deps)) queue.push([n, dir]);
  }
  return [...found.values()];
}

/** The fenced ```js block of docs/library.md's "Example" section. */
function docExample(): string {
  const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Example'));
  const m = section && /^```js\n([\s\S]*?)^```$/m.exec(section);
  assert.ok(m, 'docs/library.md has an Example section with a js block');
  return m[1]!;
}

/** The names docs/library.md documents as the surface: the first column of its export table. */
function documentedNames(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
  const table = doc.split(/^## /m).find((s) => s.startsWith('What is exported'))!;
  return [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((r) => [...r[1]!.matchAll(/`([A-Za-z_]+)`/g)].map((x) => x[1]!)).sort();
}

describe('the packed package, installed into an empty prefix', { skip: npmMissing ?? false }, () => {
  let tarball = '';
  let listing: string[] = [];
  let prefix = '';
  const installed = () => join(prefix, 'node_modules', PKG.name);

  /**
   * The TypeScript consumers' compile, started as soon as the package is installed: the compiler
   * works (seconds of CPU, one core) while the tests before its own run the installed package.
   */
  let typeCheck: Promise<{ status: number | null; stdout: string; stderr: string }> | undefined;
  function startTypeCheck() {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    // One compiler run for both consumers (each run re-checks the types of Node and the package):
    // its errors name their file, so the good one must have none and the bad one exactly its own.
    // A Node program's libraries: the language's, not the browser's (target es2022 alone would add
    // the DOM's, a third of what the compiler checks, and DOM globals could stand in for a type
    // the package forgot to take from Node's).
    const check = (sources: Record<string, string>) => {
      for (const [f, source] of Object.entries(sources)) writeFileSync(join(prefix, f), source);
      const config = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: Object.keys(sources) };
      writeFileSync(join(prefix, 'tsconfig.json'), JSON.stringify(config));
      return spawnOutput(process.execPath, [tsc, '-p', join(prefix, 'tsconfig.json')], { cwd: prefix });
    };
    const good = [
      "import { buildHost, readCaptureFiles, runSurvey, CATALOG, type Survey, type Target, type FindingCode } from 'assignable';",
      'const s: Survey = runSurvey(buildHost(readCaptureFiles({})));',
      "const t: Target = 'vfio';",
      "const code: FindingCode = 'RMRR_DIRECT';",
      "export const status: string = (s.devices[0]?.verdicts[t].status ?? 'none') + CATALOG[code].title;",
    ].join('\n');
    // Typed, not `any`: a target the API does not know is a type error.
    return check({ 'consumer-typed.mts': good, 'consumer.mts': good.replace("const t: Target = 'vfio';", "const t: Target = 'kvm';") });
  }

  before(() => {
    // A tree like a fresh clone: no dist/, no node_modules of its own (ours, linked, for tsc).
    const work = mkdtempSync(join(tmpdir(), 'assignable-pack-'));
    const tree = join(work, 'tree');
    const skip = new Set(['node_modules', 'dist', '.git', '.bench-tmp', '.debian-node18']);
    cpSync(ROOT, tree, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src).split(sep)[0]!) && !src.endsWith('.tgz') });
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(tree, 'node_modules'));
    const out = join(work, 'tarballs');
    mkdirSync(out);
    const p = npm(['pack', '--pack-destination', out, '--silent'], tree);
    assert.equal(p.status, 0, `npm pack: ${p.stderr}`);
    tarball = join(out, `${PKG.name}-${PKG.version}.tgz`);
    assert.ok(existsSync(tarball), `npm pack wrote ${readdirSync(out).join(', ')}`);
    const t = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    listing = t.stdout.split('\n').filter(Boolean);
    // The dependencies come packed from what `npm ci` installed here: no registry needed.
    // One npm for all of them: npm pack takes several specs.
    const dirs = runtimeDependencyDirs();
    const d = npm(['pack', ...dirs, '--ignore-scripts', '--pack-destination', out, '--silent'], work);
    assert.equal(d.status, 0, `npm pack ${dirs.join(' ')}: ${d.stderr}`);
    assert.equal(readdirSync(out).length, dirs.length + 1, `a tarball per dependency: ${readdirSync(out).join(', ')}`);
    prefix = join(work, 'prefix');
    mkdirSync(prefix);
    const tgz = readdirSync(out).map((f) => join(out, f));
    const i = npm(['install', '--prefix', prefix, ...tgz, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], prefix);
    assert.equal(i.status, 0, `npm install: ${i.stderr}`);
    typeCheck = startTypeCheck();
    // Read by its test; not left unhandled before then.
    typeCheck.catch(() => {});
  });

  it('ships a dist built by packing (prepack) with the one-file bundle, the license and the docs; no sources, tests or bench', () => {
    const has = (p: string) => listing.includes(`package/${p}`);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/assignable.mjs', 'dist/assignable.cjs', 'dist/assignable-cli.cjs', 'dist/assignable-cli.cjs.cache', 'LICENSE', 'README.md', 'docs/library.md', 'docs/json.md', 'docs/verdicts.md', 'package.json']) assert.ok(has(f), `${basename(tarball)} lacks ${f}`);
    // The binary users get is the launcher of the one-file CommonJS build: nothing to resolve at
    // start-up, and the build's code cache beside it.
    assert.deepEqual(Object.values(PKG.bin), ['dist/assignable.cjs']);
    // The .deb and the single executable are their own downloads.
    assert.deepEqual(listing.filter((f) => /^package\/dist\/(sea|deb)\b/.test(f)), []);
    for (const f of [PKG.main, PKG.types, PKG.exports['.']!.types, PKG.exports['.']!.default, ...Object.values(PKG.bin)]) assert.ok(has(f.replace(/^\.\//, '')), `package.json points at ${f}, not in the tarball`);
    assert.deepEqual(listing.filter((f) => /^package\/(src|test|examples|dist\/bench)\//.test(f)), []);
  });

  it('runs no install scripts on a user machine, and declares the license it ships', () => {
    const manifest = JSON.parse(readFileSync(join(installed(), 'package.json'), 'utf8'));
    const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => manifest.scripts?.[s]);
    assert.deepEqual(lifecycle, []);
    // Nor does any dependency installed with it (npm would run theirs too; binding.gyp implies install).
    const modules = join(prefix, 'node_modules');
    const installedPackages = readdirSync(modules).flatMap((n) => (n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : n.startsWith('.') ? [] : [n]));
    assert.ok(installedPackages.length > 1, installedPackages.join(', '));
    for (const name of installedPackages) {
      const m = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8'));
      const theirs = ['preinstall', 'install', 'postinstall'].filter((s) => m.scripts?.[s]);
      assert.deepEqual(theirs, [], `${name} runs install scripts`);
      assert.ok(!existsSync(join(modules, name, 'binding.gyp')), `${name} builds native code on install`);
    }
    assert.equal(manifest.license, 'MIT');
    const license = readFileSync(join(installed(), 'LICENSE'), 'utf8');
    assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 the assignable authors\n/);
    assert.match(license, /Permission is hereby granted, free of charge/);
  });

  it("import('assignable') gives exactly the surface docs/library.md documents", () => {
    const script = join(prefix, 'surface.mjs');
    writeFileSync(script, "const m = await import('assignable');\nconsole.log(JSON.stringify(Object.keys(m).sort()));\n");
    const r = spawnSync(process.execPath, [script], { cwd: prefix, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), documentedNames());
  });

  it('the docs/library.md example runs against the installed package', () => {
    const script = join(prefix, 'survey.mjs');
    writeFileSync(script, docExample());
    const r = spawnSync(process.execPath, [script, join(EX, 'lspci-vvnn.txt'), join(EX, 'DMAR.dat'), join(EX, 'dmidecode.txt')], { cwd: prefix, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    // iasl's disassembly of the same table counts the RMRRs (subtable type 1).
    assert.equal(readFileSync(join(EX, 'DMAR.dat')).compare(readFileSync(fixture('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat'))), 0);
    const rmrrs = parseDsl(fixtureText('dmar', 'hp-proliant-dl380e-gen8-cb0557.dsl')).filter((f) => f.name === 'Subtable Type' && /^0001\b/.test(f.value)).length;
    assert.equal(lines[0], `DMAR: ${rmrrs} RMRR structures`);
    // Every device line is a function lspci printed.
    const lspci = new Set([...readFileSync(join(EX, 'lspci-vvnn.txt'), 'latin1').matchAll(/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /gm)].map((m) => `0000:${m[1]}`));
    const rows = lines.slice(1).map((l) => l.split(/ {2}/));
    assert.ok(rows.length > 0);
    for (const [address] of rows) assert.ok(lspci.has(address!), `${address} is not in the lspci text`);
    // The I350 ports and the Smart Array sit in RMRR scopes by the hand-derived mapping: blocked for vfio.
    const derived = fixtureText('logs', 'hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt');
    for (const a of ['0000:02:00.0', '0000:02:00.1', '0000:02:00.2', '0000:02:00.3', '0000:05:00.0']) {
      assert.ok(derived.includes(`-> ${a}`), `${a} in the derived RMRR mapping`);
      const row = rows.find(([address]) => address === a);
      assert.ok(row, `${a} listed`);
      assert.equal(row[1], 'blocked', a);
      assert.ok(row[2]!.split(',').includes('RMRR_DIRECT'), `${a}: ${row[2]}`);
    }
  });

  it('the installed binary prints what the source build prints for the survey of the example', async () => {
    const bin = join(prefix, 'node_modules', '.bin', 'assignable');
    // windows-probe reads the script shipped beside the code (windows/): the installed layout finds it.
    for (const args of [['survey', ...EXAMPLE], ['survey', '--all', ...EXAMPLE], ['explain', '0000:05:00.0', ...EXAMPLE], ['windows-probe'], ['survey', '--groups', ...EXAMPLE]]) {
      const r = spawnSync(bin, args, { encoding: 'utf8', cwd: prefix });
      assert.deepEqual({ code: r.status, out: r.stdout, err: r.stderr }, await sourceBuild(args), args.join(' '));
    }
  });

  it("the installed package under Debian 12's own Node 18: the binary and import('assignable')", async (t) => {
    const dir = process.env.ASSIGNABLE_DEBIAN_NODE18 ?? join(ROOT, '.debian-node18');
    if (!existsSync(join(dir, 'usr/bin/node'))) return t.skip(`Debian 12's Node 18 is not unpacked at ${dir} (scripts/debian-node18.sh DIR; ASSIGNABLE_DEBIAN_NODE18=DIR)`);
    const node18 = (args: string[]) => spawnSync(join(ROOT, 'scripts/debian-node.sh'), [dir, ...args], { encoding: 'utf8', cwd: prefix });
    const v = node18(['--version']);
    if (v.status !== 0) return t.skip(`Debian's node does not start here: ${v.stderr.trim().split('\n')[0]}`);
    const r = node18([join(installed(), PKG.bin.assignable!), 'survey', ...EXAMPLE]);
    assert.deepEqual({ code: r.status, out: r.stdout, err: r.stderr }, await sourceBuild(['survey', ...EXAMPLE]));
    const script = join(prefix, 'surface18.mjs');
    writeFileSync(script, "const m = await import('assignable');\nconsole.log(JSON.stringify(Object.keys(m).sort()));\n");
    const i = node18([script]);
    assert.equal(i.status, 0, i.stderr);
    assert.deepEqual(JSON.parse(i.stdout), documentedNames());
  });

  it('the installed binary: --version, and a survey of a capture', () => {
    const bin = join(prefix, 'node_modules', '.bin', 'assignable');
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), PKG.version);
    const s = spawnSync(bin, ['survey', '--json', '--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')], { encoding: 'utf8' });
    // README: 1 = at least one shown device is blocked; the Smart Array is (derived RMRR mapping).
    assert.equal(s.status, 1, s.stderr);
    assert.equal(s.stderr, '');
    const j = JSON.parse(s.stdout) as { devices: Array<{ address: string; verdicts: { vfio: { status: string; reasons: string[] } } }> };
    const smartArray = j.devices.find((d) => d.address === '0000:05:00.0');
    assert.equal(smartArray?.verdicts.vfio.status, 'blocked');
    assert.ok(smartArray.verdicts.vfio.reasons.includes('RMRR_DIRECT'));
  });

  it('its types resolve for a TypeScript user (strict, NodeNext), and reject what the API does not take', async () => {
    assert.ok(typeCheck, 'the compile was started once the package was installed');
    const r = await typeCheck;
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr, '');
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    assert.equal(errors.length, 1, r.stdout);
    assert.match(errors[0]!, /^consumer\.mts\(3,7\): error TS2322: Type '"kvm"' is not assignable to type 'Target'/);
  });
});
