/** Mutations of conrep schema and settings files (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConrepSchema } from '../src/remedies/hpe-rmrds/schema.js';
import { parseConrepSettings } from '../src/remedies/hpe-rmrds/settings.js';
import { fixtureText } from './helpers.js';
import { check, numbered, textMutations, type Tally } from './mutation/shared.js';

describe('mutated conrep files', { timeout: 300_000 }, () => {
  const files: Array<[string, (t: string) => unknown]> = [
    ['mazad01_docker-conrep__data__conrep_5.48.xml', parseConrepSchema],
    ['busterswt-verify.clean.dat', parseConrepSettings],
    ['Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__override-rmrds.xml', parseConrepSettings],
    ['korean-howto__RMRDS-sections-added-to-conrep.xml', (t: string) => parseConrepSchema(`<Conrep>${t}</Conrep>`)],
  ];
  for (const [i, [file, parse]] of files.entries()) {
    it(file, () => {
      const text = fixtureText('conrep', file);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      const count = text.length > 50_000 ? 120 : 500;
      for (const [n, m] of numbered(textMutations(text, 9000 + i, count))) {
        check(tally, `${file} mutation ${n}`, () => parse(m));
      }
      assert.ok(tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});
