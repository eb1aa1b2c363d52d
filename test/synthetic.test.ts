/**
 * Synthetic big hosts (src/bench/synthetic.ts) are real config space with only the bus
 * numbers, NumVFs and the VF derivation rewritten. Oracles: lspci (pciutils) reading the
 * generated dump for the function list, the bridge bus ranges and the SR-IOV capability;
 * the fixture files read by this test's own hex reader for the bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { syntheticDump, syntheticHost, TEMPLATES, type SyntheticFunction, type SyntheticHost, type TemplateTexts } from '../src/bench/synthetic.js';
import { runSurvey } from '../src/checks/index.js';
import { possibleResets } from '../src/checks/reset.js';
import { MAX_LISTED_MEMBERS } from '../src/checks/groups.js';
import { buildHost } from '../src/host/build.js';
import type { HostFacts } from '../src/host/model.js';
import { toJson } from '../src/report/json.js';
import { surveyJson } from '../src/report/survey.js';
import { readCaptureFiles } from '../src/sources/capture-files.js';
import { fixture, fixtureText } from './helpers.js';

const DIR = 'pci/pciutils-tests';
const texts: TemplateTexts = Object.fromEntries(Object.values(TEMPLATES).map((t) => [t.file, fixtureText(DIR, t.file)]));
const work = mkdtempSync(join(tmpdir(), 'assignable-synthetic-'));
after(() => rmSync(work, { recursive: true, force: true }));
const hasLspci = spawnSync('sh', ['-c', 'command -v lspci']).status === 0;

/** Independent of the product's reader: "addr header" then "off: hh hh …" lines → bytes per address. */
function hexRecords(text: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let cur: number[] | null = null;
  for (const line of text.split('\n')) {
    const head = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(line);
    if (head) {
      cur = [];
      out.set(`${head[1] ?? '0000'}:${head[2]}`, cur as unknown as Uint8Array);
      continue;
    }
    const hx = /^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ?){16})$/.exec(line);
    if (hx && cur) {
      assert.equal(parseInt(hx[1]!, 16), cur.length, `hex offsets run in order (${line.slice(0, 4)})`);
      cur.push(...hx[2]!.trim().split(' ').map((b) => parseInt(b, 16)));
    }
  }
  for (const [k, v] of out) out.set(k, Uint8Array.from(v as unknown as number[]));
  return out;
}

/** lspci's output for the shared files (written once, so one run serves every test), by file and arguments. */
const lspciRuns = new Map<string, string>();
function lspci(file: string, ...args: string[]): string {
  const key = JSON.stringify([file, ...args]);
  const seen = lspciRuns.get(key);
  if (seen !== undefined) return seen;
  const r = spawnSync('lspci', ['-F', file, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  if ([...synthetics.values()].some((s) => s.file === file)) lspciRuns.set(key, r.stdout);
  return r.stdout;
}

/**
 * One synthetic host of n functions, its dump, and that dump written to a file, made once
 * per n and shared by the tests (generating 8192 functions is 111 MB; the generator's
 * determinism has its own test, which generates afresh).
 */
interface Synthetic {
  host: SyntheticHost;
  dump: Uint8Array;
  file: string;
  /** The file read by `--lspci`'s reader, once (buildHost and the checks only read it). */
  facts: () => HostFacts;
}
const synthetics = new Map<number, Synthetic>();
/** The sizes more than one test reads; others (8192 functions: 111 MB) are not kept. */
const SHARED_SIZES = new Set([1024, 4096]);
function synthetic(n: number): Synthetic {
  const seen = synthetics.get(n);
  if (seen) return seen;
  const host = syntheticHost(n, texts);
  const dump = syntheticDump(host);
  const file = join(work, `host-${n}.txt`);
  writeFileSync(file, dump);
  let facts: HostFacts | undefined;
  const s = { host, dump, file, facts: () => (facts ??= readCaptureFiles({ lspci: file })) };
  if (SHARED_SIZES.has(n)) synthetics.set(n, s);
  return s;
}

/** lspci -vvv records: address → its lines. */
function lspciRecords(out: string): Map<string, string> {
  const recs = new Map<string, string>();
  for (const rec of out.split(/\n(?=[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] )/)) {
    const m = /^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(rec);
    if (m) recs.set(`0000:${m[1]}`, rec);
  }
  return recs;
}

const SIZES = [1024, 4096, 8192];

describe('synthetic hosts from real config space', () => {
  for (const n of SIZES) {
    it(`${n} functions: our lspci reader reads exactly ${n} functions from their 4 KiB of bytes; lspci -F lists the same ones, and the bridge ranges nest`, (t) => {
      const { host, file, facts: read } = synthetic(n);
      // Through the file reader `--lspci` uses: 8192 functions of -xxxx are 111 MB.
      const facts = read();
      const ours = facts.functions;
      assert.equal(ours.length, n);
      const ourAddresses = ours.map((f) => `0000:${f.address.bus.toString(16).padStart(2, '0')}:${f.address.device.toString(16).padStart(2, '0')}.${f.address.function}`);
      assert.equal(new Set(ourAddresses).size, n);
      assert.ok(ours.every((f) => f.configSource === 'bytes' && f.config.extendedCapabilities !== undefined));
      // No group lines: the groups must be predicted.
      assert.equal(facts.iommuGroups, undefined);
      assert.ok(ours.every((f) => f.lspci?.iommuGroup === null));
      // SR-IOV makes the numbers: most functions are VFs.
      assert.ok(host.functions.filter((f) => f.role === 'sriov-vf').length > n * 0.8);

      if (!hasLspci) return t.skip('lspci (pciutils) is not installed: apt install pciutils');
      const recs = lspciRecords(lspci(file, '-vvv'));
      const listed = [...recs.keys()];
      assert.equal(listed.length, n);
      assert.deepEqual([...listed].sort(), [...ourAddresses].sort());

      // Bridge bus numbers as lspci decodes them, against our reader's.
      const ranges = new Map<string, { primary: number; secondary: number; subordinate: number }>();
      for (const [a, rec] of recs) {
        const b = /Bus: primary=([0-9a-f]+), secondary=([0-9a-f]+), subordinate=([0-9a-f]+)/.exec(rec);
        if (b) ranges.set(a, { primary: parseInt(b[1]!, 16), secondary: parseInt(b[2]!, 16), subordinate: parseInt(b[3]!, 16) });
      }
      const ourBridges = new Map(ours.flatMap((f, i) => (f.config.bridge ? [[ourAddresses[i]!, f.config.bridge] as const] : [])));
      assert.equal(ranges.size, ourBridges.size);
      for (const [a, r] of ranges) {
        const o = ourBridges.get(a);
        assert.ok(o, `${a} is a bridge for lspci and for us`);
        assert.deepEqual({ secondary: o.secondary, subordinate: o.subordinate }, { secondary: r.secondary, subordinate: r.subordinate }, a);
      }
      // A valid hierarchy: each bridge sits on its primary bus, each bus but 0 is the
      // secondary of exactly one bridge, and every range lies inside the range above it.
      const bySecondary = new Map<number, string>();
      for (const [a, r] of ranges) {
        assert.equal(parseInt(a.slice(5, 7), 16), r.primary, `${a} primary bus`);
        assert.ok(r.secondary <= r.subordinate && r.secondary > r.primary, `${a} range`);
        assert.ok(!bySecondary.has(r.secondary), `bus ${r.secondary} claimed twice`);
        bySecondary.set(r.secondary, a);
      }
      for (const a of listed) {
        const bus = parseInt(a.slice(5, 7), 16);
        if (bus === 0) continue;
        const up = bySecondary.get(bus);
        assert.ok(up, `${a}: a bridge leads to bus ${bus}`);
        const upBus = parseInt(up.slice(5, 7), 16);
        if (upBus !== 0) {
          const outer = ranges.get(bySecondary.get(upBus)!)!;
          const inner = ranges.get(up)!;
          assert.ok(outer.secondary < inner.secondary && inner.subordinate <= outer.subordinate, `${up} nests in its parent`);
        }
      }
    });
  }

  it('exactly the number asked for, at the edges of a card too', () => {
    for (const n of [1, 2, 3, 4, 130, 1000]) assert.equal(syntheticHost(n, texts).functions.length, n);
  });

  it('is deterministic', () => {
    // A fresh generation against the one the other tests share: two separate runs of the generator.
    assert.deepEqual(syntheticDump(syntheticHost(1024, texts)), synthetic(1024).dump);
  });

  it('each function is its fixture function byte for byte, but for the documented offsets; VFs are where the PF\'s SR-IOV capability puts them', (t) => {
    if (!hasLspci) return t.skip('lspci (pciutils) is not installed: apt install pciutils');
    const { host, dump, file } = synthetic(1024);
    const ours = hexRecords(Buffer.from(dump).toString('latin1'));
    const recs = lspciRecords(lspci(file, '-vvv'));
    const ids = new Map(lspci(file, '-n').trim().split('\n').map((l) => [`0000:${l.slice(0, 7)}`, / ([0-9a-f]{4}:[0-9a-f]{4})/.exec(l)![1]!]));

    // The PF template's SR-IOV capability and the extended capability before it, as lspci reads the fixture.
    const pfTemplate = TEMPLATES.sriovPf;
    const pfFixture = lspci(fixture(DIR, pfTemplate.file), '-vvv');
    const ecaps = [...pfFixture.matchAll(/Capabilities: \[([0-9a-f]{3}) v\d\] (.*)/g)].map((m) => ({ at: parseInt(m[1]!, 16), title: m[2]! }));
    const si = ecaps.findIndex((c) => c.title.startsWith('Single Root I/O Virtualization'));
    assert.ok(si > 0);
    const sriovAt = ecaps[si]!.at;
    const before = ecaps[si - 1]!.at;
    const numVfs = [sriovAt + 0x10, sriovAt + 0x11];
    const [, vfOffset, vfStride, vfDevice] = /VF offset: (\d+), stride: (\d+), Device ID: ([0-9a-f]{4})/.exec(pfFixture)!.map(String);
    const bridgeBytes = [0x18, 0x19, 0x1a];
    const allowed: Record<SyntheticFunction['role'], number[]> = {
      'root-port': bridgeBytes,
      'switch-upstream': bridgeBytes,
      'switch-downstream': bridgeBytes,
      endpoint: [],
      'sriov-pf': numVfs,
      'sriov-vf': [0x02, 0x03, before + 2, before + 3, ...numVfs],
    };
    const fixtures = new Map<string, Map<string, Uint8Array>>();
    const roles = new Set<string>();
    for (const f of host.functions) {
      const tpl = TEMPLATES[f.template];
      if (!fixtures.has(tpl.file)) fixtures.set(tpl.file, hexRecords(fixtureText(DIR, tpl.file)));
      const want = fixtures.get(tpl.file)!.get(tpl.address)!;
      const got = ours.get(f.address)!;
      assert.equal(got.length, 4096, f.address);
      assert.equal(want.length, 4096, tpl.address);
      const differ = [...got.keys()].filter((i) => got[i] !== want[i]);
      assert.ok(differ.every((i) => allowed[f.role].includes(i)), `${f.address} (${f.role}, from ${tpl.file} ${tpl.address}) differs at ${differ.map((i) => i.toString(16)).join(' ')}`);
      roles.add(f.role);
    }
    assert.deepEqual([...roles].sort(), Object.keys(allowed).sort());

    // SR-IOV, as lspci decodes the generated PFs: the functions on a PF's bus besides it are
    // exactly its VFs at Routing ID + offset + i × stride, with the VF Device ID and no SR-IOV capability.
    let pfs = 0;
    for (const [a, rec] of recs) {
      const m = /Number of VFs: (\d+)/.exec(rec);
      if (!m) continue;
      pfs++;
      const bus = parseInt(a.slice(5, 7), 16);
      const rid = (bus << 8) | (parseInt(a.slice(8, 10), 16) << 3) | Number(a.slice(11));
      const want = Array.from({ length: Number(m[1]) }, (_, i) => rid + Number(vfOffset) + i * Number(vfStride)).map(
        (r) => `0000:${(r >> 8).toString(16).padStart(2, '0')}:${((r >> 3) & 0x1f).toString(16).padStart(2, '0')}.${r & 7}`,
      );
      const onBus = [...recs.keys()].filter((x) => x !== a && parseInt(x.slice(5, 7), 16) === bus);
      assert.deepEqual(onBus, want, `VFs of ${a}`);
      // VFs past device 0 are reachable only through a port that forwards ARI.
      const port = [...recs.values()].find((r) => new RegExp(`Bus: primary=[0-9a-f]+, secondary=${a.slice(5, 7)},`).test(r))!;
      assert.match(port, /DevCtl2:.*ARIFwd\+/, `the port above ${a} forwards ARI`);
      for (const vf of want) {
        assert.equal(ids.get(vf)!.split(':')[1], vfDevice, `${vf} device ID`);
        assert.doesNotMatch(recs.get(vf)!, /Single Root I\/O Virtualization/, `${vf} has no SR-IOV capability`);
      }
    }
    assert.ok(pfs >= 7, `${pfs} PFs`);
  });

  it('groups bigger than MAX_LISTED_MEMBERS (an SR-IOV NIC, 129 functions): each finding names that many others and says how many more; the JSON survey is written', () => {
    const n = 4096;
    const { host, facts } = synthetic(n);
    const fns = facts().functions;
    // The test's own partition (not a prediction): each root port alone, everything below it in one group.
    const rootOf = (bus: number) => [...host.bridges].find(([a, r]) => a.startsWith('0000:00:') && bus >= r.secondary && bus <= r.subordinate)![0];
    // (An SR-IOV NIC's PF and 128 VFs then share a group: 128 others each.)
    const groups = new Map<string, string[]>();
    for (const f of host.functions) {
      const k = f.bus === 0 ? f.address : `below ${rootOf(f.bus)}`;
      groups.set(k, [...(groups.get(k) ?? []), f.address]);
    }
    const iommuGroups = [...groups.values()].map((devices, id) => ({ id, devices }));
    const sv = runSurvey(buildHost({ origin: { kind: 'capture', description: 'synthetic' }, functions: fns, iommuGroups, notes: [] }));
    const endpointsIn = new Map(iommuGroups.map((g) => [g.id, g.devices.filter((a) => !host.bridges.has(a)).length]));
    let big = 0;
    for (const r of sv.devices) {
      const f = r.findings.find((x) => x.code === 'GROUP_SHARED');
      if (!f) continue;
      const others = endpointsIn.get(r.device.iommuGroup!)! - 1;
      if (others <= MAX_LISTED_MEMBERS) {
        assert.equal(f.evidence.length, others);
        continue;
      }
      big++;
      assert.equal(f.evidence.length, MAX_LISTED_MEMBERS + 1, r.device.address);
      assert.match(f.evidence.at(-1)!, new RegExp(`^… and ${others - MAX_LISTED_MEMBERS} more endpoint\\(s\\) of IOMMU group ${r.device.iommuGroup}`));
      assert.match(f.message, new RegExp(`holds ${others} other device`));
    }
    assert.ok(big > 3000, `${big} devices in big groups`);
    const json = toJson('assignable/survey/v1', surveyJson(sv, 'vfio'));
    assert.equal(JSON.parse(json).devices.length, n);
  });

  it('the host\'s bus index holds each bus as lspci lists it, and a VF\'s bus-mates for reset are the other functions lspci lists on its bus', (t) => {
    if (!hasLspci) return t.skip('lspci (pciutils) is not installed: apt install pciutils');
    const { file, facts } = synthetic(1024);
    const byBus = new Map<string, string[]>();
    for (const l of lspci(file).trim().split('\n')) {
      const bus = `0:${parseInt(l.slice(0, 2), 16)}`;
      byBus.set(bus, [...(byBus.get(bus) ?? []), `0000:${l.slice(0, 7)}`]);
    }
    const host = buildHost(facts());
    assert.deepEqual(new Map([...host.byBus].map(([k, ds]) => [k, ds.map((d) => d.address)])), byBus);
    const vf = host.devices.find((d) => d.address === '0000:01:00.5')!;
    const mates = byBus.get('0:1')!.filter((a) => a !== vf.address);
    assert.ok(mates.length > 100);
    assert.ok(possibleResets(vf, host).why.includes(`shares its bus with ${mates.join(', ')}`));
  });
});

