/**
 * Every DMAR table of the corpus against ACPICA's own disassembly of it (iasl 20250404,
 * the .dsl beside each .dat). The .dsl is read as an independent oracle: its fields are
 * grouped into subtables and scopes here, then compared value by value with our decode.
 * Any iasl field this test does not know fails the test, so nothing is silently skipped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmar, type DmarStructure } from '../src/firmware/acpi/dmar.js';
import { parseAcpidumpText } from '../src/firmware/acpi/acpidump.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { dslInt, dslNum, dslString, parseDsl, type DslField } from './oracle/iasl-dsl.js';
import { fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';

interface DslScope {
  offset: number;
  fields: DslField[];
  path: Array<[number, number]>;
}
interface DslSubtable {
  offset: number;
  fields: DslField[];
  scopes: DslScope[];
}

function group(fields: DslField[]): { header: DslField[]; subtables: DslSubtable[] } {
  const header: DslField[] = [];
  const subtables: DslSubtable[] = [];
  let scope: DslScope | null = null;
  for (const f of fields) {
    if (f.name === 'Subtable Type') {
      subtables.push({ offset: f.offset, fields: [f], scopes: [] });
      scope = null;
    } else if (f.name === 'Device Scope Type') {
      const st = subtables.at(-1);
      assert.ok(st, `scope outside a subtable at line ${f.line}`);
      scope = { offset: f.offset, fields: [f], path: [] };
      st.scopes.push(scope);
    } else if (scope && f.name === 'PCI Path') {
      const m = /^([0-9A-F]{2}),([0-9A-F]{2})$/.exec(f.value);
      assert.ok(m, `PCI Path value ${f.value}`);
      scope.path.push([parseInt(m[1]!, 16), parseInt(m[2]!, 16)]);
    } else if (scope) {
      scope.fields.push(f);
    } else if (subtables.length > 0) {
      subtables.at(-1)!.fields.push(f);
    } else {
      header.push(f);
    }
  }
  return { header, subtables };
}

function get(fields: DslField[], name: string): DslField {
  const f = fields.find((x) => x.name === name);
  assert.ok(f, `iasl field "${name}" missing`);
  return f;
}

/** iasl field names each subtable type may carry; anything else is a field we do not check. */
const KNOWN: Record<number, string[]> = {
  0: ['Subtable Type', 'Length', 'Flags', 'Size (decoded below)', 'PCI Segment Number', 'Register Base Address'],
  1: ['Subtable Type', 'Length', 'Reserved', 'PCI Segment Number', 'Base Address', 'End Address (limit)'],
  2: ['Subtable Type', 'Length', 'Flags', 'Reserved', 'PCI Segment Number'],
  3: ['Subtable Type', 'Length', 'Reserved', 'Base Address', 'Proximity Domain'],
  4: ['Subtable Type', 'Length', 'Reserved', 'Device Number', 'Device Name'],
  5: ['Subtable Type', 'Length', 'Flags', 'Reserved', 'PCI Segment Number'],
  6: ['Subtable Type', 'Length', 'Reserved', 'PCI Segment Number'],
};
const SCOPE_KNOWN = ['Device Scope Type', 'Entry Length', 'Flags', 'Reserved', 'Enumeration ID', 'PCI Bus Number'];
const TYPE_CODE: Record<string, number> = { DRHD: 0, RMRR: 1, ATSR: 2, RHSA: 3, ANDD: 4, SATC: 5, SIDP: 6 };

function compareSubtable(ours: DmarStructure, dsl: DslSubtable, where: string): void {
  const typeCode = dslNum(get(dsl.fields, 'Subtable Type').value);
  assert.equal(ours.offset, dsl.offset, `${where} offset`);
  assert.equal(ours.type === 'unknown' ? ours.typeCode : TYPE_CODE[ours.type], typeCode, `${where} type`);
  assert.equal(ours.length, dslNum(get(dsl.fields, 'Length').value), `${where} length`);
  for (const f of dsl.fields) assert.ok(KNOWN[typeCode]?.includes(f.name), `${where}: unchecked iasl field "${f.name}"`);
  const v = (n: string) => dslInt(get(dsl.fields, n).value);
  switch (ours.type) {
    case 'DRHD':
      assert.equal(BigInt(ours.flags), v('Flags'), `${where} flags`);
      assert.equal(BigInt(ours.size), v('Size (decoded below)'), `${where} size`);
      assert.equal(BigInt(ours.segment), v('PCI Segment Number'), `${where} segment`);
      assert.equal(ours.registerBase, v('Register Base Address'), `${where} register base`);
      break;
    case 'RMRR':
      assert.equal(BigInt(ours.segment), v('PCI Segment Number'), `${where} segment`);
      assert.equal(ours.base, v('Base Address'), `${where} base`);
      assert.equal(ours.limit, v('End Address (limit)'), `${where} limit`);
      break;
    case 'ATSR':
    case 'SATC':
      assert.equal(BigInt(ours.flags), v('Flags'), `${where} flags`);
      assert.equal(BigInt(ours.segment), v('PCI Segment Number'), `${where} segment`);
      break;
    case 'SIDP':
      assert.equal(BigInt(ours.segment), v('PCI Segment Number'), `${where} segment`);
      break;
    case 'RHSA':
      assert.equal(ours.registerBase, v('Base Address'), `${where} base`);
      assert.equal(BigInt(ours.proximityDomain), v('Proximity Domain'), `${where} proximity domain`);
      break;
    case 'ANDD':
      assert.equal(BigInt(ours.deviceNumber), v('Device Number'), `${where} device number`);
      assert.equal(ours.objectName, dslString(get(dsl.fields, 'Device Name').value), `${where} object name`);
      break;
    case 'unknown':
      assert.fail(`${where}: iasl knows type ${typeCode}, we did not decode it`);
  }
  const ourScopes = 'scopes' in ours ? ours.scopes : [];
  assert.equal(ourScopes.length, dsl.scopes.length, `${where} scope count`);
  ourScopes.forEach((s, i) => {
    const d = dsl.scopes[i]!;
    const w = `${where} scope ${i}`;
    for (const f of d.fields) assert.ok(SCOPE_KNOWN.includes(f.name), `${w}: unchecked iasl field "${f.name}"`);
    assert.equal(s.offset, d.offset, `${w} offset`);
    assert.equal(s.type, dslNum(get(d.fields, 'Device Scope Type').value), `${w} type`);
    assert.equal(s.length, dslNum(get(d.fields, 'Entry Length').value), `${w} length`);
    assert.equal(s.flags, dslNum(get(d.fields, 'Flags').value), `${w} flags`);
    assert.equal(s.enumerationId, dslNum(get(d.fields, 'Enumeration ID').value), `${w} enumeration id`);
    assert.equal(s.startBus, dslNum(get(d.fields, 'PCI Bus Number').value), `${w} bus`);
    assert.deepEqual(
      s.path.map((p) => [p.device, p.function]),
      d.path,
      `${w} path`,
    );
  });
}

const tables = fixtureFiles('dmar', '.dat');

describe('DMAR decoder against iasl -d, every corpus table', () => {
  it('has the whole corpus (56 tables)', () => {
    assert.equal(tables.length, 56);
  });
  for (const file of tables) {
    it(file, () => {
      const ours = decodeDmar(fixtureBytes('dmar', file));
      const { header, subtables } = group(parseDsl(fixtureText('dmar', file.replace(/\.dat$/, '.dsl'))));
      const h = (n: string) => get(header, n).value;
      assert.equal(ours.signature, dslString(h('Signature')));
      assert.equal(BigInt(ours.revision), dslInt(h('Revision')));
      assert.equal(ours.oemId, dslString(h('Oem ID')).trimEnd());
      assert.equal(ours.oemTableId, dslString(h('Oem Table ID')).trimEnd());
      assert.equal(BigInt(ours.oemRevision), dslInt(h('Oem Revision')));
      assert.equal(BigInt(ours.creatorRevision), dslInt(h('Asl Compiler Revision')));
      // iasl stores the raw field; the spec says the width is the field plus one.
      assert.equal(ours.hostAddressWidth, dslNum(h('Host Address Width')) + 1);
      assert.equal(ours.flags, dslNum(h('Flags')));
      assert.equal(ours.intrRemap, (ours.flags & 1) === 1);
      assert.equal(ours.checksumOk, true, 'every corpus table has a good checksum (SOURCES.md)');
      assert.equal(ours.structures.length, subtables.length, 'subtable count');
      ours.structures.forEach((s, i) => compareSubtable(s, subtables[i]!, `${file} subtable ${i} (${s.type})`));
    });
  }
});

describe('acpidump text input', () => {
  const dumps = fixtureFiles('dmar/acpidump', '.acpidump.txt');
  it('has the server acpidumps', () => assert.ok(dumps.length >= 5));
  for (const file of dumps) {
    it(`${file}: the DMAR we pick is byte-identical to acpixtract's .dat`, () => {
      const stem = file.replace(/\.acpidump\.txt$/, '');
      const table = acpiTableFromBytes(fixtureBytes('dmar/acpidump', file), 'DMAR');
      assert.deepEqual(table.view.bytes, fixtureBytes('dmar', `${stem}.dat`));
    });
  }
  it('reads the Raw Table Data of an iasl report (DL380e Gen8) identically to the .dat', () => {
    const bytes = fixtureBytes('dmar/acpidump', 'hp-proliant-dl380e-gen8-cb0557.linuxhw-decoded.txt');
    const table = acpiTableFromBytes(bytes, 'DMAR');
    assert.deepEqual(table.view.bytes, fixtureBytes('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat'));
    // The report lists 28 tables but gives raw hex for 15 (AML tables are disassembled instead);
    // every raw block is found, and each one's bytes start with its own signature.
    const text = new TextDecoder('latin1').decode(bytes);
    const all = parseAcpidumpText(text);
    assert.equal(all.length, (text.match(/^Raw Table Data/gm) ?? []).length);
    assert.equal(all.length, 15);
    assert.deepEqual(
      all.map((t) => t.signature).slice(0, 4),
      ['APIC', 'BERT', 'DMAR', 'ERST'],
    );
  });
  it('names the tables present when the wanted one is missing', () => {
    const bytes = fixtureBytes('dmar/acpidump', 'fujitsu-primergy-41b1e7.acpidump.txt');
    assert.throws(() => acpiTableFromBytes(bytes, 'IVRS'), /no IVRS table in this dump \(it holds: .*DMAR/);
  });
});
