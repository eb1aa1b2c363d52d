/** Mutations of the SMBIOS corpus, split in two files so node:test runs them side by side. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSmbiosFile } from '../../src/firmware/smbios/index.js';
import { renderSmbios } from '../../src/report/firmware-text.js';
import { SCHEMAS, toJson } from '../../src/report/json.js';
import { fixtureBytes, fixtureFiles } from '../helpers.js';
import { check, numbered, mutations, RANDOM_PER_TABLE, type Tally } from './shared.js';

/** The SMBIOS mutation suite, part `part` of 2: every other input by its index in the whole corpus. */
export function smbiosMutations(part: 1 | 2): void {
  describe(`mutated SMBIOS dumps, part ${part} of 2`, { timeout: 300_000 }, () => {
    const files = [
      ...fixtureFiles('smbios/raw', '').filter((f) => /\.(dump|table\.bin|rsmb\.bin)$/.test(f)).map((f) => ['smbios/raw', f] as const),
      ...fixtureFiles('smbios/hpe-oem', '.dump').map((f) => ['smbios/hpe-oem', f] as const),
    ];
    for (const [i, [dir, file]] of files.entries()) {
      if (i % 2 !== part - 1) continue;
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
        for (const [n, m] of numbered(mutations(orig, lengthFields, 3000 + i, RANDOM_PER_TABLE))) {
          check(tally, `${file} mutation ${n}`, () => {
            const s = decodeSmbiosFile(m);
            assert.equal(typeof toJson(SCHEMAS.smbios, s), 'string');
            renderSmbios(s, null);
          });
        }
        assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
      });
    }
  });
}
