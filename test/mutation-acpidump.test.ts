/** Mutations of text inputs: acpidump output (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAcpidumpText } from '../src/firmware/acpi/acpidump.js';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { renderSmbios } from '../src/report/firmware-text.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixture, fixtureFiles, fixtureText } from './helpers.js';
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

describe('acpidump text: every table, as acpixtract reads it', () => {
  // The unmutated dumps, whole: their DSDTs and SSDTs of hundreds of KiB are where the reader's
  // byte buffer grows. The oracle is acpixtract (ACPICA): the hashes of the tables it wrote are
  // stored (see the file's header), and compared with a live run where acpixtract is installed.
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const stored = new Map<string, string[]>();
  for (const l of fixtureText('dmar/acpidump', 'acpixtract-tables.sha256').split('\n')) {
    const m = /^([0-9a-f]{64}) {2}([^/]+)\/(.+\.dat)$/.exec(l);
    if (m) stored.set(m[2]!, [...(stored.get(m[2]!) ?? []), m[1]!]);
  }
  const dumps = fixtureFiles('dmar/acpidump', '.acpidump.txt');
  it('has acpixtract\'s tables for every dump', () => assert.deepEqual([...stored.keys()].sort(), dumps));
  for (const file of dumps) {
    it(file, () => {
      const ours = parseAcpidumpText(fixtureText('dmar/acpidump', file)).map((tb) => sha(tb.bytes)).sort();
      assert.deepEqual(ours, (stored.get(file) ?? []).sort());
    });
  }
  it('the stored hashes are what acpixtract writes today', (t) => {
    for (const file of dumps) {
      const dir = mkdtempSync(join(tmpdir(), 'assignable-acpixtract-'));
      try {
        const r = spawnSync('acpixtract', ['-a', fixture('dmar/acpidump', file)], { cwd: dir, encoding: 'utf8' });
        if (r.error) return t.skip(`acpixtract not available (${(r.error as NodeJS.ErrnoException).code}): install acpica-tools`);
        assert.equal(r.status, 0, r.stderr);
        const live = readdirSync(dir).filter((f) => f.endsWith('.dat')).map((f) => sha(readFileSync(join(dir, f)))).sort();
        assert.deepEqual(live, (stored.get(file) ?? []).sort(), file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
