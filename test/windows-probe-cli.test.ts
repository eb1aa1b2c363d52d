/**
 * `assignable windows-probe` prints the probe shipped in the package (windows/ in package.json `files`), so an
 * admin can read it before running it, or save it and run it on a host without Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from './main-validated.js';
import { ROOT } from './helpers.js';

const PROBE = join(ROOT, 'windows', 'assignable-probe.ps1');

test('windows-probe prints the shipped probe, byte for byte, and exits 0', async () => {
  let out = '';
  let err = '';
  const code = await main(['windows-probe'], { out: (s) => (out += s), err: (s) => (err += s) });
  assert.equal(code, 0, err);
  assert.equal(err, '');
  assert.equal(out, readFileSync(PROBE, 'utf8'));
  assert.match(out, /assignable\/windows-probe\/v1/);
});

test('the probe is pure ASCII: Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page', () => {
  const bytes = readFileSync(PROBE);
  const TAB = 0x09, LF = 0x0a, CR = 0x0d, PRINTABLE_FIRST = 0x20, PRINTABLE_LAST = 0x7e;
  const odd = bytes.findIndex((b) => b > PRINTABLE_LAST || (b < PRINTABLE_FIRST && b !== TAB && b !== LF && b !== CR));
  assert.equal(odd, -1, `byte ${odd}`);
});

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
test('the package ships it (npm pack lists windows/assignable-probe.ps1)', { skip: npm.status === 0 ? false : 'npm is not on PATH' }, () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(files.includes('windows/assignable-probe.ps1'), files.filter((f) => !f.startsWith('dist/')).join(', '));
});
