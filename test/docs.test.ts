/** The public documents say what the code does: the verdict table is the catalog. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOG } from '../src/checks/finding.js';
import { EXIT } from '../src/cli/exit.js';
import { ROOT } from './helpers.js';

describe('documentation', () => {
  it('docs/verdicts.md lists every finding code with exactly its effect per target', () => {
    const rows = [...readFileSync(join(ROOT, 'docs/verdicts.md'), 'utf8').matchAll(/^\| `([A-Z_]+)` \| [^|]+ \| (\w+) \| (\w+) \| (\w+) \|$/gm)];
    const documented = new Map(rows.map((r) => [r[1]!, [r[2], r[3], r[4]]]));
    assert.deepEqual([...documented.keys()].sort(), Object.keys(CATALOG).sort());
    for (const [code, entry] of Object.entries(CATALOG)) assert.deepEqual(documented.get(code), [entry.effect.vfio, entry.effect.dda, entry.effect.esxi], code);
  });
  it('README documents every exit status the CLI uses', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.values(EXIT)) assert.match(readme, new RegExp(`^\\| ${code} \\|`, 'm'), `exit ${code}`);
  });
});
