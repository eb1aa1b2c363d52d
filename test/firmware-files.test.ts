/**
 * `dmar`/`ivrs` on several files in one process (issue 12 point 5, as `iasl -d` takes many):
 * the output is each file's own output, in order, under a "==> FILE <==" line; the status is
 * the highest of the files'. The oracle for each part is the one-file command.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from './main-validated.js';
import { EXIT } from '../src/cli/exit.js';
import { ROOT, fixture, fixtureFiles } from './helpers.js';
import { join } from 'node:path';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('several tables in one process', () => {
  for (const kind of ['dmar', 'ivrs'] as const) {
    it(`${kind}: every corpus table, each as alone, in order`, async () => {
      const files = fixtureFiles(kind, '.dat').map((f) => fixture(kind, f));
      const all = await run(kind, ...files);
      const parts: string[] = [];
      let worst = 0;
      for (const f of files) {
        const one = await run(kind, f);
        parts.push(`==> ${f} <==\n${one.out}`);
        worst = Math.max(worst, one.code);
      }
      assert.equal(all.out, parts.join('\n'));
      assert.equal(all.code, worst);
    });
  }

  it('a bad file among good ones: its one line on stderr, the others decoded, status 2', async () => {
    const good = fixture('dmar', fixtureFiles('dmar', '.dat')[0]!);
    const r = await run('dmar', good, join(ROOT, 'README.md'), good);
    assert.equal(r.code, EXIT.INPUT);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /README\.md/);
    assert.equal(r.out.split('==> ').length - 1, 3);
    assert.equal((await run('dmar', good)).out.length * 2 < r.out.length, true);
  });

  it('--json takes one file: several are refused with exit 2', async () => {
    const good = fixture('dmar', fixtureFiles('dmar', '.dat')[0]!);
    const r = await run('dmar', '--json', good, good);
    assert.equal(r.code, EXIT.INPUT);
    assert.equal(r.out, '');
    assert.match(r.err, /--json takes one file/);
  });
});
