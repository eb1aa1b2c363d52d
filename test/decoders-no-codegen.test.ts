/**
 * The binary decoders compile each structure description into a reader when they load
 * (src/firmware/struct.ts). A Node started with --disallow-code-generation-from-strings
 * refuses that; the decoders must then walk their tables instead and decode exactly as well.
 * The proof is the oracle suites themselves, run in such a Node: DMAR and IVRS against
 * iasl's disassembly, SMBIOS against dmidecode's decode of the same dumps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

describe('decoders where code generation is refused', () => {
  it('pass the iasl and dmidecode comparisons', () => {
    const env = { ...process.env };
    // This file's runner marks its children; the inner runner must report as a top-level one.
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', '--test', '--test-reporter=tap', 'test/dmar.test.ts', 'test/ivrs.test.ts', 'test/smbios.test.ts'],
      { cwd: ROOT, encoding: 'utf8', env, timeout: 240_000 },
    );
    const fail = /^# fail (\d+)$/m.exec(r.stdout);
    const pass = /^# pass (\d+)$/m.exec(r.stdout);
    assert.equal(r.status, 0, `status ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    assert.equal(fail?.[1], '0', r.stdout.slice(-2000));
    assert.ok(Number(pass?.[1]) > 150, `only ${pass?.[1]} tests passed`);
  });
});
