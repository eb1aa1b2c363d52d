/**
 * PCI config space: every function of pciutils' real dumps decoded from its bytes and held
 * against lspci 3.13's decode of the same dump (capability offsets, ACS bits, bridge buses,
 * FLR, PM NoSoftRst, MSI, MSI-X, PCIe port type, SR-IOV), and the topology we build against
 * lspci's tree. The lspci text is read here with small regexes of the test's own; our lspci
 * text reader is held against the same regexes over lspci's text (the corpus's 3.13 and 3.9
 * output, and the installed lspci's -F decode of each dump when pciutils is present).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { decodePciConfig, type PciConfig } from '../src/firmware/pci/config.js';
import { configFromLspci, parseLspci } from '../src/firmware/pci/lspci-text.js';
import { buildHost } from '../src/host/build.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { treeParents } from './oracle/lspci-tree.js';
import { fixture, fixtureFiles, fixtureText } from './helpers.js';

const DIR = 'pci/pciutils-tests';
const dumps = fixtureFiles(DIR, '.dump.txt');

interface Oracle {
  address: string;
  capOffsets: number[];
  text: string;
}

/** Split lspci -vvv output into functions (header line → its indented block). */
function oracleBlocks(text: string): Oracle[] {
  const out: Oracle[] = [];
  for (const chunk of text.split(/\n(?=(?:[0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] )/)) {
    const m = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(chunk);
    if (!m) continue;
    const address = `${(m[1] ?? '0000').padStart(4, '0')}:${m[2]}`;
    const capOffsets = [...chunk.matchAll(/^\tCapabilities: \[([0-9a-f]+)(?: v\d+)?\]/gm)].map((c) => parseInt(c[1]!, 16));
    out.push({ address, capOffsets, text: chunk });
  }
  return out;
}

const bitsIn = (line: string | undefined, names: string[]) => (line ? names.filter((n) => new RegExp(`\\b${n}\\+`).test(line)) : undefined);
const ACS = ['SrcValid', 'TransBlk', 'ReqRedir', 'CmpltRedir', 'UpstreamFwd', 'EgressCtrl', 'DirectTrans'];
const PORT: Array<[RegExp, number]> = [
  [/Express \(v\d\) Legacy Endpoint/, 1],
  [/Express \(v\d\) Root Complex Integrated Endpoint/, 9],
  [/Express \(v\d\) Root Complex Event Collector/, 10],
  [/Express \(v\d\) Root Port/, 4],
  [/Express \(v\d\) Upstream Port/, 5],
  [/Express \(v\d\) Downstream Port/, 6],
  [/Express \(v\d\) PCI-Express to PCI\/PCI-X Bridge/, 7],
  [/Express \(v\d\) PCI\/PCI-X to PCI-Express Bridge/, 8],
  [/Express \(v\d\) Endpoint/, 0],
];
/** The lines of one register, with lspci's wrapped continuation lines. */
function register(text: string, name: string): string | undefined {
  const m = new RegExp(`\\t\\t${name}:[^\\n]*(?:\\n\\t\\t\\t[^\\n]*)*`).exec(text);
  return m?.[0];
}

function compare(ours: PciConfig, o: Oracle, w: string): void {
  const offsets = [...(ours.capabilities ?? []), ...(ours.extendedCapabilities ?? [])].map((c) => c.offset);
  assert.deepEqual(offsets, o.capOffsets, `${w}: capability offsets`);
  const t = o.text;
  const acsCap = /\t\tACSCap:[^\n]*/.exec(t)?.[0];
  const acsCtl = /\t\tACSCtl:[^\n]*/.exec(t)?.[0];
  if (acsCap) {
    assert.deepEqual(ours.acs?.capability, bitsIn(acsCap, ACS), `${w}: ACS capability`);
    assert.deepEqual(ours.acs?.control, bitsIn(acsCtl, ACS), `${w}: ACS control`);
  } else if (ours.extendedCapabilities) {
    assert.equal(ours.acs, null, `${w}: no ACS`);
  }
  const bus = /\tBus: primary=([0-9a-f]+), secondary=([0-9a-f]+), subordinate=([0-9a-f]+)/.exec(t);
  if (bus) assert.deepEqual(ours.bridge, { primary: parseInt(bus[1]!, 16), secondary: parseInt(bus[2]!, 16), subordinate: parseInt(bus[3]!, 16) }, `${w}: bridge buses`);
  const devCap = register(t, 'DevCap');
  if (devCap) assert.equal(ours.pcie?.flr, /FLReset\+/.test(devCap), `${w}: FLR`);
  const pmStatus = /Power Management version[^\n]*\n(?:\t\t[^\n]*\n)*?\t\tStatus: ([^\n]*)/.exec(t)?.[1];
  if (pmStatus && /NoSoftRst/.test(pmStatus)) assert.equal(ours.pm?.noSoftReset, /NoSoftRst\+/.test(pmStatus), `${w}: NoSoftRst`);
  const msi = /Capabilities: \[[0-9a-f]+\] MSI: ([^\n]*)/.exec(t)?.[1];
  if (msi) {
    assert.equal(ours.msi?.enabled, /Enable\+/.test(msi), `${w}: MSI enable`);
    assert.equal(ours.msi?.vectors, Number(/Count=\d+\/(\d+)/.exec(msi)![1]), `${w}: MSI vectors`);
  } else if (ours.capabilities) assert.equal(ours.msi, null, `${w}: no MSI`);
  const msix = /Capabilities: \[[0-9a-f]+\] MSI-X: ([^\n]*)/.exec(t)?.[1];
  if (msix) {
    assert.equal(ours.msix?.enabled, /Enable\+/.test(msix), `${w}: MSI-X enable`);
    assert.equal(ours.msix?.tableSize, Number(/(?:Count|TabSize)=(\d+)/.exec(msix)![1]), `${w}: MSI-X size`);
  }
  const express = /Capabilities: \[[0-9a-f]+\] (Express[^\n]*)/.exec(t)?.[1];
  if (express) assert.equal(ours.pcie?.portType, PORT.find(([re]) => re.test(express))?.[1], `${w}: port type (${express})`);
  else if (ours.capabilities) assert.equal(ours.pcie, null, `${w}: not PCI Express`);
  const vfs = /Total VFs: (\d+)/.exec(t);
  if (vfs) assert.equal(ours.sriov?.totalVfs, Number(vfs[1]), `${w}: SR-IOV total VFs`);
}

describe('PCI config space decoder against lspci 3.13, every pciutils dump', () => {
  it('has the pciutils dumps (41)', () => assert.equal(dumps.length, 41));
  let functions = 0;
  for (const file of dumps) {
    it(file, () => {
      const dump = parseLspci(fixtureText(DIR, file));
      const oracle = oracleBlocks(fixtureText(DIR, file.replace('.dump.txt', '.lspci313-vvvnn.txt')));
      assert.ok(dump.functions.length > 0);
      for (const fn of dump.functions) {
        const address = `${fn.address.segment.toString(16).padStart(4, '0')}:${fn.address.bus.toString(16).padStart(2, '0')}:${fn.address.device.toString(16).padStart(2, '0')}.${fn.address.function}`;
        const o = oracle.find((x) => x.address === address);
        assert.ok(o, `${file}: lspci shows no ${address}`);
        assert.ok(fn.config && fn.config.length >= 64, `${file} ${address}: hex dump`);
        compare(decodePciConfig(fn.config), o, `${file} ${address}`);
        functions++;
      }
    });
  }
  it('covered every function (172)', () => assert.equal(functions, 172));
});

describe("our lspci text reader against lspci's own decode (what users paste)", () => {
  // The same functions as lspci 3.13 and 3.9 print them: our reader of that text must agree
  // with what lspci says there, read by the test's regexes above — not with our byte decoder.
  for (const file of dumps) {
    for (const version of ['lspci313-vvvnn', 'lspci39-vvv']) {
      const textFile = file.replace('.dump.txt', `.${version}.txt`);
      it(textFile, (t) => {
        if (!fixtureFiles(DIR, '.txt').includes(textFile)) return t.skip(`no ${version} output for ${file} in the corpus`);
        const text = fixtureText(DIR, textFile);
        const ours = parseLspci(text).functions;
        const oracle = oracleBlocks(text);
        assert.equal(ours.length, oracle.length, `${textFile}: functions`);
        assert.ok(ours.length > 0);
        for (const fn of ours) {
          const address = `${fn.address.segment.toString(16).padStart(4, '0')}:${fn.address.bus.toString(16).padStart(2, '0')}:${fn.address.device.toString(16).padStart(2, '0')}.${fn.address.function}`;
          const o = oracle.find((x) => x.address === address);
          assert.ok(o, `${textFile}: lspci shows no ${address}`);
          compare(configFromLspci(fn), o, `${textFile} ${address}`);
        }
      });
    }
  }
});

describe("our lspci text reader against this machine's lspci -F decode of every dump", () => {
  // Whatever pciutils version is installed here prints the dumps its own way.
  const probe = spawnSync('lspci', ['--version'], { encoding: 'utf8' });
  const missing = probe.status === 0 ? null : 'lspci (pciutils) is not installed here';
  for (const file of dumps) {
    it(file, (t) => {
      if (missing) return t.skip(missing);
      const r = spawnSync('lspci', ['-F', fixture(DIR, file), '-vvvnn'], { encoding: 'latin1' });
      assert.equal(r.status, 0, r.stderr);
      const ours = parseLspci(r.stdout).functions;
      const oracle = oracleBlocks(r.stdout);
      assert.equal(ours.length, oracle.length, `${file}: functions`);
      for (const fn of ours) {
        const address = `${fn.address.segment.toString(16).padStart(4, '0')}:${fn.address.bus.toString(16).padStart(2, '0')}:${fn.address.device.toString(16).padStart(2, '0')}.${fn.address.function}`;
        const o = oracle.find((x) => x.address === address);
        assert.ok(o, `${file}: lspci shows no ${address}`);
        compare(configFromLspci(fn), o, `${file} ${address} (${probe.stdout.trim()})`);
      }
    });
  }
});

describe('topology against lspci -t', () => {
  for (const file of fixtureFiles(DIR, '.lspci313-tvnn.txt')) {
    it(file, () => {
      const expected = treeParents(fixtureText(DIR, file));
      const host = buildHost({ origin: { kind: 'capture', description: file }, functions: functionsFromLspci(fixtureText(DIR, file.replace('.lspci313-tvnn.txt', '.dump.txt'))), notes: [] });
      assert.equal(host.devices.length, expected.size, 'function count');
      for (const d of host.devices) assert.equal(d.parent, expected.get(d.address), `${d.address}: parent`);
      // Children agree with parents.
      for (const d of host.devices) for (const c of d.children) assert.equal(host.byAddress.get(c)!.parent, d.address);
    });
  }
});

/**
 * lspci's own `Region N:` lines (one tab deep: the function's BARs, not SR-IOV VF BARs) are
 * the oracle for BAR decoding: the kind, width, prefetchability and base address as an
 * unsigned number. "<unassigned>" is a base of zero with the type bits set. Reading a dump,
 * lspci also prints the upper dword of a 64-bit BAR as a "Region" of its own when that dword
 * is not zero; PCI 3.0 §6.2.5.1 makes it the high half of the BAR before it, so it is dropped.
 */
type Region = { index: number; kind: 'memory' | 'io'; is64: boolean; prefetchable: boolean; address: bigint };
function lspciRegions(text: string): Region[] {
  const out: Region[] = [];
  for (const m of text.matchAll(/^\tRegion (\d): (Memory|I\/O ports) at ([0-9a-f]+|<unassigned>)(?: \(([^)]*)\))?/gm)) {
    const flags = m[4] ?? '';
    const prev = out.at(-1);
    if (prev && prev.is64 && prev.index === Number(m[1]) - 1) continue;
    out.push({
      index: Number(m[1]),
      kind: m[2] === 'Memory' ? ('memory' as const) : ('io' as const),
      is64: /64-bit/.test(flags),
      prefetchable: /(?<!non-)prefetchable/.test(flags),
      address: m[3] === '<unassigned>' ? 0n : BigInt('0x' + m[3]),
    });
  }
  return out;
}

describe('BARs against lspci 3.13 Region lines, every region of every pciutils dump', () => {
  let regions = 0;
  let high = 0;
  for (const file of dumps) {
    it(file, () => {
      const dump = parseLspci(fixtureText(DIR, file));
      const oracle = oracleBlocks(fixtureText(DIR, file.replace('.dump.txt', '.lspci313-vvvnn.txt')));
      for (const fn of dump.functions) {
        const address = `${fn.address.segment.toString(16).padStart(4, '0')}:${fn.address.bus.toString(16).padStart(2, '0')}:${fn.address.device.toString(16).padStart(2, '0')}.${fn.address.function}`;
        const o = oracle.find((x) => x.address === address)!;
        const expected = lspciRegions(o.text);
        const ours = decodePciConfig(fn.config!).bars;
        assert.deepEqual(ours, expected, `${file} ${address}: BARs`);
        regions += expected.length;
        high += expected.filter((r) => r.address >= 0x80000000n).length;
      }
    });
  }
  it('compared every region (and the ones with bit 31 set)', () => {
    assert.ok(regions >= 150, `${regions} regions`);
    assert.ok(high >= 40, `${high} regions at or above 2 GiB`);
  });
});
