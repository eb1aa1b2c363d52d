/**
 * The one-file build (issue 12 points 1, 2 and 5): `npm run bundle`'s script run on the sources
 * as they are, then every command on the corpus through the bundle as its own process, against
 * the same command in the source build (main() of src/cli/main.ts): stdout, stderr and exit
 * status byte for byte. The bundle runs whatever its file is named, and under Debian 12's own
 * Node 18 (scripts/debian-node18.sh). A survey never loads the XML parser: what Node loads is
 * recorded by a module hook (test/load-trace.mjs), and a conrep command is the control that
 * shows the hook sees it when it is loaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { main } from './main-validated.js';
import { bundleOfSources } from './bundle-cache.js';
import { ROOT, fixture, spawnOutput } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { commands, SOURCES } from './cli-commands.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/**
 * The source build's answer, computed once per command line in this file: several tests compare
 * the same command (a fleet in-process costs seconds of worker start-up each time).
 */
const sourceRuns = new Map<string, Promise<Result>>();
function source(args: string[]): Promise<Result> {
  const key = JSON.stringify(args);
  let r = sourceRuns.get(key);
  if (!r) {
    r = (async () => {
      let out = '';
      let err = '';
      const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
      return { code, out, err };
    })();
    sourceRuns.set(key, r);
  }
  return r;
}

/**
 * One bundle of the sources as they are, made by npm run bundle's script, for every describe here
 * and for test/release.test.ts (test/bundle-cache.ts: keyed on its inputs; read-only here).
 */
const bundleDir = bundleOfSources;
/** This file's own scratch files (the shared bundle's directory is not written to). */
let scratchDir = '';
function scratch(): string {
  if (scratchDir) return scratchDir;
  scratchDir = mkdtempSync(join(tmpdir(), 'assignable-bundle-test-'));
  process.on('exit', () => rmSync(scratchDir, { recursive: true, force: true }));
  return scratchDir;
}

function proc(cmd: string, args: string[]): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.error, undefined, String(r.error));
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** proc(), without blocking this process: the child runs while the source build answers here. */
function procAsync(cmd: string, args: string[]): Promise<Result> {
  return spawnOutput(cmd, args, { cwd: ROOT, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } }).then((r) => ({ code: r.status, out: r.stdout, err: r.stderr }));
}

describe('the bundle (npm run bundle)', () => {
  let dir = '';
  let tree = '';
  before(() => {
    dir = bundleDir();
    tree = sysfsTreeFromDump(readFileSync(fixture('pci/pciutils-tests', 'fujitsu-esprimo-p8010-pciutils-tree.dump.txt'), 'latin1'), { kernel: '6.8.12-4-pve', cmdline: 'quiet intel_iommu=on' });
    process.on('exit', () => rmSync(tree, { recursive: true, force: true }));
  });

  it('is one file each, with no import of anything but Node itself', () => {
    for (const f of ['assignable.mjs', 'assignable-cli.cjs', 'assignable.cjs']) {
      const text = readFileSync(join(dir, f), 'utf8');
      // Code, not JSDoc types ({import('./x.js').T} in the dependencies' comments).
      const imports = [...text.matchAll(/(?:^import .* from |[^\w.{]require\(|[^\w.{]import\()["']([^"']+)["']/gm)].map((m) => m[1]!);
      assert.deepEqual(imports.filter((m) => !m.startsWith('node:') && !['events', 'child_process', 'path', 'fs', 'process'].includes(m)), [], f);
    }
  });

  it('the installed program (the launcher, the CommonJS build and its code cache) gives the source build\'s output, byte for byte, for every command on the corpus', async () => {
    let compared = 0;
    for (const args of commands(tree)) {
      const running = procAsync(process.execPath, [join(dir, 'assignable.cjs'), ...args]);
      const want = await source(args);
      assert.deepEqual(await running, want, args.join(' '));
      compared++;
    }
    assert.ok(compared >= 30);
  });

  it('the ES module file and the CommonJS build run alone (the .deb and the single executable\'s input) give it too', async () => {
    for (const args of [['survey', ...SOURCES], ['survey', '--json', '--root', tree], ['dmar', '--json', join(EX, 'DMAR.dat')], ['conrep', 'lint', fixture('conrep', 'busterswt-verify.clean.dat')], ['fleet', '--jobs', '2', fixture('captures')]]) {
      const mjs = procAsync(process.execPath, [join(dir, 'assignable.mjs'), ...args]);
      const cjs = procAsync(process.execPath, [join(dir, 'assignable-cli.cjs'), ...args]);
      const want = await source(args);
      assert.deepEqual(await mjs, want, `assignable.mjs ${args.join(' ')}`);
      assert.deepEqual(await cjs, want, `assignable-cli.cjs ${args.join(' ')}`);
    }
  });

  /** In a child process: load the build as the launcher does and say whether V8 took the cache. */
  function cacheRejected(at: string): boolean {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(join(at, 'assignable.cjs'))}).loadBuild(${JSON.stringify(at)}).script.cachedDataRejected))`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout === 'true';
  }

  it('V8 accepts the code cache the bundle wrote for this Node; a cache that does not fit is rejected and the output stays the same', async () => {
    assert.ok(existsSync(join(dir, 'assignable-cli.cjs.cache')));
    assert.equal(cacheRejected(dir), false, 'the cache written by npm run bundle');
    const want = await source(['survey', ...SOURCES]);
    const other = mkdtempSync(join(tmpdir(), 'assignable-cache-'));
    try {
      for (const f of ['assignable.cjs', 'assignable-cli.cjs']) copyFileSync(join(dir, f), join(other, f));
      const cache = readFileSync(join(dir, 'assignable-cli.cjs.cache'));
      // Cut short (a broken download), and whole but for another build of the program (one byte more).
      writeFileSync(join(other, 'assignable-cli.cjs.cache'), cache.subarray(0, cache.length >> 1));
      assert.equal(cacheRejected(other), true, 'a truncated cache');
      assert.deepEqual(proc(process.execPath, [join(other, 'assignable.cjs'), 'survey', ...SOURCES]), want, 'truncated cache');
      writeFileSync(join(other, 'assignable-cli.cjs.cache'), cache);
      writeFileSync(join(other, 'assignable-cli.cjs'), readFileSync(join(dir, 'assignable-cli.cjs'), 'utf8') + ';\n');
      assert.equal(cacheRejected(other), true, 'the cache of another build');
      assert.deepEqual(proc(process.execPath, [join(other, 'assignable.cjs'), 'survey', ...SOURCES]), want, 'cache of another build');
      rmSync(join(other, 'assignable-cli.cjs.cache'));
      assert.deepEqual(proc(process.execPath, [join(other, 'assignable.cjs'), 'survey', ...SOURCES]), want, 'no cache');
      // A copy without its build (a broken install): one line naming the file, exit 3.
      rmSync(join(other, 'assignable-cli.cjs'));
      const broken = proc(process.execPath, [join(other, 'assignable.cjs'), 'survey', ...SOURCES]);
      assert.equal(broken.code, 3);
      assert.match(broken.err, /^assignable: cannot read its program file: ENOENT[^\n]*assignable-cli\.cjs'?\n$/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  /** Node's own list of what it loaded (process.moduleLoadList, via test/module-list.cjs) for one run of `script`. */
  function nodeModules(script: string, args: string[]): { code: number | null; modules: string[] } {
    const list = join(scratch(), `modules-${Math.random().toString(36).slice(2)}.txt`);
    const r = spawnSync(process.execPath, ['-r', join(ROOT, 'test/module-list.cjs'), script, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ASSIGNABLE_MODULE_LIST: list }, timeout: 120_000 });
    const modules = readFileSync(list, 'utf8').trim().split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
    return { code: r.status, modules };
  }
  /**
   * Node's modules a bare `node -e 0` never loads, and the start of every command paid for them
   * when the bundle imported them at its top (fs's streams: what an ES import of node:fs loads).
   */
  const HEAVY = ['child_process', 'crypto', 'fs/promises', 'internal/fs/streams', 'os', 'readline', 'worker_threads', 'zlib'];

  it('loads none of Node\'s heavier modules until a command calls into them (--version and a survey of pastes load none)', () => {
    // The floor: a module that prints a line to the same pipe (a pipe alone loads net).
    const empty = join(scratch(), 'floor.mjs');
    writeFileSync(empty, "process.stdout.write('0\\n');\n");
    const floor = nodeModules(empty, []);
    assert.equal(floor.code, 0);
    assert.deepEqual(floor.modules.filter((m) => HEAVY.includes(m)), [], 'a one-line module loads none of them');
    for (const program of ['assignable.mjs', 'assignable.cjs']) {
      const version = nodeModules(join(dir, program), ['--version']);
      assert.equal(version.code, 0);
      assert.deepEqual(version.modules.filter((m) => HEAVY.includes(m)), [], `${program} --version`);
      // Beyond that module's list: node:module and what createRequire (the ES bundle's banner) needs, and little else.
      const extra = version.modules.filter((m) => !floor.modules.includes(m));
      assert.ok(extra.length <= 6, extra.join(' '));
      const survey = nodeModules(join(dir, program), ['survey', ...SOURCES]);
      assert.equal(survey.code, 1);
      assert.deepEqual(survey.modules.filter((m) => HEAVY.includes(m)), [], `${program} survey of the example`);
      // The control: a survey of a .tar.gz capture unzips it, so zlib is loaded when it is called.
      const capture = nodeModules(join(dir, program), ['survey', '--capture', fixture('captures', 'asus-p6t6-pciutils-tree.tar.gz')]);
      assert.ok(capture.code === 0 || capture.code === 1, String(capture.code));
      assert.ok(capture.modules.includes('zlib'), capture.modules.join(' '));
    }
  });

  it('runs whatever its file is named', () => {
    const names: Array<[string, string]> = [
      ['assignable.mjs', 'assignable-0.1.mjs'],
      ['assignable.mjs', 'x.mjs'],
      ['assignable-cli.cjs', 'assignable-cli.cjs'],
      ['assignable-cli.cjs', 'renamed.js'],
      ['assignable-cli.cjs', 'no-extension'],
      // The launcher finds the build beside it, whatever the launcher itself is called.
      ['assignable.cjs', 'assignable'],
    ];
    const other = mkdtempSync(join(tmpdir(), 'assignable-named-'));
    try {
      for (const [from, to] of names) {
        copyFileSync(join(dir, from), join(other, to));
        const r = proc(process.execPath, [join(other, to), '--version']);
        assert.deepEqual(r, { code: 0, out: `${VERSION}\n`, err: '' }, to);
        // A command, not only the answer the entry gives before loading anything.
        const d = proc(process.execPath, [join(other, to), 'dmar', join(EX, 'DMAR.dat')]);
        assert.equal(d.code, 0, `${to}: ${d.err}`);
        assert.match(d.out, /^DMAR  HP\/ProLiant/, to);
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('what a command loads', () => {
  /** The URLs of every module Node loaded for `args` (the source build, through tsx). */
  function loaded(args: string[]): string[] {
    const log = join(mkdtempSync(join(tmpdir(), 'assignable-trace-')), 'loaded.txt');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/load-trace.mjs'), join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ASSIGNABLE_LOAD_TRACE: log },
      timeout: 120_000,
    });
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const urls = readFileSync(log, 'utf8').trim().split('\n');
    rmSync(join(log, '..'), { recursive: true, force: true });
    return urls;
  }

  it('a survey loads neither the XML parser nor the fix machinery; conrep lint does load the parser', () => {
    const survey = loaded(['survey', ...SOURCES]);
    assert.ok(survey.some((u) => u.endsWith('/src/checks/index.ts')), 'the trace sees our own modules');
    // The program runner (remedies/runner.ts) is the one place that starts programs: the Windows
    // live reader starts the probe through it (with the argument its single-executable supervisor
    // takes). The fix machinery itself stays unloaded.
    assert.deepEqual(survey.filter((u) => /fast-xml-parser|\/src\/remedies\/(?!runner\.ts$|supervise-arg\.ts$)|firmware-commands|fix-command|conrep-command|collect-command/.test(u)), []);
    const lint = loaded(['conrep', 'lint', fixture('conrep', 'busterswt-verify.clean.dat')]);
    assert.ok(lint.some((u) => u.includes('/fast-xml-parser/')), 'conrep lint loads fast-xml-parser');
    assert.deepEqual(lint.filter((u) => /host-commands|\/src\/checks\//.test(u)), []);
  });
});

/** Debian 12's nodejs, unpacked by scripts/debian-node18.sh (.ci/run does it). */
const DEBIAN_NODE = process.env.ASSIGNABLE_DEBIAN_NODE18 ?? join(ROOT, '.debian-node18');
function debianNodeMissing(): string | false {
  if (!existsSync(join(DEBIAN_NODE, 'usr/bin/node'))) return `Debian 12's Node 18 is not unpacked at ${DEBIAN_NODE} (scripts/debian-node18.sh DIR; ASSIGNABLE_DEBIAN_NODE18=DIR)`;
  const v = spawnSync(join(ROOT, 'scripts/debian-node.sh'), [DEBIAN_NODE, '--version'], { encoding: 'utf8' });
  if (v.status !== 0) return `Debian's node does not start here (needs root and unshare when /usr/share/nodejs is absent): ${v.stderr.trim().split('\n')[0]}`;
  return false;
}

describe("under Debian 12's own Node 18", { skip: debianNodeMissing() }, () => {
  const node18 = (args: string[]) => proc(join(ROOT, 'scripts/debian-node.sh'), [DEBIAN_NODE, ...args]);
  let dir = '';
  before(() => {
    dir = bundleDir();
  });

  it('is Node 18.19 or later, below 20 (what engines promises)', () => {
    const v = node18(['--version']);
    const [major, minor] = v.out.trim().slice(1).split('.').map(Number);
    assert.equal(major, 18, v.out);
    assert.ok(minor! >= 19, v.out);
  });

  it('the bundle gives the same output as the source build under Node 20', async () => {
    for (const args of [['--version'], ['survey', ...SOURCES], ['survey', '--json', ...SOURCES], ['dmar', '--fields', join(EX, 'DMAR.dat')], ['smbios', join(EX, 'dmidecode.txt')], ['conrep', 'lint', fixture('conrep', 'busterswt-verify.clean.dat')], ['fix', '0000:05:00.0', ...SOURCES]]) {
      const want = await source(args);
      assert.deepEqual(node18([join(dir, 'assignable.mjs'), ...args]), want, args.join(' '));
      // The launcher too: the code cache is this Node's, so Node 18 compiles the build without it.
      assert.deepEqual(node18([join(dir, 'assignable.cjs'), ...args]), want, `launcher ${args.join(' ')}`);
    }
  });

  it('the tsc build with its node_modules runs too', async (t) => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) return t.skip('dist/ not built: run `npm run build` (npm test does)');
    assert.deepEqual(node18([join(ROOT, 'dist/cli/main.js'), 'survey', ...SOURCES]), await source(['survey', ...SOURCES]));
  });
});
