#!/usr/bin/env node
/**
 * `npm run deb`: dist/deb/assignable_<version>_all.deb — the bundle as /usr/lib/assignable/dist/
 * assignable.mjs, /usr/bin/assignable linking to it, the Windows probe, the docs;
 * `Depends: nodejs (>= 18.19)`, so Debian 12's own Node runs it. Built with dpkg-deb, files owned
 * by root. /usr/lib/assignable is laid out as the npm package is (dist/, windows/): the program
 * finds the files it ships beside it there (src/cli/package-file.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** `--bundle FILE` and `--outdir DIR` (the tests) instead of dist/. */
function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? resolve(process.argv[i + 1]) : undefined;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BUNDLE = arg('--bundle') ?? join(ROOT, 'dist/assignable.mjs');
const OUT = arg('--outdir') ?? join(ROOT, 'dist/deb');
if (!existsSync(BUNDLE)) {
  process.stderr.write(`deb: ${BUNDLE} is missing: npm run bundle\n`);
  process.exit(3);
}
const minNode = /(\d+(?:\.\d+)*)/.exec(pkg.engines.node)[1];
const tree = join(OUT, 'tree');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
mkdirSync(join(tree, 'usr/lib/assignable/dist'), { recursive: true });
mkdirSync(join(tree, 'usr/lib/assignable/windows'), { recursive: true });
mkdirSync(join(tree, 'usr/bin'), { recursive: true });
const doc = join(tree, 'usr/share/doc/assignable');
mkdirSync(doc, { recursive: true });
copyFileSync(BUNDLE, join(tree, 'usr/lib/assignable/dist/assignable.mjs'));
chmodSync(join(tree, 'usr/lib/assignable/dist/assignable.mjs'), 0o755);
symlinkSync('../lib/assignable/dist/assignable.mjs', join(tree, 'usr/bin/assignable'));
// What `assignable windows-probe` prints.
copyFileSync(join(ROOT, 'windows/assignable-probe.ps1'), join(tree, 'usr/lib/assignable/windows/assignable-probe.ps1'));
copyFileSync(join(ROOT, 'README.md'), join(doc, 'README.md'));
cpSync(join(ROOT, 'docs'), join(doc, 'docs'), { recursive: true });
// Debian policy: the license as usr/share/doc/<package>/copyright.
copyFileSync(join(ROOT, 'LICENSE'), join(doc, 'copyright'));
const control = [
  `Package: ${pkg.name}`,
  `Version: ${pkg.version}`,
  'Architecture: all',
  `Depends: nodejs (>= ${minNode})`,
  'Section: admin',
  'Priority: optional',
  `Maintainer: the assignable authors <assignable@users.noreply.github.com>`,
  `Description: ${pkg.description.split(':')[0]}`,
  ` ${pkg.description}`,
  '',
].join('\n');
writeFileSync(join(tree, 'DEBIAN/control'), control);
const deb = join(OUT, `${pkg.name}_${pkg.version}_all.deb`);
const r = spawnSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', tree, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
if (r.error || r.status !== 0) {
  process.stderr.write(`deb: dpkg-deb failed${r.error ? `: ${r.error.message} (apt install dpkg)` : ''}\n`);
  process.exit(3);
}
rmSync(tree, { recursive: true, force: true });
process.stdout.write(`deb: ${deb}\n`);
