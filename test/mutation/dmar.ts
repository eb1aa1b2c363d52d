/** Mutations of the DMAR corpus, split in two files so node:test runs them side by side. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmarTable, describeDmar } from '../../src/firmware/acpi/dmar.js';
import { parseAcpiTable } from '../../src/firmware/acpi/table.js';
import { renderDmar } from '../../src/report/firmware-text.js';
import { renderFields } from '../../src/report/format.js';
import { SCHEMAS, toJson } from '../../src/report/json.js';
import { fixtureBytes, fixtureFiles } from '../helpers.js';
import { check, mutations, RANDOM_PER_TABLE, type Tally } from './shared.js';

/** The DMAR mutation suite, part `part` of 2: every other input by its index in the whole corpus. */
export function dmarMutations(part: 1 | 2): void {
  describe(`mutated DMAR tables, part ${part} of 2`, { timeout: 300_000 }, () => {
    for (const [i, file] of fixtureFiles('dmar', '.dat').entries()) {
      if (i % 2 !== part - 1) continue;
      it(file, () => {
        const orig = fixtureBytes('dmar', file);
        const base = decodeDmarTable(parseAcpiTable(orig, 'DMAR'));
        const lengthFields: Array<{ offset: number; size: 1 | 2 | 4 }> = [{ offset: 4, size: 4 }];
        for (const s of base.structures) {
          lengthFields.push({ offset: s.offset + 2, size: 2 });
          if ('scopes' in s) for (const sc of s.scopes) lengthFields.push({ offset: sc.offset + 1, size: 1 });
        }
        const tally: Tally = { ok: 0, decodeErrors: 0 };
        let n = 0;
        for (const m of mutations(orig, lengthFields, 1000 + i, RANDOM_PER_TABLE)) {
          n++;
          check(tally, `${file} mutation ${n}`, () => {
            const t = parseAcpiTable(m, 'DMAR');
            const d = decodeDmarTable(t);
            assert.equal(typeof toJson(SCHEMAS.dmar, d), 'string');
            renderDmar(d, t.view.length);
            renderFields(describeDmar(t, d));
          });
        }
        assert.ok(n >= RANDOM_PER_TABLE + orig.length / 2, `${n} mutations`);
        assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
      });
    }
  });
}
