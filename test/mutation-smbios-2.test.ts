/** Mutations of the SMBIOS dumps, part 2 of 2 (every other dump; see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSmbiosFile } from '../src/firmware/smbios/index.js';
import { renderSmbios } from '../src/report/firmware-text.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixtureBytes, fixtureFiles } from './helpers.js';
import { check, mutations, RANDOM_PER_TABLE, type Tally } from './mutation/shared.js';

const PART = 2;

describe('mutated SMBIOS dumps, part 2 of 2', { timeout: 300_000 }, () => {
  const files = [
    ...fixtureFiles('smbios/raw', '').filter((f) => /\.(dump|table\.bin|rsmb\.bin)$/.test(f)).map((f) => ['smbios/raw', f] as const),
    ...fixtureFiles('smbios/hpe-oem', '.dump').map((f) => ['smbios/hpe-oem', f] as const),
  ];
  for (const [i, [dir, file]] of files.entries()) {
    if (i % 2 !== PART - 1) continue;
    it(file, () => {
      const orig = fixtureBytes(dir, file);
      const base = decodeSmbiosFile(orig);
      const tableStart = file.endsWith('.dump') ? 0x20 : file.endsWith('.rsmb.bin') ? 8 : 0;
      const lengthFields: Array<{ offset: number; size: 1 | 2 | 4 }> = [];
      if (file.endsWith('.dump')) lengthFields.push({ offset: 12, size: 4 }, { offset: 16, size: 4 }, { offset: 6, size: 1 });
      if (file.endsWith('.rsmb.bin')) lengthFields.push({ offset: 4, size: 4 });
      for (const s of base.structures) lengthFields.push({ offset: tableStart + s.offset + 1, size: 1 });
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      // SMBIOS dumps are a few KiB: every truncation plus the random mutations.
      for (const [n, m] of [...mutations(orig, lengthFields, 3000 + i, RANDOM_PER_TABLE)].entries()) {
        check(tally, `${file} mutation ${n}`, () => {
          const s = decodeSmbiosFile(m);
          JSON.parse(toJson(SCHEMAS.smbios, s));
          renderSmbios(s, null);
        });
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});
