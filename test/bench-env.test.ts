/** The bench measures Node processes without the variables Node acts on at every start (src/bench/env.ts). */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchEnv, STARTUP_VARIABLES } from '../src/bench/env.js';

describe('the bench environment', () => {
  const caller = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', NODE_OPTIONS: '--no-warnings', LANG: 'C' };

  it('a measured Node sees neither NODE_EXTRA_CA_CERTS nor NODE_OPTIONS; the rest stays', () => {
    const { env, removed } = benchEnv(caller);
    assert.deepEqual(removed.sort(), [...STARTUP_VARIABLES].sort());
    const r = spawnSync(process.execPath, ['-p', 'JSON.stringify([process.env.NODE_EXTRA_CA_CERTS ?? null, process.env.NODE_OPTIONS ?? null, process.env.LANG])'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [null, null, 'C']);
  });

  it('BENCH_KEEP_ENV=1 measures the caller\'s environment as it is', () => {
    const { env, removed } = benchEnv({ ...caller, BENCH_KEEP_ENV: '1' });
    assert.deepEqual(removed, []);
    // Node reads the (missing) bundle at start and warns: the variable reached it.
    const r = spawnSync(process.execPath, ['-e', '0'], { env, encoding: 'utf8' });
    assert.match(r.stderr, /NODE_EXTRA_CA_CERTS|\/nonexistent\/ca\.pem/);
  });
});
