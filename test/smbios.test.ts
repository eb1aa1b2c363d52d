/**
 * SMBIOS: every raw dump of the corpus (smbios/raw, smbios/hpe-oem) decoded by us and
 * held against dmidecode's decode of the same dump (3.6, and 3.4 where the corpus has it),
 * for types 1, 9, 41 and 203; then the dmidecode text of every corpus machine read back by
 * our text reader for the same types.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile, type Smbios } from '../src/firmware/smbios/index.js';
import type { HpeDeviceCorrelation, OnboardDevice, SystemInformation, SystemSlot } from '../src/firmware/smbios/types.js';
import { oracleBlocks, type OracleBlock } from './oracle/dmidecode-blocks.js';
import { fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';

/** dmidecode prints absent strings as "Not Specified" and control characters as ".". */
function dmiStr(s: string | null): string {
  if (s === null) return 'Not Specified';
  return s.replace(/[\x00-\x1f\x7f]/g, '.').trim();
}
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
const HEX4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
const bdf = (seg: number, bus: number, dev: number, fn: number) =>
  `${hex4(seg)}:${bus.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}.${fn}`;

/** dmidecode's wording of slot types and widths differs from the spec's in small ways. */
function normType(s: string): string {
  return s.toLowerCase().replace(/\bgen /g, '').replace(/\s*\([^)]*\)/g, '').replace(/-/g, ' ').replace(/\s+/g, ' ').trim();
}
/** dmidecode's sentence per characteristic bit (oracle side, written from dmidecode's output). */
const PHRASE: Record<string, string> = {
  Unknown: 'Unknown',
  '5.0 V is provided': '5.0 V',
  '3.3 V is provided': '3.3 V',
  'Opening is shared': 'Shared',
  'PC Card-16 is supported': 'PC Card 16',
  'Cardbus is supported': 'CardBus',
  'Zoom Video is supported': 'Zoom Video',
  'Modem ring resume is supported': 'Modem Ring Resume',
  'PME signal is supported': 'PME',
  'Hot-plug devices are supported': 'Hot-plug',
  'SMBus signal is supported': 'SMBus',
  'PCIe slot bifurcation is supported': 'Bifurcation',
};

/** dmidecode's value for `k`; "<BAD INDEX>" (a string index past the set) is an absent string to us. */
function kv(b: OracleBlock, k: string): string | undefined {
  const v = b.kv.get(k);
  if (v === '<BAD INDEX>') return 'Not Specified';
  // "Key: " with an empty (or blank) string prints as a key without value.
  if (v === undefined && b.list.has(k) && b.list.get(k)!.length === 0) return '';
  return v;
}

function checkSystem(ours: SystemInformation, b: OracleBlock, w: string): void {
  assert.equal(dmiStr(ours.manufacturer), kv(b, 'Manufacturer'), `${w} manufacturer`);
  assert.equal(dmiStr(ours.productName), kv(b, 'Product Name'), `${w} product`);
  assert.equal(dmiStr(ours.version), kv(b, 'Version'), `${w} version`);
  assert.equal(dmiStr(ours.serialNumber), kv(b, 'Serial Number'), `${w} serial`);
  const uuid = kv(b, 'UUID');
  if (uuid !== undefined) {
    if (uuid === 'Not Present' || uuid === 'Not Settable') assert.equal(ours.uuid, null, `${w} uuid`);
    else assert.equal(ours.uuid, uuid.toUpperCase(), `${w} uuid`);
  }
  if (kv(b, 'SKU Number') !== undefined) assert.equal(dmiStr(ours.skuNumber), kv(b, 'SKU Number'), `${w} sku`);
  if (kv(b, 'Family') !== undefined) assert.equal(dmiStr(ours.family), kv(b, 'Family'), `${w} family`);
  if (kv(b, 'Wake-up Type') !== undefined) assert.equal(ours.wakeUpType, kv(b, 'Wake-up Type'), `${w} wake-up`);
}

function checkSlot(ours: SystemSlot, b: OracleBlock, w: string): void {
  assert.equal(dmiStr(ours.designation), kv(b, 'Designation'), `${w} designation`);
  const type = kv(b, 'Type')!;
  // dmidecode 3.6 prints the width on its own line in the spec's words ("8x or x8");
  // older versions prefix the lane count to the type ("x8 PCI Express 3 x16").
  const namedWidth = [...b.kv.entries()].find(([k, v]) => k === 'Data Bus Width' && !/^\d+$/.test(v))?.[1];
  let width = '';
  if (namedWidth !== undefined) {
    assert.equal(ours.dataBusWidth, namedWidth, `${w} data bus width`);
  } else if (ours.dataBusWidth !== null && ours.dataBusWidth !== 'Other' && ours.dataBusWidth !== 'Unknown') {
    width = (/(x\d+)$/.exec(ours.dataBusWidth)?.[1] ?? ours.dataBusWidth.replace(' bit', '-bit')) + ' ';
  }
  if (type.endsWith('<OUT OF SPEC>')) {
    // dmidecode 3.x predates some codes; our name must then be one dmidecode does not know.
    assert.ok(ours.slotTypeCode === null || ours.slotTypeCode >= 0x24, `${w} type ${type} vs ${ours.slotType}`);
  } else {
    assert.equal(normType(width + (ours.slotType ?? '')), normType(type), `${w} type`);
  }
  assert.equal(ours.currentUsage?.toLowerCase(), kv(b, 'Current Usage')!.toLowerCase(), `${w} usage`);
  assert.equal(ours.slotLength, kv(b, 'Length'), `${w} length`);
  const id = kv(b, 'ID');
  if (id !== undefined && /^\d+$/.test(id)) assert.equal(ours.id, Number(id), `${w} id`);
  const chars = (b.list.get('Characteristics') ?? []).map((p) => PHRASE[p] ?? `?${p}`);
  assert.deepEqual(ours.characteristics, chars, `${w} characteristics`);
  const bus = kv(b, 'Bus Address');
  if (bus === undefined) assert.equal(ours.bus, null, `${w} no bus address`);
  else assert.equal(bdf(ours.segment!, ours.bus!, ours.device!, ours.function!), bus, `${w} bus address`);
}

function checkOnboard(ours: OnboardDevice, b: OracleBlock, w: string): void {
  assert.equal(dmiStr(ours.referenceDesignation), kv(b, 'Reference Designation'), `${w} designation`);
  assert.equal(ours.deviceType, kv(b, 'Type'), `${w} type`);
  assert.equal(ours.enabled ? 'Enabled' : 'Disabled', kv(b, 'Status'), `${w} status`);
  assert.equal(String(ours.typeInstance), kv(b, 'Type Instance'), `${w} instance`);
  const bus = kv(b, 'Bus Address');
  if (bus === undefined) assert.equal(ours.bus, null, `${w} no bus address`);
  else assert.equal(bdf(ours.segment!, ours.bus!, ours.device!, ours.function!), bus, `${w} bus address`);
}

function checkCorrelation(ours: HpeDeviceCorrelation, b: OracleBlock, w: string): void {
  const handle = (h: number | null) => (h === null ? 'N/A' : `0x${HEX4(h)}`);
  assert.equal(handle(ours.assocDevice), kv(b, 'Associated Device Record'), `${w} assoc device`);
  assert.equal(handle(ours.assocSmbus), kv(b, 'Associated SMBus Record'), `${w} assoc smbus`);
  if (kv(b, 'PCI Device Info') === 'Device Not Present') {
    assert.deepEqual([ours.vendorId, ours.deviceId, ours.subVendorId, ours.subDeviceId], [null, null, null, null], `${w} ids`);
  } else {
    const id = (x: number | null, k: string) => assert.equal(x === null ? 'Device Not Present' : `0x${hex4(x)}`, kv(b, k), `${w} ${k}`);
    id(ours.vendorId, 'PCI Vendor ID');
    id(ours.deviceId, 'PCI Device ID');
    id(ours.subVendorId, 'PCI Sub Vendor ID');
    id(ours.subDeviceId, 'PCI Sub Device ID');
    // dmidecode prints the class bytes through a (char) cast: compare the low byte.
    const cls = (x: number | null, k: string) => assert.equal(x === null ? 0xff : x, parseInt(kv(b, k)!, 16) & 0xff, `${w} ${k}`);
    cls(ours.classCode, 'PCI Class Code');
    cls(ours.subClassCode, 'PCI Sub Class Code');
  }
  assert.equal(handle(ours.parentHandle), kv(b, 'Parent Handle'), `${w} parent`);
  assert.equal(`0x${HEX4(ours.flags!)}`, kv(b, 'Flags'), `${w} flags`);
  assert.equal(ours.deviceType, kv(b, 'Device Type'), `${w} device type`);
  assert.equal(ours.deviceLocation, kv(b, 'Device Location'), `${w} device location`);
  assert.equal(String(ours.deviceInstance), kv(b, 'Device Instance'), `${w} instance`);
  assert.equal(String(ours.deviceSubInstance), kv(b, 'Device Sub-Instance'), `${w} sub-instance`);
  const bay = (x: number | null) => (x === 0 ? 'Unknown' : x === 0xff ? 'Do Not Display' : String(x));
  assert.equal(bay(ours.bay), kv(b, 'Bay'), `${w} bay`);
  assert.equal(bay(ours.enclosure), kv(b, 'Enclosure'), `${w} enclosure`);
  assert.equal(dmiStr(ours.devicePath), kv(b, 'Device Path'), `${w} device path`);
  assert.equal(dmiStr(ours.structuredName), kv(b, 'Structured Name'), `${w} structured name`);
  assert.equal(dmiStr(ours.deviceName), kv(b, 'Device Name'), `${w} device name`);
  if (kv(b, 'UEFI Location') !== undefined) {
    assert.equal(dmiStr(ours.uefiLocation), kv(b, 'UEFI Location'), `${w} uefi location`);
    assert.equal(handle(ours.assocRealHandle), kv(b, 'Associated Real/Phys Handle'), `${w} real handle`);
  }
  if (kv(b, 'PCI Part Number') !== undefined) {
    assert.equal(dmiStr(ours.partNumber), kv(b, 'PCI Part Number'), `${w} part number`);
    assert.equal(dmiStr(ours.serialNumber), kv(b, 'Serial Number'), `${w} serial`);
  }
  if (kv(b, 'PCI Device') !== undefined) {
    assert.equal(`0x${hex4(ours.segment!)}`, kv(b, 'Segment Group Number'), `${w} segment`);
    assert.equal(bdf(0, ours.bus!, ours.device!, ours.function!).slice(5), kv(b, 'PCI Device'), `${w} pci device`);
  } else {
    assert.equal(ours.bus, null, `${w} no pci device in a short record`);
  }
}

/** Compare every type 1/9/41/203 structure with dmidecode's block of the same handle. */
function compareWithDmidecode(ours: Smbios, text: string, w: string): number {
  const blocks = oracleBlocks(text);
  let compared = 0;
  for (const t of [1, 9, 41, 203]) {
    const theirs = blocks.filter((b) => b.type === t && !/^(OEM-specific|Unknown) Type/.test(b.title));
    const mine = ours.structures.filter((s) => s.type === t && (t !== 203 || 'structuredName' in s));
    assert.equal(mine.length, theirs.length, `${w}: number of type ${t} structures`);
    for (const s of mine) {
      const b = theirs.find((x) => x.handle === s.handle);
      assert.ok(b, `${w}: dmidecode has no type ${t} block with handle 0x${HEX4(s.handle)}`);
      const ww = `${w} type ${t} handle 0x${HEX4(s.handle)}`;
      if (t === 1) checkSystem(s as SystemInformation, b, ww);
      if (t === 9) checkSlot(s as SystemSlot, b, ww);
      if (t === 41) checkOnboard(s as OnboardDevice, b, ww);
      if (t === 203) checkCorrelation(s as HpeDeviceCorrelation, b, ww);
      compared++;
    }
  }
  return compared;
}

const rawDumps = fixtureFiles('smbios/raw', '').filter((f) => /\.(dump|table\.bin|rsmb\.bin)$/.test(f));
const hpeDumps = fixtureFiles('smbios/hpe-oem', '.dump');

describe('SMBIOS binary decoder against dmidecode, every raw dump', () => {
  it('has the corpus dumps', () => {
    assert.equal(rawDumps.length, 11);
    assert.equal(hpeDumps.length, 15);
  });
  for (const file of rawDumps) {
    const stem = file.replace(/\.(dump|table\.bin|rsmb\.bin)$/, '');
    for (const ver of ['34', '36']) {
      it(`${file} vs dmidecode ${ver[0]}.${ver[1]}`, () => {
        const ours = decodeSmbiosFile(fixtureBytes('smbios/raw', file));
        const n = compareWithDmidecode(ours, fixtureText('smbios/raw', `${stem}.dmidecode${ver}.txt`), file);
        assert.ok(n >= 1);
      });
    }
  }
  let hpe203 = 0;
  for (const file of hpeDumps) {
    it(`${file} vs dmidecode 3.6`, () => {
      const ours = decodeSmbiosFile(fixtureBytes('smbios/hpe-oem', file));
      compareWithDmidecode(ours, fixtureText('smbios/hpe-oem', file.replace(/\.dump$/, '.dmidecode36.txt')), file);
      hpe203 += ours.hpeDeviceCorrelation.length;
    });
  }
  it('compared HPE device correlation records (Gen9 and later carry them)', () => {
    assert.ok(hpe203 >= 100, `only ${hpe203} type 203 records compared`);
  });
});

describe('dmidecode text reader', () => {
  // dmidecode's text read by our text reader, held against dmidecode's own lines of that text
  // (the oracle above) — not against our binary decoder, which could share its mistakes.
  for (const file of rawDumps.filter((f) => f.endsWith('.dump'))) {
    it(`${file}: reading dmidecode's text gives what dmidecode printed`, () => {
      const text = fixtureText('smbios/raw', file.replace(/\.dump$/, '.dmidecode36.txt'));
      assert.ok(compareWithDmidecode(decodeDmidecodeText(text), text, file) >= 1);
    });
  }
  for (const file of hpeDumps) {
    it(`${file}: type 203 read from dmidecode's text gives what dmidecode printed`, () => {
      const text = fixtureText('smbios/hpe-oem', file.replace(/\.dump$/, '.dmidecode36.txt'));
      const txt = decodeDmidecodeText(text);
      compareWithDmidecode(txt, text, file);
      assert.equal(txt.hpeDeviceCorrelation.length, oracleBlocks(text).filter((b) => b.type === 203 && !/^(OEM-specific|Unknown) Type/.test(b.title)).length);
    });
  }

  const texts = fixtureFiles('smbios', '.dmidecode.txt').filter((f) => f !== 'no-smbios.dmidecode.txt');
  it('has every machine of the corpus', () => assert.equal(texts.length, 75));
  for (const file of texts) {
    it(`${file}: types 1, 9, 41 and 203 parse and agree with dmidecode's lines`, () => {
      const text = fixtureText('smbios', file);
      const ours = decodeDmidecodeText(text);
      const blocks = oracleBlocks(text);
      // Type 9 and 41 blocks dmidecode decoded: one typed structure each, same designation and address.
      for (const [t, list] of [
        [9, ours.slots],
        [41, ours.onboardDevices],
      ] as const) {
        const theirs = blocks.filter((b) => b.type === t && !/^(OEM-specific|Unknown) Type/.test(b.title));
        assert.equal(list.length, theirs.length, `type ${t} count`);
        list.forEach((s, i) => {
          const b = theirs[i]!;
          assert.equal(s.handle, b.handle);
          const name = t === 9 ? kv(b, 'Designation') : kv(b, 'Reference Designation');
          assert.equal(dmiStr('designation' in s ? s.designation : s.referenceDesignation), name === undefined ? 'Not Specified' : name);
          const bus = kv(b, 'Bus Address');
          assert.equal(s.bus === null ? undefined : bdf(s.segment!, s.bus, s.device!, s.function!), bus);
        });
      }
      // Every type 9 that says what it is gets a slot type code we know (or dmidecode did not know it either).
      for (const s of ours.slots) {
        assert.ok(s.slotTypeCode !== null || s.slotType === '<OUT OF SPEC>', `${file}: slot type "${s.slotType}" not recognised`);
        assert.ok(s.currentUsageCode !== null, `${file}: usage "${s.currentUsage}" not recognised`);
      }
      const sys = blocks.find((b) => b.type === 1);
      if (sys) assert.equal(dmiStr(ours.system!.productName), kv(sys, 'Product Name'));
      // HPE servers: 203 records, decoded by dmidecode or rebuilt from its hex, one per block.
      const corr = blocks.filter((b) => b.type === 203);
      if (/ProLiant/.test(ours.system?.productName ?? '')) {
        assert.equal(ours.hpeDeviceCorrelation.length, corr.length, `${file}: 203 records`);
        for (const c of ours.hpeDeviceCorrelation) assert.ok(c.structuredName !== undefined && c.deviceType !== null);
      }
    });
  }
});
