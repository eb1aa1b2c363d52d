/** Mutations of text inputs: dmidecode output (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { decodeDmidecodeText, isWhite } from '../src/firmware/smbios/dmidecode-text.js';
import { renderSmbios } from '../src/report/firmware-text.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixtureFiles, fixtureText } from './helpers.js';
import { check, numbered, textMutations, type Tally } from './mutation/shared.js';

describe('mutated text inputs', { timeout: 300_000 }, () => {
  for (const [i, file] of fixtureFiles('smbios', '.dmidecode.txt').filter((f) => /proliant|poweredge|supermicro/.test(f)).entries()) {
    it(`dmidecode text ${file}`, () => {
      const text = fixtureText('smbios', file);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      for (const [n, m] of numbered(textMutations(text, 5000 + i, 300))) {
        check(tally, `${file} mutation ${n}`, () => {
          const s = decodeDmidecodeText(m);
          assert.equal(typeof toJson(SCHEMAS.smbios, s), 'string');
          renderSmbios(s, null);
        });
      }
      assert.ok(tally.ok > 0, JSON.stringify(tally));
    });
  }
});

describe('the hex-block reader\'s white space', () => {
  it('is what RegExp \\s matches, for every UTF-16 code unit (the reader once split on /\\s+/)', () => {
    const differ: string[] = [];
    for (let c = 0; c <= 0xffff; c++) if (isWhite(c) !== /\s/.test(String.fromCharCode(c))) differ.push(c.toString(16));
    assert.deepEqual(differ, []);
  });
});
