/** Mutations of text inputs: acpidump output (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { renderSmbios } from '../src/report/firmware-text.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixtureFiles, fixtureText } from './helpers.js';
import { check, numbered, textMutations, type Tally } from './mutation/shared.js';

describe('mutated text inputs', { timeout: 300_000 }, () => {
  for (const [i, file] of fixtureFiles('dmar/acpidump', '.txt').entries()) {
    it(`acpidump ${file}`, () => {
      const text = fixtureText('dmar/acpidump', file);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      // Each mutation re-parses the whole dump: fewer of them for the megabyte-sized ones.
      const count = text.length > 500_000 ? 100 : 300;
      for (const [n, m] of numbered(textMutations(text, 4000 + i, count))) {
        check(tally, `${file} mutation ${n}`, () => {
          const t = acpiTableFromBytes(new TextEncoder().encode(m), 'DMAR');
          decodeDmarTable(t);
        });
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});
