/**
 * The location path rule (../shared/docs/windows-dda.md §3) against every real pair of
 * test/fixtures/windows/13-location-path-examples.tsv (Windows' own strings, the oracle), and
 * derived for a real Linux capture, checked hop by hop against lspci's own bridge lines.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from './main-validated.js';
import { locationPathOf, parseLocationPath, pciPart } from '../src/host/location-path.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

/**
 * What each row's second column states about the topology, written out as (root bus, hops).
 * Keyed by the row's path so a row added to the TSV without a topology here fails the test.
 */
const KNOWN: Record<string, { root: number; hops: Array<[number, number]> }> = {
  'PCIROOT(40)#PCI(0100)#PCI(0000)': { root: 0x40, hops: [[1, 0], [0, 0]] },
  'PCIROOT(20)#PCI(0300)#PCI(0000)#PCI(0800)#PCI(0000)': { root: 0x20, hops: [[3, 0], [0, 0], [8, 0], [0, 0]] },
  'PCIROOT(0)#PCI(0300)#PCI(0000)#PCI(0800)#PCI(0000)#PCI(1000)': { root: 0, hops: [[3, 0], [0, 0], [8, 0], [0, 0], [0x10, 0]] },
  'PCIROOT(0)#PCI(0300)#PCI(0000)': { root: 0, hops: [[3, 0], [0, 0]] },
  'PCIROOT(5D)#PCI(0000)#PCI(0000)': { root: 0x5d, hops: [[0, 0], [0, 0]] },
  'PCIROOT(1)#PCI(0000)': { root: 1, hops: [[0, 0]] },
  'PCIROOT(0)#PCI(1C00)#PCI(0000)#SCSI(P00T01L01)': { root: 0, hops: [[0x1c, 0], [0, 0]] },
  'PCIROOT(1)#PCI(0300)#SAS(P00T03L00)': { root: 1, hops: [[3, 0]] },
  'PCIROOT(0)#PCI(0200)#PCI(0003)#PCI(0100)#RAID(P02T00L00)': { root: 0, hops: [[2, 0], [0, 3], [1, 0]] },
  'PCIROOT(0)#PCI(0100)#ATA(C01T03L00)': { root: 0, hops: [[1, 0]] },
  'PCIROOT(0)#PCI(1400)#USBROOT(0)#USB(4)': { root: 0, hops: [[0x14, 0]] },
  'PCIROOT(0)#PCI(0801)#PCI(0004)#USBROOT(0)#USB(1)': { root: 0, hops: [[8, 1], [0, 4]] },
  'PCIROOT(40)#PCI(0200)#PCI(0000)': { root: 0x40, hops: [[2, 0], [0, 0]] },
};

const rows = fixtureText('windows', '13-location-path-examples.tsv').split('\n').filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split('\t'));

describe('location paths: the rule reproduces every real pair', () => {
  it('the TSV has its rows', () => assert.ok(rows.length >= 13, String(rows.length)));
  for (const [path, known] of rows) {
    it(`${path} (${known})`, () => {
      const k = KNOWN[path!];
      assert.ok(k, `no topology written down for ${path}`);
      // Bus numbers below the root never appear in the path: give the hops arbitrary ones.
      const chain = k.hops.map(([device, fn], i) => ({ segment: 0, bus: i === 0 ? k.root : 0x80 + i, device, function: fn }));
      const r = locationPathOf(chain);
      // The PCI part of Windows' string (a disk's path continues with #SCSI(…), #USBROOT(…)).
      const expected = path!.replace(/#(?!PCI\()[A-Z]+\(.*$/, '');
      assert.equal(r.path, expected);
      assert.equal(pciPart(path!), expected);
      const parsed = parseLocationPath(path!)!;
      assert.equal(parsed.rootBus, k.root);
      assert.deepEqual(parsed.hops.map((h) => [h.device, h.function]), k.hops);
    });
  }
  it('the instance ID suffix of the Dell T620 NVMe lists the devfn bytes leaf-first, as the path does root-first', () => {
    const row = rows.find((r) => r[0] === 'PCIROOT(40)#PCI(0200)#PCI(0000)' && /4&368722DD&0&0010/.test(r[1]!))!;
    const suffix = /&0&([0-9A-F]+) \(/.exec(row[1]!)![1]!;
    const devfns = suffix.match(/../g)!.map((h) => parseInt(h, 16)).reverse();
    assert.deepEqual(devfns.map((x) => [x >> 3, x & 7]), parseLocationPath(row[0]!)!.hops.map((h) => [h.device, h.function]));
  });
  it('null with the reason where the rule does not hold: PCI segment ≠ 0, Intel VMD domains', () => {
    const seg1 = locationPathOf([{ segment: 1, bus: 0, device: 3, function: 0 }, { segment: 1, bus: 4, device: 0, function: 0 }]);
    assert.equal(seg1.path, null);
    assert.match(seg1.reason!, /segment 1/);
    const vmd = locationPathOf([{ segment: 0x10000, bus: 0, device: 0, function: 0 }, { segment: 0x10000, bus: 1, device: 0, function: 0 }]);
    assert.equal(vmd.path, null);
    assert.match(vmd.reason!, /VMD/);
  });
});

describe('location paths derived for a Linux capture', () => {
  it('survey --json of the DL380e Gen8 example carries locationPath for every function on segment 0, matching lspci\'s bridges hop by hop', async () => {
    const ex = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
    let out = '';
    await main(['survey', '--lspci', join(ex, 'lspci-vvnn.txt'), '--dmar', join(ex, 'DMAR.dat'), '--dmidecode', join(ex, 'dmidecode.txt'), '--json', '--all'], { out: (s) => void (out += s), err: () => {} });
    const devices = JSON.parse(out).devices as Array<{ address: string; locationPath: string | null; locationPathSource: string | null }>;
    assert.ok(devices.length > 100);
    // lspci's own "Bus: primary=PP, secondary=SS" lines: which bridge leads to each bus.
    const text = readLspci(join(ex, 'lspci-vvnn.txt'));
    for (const d of devices) {
      assert.ok(d.locationPath, `${d.address} has a location path`);
      assert.equal(d.locationPathSource, 'derived');
      const [, bus, dev, fn] = /^0000:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(d.address)!.map((x) => x);
      const hops: string[] = [];
      let b = bus!;
      hops.unshift(`${dev!.toUpperCase()}0${fn}`);
      while (text.bridgeFor.has(b)) {
        const up = text.bridgeFor.get(b)!;
        hops.unshift(`${up.dev.toUpperCase()}0${up.fn}`);
        b = up.bus;
      }
      assert.equal(d.locationPath, `PCIROOT(${parseInt(b, 16).toString(16).toUpperCase()})${hops.map((h) => `#PCI(${h})`).join('')}`, d.address);
    }
    assert.equal(devices.find((d) => d.address === '0000:05:00.0')!.locationPath, 'PCIROOT(0)#PCI(0101)#PCI(0000)');
  });

  it('a capture with PCI domains: segment-0 functions get a path, the others null with the reason', async () => {
    let out = '';
    await main(['survey', '--lspci', fixture('pci', 'pciutils-tests', 'pciutils-PCI-X-bridges-and-domains.dump.txt'), '--json', '--all'], { out: (s) => void (out += s), err: () => {} });
    const devices = JSON.parse(out).devices as Array<{ address: string; locationPath: string | null; locationPathReason: string | null }>;
    const other = devices.filter((d) => !d.address.startsWith('0000:'));
    assert.ok(other.length > 0, 'the dump has functions outside segment 0');
    for (const d of other) {
      assert.equal(d.locationPath, null, d.address);
      assert.match(d.locationPathReason!, /segment/);
    }
  });
});

function readLspci(path: string): { bridgeFor: Map<string, { bus: string; dev: string; fn: string }> } {
  const bridgeFor = new Map<string, { bus: string; dev: string; fn: string }>();
  let cur: { bus: string; dev: string; fn: string } | null = null;
  for (const line of fixtureTextAbs(path).split('\n')) {
    const h = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) /.exec(line);
    if (h) cur = { bus: h[1]!, dev: h[2]!, fn: h[3]! };
    const b = /^\tBus: primary=([0-9a-f]{2}), secondary=([0-9a-f]{2})/.exec(line);
    if (b && cur) bridgeFor.set(b[2]!, cur);
  }
  return { bridgeFor };
}

function fixtureTextAbs(p: string): string {
  return fixtureText('..', '..', p.slice(ROOT.length + 1));
}

describe('location paths on a live/capture tree', () => {
  it('survey --root of a sysfs tree: every segment-0 function carries the path its sysfs device link spells', async () => {
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: '6.8.0', cmdline: 'ro quiet' });
    let out = '';
    await main(['survey', '--root', root, '--json', '--all'], { out: (s) => void (out += s), err: () => {} });
    const devices = JSON.parse(out).devices as Array<{ address: string; locationPath: string | null }>;
    assert.ok(devices.length > 20);
    for (const d of devices) {
      // …/sys/devices/pci0000:BB/0000:00:1c.1/0000:08:00.0: the root bus, then one hop per directory.
      const link = readlinkSync(join(root, 'sys/bus/pci/devices', d.address));
      const m = /pci0000:([0-9a-f]{2})\/(.*)$/.exec(link)!;
      const hops = m[2]!.split('/').map((a) => /:([0-9a-f]{2})\.([0-7])$/.exec(a)!).map((x) => `#PCI(${x[1]!.toUpperCase()}0${x[2]})`);
      assert.equal(d.locationPath, `PCIROOT(${parseInt(m[1]!, 16).toString(16).toUpperCase()})${hops.join('')}`, d.address);
    }
  });
});
