/** Mutations of PCI config space and lspci captures (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { parseLspci } from '../src/firmware/pci/lspci-text.js';
import { buildHost } from '../src/host/build.js';
import { runSurvey } from '../src/checks/index.js';
import { toJson } from '../src/report/json.js';
import { renderSurvey, surveyJson, SURVEY_SCHEMA } from '../src/report/survey.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { fixtureText } from './helpers.js';
import { check, numbered, mutations, textMutations, type Tally } from './mutation/shared.js';

describe('mutated PCI config space and lspci captures', { timeout: 300_000 }, () => {
  const dumps = ['asus-p6t6-pciutils-tree', 'pciutils-cap-dvsec-cxl', 'pciutils-cap-pcie-2', 'pciutils-broken-ecaps', 'pciutils-cap-ide'];
  for (const [i, stem] of dumps.entries()) {
    it(`config bytes of ${stem}`, () => {
      const fns = parseLspci(fixtureText('pci/pciutils-tests', `${stem}.dump.txt`)).functions;
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      for (const fn of fns) {
        const orig = fn.config!;
        // Capability pointers and extended headers are the length fields of config space.
        const c = decodePciConfig(orig);
        const fields: Array<{ offset: number; size: 1 | 2 | 4 }> = [{ offset: 0x34, size: 1 }, { offset: 0x06, size: 2 }];
        for (const cap of c.capabilities ?? []) fields.push({ offset: cap.offset + 1, size: 1 });
        for (const cap of c.extendedCapabilities ?? []) fields.push({ offset: cap.offset + 2, size: 2 });
        const where = `${stem} ${JSON.stringify(fn.address)}`;
        for (const [n, m] of numbered(mutations(orig, fields, 6000 + i, 300))) {
          check(tally, `${where} mutation ${n}`, () => {
            const d = decodePciConfig(m);
            assert.ok((d.capabilities?.length ?? 0) <= 48 && (d.extendedCapabilities?.length ?? 0) <= 1024, 'capability walk terminates');
          });
        }
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
  for (const [i, stem] of ['asus-p6t6-pciutils-tree', 'fujitsu-esprimo-p8010-pciutils-tree'].entries()) {
    it(`lspci text of ${stem}, through the whole survey`, () => {
      const text = fixtureText('pci/pciutils-tests', `${stem}.dump.txt`);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      for (const [n, m] of numbered(textMutations(text, 7000 + i, 300))) {
        check(tally, `${stem} mutation ${n}`, () => {
          const sv = runSurvey(buildHost({ origin: { kind: 'capture', description: 'fuzz' }, functions: functionsFromLspci(m), notes: [] }));
          assert.equal(typeof toJson(SURVEY_SCHEMA, surveyJson(sv, 'vfio')), 'string');
          renderSurvey(sv, 'vfio', true, { color: false });
        });
      }
      assert.ok(tally.ok > 0, JSON.stringify(tally));
    });
  }
});
