/** Mutations of the IVRS corpus (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIvrsTable, describeIvrs } from '../src/firmware/acpi/ivrs.js';
import { parseAcpiTable } from '../src/firmware/acpi/table.js';
import { renderIvrs } from '../src/report/firmware-text.js';
import { renderFields } from '../src/report/format.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixtureBytes, fixtureFiles } from './helpers.js';
import { check, mutations, RANDOM_PER_TABLE, type Tally } from './mutation/shared.js';

describe('mutated IVRS tables', { timeout: 300_000 }, () => {
  for (const [i, file] of fixtureFiles('ivrs', '.dat').entries()) {
    it(file, () => {
      const orig = fixtureBytes('ivrs', file);
      const base = decodeIvrsTable(parseAcpiTable(orig, 'IVRS'));
      const lengthFields: Array<{ offset: number; size: 1 | 2 | 4 }> = [{ offset: 4, size: 4 }];
      for (const b of base.blocks) {
        lengthFields.push({ offset: b.offset + 2, size: 2 });
        if (b.kind === 'IVHD') for (const e of b.entries) if (e.type === 0xf0) lengthFields.push({ offset: e.offset + 21, size: 1 });
        if (b.kind === 'IVHD') for (const e of b.entries) lengthFields.push({ offset: e.offset, size: 1 }); // the type decides the entry length
      }
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      let n = 0;
      for (const m of mutations(orig, lengthFields, 2000 + i, RANDOM_PER_TABLE)) {
        n++;
        check(tally, `${file} mutation ${n}`, () => {
          const t = parseAcpiTable(m, 'IVRS');
          const d = decodeIvrsTable(t);
          assert.equal(typeof toJson(SCHEMAS.ivrs, d), 'string');
          renderIvrs(d, t.view.length);
          renderFields(describeIvrs(t, d));
        });
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});
