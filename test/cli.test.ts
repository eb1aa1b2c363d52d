/**
 * The command line: outputs, the JSON contract, exit statuses and one-line errors.
 * Most cases run main() in-process with captured output; a few spawn the built binary
 * to prove real exit codes and the absence of stack traces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { runDmar, runSmbios } from '../src/cli/firmware-commands.js';
import { guarded } from '../src/cli/run.js';
import { realFs, type Fs } from '../src/sources/fs.js';
import { VERSION } from '../src/version.js';
import { dslInt, parseDsl } from './oracle/iasl-dsl.js';
import { ROOT, fixture, fixtureFiles, fixtureText } from './helpers.js';
import { validatedJson } from './json-schema.js';

function capture() {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }, get out() { return out; }, get err() { return err; } };
}

async function run(...args: string[]) {
  const c = capture();
  const code = await main(args, c.io);
  return validatedJson({ code, out: c.out, err: c.err });
}

function tempRoot(tables: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'assignable-root-'));
  const dir = join(root, 'sys/firmware/acpi/tables');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'APIC'), new Uint8Array(72));
  for (const [sig, src] of Object.entries(tables)) copyFileSync(src, join(dir, sig));
  return root;
}

const DL380E = fixture('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat');

describe('one command defined at a time', () => {
  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
    return { code, out, err };
  }
  it('`X --help` (only X defined) prints what `help X` (every command defined) prints, for every command', async () => {
    for (const c of COMMANDS) {
      const alone = await run([c, '--help']);
      const all = await run(['help', c]);
      assert.equal(alone.code, EXIT.OK, c);
      assert.ok(alone.out.startsWith(`Usage: assignable ${c} `), alone.out.slice(0, 80));
      assert.deepEqual(alone, all, c);
    }
    // The listing still has every command, and a typo still gets commander's suggestion.
    const listing = await run(['--help']);
    for (const c of COMMANDS) assert.match(listing.out, new RegExp(`^  ${c}\\b`, 'm'), c);
    const typo = await run(['survye']);
    assert.equal(typo.code, EXIT.INPUT);
    assert.match(typo.err, /Did you mean survey\?/);
  });
});

describe('dmar command', () => {
  it('on a host whose firmware has no DMAR: exit 4 and one line saying so', async () => {
    const r = await run('dmar', '--root', tempRoot());
    assert.equal(r.code, EXIT.ABSENT);
    assert.equal(r.out, '');
    assert.equal(r.err.split('\n').filter(Boolean).length, 1);
    assert.match(r.err, /^assignable: this host's firmware exposes no DMAR table .*no Intel VT-d IOMMU is described/);
  });
  it('points to ivrs when the host has an AMD IOMMU instead', async () => {
    const r = await run('dmar', '--root', tempRoot({ IVRS: fixture('ivrs', 'asrock-x370-pro4-d168cd.dat') }));
    assert.equal(r.code, EXIT.ABSENT);
    assert.match(r.err, /it has IVRS instead .*assignable ivrs/);
  });
  it('reads the live table under a root directory', async () => {
    const r = await run('dmar', '--root', tempRoot({ DMAR: DL380E }));
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, /^DMAR  HP\/ProLiant rev 1, 1286 bytes, checksum ok/);
  });
  it('says "permission denied (run as root)" when the table is unreadable: exit 3', async () => {
    const denying: Fs = {
      ...realFs,
      readFileSync: (p) => {
        if (p.endsWith('/DMAR')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return realFs.readFileSync(p);
      },
    };
    const c = capture();
    const code = await guarded(c.io, () => runDmar(c.io, undefined, { root: tempRoot({ DMAR: DL380E }) }, denying));
    assert.equal(code, EXIT.ENVIRONMENT);
    assert.match(c.err, /^assignable: cannot read .*DMAR: permission denied; .*run as root/);
    assert.equal(c.err.trim().split('\n').length, 1);
  });
  it('prints one line per structure and per scope, RMRR sizes in KiB', async () => {
    const r = await run('dmar', DL380E);
    const lines = r.out.trim().split('\n');
    // 2 header lines + 13 structures + 75 RMRR scopes + DRHD/ATSR scopes
    const dsl = parseDsl(fixtureText('dmar', 'hp-proliant-dl380e-gen8-cb0557.dsl'));
    const structures = dsl.filter((f) => f.name === 'Subtable Type').length;
    const scopes = dsl.filter((f) => f.name === 'Device Scope Type').length;
    assert.equal(lines.length, 2 + structures + scopes);
    assert.ok(lines.includes('RMRR  @0x0e8  segment 0  0x7dffd000-0x7dffffff  12 KiB'));
    assert.ok(lines.includes('        scope endpoint    00:1c.7 / 00.2'));
  });
  it('--json follows the contract: schema, 64-bit values as lowercase 0x strings, other numbers as integers', async () => {
    const r = await run('dmar', DL380E, '--json');
    assert.equal(r.code, EXIT.OK);
    const j = JSON.parse(r.out);
    assert.equal(j.schema, 'assignable/dmar/v1');
    assert.equal(j.signature, 'DMAR');
    assert.equal(j.oemId, 'HP');
    assert.equal(j.oemTableId, 'ProLiant');
    assert.equal(j.oemRevision, 1);
    assert.equal(j.checksumOk, true);
    assert.equal(j.hostAddressWidth, 46);
    assert.equal(j.flags, 3);
    assert.deepEqual(j.structures.map((s: { type: string }) => s.type), ['DRHD', 'DRHD', ...Array(9).fill('RMRR'), 'ATSR', 'ATSR']);
    const rmrr = j.structures[2];
    assert.deepEqual(Object.keys(rmrr).sort(), ['base', 'length', 'limit', 'offset', 'scopes', 'segment', 'type']);
    assert.equal(rmrr.base, '0x7dffd000');
    assert.equal(rmrr.limit, '0x7dffffff');
    assert.equal(rmrr.segment, 0);
    assert.deepEqual(rmrr.scopes[0], { offset: 0x100, length: 8, type: 1, flags: 0, enumerationId: 0, startBus: 0, path: [{ device: 0x1d, function: 0 }] });
    assert.equal(j.structures[0].registerBase, '0xfbefe000');
    // Every 64-bit address in the document is a lowercase hex string.
    for (const s of j.structures) for (const k of ['base', 'limit', 'registerBase']) if (k in s) assert.match(s[k], /^0x[0-9a-f]+$/);
  });
  it('--fields lists every field at the offset and size iasl -d gives, for every corpus table', async () => {
    for (const file of fixtureFiles('dmar', '.dat')) {
      const r = await run('dmar', fixture('dmar', file), '--fields');
      assert.equal(r.code, EXIT.OK);
      const ours = new Set(r.out.trim().split('\n').map((l) => l.slice(0, 16)));
      for (const f of parseDsl(fixtureText('dmar', file.replace('.dat', '.dsl')))) {
        const key = `[${f.offset.toString(16).toUpperCase().padStart(3, '0')}h ${String(f.offset).padStart(4, '0')} ${f.size.toString(16).toUpperCase().padStart(3, '0')}h]`;
        assert.ok(ours.has(key), `${file}: iasl field ${f.name} ${key} not in --fields`);
      }
    }
  });
  it('reads acpidump text and picks the DMAR', async () => {
    const r = await run('dmar', fixture('dmar/acpidump', 'dell-poweredge-r820-e5985c.acpidump.txt'), '--json');
    assert.equal(r.code, EXIT.OK);
    assert.equal(JSON.parse(r.out).oemTableId, 'PE_SC3');
  });
  it('a truncated table: exit 2, one line naming the file, offset and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-'));
    const f = join(dir, 'cut.dat');
    writeFileSync(f, readFileSync(DL380E).subarray(0, 300));
    const r = await run('dmar', f);
    assert.equal(r.code, EXIT.INPUT);
    assert.equal(r.err, `assignable: ${f}: DMAR at offset 0x4 (Header.Table Length): says 1286 bytes but only 300 are present (truncated)\n`);
  });
  it('a zero-length structure: exit 2 naming the offset, no hang', async () => {
    const b = new Uint8Array(readFileSync(DL380E));
    b[0xe8 + 2] = 0;
    b[0xe8 + 3] = 0;
    const f = join(mkdtempSync(join(tmpdir(), 'assignable-')), 'zero.dat');
    writeFileSync(f, b);
    const r = await run('dmar', f);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /DMAR at offset 0xe8 \(Remapping Structure.Length\): is 0, less than the 4-byte Remapping Structure header/);
  });
  it('a bad checksum is reported, not refused', async () => {
    const b = new Uint8Array(readFileSync(DL380E));
    b[9] = b[9]! ^ 0xff;
    const f = join(mkdtempSync(join(tmpdir(), 'assignable-')), 'sum.dat');
    writeFileSync(f, b);
    const r = await run('dmar', f, '--json');
    assert.equal(r.code, EXIT.OK);
    assert.equal(JSON.parse(r.out).checksumOk, false);
  });
  it('the wrong table: exit 2 and the signature found', async () => {
    const r = await run('dmar', fixture('ivrs', 'asrock-x370-pro4-d168cd.dat'));
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /Header.Signature\): is "IVRS", not "DMAR": wrong table/);
  });
  it('garbage and wrong file types: exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-'));
    const png = join(dir, 'x.png');
    writeFileSync(png, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(64).fill(0)]));
    assert.equal((await run('dmar', png)).code, EXIT.INPUT);
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello, this is not a dump\n');
    const r = await run('dmar', txt);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /not acpidump output|without any hex dump/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    assert.equal((await run('dmar', empty)).code, EXIT.INPUT);
  });
  it('a missing file is exit 3; a directory is exit 2', async () => {
    const r = await run('dmar', '/nonexistent/dmar.dat');
    assert.equal(r.code, EXIT.ENVIRONMENT);
    assert.match(r.err, /no such file/);
    assert.equal((await run('dmar', tmpdir())).code, EXIT.INPUT);
  });
  it('usage errors: exit 2', async () => {
    assert.equal((await run('dmar', '--bogus')).code, EXIT.INPUT);
    assert.equal((await run('frobnicate')).code, EXIT.INPUT);
    assert.equal((await run('dmar', DL380E, '--json', '--fields')).code, EXIT.INPUT);
  });
});

describe('ivrs and smbios commands', () => {
  it('ivrs --json follows the contract', async () => {
    const r = await run('ivrs', fixture('ivrs', 'aokzoe-a1x-6f0309.dat'), '--json');
    assert.equal(r.code, EXIT.OK);
    const j = JSON.parse(r.out);
    assert.equal(j.schema, 'assignable/ivrs/v1');
    assert.equal(j.ivInfo, 0x00203043);
    const ivhd = j.blocks[0];
    assert.equal(ivhd.kind, 'IVHD');
    assert.equal(ivhd.type, 0x10);
    assert.equal(ivhd.baseAddress, '0xfd200000');
    const special = ivhd.entries.find((e: { type: number; variety?: number }) => e.type === 0x48 && e.variety === 2);
    assert.deepEqual({ deviceId: special.deviceId, handle: special.handle }, { deviceId: 0x00a0, handle: 0 });
    const ivmd = j.blocks.find((b: { kind: string }) => b.kind === 'IVMD');
    assert.deepEqual([ivmd.type, ivmd.start, ivmd.length], [0x22, '0x98208000', '0x1']);
    const dsl = parseDsl(fixtureText('ivrs', 'aokzoe-a1x-6f0309.dsl'));
    assert.equal(BigInt(ivmd.start), dslInt(dsl.find((f) => f.name === 'Start Address')!.value));
  });
  it('ivrs on a host without IVRS: exit 4', async () => {
    const r = await run('ivrs', '--root', tempRoot());
    assert.equal(r.code, EXIT.ABSENT);
    assert.match(r.err, /exposes no IVRS table/);
  });
  it('smbios --type 9 --json on a dump: slots with bus addresses', async () => {
    const r = await run('smbios', fixture('smbios/raw', 'dell-poweredge-r630-gosmbios.dump'), '--type', '9', '--json');
    assert.equal(r.code, EXIT.OK);
    const j = JSON.parse(r.out);
    assert.equal(j.schema, 'assignable/smbios/v1');
    assert.equal(j.version, '3.3.0');
    assert.ok(j.structures.every((s: { type: number }) => s.type === 9));
    assert.deepEqual(
      j.slots.map((s: { designation: string; bus: number; segment: number; device: number; function: number; slotType: string }) => [s.designation, s.segment, s.bus, s.device, s.function]),
      [['PCIe Slot 2', 0, 4, 0, 0]],
    );
  });
  it('smbios reads dmidecode text (what users paste), including HPE 203 records', async () => {
    const r = await run('smbios', fixture('smbios', 'hp-proliant-dl380-gen9-16075f.dmidecode.txt'), '--json');
    assert.equal(r.code, EXIT.OK);
    const j = JSON.parse(r.out);
    assert.ok(j.hpeDeviceCorrelation.some((c: { structuredName: string }) => /^PCI\.Slot\.\d/.test(c.structuredName)));
  });
  it('smbios on a host without DMI tables: exit 4', async () => {
    const r = await run('smbios', '--root', tempRoot());
    assert.equal(r.code, EXIT.ABSENT);
    assert.match(r.err, /exposes no SMBIOS tables/);
  });
  it('smbios from sysfs files under a root (entry point + table)', async () => {
    const root = tempRoot();
    const dump = new Uint8Array(readFileSync(fixture('smbios/raw', 'azw-beelink-eq12-gosmbios.dump')));
    mkdirSync(join(root, 'sys/firmware/dmi/tables'), { recursive: true });
    writeFileSync(join(root, 'sys/firmware/dmi/tables/smbios_entry_point'), dump.subarray(0, 0x18));
    writeFileSync(join(root, 'sys/firmware/dmi/tables/DMI'), dump.subarray(0x20));
    const c = capture();
    const code = await guarded(c.io, () => runSmbios(c.io, undefined, { root, json: true }));
    assert.equal(code, EXIT.OK);
    const j = JSON.parse(c.out);
    assert.equal(j.source, 'sysfs');
    assert.equal(j.structures.length, 72);
  });
  it('dmidecode\'s "No SMBIOS nor DMI entry point found" is absence (exit 4), not bad input', async () => {
    const r = await run('smbios', fixture('smbios', 'no-smbios.dmidecode.txt'));
    assert.equal(r.code, EXIT.ABSENT);
    assert.match(r.err, /dmidecode found no SMBIOS/);
  });
  it('--type must be a number', async () => {
    assert.equal((await run('smbios', fixture('smbios/raw', 'dell-poweredge-r630-gosmbios.dump'), '--type', 'slots')).code, EXIT.INPUT);
  });
});

describe('the built binary', () => {
  const bin = join(ROOT, 'dist/assignable.cjs');
  it("runs on this machine: the one status this host's DMAR file calls for, one line, never a stack trace", () => {
    // The kernel's own listing decides: absent → 4, present but unreadable (not root) → 3, readable → 0.
    const table = '/sys/firmware/acpi/tables/DMAR';
    let expected: number = EXIT.OK;
    if (!existsSync(table)) expected = EXIT.ABSENT;
    else {
      try {
        accessSync(table, constants.R_OK);
      } catch {
        expected = EXIT.ENVIRONMENT;
      }
    }
    const r = spawnSync(process.execPath, [bin, 'dmar'], { encoding: 'utf8' });
    assert.equal(r.status, expected, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    if (expected === EXIT.OK) assert.match(r.stdout, /^DMAR  /);
    else {
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, expected === EXIT.ABSENT ? /exposes no DMAR table/ : /permission denied/);
    }
  });
  it('reads stdin with "-"', () => {
    const r = spawnSync(process.execPath, [bin, 'dmar', '-', '--json'], { input: readFileSync(DL380E) });
    assert.equal(r.status, EXIT.OK);
    assert.equal(JSON.parse(r.stdout.toString()).hostAddressWidth, 46);
  });
  it('a corrupt file gives exit 2 and one line', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'assignable-')), 'bad.dat');
    writeFileSync(f, readFileSync(DL380E).subarray(0, 40));
    const r = spawnSync(process.execPath, [bin, 'dmar', f], { encoding: 'utf8' });
    assert.equal(r.status, EXIT.INPUT);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
  it('--version matches package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(VERSION, pkg.version);
    const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), pkg.version);
    assert.equal(r.status, 0);
  });
});
