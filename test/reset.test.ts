/**
 * Reset, made concrete (issue 10, point 6), on real config space and lspci text:
 *  - sysfs reset_method decides when the host has it (a built sysfs tree with and without it);
 *  - otherwise the methods are computed as drivers/pci/pci.c probes them, with the kernel's own
 *    per-device rows (drivers/pci/quirks.c, read in 6.12.19 and 6.18.y: quirk_no_flr,
 *    quirk_no_bus_reset, quirk_no_pm_reset) and gnif/vendor-reset's device table;
 *  - the bus-reset condition (pci_parent_bus_reset: not on a root bus, a bridge above, alone on
 *    its bus, no PCI_DEV_FLAGS_NO_BUS_RESET) from the real siblings.
 * Premises about the hardware (FLReset±, NoSoftRst±, which functions share a bus) are read from
 * lspci's own text by the test's own regexes, never from our parser; the expected method sets
 * follow from those premises and the kernel's tables as cited at each test.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { analyzeReset, checkReset } from '../src/checks/reset.js';
import { rowPresence } from '../src/checks/reset-quirks.js';
import { buildHost } from '../src/host/build.js';
import { parseKernelRelease } from '../src/host/kernel.js';
import type { FunctionFacts, Host } from '../src/host/model.js';
import { renderExplain } from '../src/report/survey.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { readLiveHost } from '../src/sources/live.js';
import { fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const T7500 = fixtureText('pci/iommu-groups/dell-precision-t7500-428b8d', 'lspci-vvnn.txt');
const B550 = fixtureText('pci/iommu-groups/asus-prime-b550-plus-a7bcab', 'lspci-vvnn.txt');
const T630 = fixtureText('pci/iommu-groups/hp-t630-thin-client-4aa2f6', 'lspci-vvnn.txt');
const P2020 = fixtureText('pci/pciutils-tests', 'freescale-p2020-pciutils-tree.lspci313-vvvnn.txt');
const P6T6_DUMP = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
const P6T6 = functionsFromLspci(P6T6_DUMP);

/** lspci's block for one function (its header line to the blank line), found by the test's own regex. */
function block(text: string, addr: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${addr} `));
  assert.ok(i >= 0, `${addr} in the lspci text`);
  const end = lines.findIndex((l, j) => j > i && l.trim() === '');
  return lines.slice(i, end < 0 ? undefined : end).join('\n');
}
/** The functions lspci lists on one bus ("bb:" or "dddd:bb:" prefix). */
const onBusInText = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix) && /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)).map((l) => l.split(' ')[0]!);
const full = (a: string) => (a.length === 7 ? `0000:${a}` : a);

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const addr = (f: FunctionFacts) => `${hex(f.address.segment, 4)}:${hex(f.address.bus, 2)}:${hex(f.address.device, 2)}.${f.address.function}`;

function host(fns: FunctionFacts[], kernel = '6.8.0'): Host {
  return buildHost({ origin: { kind: 'capture', description: 'test' }, functions: fns, notes: [], kernelRelease: kernel, iommuGroups: fns.map((f, i) => ({ id: i, devices: [addr(f)] })), bootDiskFunctions: [], defaultRouteFunctions: [] });
}
const dev = (h: Host, a: string) => h.byAddress.get(a)!;
const codes = (h: Host, a: string) => checkReset(dev(h, a), h).map((f) => f.code);

describe('an AMD Polaris 10 GPU (RX 580, Dell Precision T7500 lspci): the reset bug, named', () => {
  const text4 = block(T7500, '04:00.0');
  it('premises from lspci: 1002:67df, FLReset-, NoSoftRst+, and its HDMI audio 04:00.1 on the same bus', () => {
    assert.match(text4, /\[1002:67df\]/);
    assert.match(text4, /FLReset-/);
    assert.match(text4, /NoSoftRst\+/);
    assert.deepEqual(onBusInText(T7500, '04:'), ['04:00.0', '04:00.1']);
  });
  const h = host(functionsFromLspci(T7500));
  it('NO_RESET names the sibling that blocks a bus reset and the hot reset that covers both; VENDOR_RESET_NEEDED names gnif/vendor-reset', () => {
    // No FLR, NoSoftRst+ (no PM reset), and 04:00.1 on its bus (pci_parent_bus_reset refuses):
    // the kernel has nothing. gnif/vendor-reset's src/device-db.h lists 0x67DF under _AMD_POLARIS10.
    const fs = checkReset(dev(h, '0000:04:00.0'), h);
    assert.deepEqual(fs.map((f) => f.code).sort(), ['NO_RESET', 'VENDOR_RESET_NEEDED']);
    const no = fs.find((f) => f.code === 'NO_RESET')!;
    assert.ok(no.evidence.includes('shares its bus with 0000:04:00.1'), no.evidence.join('\n'));
    assert.equal(no.fixes[0]!.title, `Pass every function on its bus to the same VM: ${onBusInText(T7500, '04:').map(full).join(', ')}`);
    const vr = fs.find((f) => f.code === 'VENDOR_RESET_NEEDED')!;
    assert.match(vr.message, /AMD Polaris 10/);
    const cmds = vr.fixes[0]!.commands!.join('\n');
    assert.match(cmds, /dkms install/);
    assert.match(cmds, /echo device_specific > \/sys\/bus\/pci\/devices\/0000:04:00\.0\/reset_method/);
  });
  it('the HDMI audio function (1002:aaf0) is not in vendor-reset\'s table', () => {
    assert.ok(!codes(h, '0000:04:00.1').includes('VENDOR_RESET_NEEDED'));
  });
  it('the hot reset resets exactly the functions lspci shows on bus 04', () => {
    const a = analyzeReset(dev(h, '0000:04:00.0'), h);
    assert.equal(a.hotReset.possible, true);
    assert.deepEqual(a.hotReset.affected, onBusInText(T7500, '04:').map(full));
    assert.deepEqual(a.busSiblings, ['0000:04:00.1']);
  });
  it('with vendor-reset in effect (sysfs reset_method starts with device_specific) the code is not raised', () => {
    const fns = functionsFromLspci(T7500).map((f) => (addr(f) === '0000:04:00.0' ? { ...f, sysfs: { resetMethods: ['device_specific', 'bus'] } } : f));
    const h2 = host(fns);
    assert.deepEqual(codes(h2, '0000:04:00.0'), []);
    assert.equal(analyzeReset(dev(h2, '0000:04:00.0'), h2).source, 'sysfs');
  });
  it('explain shows the methods, where they came from, the kernel row and the vendor-reset row', () => {
    const sv = runSurvey(h);
    const out = renderExplain(sv, sv.devices.find((r) => r.device.address === '0000:04:00.0')!, { color: false });
    assert.match(out, /reset: none \(computed from config space for Linux 6\.8\.0\)/);
    assert.match(out, /sysfs reset_method: not read/);
    assert.match(out, /quirks\.c quirk_no_pm_reset/);
    assert.match(out, /vendor-reset table: AMD Polaris 10 \(gnif\/vendor-reset src\/device-db\.h/);
    assert.match(out, /bus siblings: 0000:04:00\.1; hot reset possible/);
  });
});

describe('sysfs reset_method decides when the host has it (a built sysfs tree of the Asus P6T6)', () => {
  const roots: string[] = [];
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  /** The tree, with reset_method written for 07:00.0 (RTL8111, alone behind 00:1c.2) when given. */
  function tree(resetMethod?: string): Host {
    const root = sysfsTreeFromDump(P6T6_DUMP, { kernel: '6.8.12-4-pve', cmdline: 'quiet intel_iommu=on' });
    roots.push(root);
    mkdirSync(join(root, 'sys/kernel/iommu_groups'), { recursive: true });
    if (resetMethod !== undefined) {
      const link = join(root, 'sys/bus/pci/devices/0000:07:00.0');
      writeFileSync(join(resolve(dirname(link), readlinkSync(link)), 'reset_method'), resetMethod);
    }
    return buildHost(readLiveHost(root));
  }
  it('premise: the dump shows 07:00.0 with FLReset-, NoSoftRst+, and nothing else on bus 07', () => {
    const b = block(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.lspci313-vvvnn.txt'), '07:00.0');
    assert.match(b, /FLReset-/);
    assert.match(b, /NoSoftRst\+/);
    assert.deepEqual(onBusInText(P6T6_DUMP, '07:'), ['07:00.0']);
  });
  it('without reset_method (kernels before 5.15): computed from config space — only a bus reset', () => {
    const h = tree();
    const a = analyzeReset(dev(h, '0000:07:00.0'), h);
    assert.equal(a.source, 'computed');
    assert.equal(a.sysfs, undefined);
    assert.deepEqual(a.methods, ['bus']);
    const f = checkReset(dev(h, '0000:07:00.0'), h);
    assert.deepEqual(f.map((x) => x.code), ['BUS_RESET_ONLY']);
    assert.equal(f[0]!.evidence[0], 'computed from config space: bus');
  });
  it('with reset_method "bus": the kernel\'s list is the source', () => {
    const h = tree('bus\n');
    const a = analyzeReset(dev(h, '0000:07:00.0'), h);
    assert.equal(a.source, 'sysfs');
    assert.deepEqual(a.methods, ['bus']);
    assert.equal(checkReset(dev(h, '0000:07:00.0'), h)[0]!.evidence[0], 'sysfs reset_method: bus');
  });
  it('with reset_method emptied (reset disabled by the admin): NO_RESET, although config space allows a bus reset', () => {
    const h = tree('\n');
    const a = analyzeReset(dev(h, '0000:07:00.0'), h);
    assert.deepEqual(a.methods, []);
    assert.deepEqual(a.computed, ['bus']);
    const f = checkReset(dev(h, '0000:07:00.0'), h);
    assert.deepEqual(f.map((x) => x.code), ['NO_RESET']);
    assert.equal(f[0]!.evidence[0], 'sysfs reset_method: (empty)');
  });
});

describe('the kernel\'s per-device rows (drivers/pci/quirks.c)', () => {
  it('quirk_no_flr: AMD Matisse USB 3.0 (1022:149c, FLReset+ per lspci) has no FLR on 6.12; on 6.1 the row is unverified and FLR stays, with the doubt said', () => {
    // quirks.c (6.12.19, 6.18.y): DECLARE_PCI_FIXUP_EARLY(PCI_VENDOR_ID_AMD, 0x149c, quirk_no_flr).
    const b = block(B550, '0c:00.3');
    assert.match(b, /\[1022:149c\]/);
    assert.match(b, /DevCap:.*FLReset\+/s);
    assert.match(b, /NoSoftRst-/);
    const fns = functionsFromLspci(B550);
    const h612 = host(fns, '6.12.0');
    const a = analyzeReset(dev(h612, '0000:0c:00.3'), h612);
    assert.ok(!a.computed.includes('flr'), a.computed.join(' '));
    assert.ok(a.computed.includes('pm'));
    assert.ok(a.why.some((w) => /no FLR: kernel table: drivers\/pci\/quirks\.c quirk_no_flr — AMD Matisse USB 3\.0/.test(w)), a.why.join('\n'));
    const h61 = host(fns, '6.1.0');
    const b61 = analyzeReset(dev(h61, '0000:0c:00.3'), h61);
    assert.ok(b61.computed.includes('flr'));
    assert.ok(b61.why.some((w) => /^flr may be excluded: .*quirk_no_flr.*unknown/.test(w)), b61.why.join('\n'));
  });
  it('quirk_no_bus_reset: a QCA988x (168c:003c) alone behind a P2020 port keeps PM reset but gets no bus reset, and no hot reset', () => {
    // quirks.c (a 4.x tree, 6.12.19, 6.18.y): DECLARE_PCI_FIXUP_HEADER(PCI_VENDOR_ID_ATHEROS, 0x003c, quirk_no_bus_reset).
    const b = block(P2020, '0000:05:00.0');
    assert.match(b, /\[168c:003c\]/);
    assert.match(b, /NoSoftRst-/);
    assert.match(b, /FLReset-/);
    assert.deepEqual(onBusInText(P2020, '0000:05:'), ['0000:05:00.0']);
    const h = host(functionsFromLspci(P2020));
    const a = analyzeReset(dev(h, '0000:05:00.0'), h);
    assert.deepEqual(a.computed, ['pm']);
    assert.ok(a.why.some((w) => /no bus reset: .*quirk_no_bus_reset — Atheros/.test(w)), a.why.join('\n'));
    assert.equal(a.hotReset.possible, false);
    // The TI xHCI on another P2020 port (104c:8241, no row) alone on its bus keeps its bus reset.
    const ti = analyzeReset(dev(h, '0002:01:00.0'), h);
    assert.ok(ti.computed.includes('bus'), ti.computed.join(' '));
  });
  it('quirk_no_pm_reset applies to AMD/ATI VGA only off a root bus: the T630 APU GPU on bus 00 keeps pm; the same bytes behind a port lose it', () => {
    // quirks.c: quirk_no_pm_reset sets PCI_DEV_FLAGS_NO_PM_RESET only if !pci_is_root_bus(dev->bus)
    // ("an ineffective PM reset may be better than nothing"), for PCI_VENDOR_ID_ATI class VGA.
    const b = block(T630, '00:01.0');
    assert.match(b, /\[1002:9874\]/);
    assert.match(b, /NoSoftRst-/);
    const t630 = functionsFromLspci(T630);
    const h = host(t630);
    assert.deepEqual(analyzeReset(dev(h, '0000:00:01.0'), h).computed, ['pm']);
    // One fact changed: the same function put in place of the P6T6's 07:00.0 (alone behind 00:1c.2).
    const gpu = t630.find((f) => addr(f) === '0000:00:01.0')!;
    const moved: FunctionFacts = { ...gpu, address: { segment: 0, bus: 7, device: 0, function: 0 } };
    const h2 = host([...P6T6.filter((f) => addr(f) !== '0000:07:00.0'), moved]);
    const a = analyzeReset(dev(h2, '0000:07:00.0'), h2);
    assert.deepEqual(a.computed, ['bus']);
    assert.ok(a.why.some((w) => /no PM reset although NoSoftRst-: .*quirk_no_pm_reset/.test(w)));
    assert.deepEqual(checkReset(dev(h2, '0000:07:00.0'), h2).map((f) => f.code), ['BUS_RESET_ONLY']);
  });
  it('pci_dev_reset_methods[]: an Intel 82599 VF (8086:10ed) gets device_specific first, as the kernel probes it', () => {
    // quirks.c (a 4.x tree, 6.12.19, 6.18.y): { PCI_VENDOR_ID_INTEL, PCI_DEVICE_ID_INTEL_82599_SFP_VF, reset_intel_82599_sfp_virtfn }.
    // Real I350 bytes from the DL380e Gen8 example, one fact changed: the device ID.
    const fns = functionsFromLspci(fixtureText('../../examples/hp-proliant-dl380e-gen8', 'lspci-vvnn.txt'));
    const i350 = fns.find((f) => addr(f) === '0000:02:00.0')!;
    assert.equal(i350.config.deviceId, 0x1521);
    const vf: FunctionFacts = { ...i350, config: { ...i350.config, deviceId: 0x10ed } };
    const h = host(fns.map((f) => (f === i350 ? vf : f)));
    const a = analyzeReset(dev(h, '0000:02:00.0'), h);
    assert.equal(a.computed[0], 'device_specific');
    assert.deepEqual(a.kernelRows.map((m) => m.row.fn), ['reset_intel_82599_sfp_virtfn']);
    const h0 = host(fns);
    assert.ok(!analyzeReset(dev(h0, '0000:02:00.0'), h0).computed.includes('device_specific'));
  });
  it('which kernels have a row: only what a tree read says', () => {
    const k = (r: string) => parseKernelRelease(r)!;
    assert.equal(rowPresence({ pre5: true, v6_12: true, v6_18: true }, k('5.4.0')), 'yes');
    assert.equal(rowPresence({ pre5: false, v6_12: true, v6_18: true }, k('5.15.0')), 'unknown');
    assert.equal(rowPresence({ pre5: false, v6_12: true, v6_18: true }, k('6.12.19')), 'yes');
    assert.equal(rowPresence({ pre5: false, v6_12: false, v6_18: true }, k('6.12.19')), 'unknown');
    assert.equal(rowPresence({ pre5: false, v6_12: false, v6_18: true }, k('6.18.2')), 'yes');
  });
});

describe('af_flr (pci_af_flr) from the Advanced Features capability', () => {
  it('an ICH10 UHCI with "AFCap: TP+ FLR+" (lspci) on a root bus: af_flr only, and the assumption said', () => {
    const text = fixtureText('pci/pciutils-tests', 'pciutils-cap-pci-af.lspci313-vvvnn.txt');
    assert.match(block(text, '00:1d.0'), /AFCap: TP\+ FLR\+/);
    const h = host(functionsFromLspci(fixtureText('pci/pciutils-tests', 'pciutils-cap-pci-af.dump.txt')));
    const a = analyzeReset(dev(h, '0000:00:1d.0'), h);
    assert.deepEqual(a.computed, ['af_flr']);
    assert.ok(a.why.some((w) => /af_flr assumed/.test(w)));
    assert.deepEqual(checkReset(dev(h, '0000:00:1d.0'), h), []);
  });
});

describe('the bus-reset condition from the real siblings (Asus P6T6 dump)', () => {
  const h = host(P6T6);
  it('alone behind a port: bus; on a root bus: none; sharing a bus: names every sibling', () => {
    assert.ok(analyzeReset(dev(h, '0000:07:00.0'), h).computed.includes('bus'));
    const root = analyzeReset(dev(h, '0000:00:14.0'), h);
    assert.ok(root.why.includes('on a root bus (no bridge to reset it)'));
    assert.equal(root.hotReset.possible, false);
    // 00:1a.0 shares bus 00 with every other function lspci lists there.
    const mates = onBusInText(P6T6_DUMP, '00:').filter((a) => a !== '00:1a.0').map(full);
    assert.deepEqual(analyzeReset(dev(h, '0000:00:1a.0'), h).busSiblings, mates);
  });
});

describe('survey --json carries the reset analysis (validated against docs/schema/survey-v2.schema.json)', () => {
  it('the RX 580: computed, no methods, quirk_no_pm_reset row, vendor-reset family, sibling 04:00.1 and the hot reset over both', async () => {
    const { main } = await import('./main-validated.js');
    const { join } = await import('node:path');
    const { FIXTURES } = await import('./helpers.js');
    let out = '';
    await main(['survey', '--json', '--all', '--kernel', '6.8.0', '--lspci', join(FIXTURES, 'pci/iommu-groups/dell-precision-t7500-428b8d/lspci-vvnn.txt')], { out: (s: string) => (out += s), err: () => {}, isTTY: false });
    const doc = JSON.parse(out);
    const gpu = doc.devices.find((x: { address: string }) => x.address === '0000:04:00.0');
    assert.equal(gpu.reset.source, 'computed');
    assert.equal(gpu.reset.sysfs, null);
    assert.deepEqual(gpu.reset.methods, []);
    assert.deepEqual(gpu.reset.kernelRows.map((r: { function: string }) => r.function), ['quirk_no_pm_reset']);
    assert.equal(gpu.reset.vendorReset.family, 'AMD Polaris 10');
    assert.deepEqual(gpu.reset.busSiblings, ['0000:04:00.1']);
    assert.equal(gpu.reset.busSiblingCount, 1);
    assert.deepEqual(gpu.reset.hotReset, { possible: true, affected: onBusInText(T7500, '04:').map(full), affectedCount: 2, why: gpu.reset.hotReset.why });
    assert.ok(gpu.reset.why.includes('shares its bus with 1 other function(s) (busSiblings)'));
    const bridge = doc.devices.find((x: { address: string }) => x.address === '0000:00:07.0');
    assert.equal(bridge.reset, null);
  });
});

describe('a bus of 100+ functions (a synthetic host of real SR-IOV config space): lists stay bounded', () => {
  it('explain names 16 siblings and says how many more; JSON lists 64 and gives the count', async () => {
    const { syntheticDump, syntheticHost, TEMPLATES } = await import('../src/bench/synthetic.js');
    const { parseLspciInput } = await import('../src/firmware/pci/lspci-text.js');
    const { functionsFromCapture } = await import('../src/sources/capture-files.js');
    const { surveyJson } = await import('../src/report/survey.js');
    const texts = Object.fromEntries(Object.values(TEMPLATES).map((t) => [t.file, fixtureText('pci/pciutils-tests', t.file)]));
    const fns = functionsFromCapture(parseLspciInput(Buffer.from(syntheticDump(syntheticHost(1024, texts))).toString('latin1')).capture);
    const h = host(fns);
    const d = dev(h, '0000:01:00.5');
    const mates = (h.byBus.get('0:1') ?? []).map((x) => x.address).filter((a) => a !== d.address);
    assert.ok(mates.length > 100, String(mates.length));
    const sv = runSurvey(h);
    const out = renderExplain(sv, sv.devices.find((r) => r.device.address === d.address)!, { color: false });
    assert.match(out, new RegExp(`bus siblings: ${mates.slice(0, 16).join(', ')} … and ${mates.length - 16} more;`));
    const j = surveyJson(sv, 'vfio').devices.find((x) => x.address === d.address)!;
    assert.deepEqual(j.reset!.busSiblings, mates.slice(0, 64));
    assert.equal(j.reset!.busSiblingCount, mates.length);
    assert.equal(j.reset!.hotReset.affectedCount, mates.length + 1);
  });
});
