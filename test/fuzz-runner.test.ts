/**
 * The hang budget of the mutation tests and of the fuzz run really stops a hang (issue 7
 * point 18): synchronous decoders block the event loop, so node:test timeouts cannot. Each
 * case runs a reader that misbehaves on purpose and checks the runner names the input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

process.env.ASSIGNABLE_FUZZ_SELFTEST = '1';
const { runFuzz } = await import('./fuzz/run.js');

describe('fuzz runner', { timeout: 300_000 }, () => {
  it('kills a slice whose input never returns, names that input and runs the rest', async () => {
    // Every input of this reader spins for ever, so a short budget cannot kill one that would have returned.
    const rep = await runFuzz({ perReader: 2, readers: ['selftest-hang'], workers: 1, hangMs: 500 });
    assert.deepEqual(rep.failures.map((f) => [f.index, f.what]), [[0, 'hang'], [1, 'hang']]);
    assert.equal(rep.readers['selftest-hang']!.inputs, 2);
  });

  it('reports an untyped exception as a failure with the input index, and the seed as ok', async () => {
    const rep = await runFuzz({ perReader: 40, readers: ['selftest'], workers: 1 });
    const t = rep.readers.selftest!;
    assert.equal(t.inputs, 40);
    assert.ok(t.ok >= 1, JSON.stringify(t));
    assert.ok(rep.failures.length > 0 && rep.failures.every((f) => f.what === 'exception' && /selftest: an untyped exception/.test(f.detail) && f.index > 0));
    assert.equal(t.ok + rep.failures.length, 40);
  });

  it('reports an input that exhausts the heap limit as a crash of that input', async () => {
    const rep = await runFuzz({ perReader: 1, readers: ['selftest-oom'], workers: 1, heapMb: 64 });
    assert.deepEqual(rep.failures.map((f) => [f.index, f.what]), [[0, 'crash']]);
  });
});

describe('mutation-test watchdog', () => {
  it('kills a process stuck in synchronous code and names the input on stderr', () => {
    const code = `import { startWatchdog } from './test/fuzz/watchdog.ts';
const w = startWatchdog(500);
w.begin('DMAR mutation 42');
for (;;);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, 'SIGKILL', `status ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, /^HANG: DMAR mutation 42 still running after 500 ms/m);
  });
});
