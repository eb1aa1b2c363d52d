/**
 * Every IVRS table of the corpus against `iasl -d` (20250404), read as an independent
 * oracle. iasl prints blocks and device entries alike as "Subtable Type"; the bracketed
 * name tells them apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIvrs, eisaIdToString, type IvhdEntry, type IvrsBlock } from '../src/firmware/acpi/ivrs.js';
import { dslInt, dslNum, dslString, parseDsl, type DslField } from './oracle/iasl-dsl.js';
import { fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';

interface DslEntry {
  offset: number;
  type: number;
  fields: DslField[];
}
interface DslBlock {
  offset: number;
  type: number;
  fields: DslField[];
  entries: DslEntry[];
}

function group(fields: DslField[]): { header: DslField[]; blocks: DslBlock[] } {
  const header: DslField[] = [];
  const blocks: DslBlock[] = [];
  let entry: DslEntry | null = null;
  for (const f of fields) {
    if (f.name === 'Subtable Type') {
      const type = dslNum(f.value);
      if (/\[(Hardware|Memory) Definition Block/.test(f.value)) {
        blocks.push({ offset: f.offset, type, fields: [f], entries: [] });
        entry = null;
      } else {
        assert.match(f.value, /Device Entry/, `line ${f.line}`);
        entry = { offset: f.offset, type, fields: [f] };
        blocks.at(-1)!.entries.push(entry);
      }
    } else if (entry) entry.fields.push(f);
    else if (blocks.length > 0) blocks.at(-1)!.fields.push(f);
    else header.push(f);
  }
  return { header, blocks };
}

const get = (fields: DslField[], name: string): DslField => {
  const f = fields.find((x) => x.name === name);
  assert.ok(f, `iasl field "${name}" missing`);
  return f;
};

const BLOCK_KNOWN: Record<string, string[]> = {
  ivhd10: ['Subtable Type', 'Flags (decoded below)', 'Length', 'DeviceId', 'Capability Offset', 'Base Address', 'PCI Segment Group', 'Virtualization Info', 'Feature Reporting'],
  ivhd11: ['Subtable Type', 'Flags (decoded below)', 'Length', 'DeviceId', 'Capability Offset', 'Base Address', 'PCI Segment Group', 'Virtualization Info', 'Attributes', 'EFR Image', 'Reserved'],
  ivmd: ['Subtable Type', 'Flags (decoded below)', 'Length', 'DeviceId', 'Auxiliary Data', 'Reserved', 'Start Address', 'Memory Length'],
};
const ENTRY_KNOWN = ['Subtable Type', 'Device ID', 'Data Setting (decoded below)', 'Reserved', 'Source Used Device ID', 'Handle', 'Variety', 'ACPI HID', 'ACPI CID', 'UID Format', 'UID Length', 'UID', 'Extended Data'];

/** iasl prints _HID/_CID as "text" or as a 64-bit number. */
function dslHid(value: string): string {
  if (value.startsWith('"')) return dslString(value).replace(/\0+$/, '');
  assert.equal(dslInt(value), 0n, `non-zero numeric HID ${value} (none in the corpus)`);
  return '';
}

function compareEntry(ours: IvhdEntry, d: DslEntry, where: string): void {
  for (const f of d.fields) assert.ok(ENTRY_KNOWN.includes(f.name), `${where}: unchecked iasl field "${f.name}"`);
  assert.equal(ours.offset, d.offset, `${where} offset`);
  assert.equal(ours.type, d.type, `${where} type`);
  assert.equal(ours.dataSetting, dslNum(get(d.fields, 'Data Setting (decoded below)').value), `${where} DTE setting`);
  if (d.type === 0x48) {
    // Bytes 1–2 are reserved in special entries; the requester id is the "used" one.
    assert.equal(ours.deviceId, dslNum(get(d.fields, 'Source Used Device ID').value), `${where} used device id`);
    assert.equal(ours.handle, dslNum(get(d.fields, 'Handle').value), `${where} handle`);
    assert.equal(ours.variety, dslNum(get(d.fields, 'Variety').value), `${where} variety`);
  } else {
    assert.equal(ours.deviceId, dslNum(get(d.fields, 'Device ID').value), `${where} device id`);
  }
  if (d.type === 0x42 || d.type === 0x43) {
    assert.equal(ours.sourceDeviceId, dslNum(get(d.fields, 'Source Used Device ID').value), `${where} alias source`);
  }
  if (d.type === 0xf0) {
    assert.equal(ours.hid, dslHid(get(d.fields, 'ACPI HID').value), `${where} HID`);
    assert.equal(ours.cid, dslHid(get(d.fields, 'ACPI CID').value), `${where} CID`);
    const fmt = d.fields.find((f) => f.name === 'UID Format');
    if (!fmt) {
      assert.equal(ours.uid, '', `${where} no UID`);
    } else if (dslNum(fmt.value) === 2) {
      assert.equal(ours.uid, dslString(get(d.fields, 'UID').value), `${where} UID`);
    } else if (dslNum(fmt.value) === 1) {
      // iasl prints 8 bytes whatever the UID length; only the first `UID Length` are the UID.
      const len = dslNum(get(d.fields, 'UID Length').value);
      const all = dslInt(get(d.fields, 'UID').value);
      assert.equal(ours.uid, (all & ((1n << BigInt(8 * len)) - 1n)).toString(10), `${where} integer UID`);
    }
  }
}

function compareBlock(ours: IvrsBlock, d: DslBlock, where: string): void {
  assert.equal(ours.offset, d.offset, `${where} offset`);
  assert.equal(ours.kind === 'unknown' ? ours.typeCode : ours.type, d.type, `${where} type`);
  assert.equal(ours.blockLength, dslNum(get(d.fields, 'Length').value), `${where} length`);
  const v = (n: string) => dslInt(get(d.fields, n).value);
  if (ours.kind === 'IVHD') {
    const known = BLOCK_KNOWN[ours.type === 0x10 ? 'ivhd10' : 'ivhd11']!;
    for (const f of d.fields) assert.ok(known.includes(f.name), `${where}: unchecked iasl field "${f.name}"`);
    assert.equal(BigInt(ours.flags), v('Flags (decoded below)'), `${where} flags`);
    assert.equal(BigInt(ours.deviceId), v('DeviceId'), `${where} device id`);
    assert.equal(BigInt(ours.capabilityOffset), v('Capability Offset'), `${where} capability offset`);
    assert.equal(ours.baseAddress, v('Base Address'), `${where} base`);
    assert.equal(BigInt(ours.segment), v('PCI Segment Group'), `${where} segment`);
    assert.equal(BigInt(ours.info), v('Virtualization Info'), `${where} info`);
    if (ours.type === 0x10) {
      assert.equal(BigInt(ours.featureReporting!), v('Feature Reporting'), `${where} feature reporting`);
    } else {
      assert.equal(BigInt(ours.attributes!), v('Attributes'), `${where} attributes`);
      assert.equal(ours.efrImage, v('EFR Image'), `${where} EFR`);
      assert.equal(ours.efrImage2, v('Reserved'), `${where} EFR 2 (iasl: Reserved)`);
    }
    // iasl lists 00h pad entries; the contract leaves them out.
    const real = d.entries.filter((e) => e.type !== 0x00);
    assert.equal(ours.entries.length, real.length, `${where} entry count`);
    ours.entries.forEach((e, i) => compareEntry(e, real[i]!, `${where} entry ${i} (type 0x${e.type.toString(16)})`));
  } else if (ours.kind === 'IVMD') {
    for (const f of d.fields) assert.ok(BLOCK_KNOWN.ivmd!.includes(f.name), `${where}: unchecked iasl field "${f.name}"`);
    assert.equal(BigInt(ours.flags), v('Flags (decoded below)'), `${where} flags`);
    assert.equal(BigInt(ours.deviceId), v('DeviceId'), `${where} device id`);
    assert.equal(BigInt(ours.auxData), v('Auxiliary Data'), `${where} aux data`);
    assert.equal(ours.start, v('Start Address'), `${where} start`);
    assert.equal(ours.length, v('Memory Length'), `${where} length`);
  } else {
    assert.fail(`${where}: iasl decoded type ${d.type}, we did not`);
  }
}

const tables = fixtureFiles('ivrs', '.dat');

describe('IVRS decoder against iasl -d, every corpus table', () => {
  it('has the whole corpus (15 tables)', () => assert.equal(tables.length, 15));
  for (const file of tables) {
    it(file, () => {
      const ours = decodeIvrs(fixtureBytes('ivrs', file));
      const { header, blocks } = group(parseDsl(fixtureText('ivrs', file.replace(/\.dat$/, '.dsl'))));
      const h = (n: string) => get(header, n).value;
      assert.equal(ours.signature, 'IVRS');
      assert.equal(ours.oemId, dslString(h('Oem ID')).trimEnd());
      assert.equal(ours.oemTableId, dslString(h('Oem Table ID')).trimEnd());
      assert.equal(BigInt(ours.oemRevision), dslInt(h('Oem Revision')));
      assert.equal(BigInt(ours.ivInfo), dslInt(h('Virtualization Info')));
      assert.equal(ours.checksumOk, true);
      assert.equal(ours.blocks.length, blocks.length, 'block count');
      ours.blocks.forEach((b, i) => compareBlock(b, blocks[i]!, `${file} block ${i}`));
    });
  }
});

describe('IVRS details', () => {
  it('decodes compressed EISA ids (the ACPI spec example PNP0A08 = 0x080AD041)', () => {
    assert.equal(eisaIdToString(0x080ad041), 'PNP0A08');
    assert.equal(eisaIdToString(0x0303d041), 'PNP0303');
  });
  it('keeps IVMD unity ranges (the xbox ally table has a 21h block for 00:0c.0)', () => {
    const t = decodeIvrs(fixtureBytes('ivrs', 'asus-rog-xbox-ally-x-56b11a.dat'));
    const ivmd = t.blocks.filter((b) => b.kind === 'IVMD');
    assert.equal(ivmd.length, 2);
    assert.deepEqual(
      ivmd.map((b) => b.kind === 'IVMD' && [b.type, b.flags, b.deviceId]),
      [
        [0x21, 0x07, 0x0060],
        [0x21, 0x08, 0x6407],
      ],
    );
  });
  it('reads an integer UID as its decimal text (MSFT0201, UID length 2)', () => {
    const t = decodeIvrs(fixtureBytes('ivrs', 'asus-rog-xbox-ally-x-56b11a.dat'));
    const msft = t.blocks.flatMap((b) => (b.kind === 'IVHD' ? b.entries : [])).find((e) => e.hid === 'MSFT0201');
    assert.equal(msft?.uidFormat, 1);
    assert.equal(msft?.uid, '1');
  });
});
