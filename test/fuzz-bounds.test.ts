/**
 * Big tables (issue 7 point 16): a 63 MB "table" built from real structures must be refused
 * with one line naming the table, offset and field — exit 2 — within bounded memory, not
 * decoded into gigabytes of objects (it took 1.5–4 GB and ended in exit 70 before). Real
 * tables, and tables up to the cap, still decode, `--json` included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ACPI_TABLE_MAX_BYTES, parseAcpiTable } from '../src/firmware/acpi/table.js';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { DecodeError } from '../src/firmware/errors.js';
import { decodeSmbiosFile } from '../src/firmware/smbios/index.js';
import { SMBIOS_MAX_STRUCTURES, walkStructures } from '../src/firmware/smbios/table.js';
import { fixtureBytes, fixtureFiles, ROOT } from './helpers.js';
import { validatedJson } from './json-schema.js';

const BIG = 63 * 1024 * 1024;
/** The installed program (package.json "bin"), as `npm test`'s build leaves it. */
const BIN = join(ROOT, 'dist/assignable.cjs');
const TIME = '/usr/bin/time';
/** Node itself plus the 63 MB file read twice is ~190 MB; decoding it whole took 1.5–4 GB. */
const MAX_RSS_MB = 400;

const dir = mkdtempSync(join(tmpdir(), 'assignable-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `head` followed by `body` repeated until the file is `size` bytes (the last copy cut). */
function repeated(head: Uint8Array, body: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(head);
  for (let at = head.length; at < size; at += body.length) out.set(body.subarray(0, Math.min(body.length, size - at)), at);
  return out;
}

/** An ACPI table of `size` bytes: the real header, the real structures repeated, the length field saying so. */
function bigAcpi(real: Uint8Array, headerLength: number, size: number): Uint8Array {
  const t = repeated(real.subarray(0, headerLength), real.subarray(headerLength), size);
  new DataView(t.buffer).setUint32(4, size, true);
  return t;
}

/** Run the CLI under /usr/bin/time: exit status, stderr (without time's line) and peak RSS in MB. */
function cli(args: string[]): { status: number | null; stderr: string; stdout: string; rssMb: number } {
  const r = spawnSync(TIME, ['-f', '%M', process.execPath, BIN, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const lines = r.stderr.trimEnd().split('\n');
  const rssKb = Number(lines.pop());
  validatedJson({ out: r.stdout });
  return { status: r.status, stderr: lines.filter((l) => !l.startsWith('Command exited')).join('\n'), stdout: r.stdout, rssMb: rssKb / 1024 };
}

const haveTime = existsSync(TIME);
const LARGEST_DMAR = 'hp-proliant-dl380e-gen8-cb0557.dat';

describe('63 MB tables from the CLI', { timeout: 600_000 }, () => {
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['dmar', () => bigAcpi(fixtureBytes('dmar', LARGEST_DMAR), 48, BIG), /DMAR at offset 0x4 \(Header\.Table Length\): is 66060288 bytes, more than the 1048576/],
    ['ivrs', () => bigAcpi(fixtureBytes('ivrs', 'asus-rog-xbox-ally-x-56b11a.dat'), 48, BIG), /IVRS at offset 0x4 \(Header\.Table Length\): is 66060288 bytes/],
    [
      'smbios',
      () => {
        // The real table's structures without its End-of-Table, repeated: no end in sight.
        const real = fixtureBytes('smbios/raw', 'supermicro-x9drw-sys-1027r-wrf-gosmbios.table.bin');
        const eot = walkStructures(real).find((s) => s.type === 127)!;
        return repeated(new Uint8Array(0), real.subarray(0, eot.offset), BIG);
      },
      /SMBIOS at offset 0x[0-9a-f]+ \((Structure Table Length|String Set)\): .*1048576 bytes/,
    ],
  ];
  for (const [command, make, message] of cases) {
    it(`${command} --json refuses a 63 MB table in one line, exit 2, peak RSS under ${MAX_RSS_MB} MB`, (t) => {
      if (!haveTime) return t.skip(`${TIME} is not installed: cannot measure the peak RSS of the CLI`);
      const file = join(dir, `big-${command}.bin`);
      writeFileSync(file, make());
      const r = cli([command, file, '--json']);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(r.rssMb < MAX_RSS_MB, `peak RSS ${r.rssMb.toFixed(0)} MB`);
    });
  }

  it('a DMAR just under the 1 MiB cap (real RMRRs repeated) still decodes with --json', (t) => {
    if (!haveTime) return t.skip(`${TIME} is not installed: cannot measure the peak RSS of the CLI`);
    const real = fixtureBytes('dmar', LARGEST_DMAR);
    const d = decodeDmarTable(parseAcpiTable(real, 'DMAR'));
    const rmrr = d.structures.find((s) => s.type === 'RMRR')!;
    const one = real.subarray(rmrr.offset, rmrr.offset + rmrr.length);
    const count = Math.floor((ACPI_TABLE_MAX_BYTES - real.length) / one.length);
    const table = new Uint8Array(real.length + count * one.length);
    table.set(real);
    for (let i = 0; i < count; i++) table.set(one, real.length + i * one.length);
    new DataView(table.buffer).setUint32(4, table.length, true);
    const file = join(dir, 'cap-dmar.bin');
    writeFileSync(file, table);
    const r = cli(['dmar', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { structures: Array<{ type: string }> };
    assert.equal(json.structures.filter((s) => s.type === 'RMRR').length, d.structures.filter((s) => s.type === 'RMRR').length + count);
    assert.ok(r.rssMb < MAX_RSS_MB, `peak RSS ${r.rssMb.toFixed(0)} MB`);
  });
});

describe('the caps leave every real table alone', () => {
  it('every DMAR and IVRS of the corpus is far below the ACPI cap and decodes', () => {
    for (const [dirName, sig] of [['dmar', 'DMAR'], ['ivrs', 'IVRS']] as const) {
      for (const f of fixtureFiles(dirName, '.dat')) {
        const b = fixtureBytes(dirName, f);
        assert.ok(b.length * 64 < ACPI_TABLE_MAX_BYTES, `${f}: ${b.length} bytes`);
        parseAcpiTable(b, sig);
      }
    }
  });

  it('every SMBIOS dump of the corpus decodes with the structure cap in place', () => {
    for (const [d, ext] of [['smbios/raw', '.dump'], ['smbios/hpe-oem', '.dump']] as const) {
      for (const f of fixtureFiles(d, ext)) assert.ok(decodeSmbiosFile(fixtureBytes(d, f)).structures.length > 10, f);
    }
  });

  it(`a table of more than ${SMBIOS_MAX_STRUCTURES} structures (one per 16-bit handle) is refused, naming where`, () => {
    // Minimal structures: type 126 (inactive), length 4, handle, empty string set.
    const n = SMBIOS_MAX_STRUCTURES + 1;
    const t = new Uint8Array(n * 6);
    for (let i = 0; i < n; i++) {
      t[i * 6] = 126;
      t[i * 6 + 1] = 4;
      t[i * 6 + 2] = i & 0xff;
      t[i * 6 + 3] = (i >> 8) & 0xff;
    }
    assert.throws(
      () => walkStructures(t),
      (e: unknown) => e instanceof DecodeError && e.offset === SMBIOS_MAX_STRUCTURES * 6 && /more than 65536 structures/.test(e.message),
    );
    assert.equal(walkStructures(t.subarray(0, SMBIOS_MAX_STRUCTURES * 6)).length, SMBIOS_MAX_STRUCTURES);
  });
});
