/**
 * The other two ways in (issue 12 point 3): the .deb (`npm run deb`) and the single executable
 * (`npm run sea`), each built by its script from a bundle of the sources as they are. The .deb
 * is installed by dpkg itself into a tree whose dpkg database records Debian 12's nodejs package
 * (its control fields, read from the Debian archive's .deb): dpkg decides whether the
 * dependency holds, and refuses the package beside the nodejs Debian 12.0 first shipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { main } from './main-validated.js';
import { bundleOfSources } from './bundle-cache.js';
import { ROOT, spawnOutput } from './helpers.js';
import { commands } from './cli-commands.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { CARD, conrepSimBundle, hpeHost, nvramByte, runWithEnv, type HpeHost } from './fix-host.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const SURVEY = ['survey', '--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; engines: { node: string } };
const DEBIAN_NODE = process.env.ASSIGNABLE_DEBIAN_NODE18 ?? join(ROOT, '.debian-node18');

async function source(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}
function proc(cmd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What the scripts make, here; their input, the bundle of the sources as they are, shared with test/bundle.test.ts. */
let work = '';
let bundle = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'assignable-release-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  bundle = bundleOfSources();
});

const noDpkg = spawnSync('dpkg-deb', ['--version']).status !== 0 ? 'dpkg-deb is not installed (Debian, Ubuntu)' : false;

describe('the .deb (npm run deb)', { skip: noDpkg }, () => {
  let deb = '';
  before(() => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/deb.mjs'), '--bundle', join(bundle, 'assignable.mjs'), '--outdir', join(work, 'deb')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    deb = join(work, 'deb', `${PKG.name}_${PKG.version}_all.deb`);
    assert.ok(existsSync(deb), readdirSync(join(work, 'deb')).join(', '));
  });

  it('depends on nodejs at the version engines names, and on nothing else', () => {
    const f = proc('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    assert.equal(f.code, 0, f.err);
    const min = /(\d+(?:\.\d+)*)/.exec(PKG.engines.node)![1];
    assert.equal(f.out, `Package: ${PKG.name}\nVersion: ${PKG.version}\nArchitecture: all\nDepends: nodejs (>= ${min})\n`);
  });

  it('dpkg installs it into a tree holding Debian 12\'s nodejs, and refuses it beside the nodejs of Debian 12.0', (t) => {
    const nodeDeb = existsSync(join(DEBIAN_NODE, 'debs')) ? readdirSync(join(DEBIAN_NODE, 'debs')).find((f) => /^nodejs_18\..*\.deb$/.test(f)) : undefined;
    if (!nodeDeb) return t.skip(`Debian 12's nodejs .deb is not at ${DEBIAN_NODE}/debs (scripts/debian-node18.sh DIR; ASSIGNABLE_DEBIAN_NODE18=DIR)`);
    if (process.getuid?.() !== 0) return t.skip('dpkg --root writes owner root: needs root');
    const fields = proc('dpkg-deb', ['-f', join(DEBIAN_NODE, 'debs', nodeDeb), 'Package', 'Version', 'Architecture']).out;
    const tree = (nodejsFields: string) => {
      const root = mkdtempSync(join(work, 'debian12-'));
      for (const d of ['info', 'updates', 'triggers']) mkdirSync(join(root, 'var/lib/dpkg', d), { recursive: true });
      writeFileSync(join(root, 'var/lib/dpkg/status'), `${nodejsFields}Status: install ok installed\nMaintainer: Debian Javascript Maintainers\nDescription: evented I/O for V8 javascript - runtime executable\n\n`);
      writeFileSync(join(root, 'var/lib/dpkg/available'), '');
      return root;
    };
    const root = tree(fields);
    const i = proc('dpkg', [`--root=${root}`, '--log=/dev/null', '-i', deb]);
    assert.equal(i.code, 0, i.out + i.err);
    assert.match(proc('dpkg', [`--root=${root}`, '-s', PKG.name]).out, /^Status: install ok installed$/m);
    assert.ok(existsSync(join(root, 'usr/lib/assignable/dist/assignable.mjs')));
    // Debian 12.0 released with nodejs 18.13.0: below engines, so dpkg must refuse.
    const old = tree(fields.replace(/^Version: .*$/m, 'Version: 18.13.0+dfsg1-1'));
    const refused = proc('dpkg', [`--root=${old}`, '--log=/dev/null', '-i', deb]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /depends on nodejs \(>= 18\.19\)/);
  });

  it('its /usr/bin/assignable prints what the source build prints, under this node and Debian 12\'s', async (t) => {
    const root = join(work, 'unpacked');
    assert.equal(proc('dpkg-deb', ['-x', deb, root]).code, 0);
    const want = await source(SURVEY);
    // The link and its #!/usr/bin/env node line, with this test's node first on PATH.
    const r = spawnSync(join(root, 'usr/bin/assignable'), SURVEY, { encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    assert.deepEqual({ code: r.status, out: r.stdout, err: r.stderr }, want);
    // The probe it ships, where the program looks for it.
    const probe = spawnSync(join(root, 'usr/bin/assignable'), ['windows-probe'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    assert.deepEqual({ code: probe.status, out: probe.stdout, err: probe.stderr }, { code: 0, out: readFileSync(join(ROOT, 'windows/assignable-probe.ps1'), 'utf8'), err: '' });
    if (!existsSync(join(DEBIAN_NODE, 'usr/bin/node'))) return t.skip(`Debian 12's Node 18 is not unpacked at ${DEBIAN_NODE}`);
    const n18 = proc(join(ROOT, 'scripts/debian-node.sh'), [DEBIAN_NODE, join(root, 'usr/lib/assignable/dist/assignable.mjs'), ...SURVEY]);
    if (n18.code !== want.code && /unshare|mount/.test(n18.err)) return t.skip(`Debian's node does not start here: ${n18.err.split('\n')[0]}`);
    assert.deepEqual(n18, want);
  });
});

/** Where sea.mjs looks for postject, checked here on its own so that a broken lookup fails the test instead of skipping it. */
function postjectOnDisk(): string | undefined {
  const dirs = [join(ROOT, 'node_modules/.bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((d) => join(d, 'postject')).find((p) => existsSync(p));
}

describe('the single executable (npm run sea)', () => {
  /** The executable the first test made, for the ones after it. */
  let sea = '';
  it('runs with no node on PATH and prints what the source build and the bundle print', async (t) => {
    const found = postjectOnDisk();
    if (!found) return t.skip('postject is in neither node_modules/.bin nor PATH (npm ci installs it, a devDependency): the executable cannot be made here');
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/sea.mjs'), '--bundle', join(bundle, 'assignable-cli.cjs'), '--outdir', join(work, 'sea')], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `postject at ${found}, yet: ${r.stderr}`);
    const exe = join(work, 'sea', 'assignable');
    // The build says where the executable is and nothing else (postject's ELF-note warnings held back).
    assert.deepEqual({ out: r.stdout, err: r.stderr }, { out: `sea: ${exe} (node ${process.version}, linux-x64)\n`, err: '' });
    // An empty environment: no node anywhere the executable could reach for one.
    const noNode = { PATH: '/nonexistent' };
    const s = spawnSync(exe, SURVEY, { encoding: 'utf8', env: noNode });
    const want = await source(SURVEY);
    assert.deepEqual({ code: s.status, out: s.stdout, err: s.stderr }, want);
    assert.ok(want.out.includes('HP ProLiant DL380e Gen8'), want.out.slice(0, 200));
    const b = spawnSync(process.execPath, [join(bundle, 'assignable.mjs'), ...SURVEY], { encoding: 'utf8' });
    assert.deepEqual({ code: s.status, out: s.stdout, err: s.stderr }, { code: b.status, out: b.stdout, err: b.stderr });
    assert.equal(spawnSync(exe, ['--version'], { encoding: 'utf8', env: noNode }).stdout, `${PKG.version}\n`);
    // The probe it prints is the one it carries: run from a directory of its own, nothing beside it.
    const alone = join(work, 'alone');
    mkdirSync(alone);
    copyFileSync(exe, join(alone, 'assignable'));
    const p = spawnSync(join(alone, 'assignable'), ['windows-probe'], { encoding: 'utf8', env: noNode, cwd: alone });
    assert.deepEqual({ code: p.status, out: p.stdout, err: p.stderr }, { code: 0, out: readFileSync(join(ROOT, 'windows/assignable-probe.ps1'), 'utf8'), err: '' });
    sea = exe;
  });

  // fleet --jobs 2 among them: its worker threads run the build the executable carries.
  it('prints what the bundle prints for every command the bundle test runs', async (t) => {
    if (!sea) return t.skip('no executable was made (the test above says why)');
    const tree = sysfsTreeFromDump(readFileSync(join(ROOT, 'test/fixtures/pci/pciutils-tests/fujitsu-esprimo-p8010-pciutils-tree.dump.txt'), 'latin1'), { kernel: '6.8.12-4-pve', cmdline: 'quiet intel_iommu=on' });
    try {
      const env = { ...process.env, NO_COLOR: '1' };
      // One command at a time, its two runs side by side: the executable and the ES module bundle.
      for (const args of commands(tree)) {
        const [s, b] = await Promise.all([spawnOutput(sea, args, { cwd: ROOT, env }), spawnOutput(process.execPath, [join(bundle, 'assignable.mjs'), ...args], { cwd: ROOT, env })]);
        assert.deepEqual(s, b, args.join(' '));
      }
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  // What other builds start as `node -e`: the supervisor of a remedy's program.
  it('fix --apply runs conrep under its own supervisor, and the slot is excluded', async (t) => {
    if (!sea) return t.skip('no executable was made (the test above says why)');
    const viaSea = hpeHost(mkdtempSync(join(work, 'fix-sea-')));
    const inProcess = hpeHost(mkdtempSync(join(work, 'fix-source-')));
    const env = (h: HpeHost) => ({ CONREP_SIM_BUNDLE: conrepSimBundle(), CONREP_SIM_STATE: h.image, CONREP_SIM_LOG: h.log, ASSIGNABLE_TEST_HOST_ROOT: h.root });
    const apply = (h: HpeHost) => ['fix', CARD, '--apply', '--conrep', join(ROOT, 'test/sim/conrep'), '--state-dir', h.stateDir];
    // The simulator is a node script: node stays on PATH here (the executable itself needs none, above).
    const s = spawnSync(sea, apply(viaSea), { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env(viaSea) } });
    const want = await runWithEnv(apply(inProcess), env(inProcess));
    assert.equal(s.status, want.code, `${s.stdout}\n${s.stderr}`);
    assert.equal(want.code, 0, want.err);
    // RMRDS slot 2 excluded: bit 1 of NVRAM byte 0x26A, read from the simulator's image.
    assert.equal(nvramByte(viaSea, 0x26a) & 0x02, 0x02);
    assert.equal(nvramByte(inProcess, 0x26a), nvramByte(viaSea, 0x26a));
  });
});
