/**
 * pci.ids names, looked up per vendor (issue 12 point 5: only the vendors needed are parsed).
 * Oracles: lspci's own names — the stored `lspci -vvvnn` of the ASUS P6T6 dump (made with
 * Debian's pci.ids, of which the fixture subset is a verbatim copy for that dump), and lspci
 * run here on the same dump with `-i` that subset.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pciIdsLookup } from '../src/host/pciids.js';
import { fixture, fixtureFiles, fixtureText } from './helpers.js';

const IDS = fixture('pci', 'pci.ids.subset');
const DUMP = fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');

describe('pci.ids lookup', () => {
  it("gives lspci's vendor and device names for every function of the stored lspci -vvvnn", () => {
    const lookup = pciIdsLookup(fixtureText('pci', 'pci.ids.subset'));
    const lines = [...fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.lspci313-vvvnn.txt').matchAll(/^[0-9a-f:.]+ [^:]+\[[0-9a-f]{4}\]: (.*) \[([0-9a-f]{4}):([0-9a-f]{4})\]/gm)];
    assert.ok(lines.length > 20, `${lines.length} functions`);
    for (const [, names, v, d] of lines) {
      const r = lookup(parseInt(v!, 16), parseInt(d!, 16));
      assert.equal(`${r.vendor} ${r.device}`, names, `${v}:${d}`);
    }
  });

  it('says unknown (null), not a wrong name, for a vendor or device the file lacks', () => {
    const lookup = pciIdsLookup(fixtureText('pci', 'pci.ids.subset'));
    assert.deepEqual(lookup(0x1234, 0x1111), { vendor: null, device: null });
    assert.deepEqual(lookup(0x8086, 0xffff), { vendor: 'Intel Corporation', device: null });
    // A device ID is not a vendor: "\t3405  …" must not be found as vendor 3405.
    assert.deepEqual(lookup(0x3405, 0x3405), { vendor: null, device: null });
    // Nor a class: the class section ("C 06  Bridge", "\t04  PCI bridge") is not vendors.
    const withClasses = pciIdsLookup('8086  Intel Corporation\n\t3405  Hub\nC 06  Bridge\n\t04  PCI bridge\n');
    assert.deepEqual(withClasses(0x8086, 0x3405), { vendor: 'Intel Corporation', device: 'Hub' });
    assert.deepEqual(withClasses(0x0006, 0x0004), { vendor: null, device: null });
  });

  it('finds devices listed out of ID order too (the search by order falls back to reading the block)', () => {
    const lookup = pciIdsLookup(Buffer.from('# comment\n1000  LSI\n\t0060  MegaRAID SAS 1078\n\t\t1000 1006  MegaRAID SAS 8888ELP\n\t0010  Out of order\n\t0079  MegaRAID SAS 2108\n8086  Intel Corporation\n\t10d3  82574L Gigabit Network Connection\n\t1000  82542 Gigabit Ethernet Controller\n', 'utf8'));
    for (const [d, name] of [[0x0060, 'MegaRAID SAS 1078'], [0x0010, 'Out of order'], [0x0079, 'MegaRAID SAS 2108']] as const) assert.deepEqual(lookup(0x1000, d), { vendor: 'LSI', device: name });
    // A subsystem line ("\t\t1000 1006") is no device 1006.
    assert.deepEqual(lookup(0x1000, 0x1006), { vendor: 'LSI', device: null });
    assert.deepEqual(lookup(0x8086, 0x1000), { vendor: 'Intel Corporation', device: '82542 Gigabit Ethernet Controller' });
    assert.deepEqual(lookup(0x8086, 0x10d3), { vendor: 'Intel Corporation', device: '82574L Gigabit Network Connection' });
  });

  it('agrees with lspci -i on the same file and dump, for every function', (t) => {
    const r = spawnSync('lspci', ['-F', DUMP, '-i', IDS, '-mm', '-nn'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return t.skip('lspci (pciutils) is not installed');
    const lookup = pciIdsLookup(fixtureText('pci', 'pci.ids.subset'));
    let n = 0;
    for (const line of r.stdout.trim().split('\n')) {
      const q = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      const vm = /^(.*) \[([0-9a-f]{4})\]$/.exec(q[1]!)!;
      const dm = /^(.*) \[([0-9a-f]{4})\]$/.exec(q[2]!)!;
      const got = lookup(parseInt(vm[2]!, 16), parseInt(dm[2]!, 16));
      // lspci writes "Vendor xxxx" / "Device xxxx" for what pci.ids lacks.
      assert.equal(got.vendor ?? `Vendor ${vm[2]}`, vm[1], line);
      assert.equal(got.device ?? `Device ${dm[2]}`, dm[1], line);
      n++;
    }
    assert.ok(n > 20);
  });

  it("agrees with lspci on the system's whole pci.ids, for every function of every pciutils dump of the corpus", (t) => {
    const system = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'].find((f) => existsSync(f));
    if (!system) return t.skip('no pci.ids on this system (pciutils or hwdata)');
    if (spawnSync('lspci', ['--version']).status !== 0) return t.skip('lspci (pciutils) is not installed');
    const lookup = pciIdsLookup(readFileSync(system, 'utf8'));
    let n = 0;
    for (const f of fixtureFiles('pci/pciutils-tests', '.dump.txt')) {
      const r: SpawnSyncReturns<string> = spawnSync('lspci', ['-F', fixture('pci/pciutils-tests', f), '-i', system, '-mm', '-nn'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      for (const line of r.stdout.trim().split('\n').filter(Boolean)) {
        const q = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
        const vm = /^(.*) \[([0-9a-f]{4})\]$/.exec(q[1]!)!;
        const dm = /^(.*) \[([0-9a-f]{4})\]$/.exec(q[2]!)!;
        const got = lookup(parseInt(vm[2]!, 16), parseInt(dm[2]!, 16));
        // What pci.ids lacks lspci writes as "Vendor"/"Device" (with the ID, in some versions).
        if (got.vendor === null) assert.match(vm[1]!, new RegExp(`^Vendor(?: ${vm[2]})?$`), `${f}: ${line}`);
        else assert.equal(got.vendor, vm[1], `${f}: ${line}`);
        if (got.device === null) assert.match(dm[1]!, new RegExp(`^Device(?: ${dm[2]})?$`), `${f}: ${line}`);
        else assert.equal(got.device, dm[1], `${f}: ${line}`);
        n++;
      }
    }
    assert.ok(n > 150, `${n} functions`);
  });
});
