/**
 * pci.ids names, looked up per vendor (issue 12 point 5: only the vendors needed are parsed).
 * Oracles: lspci's own names — the stored `lspci -vvvnn` of the ASUS P6T6 dump (made with
 * Debian's pci.ids, of which the fixture subset is a verbatim copy for that dump), and lspci
 * run here on the same dump with `-i` that subset.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pciIdsLookup } from '../src/host/pciids.js';
import { fixture, fixtureText } from './helpers.js';

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
});
