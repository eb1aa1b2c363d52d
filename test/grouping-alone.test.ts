/**
 * "Where would it be alone?" on real captures with their `IOMMU group:` lines removed.
 * Oracles: the capture's own text (which bridge's secondary bus each SMBIOS slot sits on, and what
 * each port's ACS capability says), the kernel's own groups (expected.json), the rules of
 * ../shared/docs/iommu-groups.md (§2.3 R2/R3, §4.3 the C600 PCH Root Port quirk, §3.3 its 6.11
 * regression) applied by hand, and the hand-derived RMRR resolution of the DL380e's DMAR
 * (logs/hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCaptureFiles } from '../src/sources/capture-files.js';
import { buildHost } from '../src/host/build.js';
import { whereAlone, whereAloneFor, type SlotAlone } from '../src/host/grouping/alone.js';
import type { Host } from '../src/host/model.js';
import { fixture } from './helpers.js';

const B550 = 'pci/iommu-groups/asus-prime-b550-plus-a7bcab';
const DL380E = fixture('pci/hpe/hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');

function stripped(path: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'assignable-alone-')), 'lspci.txt');
  writeFileSync(out, readFileSync(path, 'latin1').split('\n').filter((l) => !/IOMMU group:/.test(l)).join('\n'), 'latin1');
  return out;
}

function dl380e(kernel?: string): Host {
  return buildHost(readCaptureFiles({ lspci: stripped(DL380E), dmar: fixture('dmar/hp-proliant-dl380e-gen8-cb0557.dat'), dmidecode: fixture('smbios/hp-proliant-dl380e-gen8-cb0557.dmidecode.txt'), kernel }));
}

function b550(opts: { kernel?: string; cmdline?: string } = {}): Host {
  return buildHost(readCaptureFiles({ lspci: stripped(fixture(B550, 'lspci-vvnn.txt')), ivrs: fixture(B550, 'IVRS.dat'), dmidecode: fixture(B550, 'dmidecode.txt'), kernel: opts.kernel ?? '6.1.0-native_amd-xanmod1-1', cmdline: opts.cmdline }));
}

/** From the lspci text: the bridge whose "secondary=" is this bus. */
function bridgeForBus(path: string, bus: number): string | null {
  let cur: string | null = null;
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const h = /^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(line);
    if (h) cur = `0000:${h[1]}`;
    const b = /Bus: primary=[0-9a-f]{2}, secondary=([0-9a-f]{2})/.exec(line);
    if (b && cur && parseInt(b[1]!, 16) === bus) return cur;
  }
  return null;
}

const byName = (slots: SlotAlone[], name: string) => slots.find((s) => s.designation === name)!;

describe('DL380e Gen8: its three empty slots', () => {
  const slots = whereAlone(dl380e());

  it('each SMBIOS slot is mapped to the bridge whose secondary bus its record names (lspci: buses 03, 06, 09)', () => {
    // dmidecode: Slot 4 → 0000:03:00.0, Slot 1 → 0000:06:00.0, Slot 2 → 0000:09:00.0.
    assert.equal(byName(slots, 'PCI-E Slot 4').port, bridgeForBus(DL380E, 0x03));
    assert.equal(byName(slots, 'PCI-E Slot 1').port, bridgeForBus(DL380E, 0x06));
    assert.equal(byName(slots, 'PCI-E Slot 2').port, bridgeForBus(DL380E, 0x09));
    assert.deepEqual(slots.map((s) => s.physical).sort(), [1, 2, 4]);
    for (const s of slots) assert.deepEqual(s.occupants, [], `${s.designation} is "Available"`);
  });

  it('a card in Slot 4 is alone through the C600 PCH Root Port quirk (00:1c.0 has no ACS capability), not sure only for the unseen RCBA', () => {
    const s = byName(slots, 'PCI-E Slot 4');
    assert.equal(s.alone, true);
    assert.match(s.reason, /pci_quirk_intel_pch_acs/);
    assert.equal(s.certain, false);
    assert.ok(s.uncertain.some((u) => /RCBA/.test(u)));
    assert.equal(s.multiFunctionCard.alone, true);
  });

  it('cards in Slots 1 and 2 are alone through their IIO Root Ports\' ACS capability, a GPU+audio card too (its functions together)', () => {
    for (const name of ['PCI-E Slot 1', 'PCI-E Slot 2']) {
      const s = byName(slots, name);
      assert.equal(s.alone, true, name);
      assert.equal(s.certain, true, name);
      assert.match(s.reason, /Root Port with ACS/);
      assert.equal(s.multiFunctionCard.alone, true);
      assert.deepEqual(s.multiFunctionCard.sharesWith, []);
    }
  });

  it('RMRR: no scope reaches these empty slots, but HPE firmware names cards at POST, so RMRDS_SlotN is what keeps one out', () => {
    for (const s of slots) {
      assert.equal(s.rmrr, 'excluded-by-rmrds-possible', s.designation!);
      assert.equal(s.rmrds, `RMRDS_Slot${s.physical}`);
      assert.deepEqual(s.rmrrScopes, []);
      assert.equal(s.usable, true);
    }
  });

  it('on 6.11.3 (PCH quirk regression) Slot 4 is no longer alone: the card joins 00:1c.x and the iLO and I350 behind them', () => {
    const s = byName(whereAlone(dl380e('6.11.3-arch1-1')), 'PCI-E Slot 4');
    assert.equal(s.alone, false);
    assert.deepEqual(s.sharesWith, ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.4', '0000:02:00.0', '0000:02:00.1', '0000:02:00.2', '0000:02:00.3']);
    assert.match(s.reason, /00:1c\.0/);
    assert.equal(s.usable, false);
    // The IIO Root Ports have ACS: no change there.
    assert.equal(byName(whereAlone(dl380e('6.11.3-arch1-1')), 'PCI-E Slot 1').alone, true);
  });
});

describe('DL380e Gen8: a slot whose card an RMRR names', () => {
  // The Smart Array 05:00.0 behind 00:01.1 is named by RMRR scopes "00:01.1 / 00.0" (DERIVED resolution);
  // a type 9 record for its bus, as a slot holding that card would have.
  const derived = readFileSync(fixture('logs/hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt'), 'utf8');
  const withSlot = (generation: number | null): Host => {
    const h = dl380e();
    const rec = h.smbios!.slots.find((s) => s.designation === 'PCI-E Slot 1')!;
    h.smbios!.slots.push({ ...rec, designation: 'PCI-E Slot 3', id: 3, bus: 0x05, device: 0, function: 0 });
    h.system = { ...h.system!, hpeGeneration: generation };
    return h;
  };

  it('Gen8: the scope through its port is found, and RMRDS_Slot3 can lift it', () => {
    const s = byName(whereAlone(withSlot(8)), 'PCI-E Slot 3');
    assert.equal(s.port, bridgeForBus(DL380E, 0x05));
    assert.deepEqual(s.occupants, ['0000:05:00.0']);
    assert.deepEqual(s.rmrrScopes, ['00:01.1 / 00.0']);
    assert.match(derived, /path 01\.1 \/ 00\.0 +-> 0000:05:00\.0/);
    assert.equal(s.rmrr, 'excluded-by-rmrds-possible');
    assert.equal(s.rmrds, 'RMRDS_Slot3');
  });

  it('a generation without RMRDS: blocked, and not usable even though alone', () => {
    const s = byName(whereAlone(withSlot(10)), 'PCI-E Slot 3');
    assert.equal(s.alone, true);
    assert.equal(s.rmrr, 'blocked');
    assert.equal(s.rmrds, null);
    assert.equal(s.usable, false);
  });

  it('generation unknown: whether RMRDS can lift it stays unknown', () => {
    const s = byName(whereAlone(withSlot(null)), 'PCI-E Slot 3');
    assert.equal(s.rmrr, 'unknown');
    assert.equal(s.usable, 'unknown');
  });
});

describe('ASUS B550: CPU slot versus chipset slot', () => {
  const slots = whereAlone(b550());
  const groups = JSON.parse(readFileSync(fixture(B550, 'expected.json'), 'utf8')).groups as Record<string, string[]>;

  it('PCIEX16_1 (record names Root Port 00:03.1, with ACS) is alone; the GPU in it is in its own kernel group too', () => {
    const s = byName(slots, 'PCIEX16_1');
    assert.equal(s.port, '0000:00:03.1');
    assert.deepEqual(s.occupants, ['0000:0a:00.0', '0000:0a:00.1']);
    assert.equal(s.alone, true);
    assert.ok(Object.values(groups).some((g) => g.join() === '0000:0a:00.0,0000:0a:00.1'));
    assert.equal(s.rmrr, 'none');
  });

  it('PCIEX1_3 (record names chipset Downstream Port 03:03.0) is not alone: it shares with every other chipset endpoint, as the kernel grouped the Wi-Fi card there', () => {
    const s = byName(slots, 'PCIEX1_3');
    assert.equal(s.port, '0000:03:03.0');
    assert.deepEqual(s.occupants, ['0000:06:00.0']);
    assert.equal(s.alone, false);
    // The kernel's group of the card in that slot, less the card itself and the bridges (02:00.2 and 03:xx.0).
    const kernel = Object.values(groups).find((g) => g.includes('0000:06:00.0'))!.filter((a) => a !== '0000:06:00.0' && !/^0000:(02:00\.2|03:)/.test(a));
    assert.deepEqual(s.sharesWith, kernel.sort());
    assert.match(s.reason, /03:03\.0: Downstream Port without an ACS capability/);
    assert.match(s.reason, /02:00\.2: multi-function device without an ACS capability/);
    assert.equal(s.multiFunctionCard.alone, false);
  });

  it('with pcie_acs_override=downstream,multifunction on a PVE kernel the same slot would be alone', () => {
    const s = byName(whereAlone(b550({ kernel: '6.8.12-4-pve', cmdline: 'pcie_acs_override=downstream,multifunction' })), 'PCIEX1_3');
    assert.equal(s.alone, true);
  });

  it('for the NVMe sharing the chipset group, the one slot where it would be alone is the CPU\'s PCIEX16_1; the GPU has nowhere better', () => {
    const h = b550();
    assert.deepEqual(whereAloneFor(h, '0000:07:00.0').map((s) => s.designation), ['PCIEX16_1']);
    assert.deepEqual(whereAloneFor(h, '0000:0a:00.0'), []);
  });

  it('slots whose record names a function this host lacks (00:1f.7) stay unknown', () => {
    for (const name of ['PCIEX16_2', 'PCIEX1_1', 'PCIEX1_2']) {
      const s = byName(slots, name);
      assert.equal(s.port, null);
      assert.equal(s.alone, 'unknown');
      assert.equal(s.usable, 'unknown');
    }
  });

  it('a kernel slot object (/sys/bus/pci/slots/N/address = the slot\'s bus) is mapped to the bridge whose secondary bus that is', () => {
    const h = b550();
    h.sysfsSlots = [{ name: '7', address: '0000:07:00' }];
    const s = byName(whereAlone(h), '7');
    assert.equal(s.source, 'kernel-slot');
    assert.equal(s.port, bridgeForBus(fixture(B550, 'lspci-vvnn.txt'), 0x07));
    assert.equal(s.physical, 7);
    assert.deepEqual(s.occupants, ['0000:07:00.0']);
    assert.equal(s.alone, false);
  });

  it('ports whose Slot Capabilities announce a slot no record describes are listed too, marked so', () => {
    const extra = slots.filter((s) => s.source === 'pcie-slot-capability').map((s) => s.port);
    assert.ok(extra.includes('0000:03:00.0'));
    assert.ok(!extra.includes('0000:03:03.0'), 'already an SMBIOS slot');
  });
});
