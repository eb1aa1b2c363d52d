/**
 * The grouping engine against the kernel itself: every machine of the IOMMU-groups corpus was
 * captured with the IOMMU on, so pciutils printed the running kernel's `IOMMU group:` line for each
 * function (expected.json is that partition). With those lines removed the prediction must give the
 * same partition — group numbers are not predictable, the partition is.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { buildHost } from '../src/host/build.js';
import type { Host } from '../src/host/model.js';
import { memFs as memFsOf } from '../src/sources/memfs.js';
import { functionsFromLspci, readCaptureFiles } from '../src/sources/capture-files.js';
import { join } from 'node:path';
import { loadHost } from '../src/cli/host-commands.js';
import { slotsView } from '../src/report/slots.js';
import { ROOT, fixture, fixtureText } from './helpers.js';

const CORPUS = 'pci/iommu-groups';
const machines = readdirSync(fixture(CORPUS)).filter((m) => existsSync(fixture(CORPUS, m, 'expected.json'))).sort();

interface Machine {
  kernel: string;
}

/** An in-memory file system of path → bytes. */
const memFs = (files: Record<string, Uint8Array>) => memFsOf(Object.entries(files).map(([path, data]) => ({ path, type: 'file' as const, data })));

const norm = (a: string) => (/^[0-9a-f]{2}:/.test(a) ? `0000:${a}` : a);

function hostOf(m: string, opts: { stripGroups: boolean; kernel?: string | null }): Host {
  const meta = JSON.parse(fixtureText(CORPUS, m, 'machine.json')) as Machine;
  let text = fixtureText(CORPUS, m, 'lspci-vvnn.txt');
  if (opts.stripGroups) text = text.split('\n').filter((l) => !/^\s*IOMMU group:/.test(l)).join('\n');
  const files: Record<string, Uint8Array> = { '/in/lspci.txt': new TextEncoder().encode(text) };
  const o: Parameters<typeof readCaptureFiles>[0] = { lspci: '/in/lspci.txt' };
  for (const t of ['DMAR', 'IVRS'] as const) {
    if (existsSync(fixture(CORPUS, m, `${t}.dat`))) {
      files[`/in/${t}.dat`] = new Uint8Array(readFileSync(fixture(CORPUS, m, `${t}.dat`)));
      o[t === 'DMAR' ? 'dmar' : 'ivrs'] = `/in/${t}.dat`;
    }
  }
  const kernel = opts.kernel === undefined ? meta.kernel : opts.kernel;
  if (kernel) o.kernel = kernel;
  return buildHost(readCaptureFiles(o, memFs(files)));
}

function expected(m: string): string[][] {
  const j = JSON.parse(fixtureText(CORPUS, m, 'expected.json')) as { groups: Record<string, string[]> };
  return Object.values(j.groups).map((g) => g.map(norm).sort());
}

const key = (p: string[][]) => p.map((g) => g.join(' ')).sort();

test('corpus: six machines (AMD-Vi and VT-d, desktops to servers), each with the kernel partition', () => {
  assert.equal(machines.length, 6);
});

for (const m of machines) {
  test(`${m}: the predicted partition equals the kernel's, with the group lines removed`, () => {
    const host = hostOf(m, { stripGroups: true });
    assert.equal(host.groups, undefined, 'the stripped capture must carry no group data');
    const exp = expected(m);
    const grouped = new Set(exp.flat());
    const predicted = host.predicted.groups.map((g) => g.members.filter((a) => grouped.has(a))).filter((g) => g.length > 0);
    assert.deepEqual(key(predicted), key(exp));
    // Every function the kernel grouped is predicted in exactly one group.
    for (const a of grouped) assert.ok(host.predicted.byDevice.has(a), `${a} predicted`);
    // Functions the kernel left without a group: predicted uncovered where the firmware table says so,
    // otherwise the coverage is flagged unknown — never a confident wrong group.
    for (const d of host.devices.filter((x) => !grouped.has(x.address))) {
      assert.ok(host.predicted.uncovered.includes(d.address) || host.predicted.coverageUnknown, `${d.address}: kernel gave no group; the prediction must not claim one with certainty`);
    }
    // Every group the prediction calls certain is exactly one of the kernel's.
    const expKeys = new Set(exp.map((g) => g.join(' ')));
    for (const g of host.predicted.groups.filter((x) => x.certain)) {
      const inKernel = g.members.filter((a) => grouped.has(a));
      if (inKernel.length) assert.ok(expKeys.has(inKernel.join(' ')), `${g.label} certain and right`);
    }
  });

  test(`${m}: with the kernel's groups present, no disagreement is reported and no ACS finding contradicts them`, () => {
    const host = hostOf(m, { stripGroups: false });
    assert.ok(host.groups && host.groups.size > 0);
    const sv = runSurvey(host);
    assert.ok(!sv.hostFindings.some((f) => f.code === 'GROUPS_DIFFER_FROM_PREDICTION'), 'the prediction agrees with the kernel');
    for (const r of sv.devices) {
      const acs = r.findings.find((f) => f.code === 'ACS_MISSING_UPSTREAM');
      if (!acs) continue;
      const g = host.groups!.get(r.device.iommuGroup as number)!;
      const endpoints = g.devices.filter((a) => a !== r.device.address && !host.byAddress.get(a)?.isBridge);
      if (/Linux groups it with everything below/.test(acs.message)) assert.ok(endpoints.length > 0, `${r.device.address}: says Linux groups it, and the kernel's group ${r.device.iommuGroup} must hold others`);
      if (endpoints.length === 0) assert.doesNotMatch(acs.message, /Linux groups it with everything below/, `${r.device.address}: the kernel isolates it`);
      // Each ACS finding names the hop, the missing flags (or the quirk) in its evidence.
      assert.ok(acs.evidence.length > 0 && acs.evidence.every((e) => /^0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(e)), 'hops named');
      assert.ok(acs.evidence.some((e) => /missing |quirk /.test(e)));
    }
  });
}

test('a disagreement with the kernel is reported, with the likely cause', () => {
  // The B550's chipset switch ports lack ACS, so the kernel put everything below them in one group.
  // Pretend the kernel had split that group (as pcie_acs_override would): the finding must say so.
  const m = 'asus-prime-b550-plus-a7bcab';
  const host = hostOf(m, { stripGroups: false });
  const big = [...host.groups!].sort((a, b) => b[1].devices.length - a[1].devices.length)[0]!;
  assert.ok(big[1].devices.length > 2);
  const [first, ...rest] = big[1].devices;
  host.groups!.set(big[0], { devices: [first!], reservedRegions: undefined });
  host.groups!.set(9999, { devices: rest, reservedRegions: undefined });
  const f = runSurvey({ ...host, cmdline: 'quiet pcie_acs_override=downstream,multifunction' }).hostFindings.find((x) => x.code === 'GROUPS_DIFFER_FROM_PREDICTION');
  assert.ok(f, 'reported');
  assert.match(f.evidence.join('\n'), /the kernel splits it/);
  assert.match(f.evidence.join('\n'), /pcie_acs_override is on the command line/);
});

test('kernel version decides: Intel RCiEP DMA channels share a group before Linux 5.8 and not after (DL380e Gen8, C600)', () => {
  const lspci = fixtureText('pci/hpe/hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');
  const host = (kernel: string) => buildHost(readCaptureFiles({ lspci: '/l.txt', kernel }, memFs({ '/l.txt': new TextEncoder().encode(lspci) })));
  const groupOf = (h: Host, a: string) => h.predicted.byDevice.get(a)!.group.members;
  assert.deepEqual(groupOf(host('4.19.0'), '0000:00:04.0'), ['0000:00:04.0', '0000:00:04.1', '0000:00:04.2', '0000:00:04.3', '0000:00:04.4', '0000:00:04.5', '0000:00:04.6', '0000:00:04.7']);
  assert.deepEqual(groupOf(host('6.8.12-4-pve'), '0000:00:04.0'), ['0000:00:04.0']);
  // 5.4.y got the quirk as a back-port at a patch level nobody pinned: the prediction says it is unsure.
  const mid = host('5.4.0');
  assert.equal(mid.predicted.byDevice.get('0000:00:04.0')!.group.certain, false);
});

test('DL380e Gen8: I350, iLO4 and the Smart Array each predicted in a group of their own (C600 PCH quirk), no override advice', () => {
  const lspci = fixtureText('pci/hpe/hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');
  const host = buildHost(readCaptureFiles({ lspci: '/l.txt', kernel: '6.8.12-4-pve' }, memFs({ '/l.txt': new TextEncoder().encode(lspci) })));
  const members = (a: string) => host.predicted.byDevice.get(a)!.group.members;
  for (const f of ['0', '1', '2', '3']) assert.deepEqual(members(`0000:02:00.${f}`), [`0000:02:00.${f}`], 'I350: the kernel\'s multi-function NIC quirk');
  assert.deepEqual(members('0000:01:00.0'), ['0000:01:00.0', '0000:01:00.1', '0000:01:00.2', '0000:01:00.4'], 'iLO4: one multi-function device without ACS');
  assert.deepEqual(members('0000:05:00.0'), ['0000:05:00.0'], 'Smart Array');
  // Behind C600 Root Ports without an ACS capability, isolated by pci_quirk_intel_pch_acs.
  const hop = host.predicted.acsOf('0000:00:1c.7')!;
  assert.equal(hop.isolated, true);
  assert.equal(hop.quirk?.name, 'pci_quirk_intel_pch_acs');
  const sv = runSurvey(host);
  // The C600 quirk needs the LPC bridge's RCBA enabled, which lspci text does not show: the
  // prediction says so instead of claiming certainty.
  const nic = sv.devices.find((x) => x.device.address === '0000:02:00.0')!;
  const u = nic.findings.find((f) => f.code === 'GROUP_PREDICTED_UNCERTAIN');
  assert.ok(u, 'uncertain, and says why');
  assert.match(u.evidence.join('\n'), /RCBA/);
  assert.equal(nic.verdicts.vfio.status, 'warnings');
  for (const r of sv.devices.filter((x) => /^0000:0[125]:00/.test(x.device.address))) {
    for (const f of r.findings) assert.doesNotMatch(`${f.message} ${f.evidence.join(' ')} ${f.fixes.map((x) => x.detail).join(' ')}`, /pcie_acs_override=/, `${r.device.address} ${f.code}`);
    // Only the iLO's functions share a group, with each other (and the iLO is the host's).
    for (const f of r.findings.filter((x) => x.code === 'GROUP_SHARED' || x.code === 'GROUP_HOST_CRITICAL')) {
      assert.match(r.device.address, /^0000:01:00\./, `${r.device.address} ${f.code}`);
      assert.ok(f.evidence.filter((e) => /^0000:/.test(e)).every((e) => e.startsWith('0000:01:00.')), f.evidence.join('; '));
    }
  }
});

test('slots: a card in DL380e Gen8 slots 1, 2 and 4 would be alone (IIO ACS, C600 quirk), each slot liftable by RMRDS', () => {
  const E = 'examples/hp-proliant-dl380e-gen8';
  const v = slotsView(loadHost({ lspci: join(ROOT, E, 'lspci-vvnn.txt'), dmar: join(ROOT, E, 'DMAR.dat'), dmidecode: join(ROOT, E, 'dmidecode.txt'), kernel: '6.8.12-4-pve' }));
  const by = new Map(v.slots.map((s) => [s.physical, s]));
  for (const n of [1, 2, 4]) {
    const a = by.get(n)?.alone;
    assert.ok(a, `slot ${n} simulated`);
    assert.equal(a.singleFunction, true);
    assert.equal(a.rmrr, 'excluded-by-rmrds-possible');
  }
  // Slot 4 hangs off a C600 Root Port: alone only through the PCH quirk, whose RCBA the capture lacks.
  assert.equal(by.get(4)!.alone!.certain, false);
  assert.match(by.get(4)!.alone!.reason, /pci_quirk_intel_pch_acs/);
  // On 6.11.3 (the PCH enable-quirk regression) slot 4 shares with the iLO and the I350.
  const old = slotsView(loadHost({ lspci: join(ROOT, E, 'lspci-vvnn.txt'), dmar: join(ROOT, E, 'DMAR.dat'), dmidecode: join(ROOT, E, 'dmidecode.txt'), kernel: '6.11.3' }));
  assert.equal(old.slots.find((s) => s.physical === 4)!.alone!.singleFunction, false);
});

test('DL380e Gen8 against the kernel\'s own listing of a DL380p Gen8 (same C600 / Xeon E5 platform)', () => {
  // The DL380p listing (hernad) is the kernel's grouping of the sibling model; every address both
  // machines have, with the same function, must group alike.
  const listing = fixtureText('logs', 'hp-proliant-dl380p-gen8-hernad.iommu-groups.txt');
  const kernel = new Map<string, number>();
  for (const l of listing.split('\n')) {
    const m = /^#IOMMU Group (\d+)\s+([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) .*\[([0-9a-f]{4}):([0-9a-f]{4})\]/.exec(l);
    if (m) kernel.set(`0000:${m[2]}|${m[3]}:${m[4]}`, Number(m[1]));
  }
  const lspci = fixtureText('pci/hpe/hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');
  const host = buildHost(readCaptureFiles({ lspci: '/l.txt' }, memFs({ '/l.txt': new TextEncoder().encode(lspci) })));
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  const common = host.devices.filter((d) => kernel.has(`${d.address}|${hex(d.config.vendorId)}:${hex(d.config.deviceId)}`));
  assert.ok(common.length >= 30, `${common.length} functions in common`);
  const k = (d: (typeof common)[number]) => kernel.get(`${d.address}|${hex(d.config.vendorId)}:${hex(d.config.deviceId)}`)!;
  for (const a of common) {
    for (const b of common) {
      if (a.address >= b.address) continue;
      const sameKernel = k(a) === k(b);
      const samePredicted = host.predicted.byDevice.get(a.address)!.group === host.predicted.byDevice.get(b.address)!.group;
      assert.equal(samePredicted, sameKernel, `${a.address} / ${b.address}`);
    }
  }
});

test('a paste whose bridge bus numbers loop (fuzz lspci-text #496) still surveys: the closing link is unknown', () => {
  // Through the decoder itself, as the fuzz reader does (the file reader refuses its 25 KB line first).
  const text = fixtureText('fuzz-regressions', 'lspci-bridge-loop.txt');
  const host = buildHost({ origin: { kind: 'capture', description: 'fuzz' }, functions: functionsFromLspci(text), notes: [] });
  const sv = runSurvey(host);
  assert.equal(sv.devices.length, host.devices.length);
  // Every chain of parents ends, on a root bus or at an unknown link.
  for (const d of host.devices) {
    const seen = new Set<string>();
    for (let p = d.parent; p; p = host.byAddress.get(p)?.parent) {
      assert.ok(!seen.has(p), `${d.address}: loop through ${p}`);
      seen.add(p);
    }
  }
});
