/**
 * The binary decoders read a structure by walking its field table until the description has
 * been used often, then by a reader compiled from that table (src/firmware/struct.ts). The
 * oracle suites (DMAR and IVRS against iasl's disassembly, SMBIOS against dmidecode's decode
 * of the same dumps) run here in two more processes: one where every description is compiled
 * at its first use, and one where Node refuses code generation, so compiling falls back to
 * the walk. In-process runs of those suites mostly see the walk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

function oracleSuites(nodeFlags: string[], files: string[]): void {
  const env = { ...process.env };
  // This file's runner marks its children; the inner run must report as a top-level one.
  delete env.NODE_TEST_CONTEXT;
  // The suites run in one process (not `--test`, which starts a runner and a process per file):
  // what matters is the preload's mode, which every suite in it shares. A failing test makes the exit status 1.
  const load = files.map((f) => `await import(${JSON.stringify(`./${f}`)});`).join(' ');
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--import', './test/compile-structs.ts', '--test-reporter=tap', '--input-type=module', '-e', load], {
    cwd: ROOT,
    encoding: 'utf8',
    env,
    timeout: 240_000,
  });
  const fail = /^# fail (\d+)$/m.exec(r.stdout);
  const pass = /^# pass (\d+)$/m.exec(r.stdout);
  assert.equal(r.status, 0, `status ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  assert.equal(fail?.[1], '0', r.stdout.slice(-2000));
  assert.ok(Number(pass?.[1]) > 100, `only ${pass?.[1]} tests passed`);
}

describe('decoders against the oracles, compiled and walked', () => {
  it('compiled at first use: DMAR, IVRS and SMBIOS suites pass', () => {
    oracleSuites([], ['test/dmar.test.ts', 'test/ivrs.test.ts', 'test/smbios.test.ts']);
  });

  it('where code generation is refused: the DMAR and SMBIOS suites pass on the walk', () => {
    oracleSuites(['--disallow-code-generation-from-strings'], ['test/dmar.test.ts', 'test/smbios.test.ts']);
  });
});
