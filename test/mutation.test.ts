/**
 * Property: for every real table of the corpus and thousands of mutations of it
 * (every truncation, random bit flips and byte smears, corrupted length fields),
 * decoding either succeeds — and then JSON, text and --fields rendering succeed too —
 * or throws a DecodeError naming table, offset and field. Nothing else is thrown and
 * nothing hangs: each input has a budget of INPUT_BUDGET_MS of CPU time, measured around
 * the decode (node:test timeouts cannot stop synchronous code), and a watchdog thread kills
 * the process, naming the input, if one never returns. Seeded, so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmarTable, describeDmar } from '../src/firmware/acpi/dmar.js';
import { decodeIvrsTable, describeIvrs } from '../src/firmware/acpi/ivrs.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { parseAcpiTable } from '../src/firmware/acpi/table.js';
import { DecodeError } from '../src/firmware/errors.js';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile } from '../src/firmware/smbios/index.js';
import { renderDmar, renderIvrs, renderSmbios } from '../src/report/firmware-text.js';
import { renderFields } from '../src/report/format.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { parseLspci } from '../src/firmware/pci/lspci-text.js';
import { buildHost } from '../src/host/build.js';
import { runSurvey } from '../src/checks/index.js';
import { renderSurvey, surveyJson, SURVEY_SCHEMA } from '../src/report/survey.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { collect } from '../src/sources/collect.js';
import { SourceError } from '../src/sources/errors.js';
import { realFs } from '../src/sources/fs.js';
import { readLiveHost } from '../src/sources/live.js';
import { memFs } from '../src/sources/memfs.js';
import { readTar, writeTar } from '../src/sources/tar.js';
import { fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { startWatchdog } from './fuzz/watchdog.js';
import { rng } from './fuzz/mutate.js';
import { parseConrepSchema } from '../src/remedies/hpe-rmrds/schema.js';
import { parseConrepSettings } from '../src/remedies/hpe-rmrds/settings.js';


function* mutations(orig: Uint8Array, lengthFields: Array<{ offset: number; size: 1 | 2 | 4 }>, seed: number, randomCount: number): Generator<Uint8Array> {
  // Truncations: every length for small tables; for large ones every length in the first
  // 512 bytes and around every structure boundary, and a stride through the rest.
  const cuts = new Set<number>();
  const stride = Math.max(1, Math.ceil(orig.length / 1500));
  for (let n = 0; n < orig.length; n++) if (n < 512 || n % stride === 0) cuts.add(n);
  for (const f of lengthFields) for (let d = -3; d <= 3; d++) if (f.offset + d >= 0 && f.offset + d < orig.length) cuts.add(f.offset + d);
  for (const n of [...cuts].sort((a, b) => a - b)) yield orig.slice(0, n);
  const r = rng(seed);
  for (let i = 0; i < randomCount; i++) {
    const m = orig.slice();
    const kind = i % 3;
    if (kind === 0) {
      const bit = Math.floor(r() * m.length * 8);
      m[bit >> 3]! ^= 1 << (bit & 7);
    } else if (kind === 1) {
      const at = Math.floor(r() * m.length);
      const n = 1 + Math.floor(r() * 8);
      for (let k = 0; k < n && at + k < m.length; k++) m[at + k] = Math.floor(r() * 256);
    } else {
      for (let k = 0; k < 4; k++) {
        const bit = Math.floor(r() * m.length * 8);
        m[bit >> 3]! ^= 1 << (bit & 7);
      }
    }
    yield m;
  }
  const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x18, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x7fffffff, 0xffffffff];
  for (const f of lengthFields) {
    const origValue = orig[f.offset]! | (f.size > 1 ? orig[f.offset + 1]! << 8 : 0);
    for (const v of [...values, origValue - 1, origValue + 1, origValue * 2]) {
      const m = orig.slice();
      for (let k = 0; k < f.size && f.offset + k < m.length; k++) m[f.offset + k] = (v >>> (8 * k)) & 0xff;
      yield m;
    }
  }
}

/** No single input may take longer than this (CPU time, so a busy CI machine does not trip it). */
const INPUT_BUDGET_MS = 2000;
/** An input still running after this much wall time is a hang: the watchdog kills the run and names it. */
const HANG_MS = 60_000;
const watchdog = startWatchdog(HANG_MS);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Run one input under the budget and the watchdog. */
function timed<T>(what: string, f: () => T): T {
  watchdog.begin(what);
  const t0 = cpuMs();
  try {
    return f();
  } finally {
    watchdog.end();
    const ms = cpuMs() - t0;
    assert.ok(ms <= INPUT_BUDGET_MS, `${what}: took ${ms.toFixed(0)} ms of CPU, over the ${INPUT_BUDGET_MS} ms budget for one input`);
  }
}

interface Tally {
  ok: number;
  decodeErrors: number;
}

function check(tally: Tally, what: string, f: () => void): void {
  try {
    timed(what, f);
    tally.ok++;
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a DecodeError`);
    }
    assert.match(e.message, /(at offset 0x[0-9a-f]+|line \d+) \(/, `${what}: error does not name offset and field: ${e.message}`);
    tally.decodeErrors++;
  }
}

const RANDOM_PER_TABLE = 2500;

describe('mutated DMAR tables', { timeout: 300_000 }, () => {
  for (const [i, file] of fixtureFiles('dmar', '.dat').entries()) {
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
          JSON.parse(toJson(SCHEMAS.dmar, d));
          renderDmar(d, t.view.length);
          renderFields(describeDmar(t, d));
        });
      }
      assert.ok(n >= RANDOM_PER_TABLE + orig.length / 2, `${n} mutations`);
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});

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
          JSON.parse(toJson(SCHEMAS.ivrs, d));
          renderIvrs(d, t.view.length);
          renderFields(describeIvrs(t, d));
        });
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});

describe('mutated SMBIOS dumps', { timeout: 300_000 }, () => {
  const files = [
    ...fixtureFiles('smbios/raw', '').filter((f) => /\.(dump|table\.bin|rsmb\.bin)$/.test(f)).map((f) => ['smbios/raw', f] as const),
    ...fixtureFiles('smbios/hpe-oem', '.dump').map((f) => ['smbios/hpe-oem', f] as const),
  ];
  for (const [i, [dir, file]] of files.entries()) {
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

/** Text inputs: cut at random places, lines dropped or garbled, bytes smeared. */
function* textMutations(text: string, seed: number, count: number): Generator<string> {
  const r = rng(seed);
  const lines = text.split('\n');
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0) yield text.slice(0, Math.floor(r() * text.length));
    else if (kind === 1) {
      const l = lines.slice();
      l.splice(Math.floor(r() * l.length), 1 + Math.floor(r() * 5));
      yield l.join('\n');
    } else if (kind === 2) {
      const at = Math.floor(r() * text.length);
      yield text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
    } else {
      const l = lines.slice();
      const k = Math.floor(r() * l.length);
      l[k] = l[k]!.replace(/[0-9A-F]/, 'Z');
      yield l.join('\n');
    }
  }
}

describe('mutated text inputs', { timeout: 300_000 }, () => {
  for (const [i, file] of fixtureFiles('dmar/acpidump', '.txt').entries()) {
    it(`acpidump ${file}`, () => {
      const text = fixtureText('dmar/acpidump', file);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      // Each mutation re-parses the whole dump: fewer of them for the megabyte-sized ones.
      const count = text.length > 500_000 ? 100 : 300;
      for (const [n, m] of [...textMutations(text, 4000 + i, count)].entries()) {
        check(tally, `${file} mutation ${n}`, () => {
          const t = acpiTableFromBytes(new TextEncoder().encode(m), 'DMAR');
          decodeDmarTable(t);
        });
      }
      assert.ok(tally.ok > 0 && tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
  for (const [i, file] of fixtureFiles('smbios', '.dmidecode.txt').filter((f) => /proliant|poweredge|supermicro/.test(f)).entries()) {
    it(`dmidecode text ${file}`, () => {
      const text = fixtureText('smbios', file);
      const tally: Tally = { ok: 0, decodeErrors: 0 };
      for (const [n, m] of [...textMutations(text, 5000 + i, 300)].entries()) {
        check(tally, `${file} mutation ${n}`, () => {
          const s = decodeDmidecodeText(m);
          JSON.parse(toJson(SCHEMAS.smbios, s));
          renderSmbios(s, null);
        });
      }
      assert.ok(tally.ok > 0, JSON.stringify(tally));
    });
  }
});

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
        for (const [n, m] of [...mutations(orig, fields, 6000 + i, 300)].entries()) {
          check(tally, `${stem} ${JSON.stringify(fn.address)} mutation ${n}`, () => {
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
      for (const [n, m] of [...textMutations(text, 7000 + i, 300)].entries()) {
        check(tally, `${stem} mutation ${n}`, () => {
          const sv = runSurvey(buildHost({ origin: { kind: 'capture', description: 'fuzz' }, functions: functionsFromLspci(m), notes: [] }));
          JSON.parse(toJson(SURVEY_SCHEMA, surveyJson(sv, 'vfio')));
          renderSurvey(sv, 'vfio', true, { color: false });
        });
      }
      assert.ok(tally.ok > 0, JSON.stringify(tally));
    });
  }
});

describe('mutated capture archives', { timeout: 300_000 }, () => {
  it('a collected capture, cut and bit-flipped: DecodeError or SourceError, never anything else', () => {
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'fujitsu-esprimo-p8010-pciutils-tree.dump.txt'), { kernel: '5.4.0', cmdline: 'quiet' });
    const tar = writeTar(collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' }).entries);
    const r = rng(8000);
    let ok = 0;
    let refused = 0;
    for (let n = 0; n < 600; n++) {
      const m = n % 2 === 0 ? tar.slice(0, Math.floor(r() * tar.length)) : tar.slice();
      if (n % 2 === 1) for (let k = 0; k < 8; k++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
      try {
        timed(`capture mutation ${n}`, () => runSurvey(buildHost(readLiveHost('/', memFs(readTar(m))))));
        ok++;
      } catch (e) {
        if (!(e instanceof DecodeError) && !(e instanceof SourceError)) assert.fail(`mutation ${n}: ${e instanceof Error ? e.stack : String(e)}`);
        refused++;
      }
    }
    assert.ok(ok > 0 && refused > 0, `${ok} ok, ${refused} refused`);
  });
});

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
      for (const [n, m] of [...textMutations(text, 9000 + i, count)].entries()) {
        check(tally, `${file} mutation ${n}`, () => parse(m));
      }
      assert.ok(tally.decodeErrors > 0, JSON.stringify(tally));
    });
  }
});
