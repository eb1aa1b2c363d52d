/**
 * The kernel's grouping rules one by one (issue 8, synthetic cases): each host is assembled
 * from REAL config-space bytes of the pciutils `lspci -xxxx` dumps (test/grouping-build.ts);
 * where a rule needs a device the dumps lack, one named field is rewritten and the comment says
 * which. Every expected partition is derived by hand from the kernel's rules as
 * ../shared/docs/iommu-groups.md states them — §2.2 pci_device_group, §2.3 R1–R8, §3 ACS, §4 quirks,
 * §5 the pcie_acs_override patch, §6 the upstream knobs — one line of reasoning per case; none
 * is read back from the engine.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeIvrs, type Ivhd, type Ivrs } from '../src/firmware/acpi/ivrs.js';
import { fixtureBytes } from './helpers.js';
import { groupOf, partition, predict, realBytes, rewrite, type HostOptions, type Placed } from './grouping-build.js';

// The dumps (test/fixtures/pci/pciutils-tests, SOURCES.md) and what their functions are.
const P6T6 = 'asus-p6t6-pciutils-tree.dump.txt'; // ASUS P6T6: Intel X58 IOH + ICH10, a whole real machine
const AER_ROOT = 'pciutils-cap-aer-root.dump.txt'; // 00:02.0 8086:2f04 Root Port, ACS Cap 1f / Ctl 1f
const PTM1 = 'pciutils-cap-ptm-1.dump.txt'; // 0003:01:00.0 8086:b002 PCI/PCI-X-to-PCIe bridge (type 8)
const PCIX = 'pciutils-PCI-X-bridges-and-domains.dump.txt'; // 0001:21:01.0 8086:1229, 0001:61:01.0 3388:0021 bridge, 0001:62:00.0 102b:0525
const ESPRIMO = 'fujitsu-esprimo-p8010-pciutils-tree.dump.txt'; // 1d:00.0 10b7:6001, conventional PCI
const FREESCALE = 'freescale-p2020-pciutils-tree.dump.txt'; // 0002:00:00.0 1957:0070 Root Port without ACS
const IDE = 'pciutils-cap-ide.dump.txt'; // e1:00.0 aaaa:bbbb multi-function endpoint, ACS capability implementing nothing
const PCIE2 = 'pciutils-cap-pcie-2.dump.txt'; // 01:00.0 8086:10c9 82576 PF, multi-function, SR-IOV
const AER_LOG = 'pciutils-cap-aer-log.dump.txt'; // 00:1c.0 8086:9d10 Sunrise Point-LP Root Port, ACS Cap 0f

/** PCIe Device/Port Types (PCIe Base §7.5.3.2). */
const PCIE_ROOT_PORT = 4;
const PCIE_UPSTREAM_PORT = 5;
const PCIE_DOWNSTREAM_PORT = 6;
const PCIE_TO_PCI_BRIDGE = 7;
/** ACS bits: SV RR CR UF (the kernel's REQ_ACS_FLAGS) and all seven. */
const ACS_REQ = 0x1d;
const ACS_RR_CR = 0x0c;

const at = (a: string, bytes: Uint8Array, vfOf?: string): Placed => (vfOf ? { at: a, bytes, vfOf } : { at: a, bytes });
const groups = (fns: readonly Placed[], o: HostOptions = { kernel: '6.12.19' }) => partition(predict(fns, o));

// Real functions used as they are (bus numbers rewritten only for bridges, to place them).
const rootPortAcsOff = (sec: number) => rewrite.busNumbers(realBytes(P6T6, '00:01.0'), 0, sec, sec); // 8086:3408, ACS Cap 1f Ctl 00
const rootPortAcsOff2 = (sec: number, sub: number) => rewrite.busNumbers(realBytes(P6T6, '00:03.0'), 0, sec, sub); // 8086:340a, ACS Cap 1f Ctl 00
const rootPortNoAcs = (sec: number, sub = sec) => rewrite.busNumbers(realBytes(FREESCALE, '0002:00:00.0'), 0, sec, sub); // 1957:0070, no ACS
const usp = (pri: number, sec: number, sub: number) => rewrite.busNumbers(realBytes(P6T6, '02:00.0'), pri, sec, sub); // 10de:05b1 Upstream Port, no ACS
const dspNoAcs = (pri: number, sec: number) => rewrite.busNumbers(realBytes(P6T6, '03:02.0'), pri, sec, sec); // 10de:05b1 Downstream Port, no ACS
/** Rewrite: the 2f04 Root Port's type nibble 4 → 6, a Downstream Port whose ACS is complete (Ctl 1f). */
const dspAcsOn = (pri: number, sec: number) => rewrite.busNumbers(rewrite.portType(realBytes(AER_ROOT, '00:02.0'), PCIE_DOWNSTREAM_PORT), pri, sec, sec);
/** Rewrite: the 3408 Root Port's type nibble 4 → 6, a Downstream Port with ACS Cap 1f but Ctl 00 (firmware left it off). */
const dspAcsOff = (pri: number, sec: number) => rewrite.busNumbers(rewrite.portType(realBytes(P6T6, '00:01.0'), PCIE_DOWNSTREAM_PORT), pri, sec, sec);
const nic = () => realBytes(P6T6, '07:00.0'); // 10ec:8168, single-function PCIe endpoint
const nic2 = () => realBytes(P6T6, '08:00.0'); // 10ec:8168
const sas = () => realBytes(P6T6, '04:00.0'); // 1000:0072, single-function PCIe endpoint
const e100 = () => realBytes(PCIX, '0001:21:01.0'); // 8086:1229, conventional PCI
const com3 = () => realBytes(ESPRIMO, '1d:00.0'); // 10b7:6001, conventional PCI

describe('a whole real machine: the ASUS P6T6 dump as captured (X58 + ICH10), no byte changed', () => {
  const all = ['00:00.0', '00:01.0', '00:03.0', '00:07.0', '00:10.0', '00:10.1', '00:14.0', '00:14.1', '00:14.2', '00:14.3', '00:1a.0', '00:1a.1', '00:1a.2', '00:1a.7', '00:1b.0', '00:1c.0', '00:1c.1', '00:1c.2', '00:1d.0', '00:1d.1', '00:1d.2', '00:1d.7', '00:1e.0', '00:1f.0', '00:1f.2', '00:1f.3', '02:00.0', '03:00.0', '03:02.0', '04:00.0', '06:00.0', '06:00.1', '07:00.0', '08:00.0', 'ff:00.0', 'ff:00.1', 'ff:02.0', 'ff:02.1', 'ff:03.0', 'ff:03.1', 'ff:03.4', 'ff:04.0', 'ff:04.1', 'ff:04.2', 'ff:04.3', 'ff:05.0', 'ff:05.1', 'ff:05.2', 'ff:05.3', 'ff:06.0', 'ff:06.1', 'ff:06.2', 'ff:06.3'];
  const host = all.map((a) => at(a, realBytes(P6T6, a)));
  const common = [
    ['00:00.0'], // X58 00:00.0 reports PCIe type Root Port, single-function, ACS Cap 1f: the kernel enables it (R5)
    ['00:01.0'], // IOH Root Ports with ACS Cap 1f Ctl 00: enabled by the kernel, each isolated (R5)
    ['00:03.0'],
    ['00:07.0'],
    ['00:10.0', '00:10.1'], // conventional multi-function chipset functions: neither passes (R3)
    ['00:1a.0', '00:1a.1', '00:1a.2', '00:1a.7'], // UHCI/EHCI, conventional; functions > 0 count as multi-function (R3)
    ['00:1b.0'], // single-function RCiEP (HDA): isolated
    ['00:1c.0', '00:1c.1', '00:1c.2', '07:00.0', '08:00.0'], // ICH10 Root Ports 3a40/42/44: no ACS, not in the PCH quirk list → one slot group (R3), NICs below join (R2)
    ['00:1d.0', '00:1d.1', '00:1d.2', '00:1d.7'],
    ['00:1e.0'], // DMI-to-PCI bridge, single-function, nothing behind it
    ['00:1f.0', '00:1f.2', '00:1f.3'], // LPC, SATA, SMBus: conventional (R3)
    ['02:00.0'], // switch USP below an isolating Root Port, single-function: passes
    ['03:00.0', '04:00.0'], // DSP without ACS: the SAS HBA below joins it (R2)
    ['03:02.0'], // sibling DSP, nothing below: apart (R6)
    ['06:00.0', '06:00.1'], // GPU + audio, no ACS (R3)
    ['ff:00.0', 'ff:00.1'], // QPI/uncore functions on root bus ff: per slot (R3, R5)
    ['ff:02.0', 'ff:02.1'],
    ['ff:03.0', 'ff:03.1', 'ff:03.4'],
    ['ff:04.0', 'ff:04.1', 'ff:04.2', 'ff:04.3'],
    ['ff:05.0', 'ff:05.1', 'ff:05.2', 'ff:05.3'],
    ['ff:06.0', 'ff:06.1', 'ff:06.2', 'ff:06.3'],
  ];
  const sorted = (x: string[][]) => [...x].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));

  it('(e, j) on 5.8+ the Intel RCiEP quirk isolates 00:14.0–.2, and conventional 00:14.3 stays apart from its passing siblings', () => {
    // pci_quirk_rciep_acs (5.8): Intel PCIe type 9 → isolated; 00:14.3 has no PCIe capability, so no quirk and no ACS: alone (R3).
    assert.deepEqual(groups(host), sorted([...common, ['00:14.0'], ['00:14.1'], ['00:14.2'], ['00:14.3']]));
  });
  it('(e) before 5.8 the multi-function RCiEPs and their conventional sibling share one group', () => {
    // No RCiEP quirk in 5.7: type 9 + multi-function → pci_acs_flags_enabled → no ACS capability → not isolated; 00:14.3 fails too (R3).
    assert.deepEqual(groups(host, { kernel: '5.7.19' }), sorted([...common, ['00:14.0', '00:14.1', '00:14.2', '00:14.3']]));
  });
  it('(e) on 5.4.y, where the RCiEP quirk came by back-port at an unpinned level, those groups are not certain', () => {
    const g = predict(host, { kernel: '5.4.0' });
    assert.equal(groupOf(g, '00:14.0').certain, false);
    assert.equal(groupOf(g, '00:1c.0').certain, true);
  });
});

describe('(a) PCIe-to-PCI and PCI-to-PCIe bridges: everything behind shares the bridge\'s group (R1)', () => {
  for (const [type, label] of [[PCIE_TO_PCI_BRIDGE, 'a PCIe-to-PCI bridge (type 7)'], [8, 'a PCI/PCI-X-to-PCIe bridge (type 8)']] as const) {
    it(label, () => {
      // Rewrite for type 7: 8086:b002's type nibble 8 → 7 (the dumps hold no PCIe-to-PCI bridge).
      const bridge = realBytes(PTM1, '0003:01:00.0');
      if (type === PCIE_TO_PCI_BRIDGE) rewrite.portType(bridge, PCIE_TO_PCI_BRIDGE);
      const host = [
        at('00:01.0', rootPortAcsOff(1)),
        at('00:03.0', rootPortAcsOff2(3, 3)),
        at('01:00.0', rewrite.busNumbers(bridge, 1, 2, 2)),
        at('02:04.0', e100()),
        at('02:05.0', com3()),
        at('03:00.0', nic()),
      ];
      // The alias walk stops at the bridge: both PCI devices take its group; the Root Port above isolates (R1, R2).
      const g = predict(host, { kernel: '6.12.19' });
      assert.deepEqual(partition(g), [['00:01.0'], ['00:03.0'], ['01:00.0', '02:04.0', '02:05.0'], ['03:00.0']]);
      // explain's hop names the bridge's kind: type 7 aliases as (secondary bus, 00.0), type 8 with its own requester ID (§2.2 step 1).
      const hop = g.byDevice.get('0000:02:04.0')!.hops[0]!;
      assert.equal(hop.address, '0000:01:00.0');
      assert.match(hop.note, type === PCIE_TO_PCI_BRIDGE ? /PCIe-to-PCI.*secondary bus/ : /PCI\/PCI-X-to-PCIe.*own requester ID/);
    });
  }
});

describe('(a) a PCIe bridge of another type is passed over by the alias walk', () => {
  it('a bridge reporting PCIe type Endpoint: devices behind it are not its aliases', () => {
    // Rewrite: 8086:b002's type nibble 8 → 0. pci_for_each_dma_alias visits only types 7, 8 and non-PCIe bridges (§2.2 step 1),
    // so each PCI device is its own starting point; the ACS walk passes the single-function "endpoint" and the Root Port.
    const host = [
      at('00:01.0', rootPortAcsOff(1)),
      at('01:00.0', rewrite.busNumbers(rewrite.portType(realBytes(PTM1, '0003:01:00.0'), 0), 1, 2, 2)),
      at('02:04.0', e100()),
      at('02:05.0', com3()),
    ];
    assert.deepEqual(groups(host), [['00:01.0'], ['01:00.0'], ['02:04.0'], ['02:05.0']]);
  });
});

describe('(a) the override never splits what sits behind a PCIe-to-PCI bridge', () => {
  it('pcie_acs_override=id: for the bridge and its devices: still one group', () => {
    // R1 is the alias walk, before any ACS question; the bridge's own id: only decides whether it leaves its Root Port (§5 inference).
    const host = [
      at('00:01.0', rootPortNoAcs(1)),
      at('01:00.0', rewrite.busNumbers(rewrite.portType(realBytes(PTM1, '0003:01:00.0'), PCIE_TO_PCI_BRIDGE), 1, 2, 2)),
      at('02:04.0', e100()),
      at('02:05.0', com3()),
    ];
    const cmdline = 'pcie_acs_override=downstream,id:8086:b002,id:8086:1229,id:10b7:6001';
    assert.deepEqual(groups(host, { kernel: '6.8.12-4-pve', cmdline }), [['00:01.0'], ['01:00.0', '02:04.0', '02:05.0']]);
  });
});

describe('(b) conventional PCI-to-PCI bridges', () => {
  it('on the root bus: the bridge and the devices behind it are one group', () => {
    const host = [at('00:1e.0', realBytes(P6T6, '00:1e.0')), at('0a:00.0', e100()), at('0a:01.0', com3())];
    // 8086:244e has no PCIe capability: the alias walk visits it, devices take its group (R1).
    assert.deepEqual(groups(host), [['00:1e.0', '0a:00.0', '0a:01.0']]);
  });
  it('nested under a PCIe-to-PCI bridge: the top-most legacy bridge decides', () => {
    const host = [
      at('00:01.0', rootPortAcsOff(1)),
      at('01:00.0', rewrite.busNumbers(rewrite.portType(realBytes(PTM1, '0003:01:00.0'), PCIE_TO_PCI_BRIDGE), 1, 2, 3)),
      at('02:01.0', rewrite.busNumbers(realBytes(PCIX, '0001:61:01.0'), 2, 3, 3)), // 3388:0021 conventional bridge
      at('03:00.0', realBytes(PCIX, '0001:62:00.0')),
      at('03:01.0', e100()),
    ];
    // The walk passes the conventional bridge and ends at the PCIe-to-PCI bridge, whose group all share (R1).
    assert.deepEqual(groups(host), [['00:01.0'], ['01:00.0', '02:01.0', '03:00.0', '03:01.0']]);
  });
});

describe('(c) multi-function endpoints', () => {
  const below = (f0: Uint8Array, f1: Uint8Array) => [at('00:07.0', rootPortAcsOff(6)), at('06:00.0', f0), at('06:00.1', f1)];
  it('without ACS (GPU + audio): one group', () => {
    // Both functions multi-function, no ACS capability → neither passes (R3).
    assert.deepEqual(groups(below(realBytes(P6T6, '06:00.0'), realBytes(P6T6, '06:00.1'))), [['00:07.0'], ['06:00.0', '06:00.1']]);
  });
  it('with an ACS capability implementing none of SV/RR/CR/UF (as captured): each function apart', () => {
    // pci_acs_flags_enabled masks the request with what is implemented: nothing is required → passes (§3.1).
    assert.deepEqual(groups(below(realBytes(IDE, 'e1:00.0'), realBytes(IDE, 'e1:00.0'))), [['00:07.0'], ['06:00.0'], ['06:00.1']]);
  });
  it('with all REQ bits implemented and off in the capture: the kernel turns them on, each apart', () => {
    // Rewrite: ACS Capability 0000 → 001d (SV RR CR UF), Control left 0000; pci_std_enable_acs sets them (§3.2).
    const f = () => rewrite.acsCapability(realBytes(IDE, 'e1:00.0'), ACS_REQ);
    assert.deepEqual(groups(below(f(), f())), [['00:07.0'], ['06:00.0'], ['06:00.1']]);
  });
  it('with only RR and CR implemented: the implemented ones are enabled, each apart', () => {
    // Rewrite: ACS Capability → 000c; SV and UF are not implemented, so not required (§3.1).
    const f = () => rewrite.acsCapability(realBytes(IDE, 'e1:00.0'), ACS_RR_CR);
    assert.deepEqual(groups(below(f(), f())), [['00:07.0'], ['06:00.0'], ['06:00.1']]);
  });
  it('with ACS but pci=disable_acs_redir on both functions: RR/CR cleared, one group', () => {
    // Rewrite: ACS Capability → 000c; disable_acs_redir clears RR CR → both fail (§6.1, R3).
    const f = () => rewrite.acsCapability(realBytes(IDE, 'e1:00.0'), ACS_RR_CR);
    assert.deepEqual(groups(below(f(), f()), { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=pci:aaaa:bbbb' }), [['00:07.0'], ['06:00.0', '06:00.1']]);
  });
  it('an Intel 82576 (mf_endpoint quirk) without ACS: each function apart', () => {
    // 8086:10c9 is in pci_quirk_mf_endpoint_acs's list: isolated before any capability is read (§4.2 row 6).
    assert.deepEqual(groups(below(realBytes(PCIE2, '01:00.0'), realBytes(PCIE2, '01:00.0'))), [['00:07.0'], ['06:00.0'], ['06:00.1']]);
  });
});

describe('(d) switch Downstream Ports', () => {
  const sw = (rootPort: Uint8Array) => [
    at('00:03.0', rootPort),
    at('02:00.0', usp(2, 3, 6)),
    at('03:00.0', dspAcsOn(3, 4)),
    at('03:01.0', dspAcsOff(3, 5)),
    at('03:02.0', dspNoAcs(3, 6)),
    at('04:00.0', sas()),
    at('05:00.0', nic()),
    at('06:00.0', nic2()),
  ];
  it('below an isolating Root Port: complete ACS and capability-with-control-off both isolate; the DSP without ACS takes its device; siblings do not merge', () => {
    // 03:00.0 Ctl 1f passes; 03:01.0 Cap 1f Ctl 00 passes once the kernel enables it (§3.2); 03:02.0 fails, so 06:00.0 joins it (R2);
    // the USP is single-function → passes; a sibling's missing ACS never pulls 04:00.0 or 05:00.0 in (R6).
    assert.deepEqual(groups(sw(rootPortAcsOff2(2, 6))), [['00:03.0'], ['02:00.0'], ['03:00.0'], ['03:01.0'], ['03:02.0', '06:00.0'], ['04:00.0'], ['05:00.0']]);
  });
  it('below a Root Port without ACS: the whole switch is one group with the Root Port', () => {
    // Every path crosses 00:03.0, which fails: each device climbs to it (R2).
    assert.deepEqual(groups(sw(rootPortNoAcs(2, 6))), [['00:03.0', '02:00.0', '03:00.0', '03:01.0', '03:02.0', '04:00.0', '05:00.0', '06:00.0']]);
  });
});

describe('(f) an Intel PCH Root Port: the kernel\'s quirk, RCBA and the regressions', () => {
  // Rewrite: the dumps hold no 1c1x/1d1x/8d1x bytes; ICH10 Root Ports 3a40/3a42/3a44 (same family, no ACS
  // capability) get device IDs 1c10/1c12/1c14 (Cougar Point, in pci_quirk_intel_pch_acs_ids). LPC 00:1f.0
  // is the real ICH10 one: RCBA dword fed1c001 (enable bit set).
  const host = (lpc = realBytes(P6T6, '00:1f.0')) => [
    at('00:1c.0', rewrite.deviceId(realBytes(P6T6, '00:1c.0'), 0x1c10)),
    at('00:1c.1', rewrite.deviceId(realBytes(P6T6, '00:1c.1'), 0x1c12)),
    at('00:1c.2', rewrite.deviceId(realBytes(P6T6, '00:1c.2'), 0x1c14)),
    at('00:1f.0', lpc),
    at('00:1f.2', realBytes(P6T6, '00:1f.2')),
    at('00:1f.3', realBytes(P6T6, '00:1f.3')),
    at('07:00.0', nic()),
    at('08:00.0', nic2()),
  ];
  const isolated = [['00:1c.0'], ['00:1c.1'], ['00:1c.2'], ['00:1f.0', '00:1f.2', '00:1f.3'], ['07:00.0'], ['08:00.0']];
  const shared = [['00:1c.0', '00:1c.1', '00:1c.2', '07:00.0', '08:00.0'], ['00:1f.0', '00:1f.2', '00:1f.3']];
  it('isolated on 6.12 with RCBA enabled, and certain', () => {
    // The enable quirk marks each port; the quirk then grants SV RR CR UF (§4.3): each port and its NIC apart.
    const g = predict(host(), { kernel: '6.12.19' });
    assert.deepEqual(partition(g), isolated);
    assert.equal(groupOf(g, '00:1c.0').certain, true);
  });
  it('not isolated when the LPC RCBA enable bit (0xF0 bit 0) is clear', () => {
    // Rewrite: RCBA dword fed1c001 → fed1c000. The enable quirk fails, the port stays unmarked → not isolated (§4.3 step 1), R3 + R2.
    assert.deepEqual(groups(host(rewrite.lpcRcba(realBytes(P6T6, '00:1f.0'), 0xfed1c000))), shared);
  });
  it('pcie_acs_override=downstream does not rescue it: the PCH quirk row answers before the patch\'s row', () => {
    // §5: rows before the ANY/ANY override row win; for a listed PCH Root Port the PCH quirk always answers (§4.3).
    assert.deepEqual(groups(host(rewrite.lpcRcba(realBytes(P6T6, '00:1f.0'), 0xfed1c000)), { kernel: '6.8.12-4-pve', cmdline: 'pcie_acs_override=downstream' }), shared);
  });
  it('not isolated on 6.11.3 (pci_enable_acs returned early), isolated again on 6.11.7', () => {
    // §3.3: 6.11.0–6.11.6 never ran the quirk for ports without an ACS capability; f3c3ccc4fe49 in 6.11.7.
    assert.deepEqual(groups(host(), { kernel: '6.11.3' }), shared);
    assert.deepEqual(groups(host(), { kernel: '6.11.7' }), isolated);
  });
  it('not isolated on 6.12-rc1..rc5 (the same regression), isolated on 6.12-rc6', () => {
    assert.deepEqual(groups(host(), { kernel: '6.12.0-rc3' }), shared);
    assert.deepEqual(groups(host(), { kernel: '6.12.0-rc6' }), isolated);
  });
  it('uncertain on 5.9 (the fix reached 5.9.y at an unpinned level)', () => {
    const g = predict(host(), { kernel: '5.9.0' });
    assert.equal(groupOf(g, '00:1c.0').certain, false);
    assert.equal(groupOf(g, '07:00.0').certain, false);
  });
  it('a listed PCH Root Port that has an ACS capability is not hit by the 6.11 regression', () => {
    // Rewrite: 8086:3408 (ACS Cap 1f) → device ID 1d10 (Patsburg). §3.3: only ports WITHOUT an ACS capability skipped the enable quirk.
    const h = [at('00:01.0', rewrite.deviceId(rootPortAcsOff(1), 0x1d10)), at('00:1f.0', realBytes(P6T6, '00:1f.0')), at('01:00.0', nic())];
    assert.deepEqual(groups(h, { kernel: '6.11.3' }), [['00:01.0'], ['00:1f.0'], ['01:00.0']]);
  });
  it('without the LPC bridge in the capture: isolated, but not certain', () => {
    const g = predict(host().filter((f) => f.at !== '00:1f.0'), { kernel: '6.12.19' });
    assert.equal(groupOf(g, '00:1c.0').members.length, 1);
    assert.equal(groupOf(g, '00:1c.0').certain, false);
  });
});

describe('(g) the override forms', () => {
  // 00:02.0 Root Port without ACS → NIC; 00:03.0 isolating Root Port → switch (DSP without ACS → SAS HBA,
  // DSP with ACS Cap 1f Ctl 00 → NIC); 00:07.0 isolating Root Port → GPU + audio; 00:1f.x conventional chipset.
  const host = [
    at('00:02.0', rootPortNoAcs(1)),
    at('00:03.0', rootPortAcsOff2(2, 5)),
    at('00:07.0', rewrite.busNumbers(realBytes(P6T6, '00:07.0'), 0, 6, 6)),
    at('00:1f.0', realBytes(P6T6, '00:1f.0')),
    at('00:1f.2', realBytes(P6T6, '00:1f.2')),
    at('00:1f.3', realBytes(P6T6, '00:1f.3')),
    at('01:00.0', nic()),
    at('02:00.0', usp(2, 3, 5)),
    at('03:00.0', dspNoAcs(3, 4)),
    at('03:01.0', dspAcsOff(3, 5)),
    at('04:00.0', sas()),
    at('05:00.0', nic2()),
    at('06:00.0', realBytes(P6T6, '06:00.0')),
    at('06:00.1', realBytes(P6T6, '06:00.1')),
  ];
  const PVE = '6.8.12-4-pve';
  const fixed = [['00:03.0'], ['00:07.0'], ['00:1f.0', '00:1f.2', '00:1f.3'], ['02:00.0'], ['03:01.0'], ['05:00.0']];
  const sorted = (x: string[][]) => [...x].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const none = sorted([...fixed, ['00:02.0', '01:00.0'], ['03:00.0', '04:00.0'], ['06:00.0', '06:00.1']]);

  it('no override: the ports without ACS take their devices, GPU + audio together', () => {
    assert.deepEqual(groups(host, { kernel: PVE }), none);
  });
  it('=downstream: Root and Downstream Ports without an ACS capability pass', () => {
    // §5: PCIe, no ACS cap, RP/DSP → isolated; GPU + audio and the conventional chipset unchanged.
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'pcie_acs_override=downstream' }), sorted([...fixed, ['00:02.0'], ['01:00.0'], ['03:00.0'], ['04:00.0'], ['06:00.0', '06:00.1']]));
  });
  it('=multifunction: PCIe multi-function endpoints pass, conventional chipset functions do not', () => {
    // §5: endpoint + multifunction → isolated; 00:1f.x has no PCIe capability → never overridden.
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'pcie_acs_override=multifunction' }), sorted([...fixed, ['00:02.0', '01:00.0'], ['03:00.0', '04:00.0'], ['06:00.0'], ['06:00.1']]));
  });
  it('=id: on one function of a slot: it passes, and its failing sibling never joins it', () => {
    // §5 id → 06:00.0 isolated; 06:00.1 still fails but a failing function never joins a passing sibling (R3).
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'pcie_acs_override=id:10de:0a65' }), sorted([...fixed, ['00:02.0', '01:00.0'], ['03:00.0', '04:00.0'], ['06:00.0'], ['06:00.1']]));
  });
  it('=id: on a Root Port without ACS', () => {
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'pcie_acs_override=id:1957:0070' }), sorted([...fixed, ['00:02.0'], ['01:00.0'], ['03:00.0', '04:00.0'], ['06:00.0', '06:00.1']]));
  });
  it('=id: leaves a device WITH an ACS capability alone (here one whose redirect bits disable_acs_redir cleared)', () => {
    // 03:01.0 (8086:3408 retyped DSP) has an ACS capability: the patch has no opinion, the cleared RR/CR fail (§5, §6.1).
    const cmdline = 'pci=disable_acs_redir=00:03.0/00.0/01.0 pcie_acs_override=id:8086:3408';
    assert.deepEqual(groups(host, { kernel: PVE, cmdline }), sorted([['00:03.0'], ['00:07.0'], ['00:1f.0', '00:1f.2', '00:1f.3'], ['02:00.0'], ['00:02.0', '01:00.0'], ['03:00.0', '04:00.0'], ['03:01.0', '05:00.0'], ['06:00.0', '06:00.1']]));
  });
  it('a 16th id: is ignored (the patch keeps 15)', () => {
    const filler = Array.from({ length: 15 }, (_, i) => `id:1234:${(i + 1).toString(16).padStart(4, '0')}`);
    // As the 15th entry it works; as the 16th the patch skips it, so 00:02.0 still fails.
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: `pcie_acs_override=${[...filler.slice(1), 'id:1957:0070'].join(',')}` }), sorted([...fixed, ['00:02.0'], ['01:00.0'], ['03:00.0', '04:00.0'], ['06:00.0', '06:00.1']]));
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: `pcie_acs_override=${[...filler, 'id:1957:0070'].join(',')}` }), none);
  });
  it('two pcie_acs_override= parameters add up (the early_param runs for each)', () => {
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'pcie_acs_override=downstream pcie_acs_override=multifunction' }), sorted([...fixed, ['00:02.0'], ['01:00.0'], ['03:00.0'], ['04:00.0'], ['06:00.0'], ['06:00.1']]));
  });
  it('arguments after "--" belong to init, not the kernel', () => {
    assert.deepEqual(groups(host, { kernel: PVE, cmdline: 'quiet -- pcie_acs_override=downstream' }), none);
  });
  it('a later pci=disable_acs_redir= replaces an earlier one (pci_setup keeps the last value)', () => {
    // Only 00:07.0 is named in the end: it merges with GPU + audio (R2); 03:01.0 keeps its redirect bits.
    const g = groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=00:03.0/00.0/01.0 pci=disable_acs_redir=0000:00:07.0' });
    assert.deepEqual(g.find((x) => x.includes('00:07.0')), ['00:07.0', '06:00.0', '06:00.1']);
    assert.deepEqual(g.find((x) => x.includes('03:01.0')), ['03:01.0']);
  });
  it('the parameter on a kernel without the patch changes nothing', () => {
    assert.deepEqual(groups(host, { kernel: '6.8.0-45-generic', cmdline: 'pcie_acs_override=downstream,multifunction' }), none);
  });
  it('pci=disable_acs_redir=<path> merges below the port it names', () => {
    // §6.1: RR CR EC cleared on 03:01.0 → its NIC joins it (R2).
    assert.deepEqual(groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=00:03.0/00.0/01.0' }), sorted([...fixed.filter((g) => g[0] !== '03:01.0' && g[0] !== '05:00.0'), ['00:02.0', '01:00.0'], ['03:00.0', '04:00.0'], ['03:01.0', '05:00.0'], ['06:00.0', '06:00.1']]));
    // On the Root Port itself: every path crosses it → the whole switch is one group with it.
    const whole = groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=0000:00:03.0' });
    assert.deepEqual(whole.find((g) => g.includes('00:03.0')), ['00:03.0', '02:00.0', '03:00.0', '03:01.0', '04:00.0', '05:00.0']);
  });
  it('pci=disable_acs_redir=<bus:dev.fn> of a device off the root bus matches it (pci_dev_str_match_path)', () => {
    // The kernel walks up only as many hops as the path has "/dev.fn" parts, then compares bus and devfn: no root-bus requirement.
    const g = groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=03:01.0' });
    assert.deepEqual(g.find((x) => x.includes('03:01.0')), ['03:01.0', '05:00.0']);
    // A path whose first element is not where the walk ends does not match.
    const miss = groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=02:00.0/00.0' });
    assert.deepEqual(miss.find((x) => x.includes('03:01.0')), ['03:01.0']);
  });
  it('pci=disable_acs_redir=pci:8086:0 — an ID of 0 matches any — reaches every Intel port', () => {
    // pci_dev_str_match: vendor 8086, device 0 = any → 00:03.0, 00:07.0 and 03:01.0 lose RR/CR (§6.1): each tree merges into its Root Port (R2).
    const g = groups(host, { kernel: '6.8.0', cmdline: 'pci=disable_acs_redir=pci:8086:0' });
    assert.deepEqual(g.find((x) => x.includes('00:07.0')), ['00:07.0', '06:00.0', '06:00.1']);
    assert.deepEqual(g.find((x) => x.includes('00:03.0')), ['00:03.0', '02:00.0', '03:00.0', '03:01.0', '04:00.0', '05:00.0']);
  });
  it('the override on a 5.4 PVE kernel is as certain as on 6.8 (the patch is on every pve-kernel branch)', () => {
    const g = predict(host, { kernel: '5.4.203-1-pve', cmdline: 'pcie_acs_override=downstream' });
    assert.deepEqual(groupOf(g, '01:00.0').members, ['0000:01:00.0']);
    assert.equal(groupOf(g, '01:00.0').certain, true);
  });
  it('pci=config_acs=…@… on 6.11+, ignored before', () => {
    // Flags 11011: UF CR on, RR off, TB SV on. 03:01.0's firmware Control is 0000, so old and fixed semantics agree: RR off → fails (§6.2).
    const cmdline = 'pci=config_acs=11011@00:03.0/00.0/01.0';
    assert.deepEqual(groups(host, { kernel: '6.12.30', cmdline }).find((x) => x.includes('03:01.0')), ['03:01.0', '05:00.0']);
    assert.deepEqual(groups(host, { kernel: '6.10.14', cmdline }).find((x) => x.includes('03:01.0')), ['03:01.0']);
  });
  it('pci=config_acs: "x" bits come from the firmware value on fixed kernels, from the kernel-enabled value on 6.11', () => {
    // Flags "1x": TB on, SV unchanged. Fixed (9cf8a952d57b, 6.15): Control = firmware 0000 with TB → RR CR UF off → fails.
    // 6.11 semantics: unmasked bits keep what pci_std_enable_acs set → passes. 6.12.y got the fix at an unpinned level: uncertain.
    const cmdline = 'pci=config_acs=1x@00:03.0/00.0/01.0';
    assert.deepEqual(groups(host, { kernel: '6.15.2', cmdline }).find((x) => x.includes('03:01.0')), ['03:01.0', '05:00.0']);
    assert.deepEqual(groups(host, { kernel: '6.11.5', cmdline }).find((x) => x.includes('03:01.0')), ['03:01.0']);
    assert.equal(groupOf(predict(host, { kernel: '6.12.19', cmdline }), '05:00.0').certain, false);
  });
});

describe('(h) DMA aliases on one bus', () => {
  it('a Marvell 1b4b:9230 function aliasing function 1 shares its group, though both pass ACS', () => {
    // Rewrite: aaaa:bbbb (multi-function, ACS capability implementing nothing → each passes) → vendor:device 1b4b:9230.
    // quirk_dma_func1_alias: 06:00.0 aliases 06:00.1 → one group (R4); the same bytes unrewritten stay apart (case c).
    const m = () => rewrite.vendorDevice(realBytes(IDE, 'e1:00.0'), 0x1b4b, 0x9230);
    assert.deepEqual(groups([at('00:07.0', rootPortAcsOff(6)), at('06:00.0', m()), at('06:00.1', m())]), [['00:07.0'], ['06:00.0', '06:00.1']]);
  });

  // A real AMD IVRS (Biostar A68MHE): devices 0008–fffe covered; Alias Range 0300–03ff → 00a4 (00:14.4), another bus.
  const biostar = () => decodeIvrs(fixtureBytes('ivrs', 'biostar-a68mhe-a3ba00.dat'));
  const IVHD_ALIAS_SELECT = 0x42;
  it('an IVRS Alias Select between two devices on the root bus puts them in one group', () => {
    // Rewrite: an Alias Select entry 0048 (00:09.0) → 0040 (00:08.0) added to each IVHD. setup_aliases makes it a PCI DMA alias (same bus) (§8.2, R4).
    const ivrs: Ivrs = biostar();
    for (const b of ivrs.blocks) if (b.kind === 'IVHD') (b as Ivhd).entries.push({ offset: 0, type: IVHD_ALIAS_SELECT, deviceId: 0x0048, dataSetting: 0, sourceDeviceId: 0x0040 });
    const h = [at('00:08.0', nic()), at('00:09.0', nic2()), at('00:0a.0', sas())];
    assert.deepEqual(groups(h, { kernel: '6.12.19', ivrs }), [['00:08.0', '00:09.0'], ['00:0a.0']]);
    assert.deepEqual(groups(h, { kernel: '6.12.19', ivrs: biostar() }), [['00:08.0'], ['00:09.0'], ['00:0a.0']]);
  });
  it('the real IVRS alias to another bus (03:xx → 00:14.4) changes no group', () => {
    // §8.2: an alias to another bus only programs device-table entries (clone_aliases).
    const h = [at('00:02.0', rootPortAcsOff(3)), at('00:14.4', realBytes(P6T6, '00:1e.0')), at('03:00.0', nic())];
    assert.deepEqual(groups(h, { kernel: '6.12.19', ivrs: biostar() }), [['00:02.0'], ['00:14.4'], ['03:00.0']]);
  });
});

describe('(i) SR-IOV VFs are never multi-function', () => {
  // 82576 PFs 01:00.0/01:00.1 (real 8086:10c9) and VFs 01:10.0–01:10.3. Rewrite: VF bytes are the PF's with
  // device ID 10ca (the VF Device ID of its SR-IOV capability); their Header Type still says multi-function.
  const vf = () => rewrite.deviceId(realBytes(PCIE2, '01:00.0'), 0x10ca);
  const tree = (rp: Uint8Array) => [
    at('00:01.0', rp),
    at('01:00.0', realBytes(PCIE2, '01:00.0')),
    at('01:00.1', realBytes(PCIE2, '01:00.0')),
    at('01:10.0', vf(), '01:00.0'),
    at('01:10.1', vf(), '01:00.1'),
    at('01:10.2', vf(), '01:00.0'),
    at('01:10.3', vf(), '01:00.1'),
  ];
  it('below an isolating Root Port each VF has its own group, though four share slot 10 without ACS', () => {
    // virtfn->multifunction = 0 → single-function → passes (R7); PFs pass by the 82576 mf_endpoint quirk.
    assert.deepEqual(groups(tree(rootPortAcsOff(1))), [['00:01.0'], ['01:00.0'], ['01:00.1'], ['01:10.0'], ['01:10.1'], ['01:10.2'], ['01:10.3']]);
  });
  it('below a Root Port without ACS every VF joins the Root Port\'s group', () => {
    // R7: the PF's upstream chain fails → R2.
    assert.deepEqual(groups(tree(rootPortNoAcs(1))), [['00:01.0', '01:00.0', '01:00.1', '01:10.0', '01:10.1', '01:10.2', '01:10.3']]);
  });
});

describe('(i) a PF is not multi-function because its VFs share its slot', () => {
  it('single-function PF with VFs at functions 1 and 2: the PF answers as single-function', () => {
    // 144d:a826 (Header Type bit 7 clear, SR-IOV). Rewrite/placement: VFs (PF bytes, device ID → its VF Device ID a826)
    // at 01:00.1–.2, where a VF Offset of 1 would put them (this PF's own offset is 32). VFs come from the PF's
    // driver, not the slot scan, so pci_scan_slot never marks the PF multi-function (§3.1): single-function → isolated.
    const pf = realBytes('pciutils-cap-phy32.dump.txt', '2e:00.0');
    const vf = () => rewrite.deviceId(realBytes('pciutils-cap-phy32.dump.txt', '2e:00.0'), 0xa826);
    const g = predict([at('00:01.0', rootPortAcsOff(1)), at('01:00.0', pf), at('01:00.1', vf(), '01:00.0'), at('01:00.2', vf(), '01:00.0')], { kernel: '6.12.19' });
    assert.deepEqual(partition(g), [['00:01.0'], ['01:00.0'], ['01:00.1'], ['01:00.2']]);
    assert.equal(g.byDevice.get('0000:01:00.0')!.acs.isolated, true);
  });
});

describe('(j) AMD southbridge functions on the root bus (pci_quirk_amd_sb_acs)', () => {
  // Rewrite: ICH10 LPC (Header Type multi-function) and SATA → vendor:device 1002:4385 (SBx00 SMBus) and 1002:439c (IDE), at 00:14.0/.1.
  const sb = () => [at('00:14.0', rewrite.vendorDevice(realBytes(P6T6, '00:1f.0'), 0x1002, 0x4385)), at('00:14.1', rewrite.vendorDevice(realBytes(P6T6, '00:1f.2'), 0x1002, 0x439c))];
  it('with an IVRS table: each function apart; without one: one group; IVRS unread: apart, not certain', () => {
    // §4.2 row 1: multi-function on a root bus with an IVRS → RR CR granted (isolated); no IVRS → no opinion → conventional, R3.
    assert.deepEqual(groups(sb(), { kernel: '6.12.19', ivrs: decodeIvrs(fixtureBytes('ivrs', 'biostar-a68mhe-a3ba00.dat')) }), [['00:14.0'], ['00:14.1']]);
    assert.deepEqual(groups(sb(), { kernel: '6.12.19', ivrs: null }), [['00:14.0', '00:14.1']]);
    const g = predict(sb(), { kernel: '6.12.19' });
    assert.deepEqual(partition(g), [['00:14.0'], ['00:14.1']]);
    assert.equal(groupOf(g, '00:14.0').certain, false);
  });
});

describe('(j) root-bus functions: a sibling that passes stays apart', () => {
  it('a function with ACS and a function without, in one slot: apart', () => {
    // 06:00.0 aaaa:bbbb has an ACS capability (passes); 06:00.1 GPU audio fails, but never joins a passing sibling (R3).
    assert.deepEqual(groups([at('00:07.0', rootPortAcsOff(6)), at('06:00.0', realBytes(IDE, 'e1:00.0')), at('06:00.1', realBytes(P6T6, '06:00.1'))]), [['00:07.0'], ['06:00.0'], ['06:00.1']]);
  });
});

describe('(k) set_pcie_port_type corrections', () => {
  it('a "Downstream Port" directly below a Root Port is the switch\'s Upstream Port', () => {
    // 02:00.0 is the real DSP bytes (10de:05b1, type 6) placed as a USP. Corrected to USP → single-function → passes,
    // so its two DSPs are apart; uncorrected it would fail and pull both DSPs in (§3.1).
    const h = [at('00:03.0', rootPortAcsOff2(2, 5)), at('02:00.0', rewrite.busNumbers(realBytes(P6T6, '03:00.0'), 2, 3, 5)), at('03:00.0', dspNoAcs(3, 4)), at('03:02.0', dspNoAcs(3, 5)), at('04:00.0', sas())];
    assert.deepEqual(groups(h), [['00:03.0'], ['02:00.0'], ['03:00.0', '04:00.0'], ['03:02.0']]);
  });
  it('an "Upstream Port" directly below an Upstream Port is a Downstream Port', () => {
    // 03:00.0 is real USP bytes (type 5) below the USP: corrected to DSP without ACS → its SAS HBA joins it; uncorrected it would pass.
    const h = [at('00:03.0', rootPortAcsOff2(2, 5)), at('02:00.0', usp(2, 3, 5)), at('03:00.0', usp(3, 4, 4)), at('04:00.0', sas())];
    assert.deepEqual(groups(h), [['00:03.0'], ['02:00.0'], ['03:00.0', '04:00.0']]);
  });
});

describe('Intel Sunrise Point Root Ports (ACS Control dword at +8)', () => {
  const h = () => [at('00:1c.0', rewrite.busNumbers(realBytes(AER_LOG, '00:1c.0'), 0, 2, 2)), at('02:00.0', nic())];
  it('isolated by the SPT quirk as captured', () => {
    // 8086:9d10 with ACS Cap 0f: the enable quirk sets SV RR CR in the +8 dword, the quirk compares against it (§4.3).
    assert.deepEqual(groups(h()), [['00:1c.0'], ['02:00.0']]);
  });
  it('pci=config_acs naming the port clears its redirect bits through the SPT hook on 6.11+, and is ignored before', () => {
    // §6.2: __pci_config_acs calls the device-specific disable_acs_redir hook first: RR CR EC cleared, whatever the flags.
    assert.deepEqual(groups(h(), { kernel: '6.12.30', cmdline: 'pci=config_acs=11111@00:1c.0' }), [['00:1c.0', '02:00.0']]);
    assert.deepEqual(groups(h(), { kernel: '6.10.14', cmdline: 'pci=config_acs=11111@00:1c.0' }), [['00:1c.0'], ['02:00.0']]);
  });
});

describe('vendor port quirks that answer before the ACS capability, by kernel version', () => {
  // Rewrite: the 2f04 Root Port (ACS Cap 1f Ctl 1f, complete) gets a Zhaoxin (1d17) or Cavium (177d) vendor:device.
  const port = (vendor: number, device: number) => [at('00:02.0', rewrite.busNumbers(rewrite.vendorDevice(realBytes(AER_ROOT, '00:02.0'), vendor, device), 0, 1, 1)), at('01:00.0', nic())];
  it('Zhaoxin: a listed port isolates; an unlisted one does not, despite its complete ACS; before 5.8 the capability decides', () => {
    // §4.2 row 27: 0715 is listed → isolated; 0760 is a Zhaoxin Root Port outside the list → 0 = not isolated → the NIC joins it (R2).
    assert.deepEqual(groups(port(0x1d17, 0x0715)), [['00:02.0'], ['01:00.0']]);
    assert.deepEqual(groups(port(0x1d17, 0x0760)), [['00:02.0', '01:00.0']]);
    // 5.7 has no Zhaoxin quirk (299bd044a6f3 came in 5.8): the standard ACS test, complete → isolated.
    assert.deepEqual(groups(port(0x1d17, 0x0760), { kernel: '5.7.19' }), [['00:02.0'], ['01:00.0']]);
  });
  it('Zhaoxin 0740 (list extended in 6.8, back-ported to 6.1.y at an unpinned level): isolated on 6.8, uncertain on 6.1', () => {
    assert.deepEqual(groups(port(0x1d17, 0x0740), { kernel: '6.8.0' }), [['00:02.0'], ['01:00.0']]);
    assert.equal(groupOf(predict(port(0x1d17, 0x0740), { kernel: '6.1.100' }), '01:00.0').certain, false);
  });
  it('a ThunderX Root Port (Cavium a100) is isolated by its quirk even without ACS', () => {
    // Rewrite: the Freescale Root Port (no ACS) → 177d:a100; pci_quirk_cavium_acs covers a000–a7ff Root Ports (§4.2 row 18).
    const h = [at('00:02.0', rewrite.vendorDevice(rootPortNoAcs(1), 0x177d, 0xa100)), at('01:00.0', nic())];
    assert.deepEqual(groups(h), [['00:02.0'], ['01:00.0']]);
  });
});

describe('what the capture does not show stays unknown', () => {
  it('a Downstream Port dumped without its extended space (256 bytes): its device is grouped with it, and not certainly', () => {
    // 10b5:9716 DSP as dumped (256 bytes): whether it has ACS is unknown; the likelier answer (not isolated) is marked uncertain.
    const h = [at('00:03.0', rootPortAcsOff2(2, 6)), at('02:00.0', usp(2, 3, 6)), at('03:01.0', rewrite.busNumbers(realBytes('pciutils-cap-dpc.dump.txt', '05:01.0'), 3, 4, 4)), at('04:00.0', nic())];
    const g = predict(h, { kernel: '6.12.19' });
    assert.deepEqual(groupOf(g, '04:00.0').members, ['0000:03:01.0', '0000:04:00.0']);
    assert.equal(groupOf(g, '04:00.0').certain, false);
    assert.equal(groupOf(g, '02:00.0').certain, true);
  });
});

describe('Intel VMD: devices in a VMD domain DMA as the VMD endpoint', () => {
  // Rewrite: the ICH10 SATA function (8086:3a22) gets class 01 04 00 (RAID, how VMD endpoints report) at 00:0e.0;
  // a VMD domain 10000 holds an isolating Root Port and a NIC.
  const host = [
    at('00:0e.0', rewrite.classCode(realBytes(P6T6, '00:1f.2'), 0x010400)),
    at('10000:00:00.0', rootPortAcsOff(1)),
    at('10000:01:00.0', nic()),
  ];
  it('on 5.6+ every device of the domain takes the VMD endpoint\'s group', () => {
    // pci_real_dma_dev: the alias walk starts at the VMD endpoint, which already has a group (§2.2 step 1, §8.1).
    const g = predict(host, { kernel: '6.12.19' });
    assert.deepEqual(partition(g), [['00:0e.0', '10000:00:00.0', '10000:01:00.0']]);
    assert.equal(groupOf(g, '00:0e.0').certain, true);
  });
  it('before 5.6 (no pci_real_dma_dev) that grouping is not claimed', () => {
    assert.equal(groupOf(predict(host, { kernel: '5.4.0' }), '00:0e.0').certain, false);
  });
});
