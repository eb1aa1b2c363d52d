/**
 * `assignable diagnose` on the errors users pasted in public threads (test/fixtures/diagnose,
 * sources in test/fixtures/SOURCES.md). Each expectation is written here from the thread and
 * from the program that prints the message (kernel, QEMU, libvirt, SurveyDDA — what the message
 * means is theirs), never read back from our table. With host data the join is checked against
 * the hand-resolved RMRR scopes of the DL380e example (logs/…rmrr-resolution.DERIVED.txt,
 * worked out from the DMAR bytes and lspci by the VT-d path walk, not by our decoder).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diagnose, DIAGNOSE_ONLY_CODES } from '../src/checks/diagnose/index.js';
import { runSurvey } from '../src/checks/index.js';
import { loadHost } from '../src/cli/host-commands.js';
import { EXIT } from '../src/cli/exit.js';
import { main } from './main-validated.js';
import { ROOT, fixture, fixtureText } from './helpers.js';

const D = 'diagnose';
const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = { lspci: join(EX, 'lspci-vvnn.txt'), dmar: join(EX, 'DMAR.dat'), dmidecode: join(EX, 'dmidecode.txt') };
const dl380eArgs = (kernel: string) => ['--lspci', DL380E.lspci, '--dmar', DL380E.dmar, '--dmidecode', DL380E.dmidecode, '--kernel', kernel];

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

interface Row {
  file: string[];
  why: string;
  expect: Array<{ codes: string[]; device: string | null; group?: number | null; lines?: number[] }>;
}

/** What each pasted log is, per its thread and the program that printed it. */
const ROWS: Row[] = [
  { file: [D, 'qemu-group-not-viable.64kramsystem-vga-passthrough-15.txt'], why: 'QEMU: another device of group 1 has a host driver; its second line is the same error', expect: [{ codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'], device: '0000:01:00.0', group: 1, lines: [1, 2] }] },
  { file: [D, 'kubevirt-group-not-viable.kubevirt-6718.txt'], why: 'the same QEMU error inside a libvirt/KubeVirt line; the ISO time 08:06:48.563 is not a device', expect: [{ codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'], device: '0000:01:00.0', group: 1, lines: [1] }] },
  { file: [D, 'dpdk-group-not-viable.ndn-dpdk-63.txt'], why: 'DPDK EAL: not all devices of the group bound to VFIO', expect: [{ codes: ['GROUP_SHARED', 'GROUP_HOST_CRITICAL'], device: '0000:44:00.3', lines: [2] }] },
  { file: [D, 'qemu-group-device-eio.vgpu-unlock-95.txt'], why: 'QEMU\'s older wording: it could not get a device from group 29 (EIO)', expect: [{ codes: ['GROUP_SHARED', 'DRIVER_BOUND'], device: null, group: 29 }] },
  { file: [D, 'proxmox-no-reset.gangqizai-igd-17.txt'], why: 'QEMU (kvm on Proxmox): no FLR/PM/bus reset; printed twice, one error', expect: [{ codes: ['NO_RESET'], device: '0000:00:1f.3', lines: [2, 3] }] },
  { file: [D, 'dmesg-d3cold.kata-containers-11708.txt'], why: 'drivers/pci: the GPU did not come back from D3cold', expect: [{ codes: ['DEVICE_INACCESSIBLE'], device: '0000:01:00.0', lines: [3, 4, 6] }] },
  { file: [D, 'libvirt-header-type-127.gpu-passthrough-tutorial-39.txt'], why: 'libvirt read header type 0x7f: config space all ones', expect: [{ codes: ['DEVICE_INACCESSIBLE'], device: '0000:01:00.0', lines: [1, 6] }] },
  { file: [D, 'dmesg-bar-cant-reserve.vfio-single-amdgpu-passthrough-3.txt'], why: 'vfio-pci cannot request BAR 0: the host holds it (the thread\'s fix: initcall_blacklist=sysfb_init)', expect: [{ codes: ['BAR_RESERVED_BY_HOST'], device: '0000:05:00.0' }] },
  { file: [D, 'dmesg-bar-no-space.home-assistant-os-1880.txt'], why: 'setup-res.c: no window space for BAR 7, per device', expect: [{ codes: ['BAR_UNASSIGNED'], device: '0000:00:17.3', lines: [1] }, { codes: ['BAR_UNASSIGNED'], device: '0000:00:17.4', lines: [2, 3] }] },
  { file: [D, 'dmesg-vfio-probe-einval.openwrt-docker-38.txt'], why: 'vfio-pci probe -EINVAL: no IOMMU group (a Raspberry Pi 5, domain 0001)', expect: [{ codes: ['NO_IOMMU_GROUP', 'IOMMU_DISABLED_BY_KERNEL'], device: '0001:01:00.0' }] },
  { file: [D, 'qemu-no-iommu-group.macos-simple-kvm-143.txt'], why: 'QEMU: the device has no iommu_group link', expect: [{ codes: ['NO_IOMMU_GROUP', 'IOMMU_DISABLED_BY_KERNEL'], device: '0000:00:14.0' }] },
  { file: [D, 'journal-kata-multiple-address-spaces.kata-containers-10622.txt'], why: 'journal prefix; BAR 3 held by the host; the GPU\'s two functions split across address spaces', expect: [{ codes: ['BAR_RESERVED_BY_HOST'], device: '0000:01:00.0', lines: [2] }, { codes: ['GROUP_SHARED'], device: '0000:01:00.1', group: 1, lines: [3] }] },
  { file: [D, 'journal-aer-acs-violation.minisforum-ms-02-ultra-10.txt'], why: 'AER: the root port (receiver) reports uncorrectable status bit 21, ACS Violation', expect: [{ codes: ['ACS_VIOLATION'], device: '0000:80:1b.4', lines: [4] }] },
  { file: [D, 'proxmox-no-iommu.pxvirt-127.txt'], why: 'Proxmox GUI: no IOMMU groups on the host', expect: [{ codes: ['IOMMU_DISABLED_BY_KERNEL', 'IOMMU_ABSENT'], device: null }] },
  { file: [D, 'journal-rmrr-ineligible.csdn-129370392.txt'], why: 'VT-d before 6.6: an RMRR device refused', expect: [{ codes: ['RMRR_DIRECT'], device: '0000:04:00.0' }] },
  { file: [D, 'kernel-no-interrupt-remapping.vfio-iommu-type1-format.txt'], why: 'vfio_iommu_type1: no MSI isolation, -EPERM', expect: [{ codes: ['INTERRUPT_REMAPPING_ABSENT'], device: null }] },
  { file: [D, 'hyperv-dismount-no-mitigation.ms-dda-blog-2015.txt'], why: 'Dismount-VMHostAssignableDevice without -Force on a device with no vendor mitigation driver; the cmdlet prints the sentence twice: one error', expect: [{ codes: ['DDA_NO_MITIGATION_DRIVER'], device: null, lines: [4, 8] }] },
  { file: [D, 'hyperv-dismount-pcie-control.haxm-149.txt'], why: 'Dismount-VMHostAssignableDevice: the firmware kept PCI Express control (the cause SurveyDDA calls "BIOS kept control")', expect: [{ codes: ['DDA_FIRMWARE_KEPT_PCIE_CONTROL'], device: null, lines: [6] }] },
  { file: ['logs', 'hp-harvester-7340.vfio-rmrr.txt'], why: 'journal line with a time that looks like 03:12.0; then relax_rmrr active on another host', expect: [{ codes: ['RMRR_DIRECT'], device: '0000:04:00.1', lines: [3] }, { codes: ['RMRR_RELAXED_BY_OPTION'], device: null, lines: [5] }] },
  { file: ['logs', 'hpe-proliant-gen8-gatekeeper-718.vfio-1to1.txt'], why: '6.6+ wording (Ubuntu 24.04, 6.8): RMRR or IVMD; the user-space EINVAL quoted after it', expect: [{ codes: ['RMRR_DIRECT', 'IVMD_UNITY_DIRECT'], device: null, lines: [5] }, { codes: ['RMRR_DIRECT', 'IVMD_UNITY_DIRECT'], device: null, lines: [6] }] },
];

describe('diagnose: real pasted errors map to their codes', () => {
  for (const row of ROWS) {
    it(`${row.file.at(-1)} — ${row.why}`, () => {
      const dx = diagnose(fixtureText(...row.file));
      assert.equal(dx.errors.length, row.expect.length, dx.errors.map((e) => `${e.hit.message.id} ${e.hit.device}`).join('; '));
      for (const [i, want] of row.expect.entries()) {
        const got = dx.errors[i]!;
        assert.deepEqual(got.codes, want.codes, `error ${i}`);
        assert.equal(got.decided, want.codes.length === 1);
        assert.equal(got.hit.device, want.device, `device of error ${i}`);
        if (want.group !== undefined) assert.equal(got.hit.group, want.group);
        if (want.lines) assert.deepEqual(got.hit.lines, want.lines);
        assert.equal(got.joined, null);
      }
    });
  }

  it('SurveyDDA output (intel/haxm#149): each verdict line is tied to the device named on the line before', () => {
    const dx = diagnose(fixtureText('windows', '06-haxm-149-2020-06-13-surveydda-z390-ws2019.txt'));
    const by = (name: string) => dx.errors.filter((e) => e.hit.deviceName === name).map((e) => e.codes.join('|'));
    // SurveyDDA.ps1: RequiresReservedMemoryRegion → "BIOS requires…"; DeviceType 5 → "BIOS kept control…"; other types → "Old-style…".
    assert.deepEqual(by('Intel(R) USB 3.1 eXtensible Host Controller - 1.10 (Microsoft)'), ['DDA_RESERVED_MEMORY']);
    assert.deepEqual(by('NVIDIA GeForce RTX 2080 Ti'), ['DDA_FIRMWARE_KEPT_PCIE_CONTROL']);
    assert.deepEqual(by('Intel(R) 300 Series Chipset Family SATA AHCI Controller'), ['BRIDGE|CONVENTIONAL_PCI|HOST_BRIDGE']);
    assert.ok(dx.errors.every((e) => e.hit.device === null && e.hit.deviceName !== null));
  });

  it('text with no known error says so and guesses nothing (a GVT-g container EIO, gvt-linux#171)', async () => {
    assert.deepEqual(diagnose(fixtureText(D, 'qemu-gvt-container-eio.gvt-linux-171.txt')).errors, []);
    const r = await run(['diagnose', fixture(D, 'qemu-gvt-container-eio.gvt-linux-171.txt')]);
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, /no known passthrough error in 1 line \(nothing guessed/);
    const j = await run(['diagnose', fixture(D, 'qemu-gvt-container-eio.gvt-linux-171.txt'), '--json']);
    assert.equal(JSON.parse(j.out).recognized, false);
  });

  it('every code only diagnose produces comes from a real paste above', () => {
    const produced = new Set(ROWS.flatMap((r) => r.expect.flatMap((e) => e.codes)));
    for (const c of DIAGNOSE_ONLY_CODES) assert.ok(produced.has(c), c);
  });
});

describe('diagnose joined to a host (the DL380e example)', () => {
  /** 0000:bb:dd.f → its class, for every function the hand-resolved RMRR scopes name. */
  const rmrrScoped = new Map<string, string>();
  for (const m of fixtureText('logs', 'hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt').matchAll(/-> (0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s+[^[\n]*\[([0-9a-f]{4})\]/g)) rmrrScoped.set(m[1]!, m[2]!);

  it('an RMRR refusal naming 0000:04:00.0 joins to the host\'s device and its own RMRR finding and ladder', async () => {
    assert.equal(rmrrScoped.get('0000:04:00.0'), '0580', 'the oracle: 04:00.0 (memory controller, not USB/display) is RMRR-scoped');
    // A kernel that prints this wording (3.17–6.5).
    const sv = runSurvey(loadHost({ ...DL380E, kernel: '4.19.0' }));
    const [e] = diagnose(fixtureText(D, 'journal-rmrr-ineligible.csdn-129370392.txt'), sv).errors;
    assert.equal(e!.joined!.devices.length, 1);
    const j = e!.joined!.devices[0]!;
    assert.equal(j.report.device.address, '0000:04:00.0');
    assert.deepEqual(j.confirmed, ['RMRR_DIRECT']);
    assert.equal(j.report.verdicts.vfio.status, 'blocked');
    // The host's ladder, not the generic one: this device is embedded, so no RMRDS slot switch.
    assert.ok(j.findings[0]!.fixes.length > 0);
    assert.equal(e!.joined!.note, null);
    const r = await run(['diagnose', fixture(D, 'journal-rmrr-ineligible.csdn-129370392.txt'), ...dl380eArgs('6.8.12-4-pve'), '--json']);
    assert.equal(r.code, EXIT.BLOCKED);
    const doc = JSON.parse(r.out);
    assert.equal(doc.host, true);
    assert.deepEqual(doc.errors[0].joined.devices[0].confirmed, ['RMRR_DIRECT']);
  });

  it('the wording dates the log: "Device is ineligible…" is Linux 3.17–6.5, so against a 6.8 host it is from another kernel', () => {
    const line = fixtureText(D, 'journal-rmrr-ineligible.csdn-129370392.txt');
    const at = (kernel: string) => diagnose(line, runSurvey(loadHost({ ...DL380E, kernel }))).errors[0]!.joined!.note;
    // The wording moved into the IOMMU core in 6.6 (a48ce36e2786), as "Firmware has requested…".
    assert.match(at('6.8.12-4-pve')!, /Linux prints this wording from 3\.17 before 6\.6; the host data's kernel is 6\.8\.12-4-pve/);
    assert.equal(at('4.19.0'), null);
    const later = diagnose(fixtureText('logs', 'hpe-proliant-gen8-gatekeeper-718.vfio-1to1.txt'), runSurvey(loadHost({ ...DL380E, kernel: '5.15.0' }))).errors[0]!.joined!.note!;
    assert.match(later, /from 6\.6; the host data's kernel is 5\.15\.0/);
  });

  it('the host settles a two-code message: identity-map lines (coreos/bugs#2108) become relaxable for USB, direct for the NIC', () => {
    const sv = runSurvey(loadHost({ ...DL380E, kernel: '6.8.12-4-pve' }));
    const dx = diagnose(fixtureText('logs', 'hp-proliant-gen9-coreos-bugs-2108.dmesg-excerpt.txt'), sv);
    const of = (a: string) => dx.errors.find((e) => e.hit.device === a)!;
    // Linux 5.3+: USB (0c03) and display (03) RMRRs are relaxable, everything else direct.
    assert.equal(rmrrScoped.get('0000:01:00.4'), '0c03');
    assert.deepEqual(of('0000:01:00.4').codes, ['RMRR_RELAXABLE']);
    assert.equal(rmrrScoped.get('0000:02:00.0'), '0200');
    assert.deepEqual(of('0000:02:00.0').codes, ['RMRR_DIRECT']);
    // 81:00.0 exists on that Gen9, not on this DL380e: both codes stay, and the note says why.
    assert.deepEqual(of('0000:81:00.0').codes, ['RMRR_DIRECT', 'RMRR_RELAXABLE']);
    assert.match(of('0000:81:00.0').joined!.note!, /no such device in the host data/);
  });

  it('a device the host does not have is said so, with the generic ladder (harvester#7340 names 04:00.1)', async () => {
    const r = await run(['diagnose', fixture('logs', 'hp-harvester-7340.vfio-rmrr.txt'), ...dl380eArgs('6.8.12-4-pve')]);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.match(r.out, /address 0000:04:00\.1: no such device in the host data/);
    assert.match(r.out, /What to do \(generic\)/);
  });
});

describe('diagnose joined by name (SurveyDDA)', () => {
  it('SurveyDDA lines join to the devices of that SurveyDDA run (--surveydda), by the name printed before them', async () => {
    const F = fixture('windows', '06-haxm-149-2020-06-13-surveydda-z390-ws2019.txt');
    const r = await run(['diagnose', F, '--surveydda', F, '--json']);
    assert.equal(r.code, EXIT.BLOCKED);
    const errors = JSON.parse(r.out).errors as Array<{ deviceName: string; codes: string[]; joined: { devices: Array<{ name: string; confirmed: string[] }> } }>;
    const gpu = errors.find((e) => e.deviceName === 'NVIDIA GeForce RTX 2080 Ti')!;
    assert.deepEqual(gpu.joined.devices.map((d) => d.name), ['NVIDIA GeForce RTX 2080 Ti']);
    assert.deepEqual(gpu.joined.devices[0]!.confirmed, ['DDA_FIRMWARE_KEPT_PCIE_CONTROL']);
    // Two functions are named "High Definition Audio Controller"; the paste's second verdict is cut
    // off ("BIOS kept cont"), so one error, joined to the one function whose verdict it is.
    const audio = errors.filter((e) => e.deviceName === 'High Definition Audio Controller');
    assert.equal(audio.length, 1);
    assert.equal(audio[0]!.joined.devices.length, 1);
    assert.deepEqual(audio[0]!.codes, ['CONVENTIONAL_PCI']);
  });
});

describe('diagnose joined by IOMMU group', () => {
  const R740 = fixture('pci', 'iommu-groups', 'dell-poweredge-r740-102e11');

  it('"group 29" (vgpu_unlock#95) joins to the members of the kernel\'s group 29 in lspci -vv from a PowerEdge R740', async () => {
    // The oracle: the kernel's own groups, as lspci printed them ("IOMMU group: N"), collected in expected.json.
    const kernel = (JSON.parse(fixtureText('pci', 'iommu-groups', 'dell-poweredge-r740-102e11', 'expected.json')) as { groups: Record<string, string[]> }).groups['29']!;
    const r = await run(['diagnose', fixture(D, 'qemu-group-device-eio.vgpu-unlock-95.txt'), '--lspci', join(R740, 'lspci-vvnn.txt'), '--json']);
    assert.equal(r.code, EXIT.BLOCKED);
    const [e] = JSON.parse(r.out).errors;
    assert.equal(e.iommuGroup, 29);
    assert.deepEqual(e.joined.devices.map((d: { address: string }) => d.address).sort(), [...kernel].sort());
    for (const c of e.codes) assert.ok(['GROUP_SHARED', 'DRIVER_BOUND'].includes(c), c);
  });

  it('a capture without kernel groups says so instead of guessing members (--capture)', async () => {
    const r = await run(['diagnose', fixture(D, 'qemu-group-device-eio.vgpu-unlock-95.txt'), '--capture', fixture('captures', 'asus-p6t6-pciutils-tree.tar.gz')]);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.match(r.out, /IOMMU group 29: the host data has no kernel IOMMU groups/);
  });
});

describe('diagnose: input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-diagnose-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('binary input is one line naming the file and offset, exit 2 (a raw DMAR table)', async () => {
    const file = fixture('dmar', 'supermicro-x10dai-4a64a6.dat');
    const r = await run(['diagnose', file]);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /^assignable: diagnose: .*supermicro-x10dai-4a64a6\.dat: offset \d+: a NUL byte — binary data/);
    assert.equal(r.err.trim().split('\n').length, 1);
    assert.equal(r.out, '');
  });

  it('compressed or random bytes without a NUL are refused too, naming the first non-text character', async () => {
    const file = join(dir, 'garbage.bin');
    // Bytes 0x80–0xfe only: no NUL, and no valid UTF-8 sequence (every one is a lone continuation or lead byte).
    writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => 0x80 + ((i * 37) % 0x7f))));
    const r = await run(['diagnose', file]);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /^assignable: diagnose: .*garbage\.bin: character 0: \d+ of \d+ characters are not text/);
    assert.equal(r.err.trim().split('\n').length, 1);
    // A log with one stray byte is still a log.
    const one = join(dir, 'one-stray-byte.txt');
    writeFileSync(one, Buffer.concat([Buffer.from([0xe9, 0x0a]), Buffer.from(fixtureText(D, 'proxmox-no-reset.gangqizai-igd-17.txt'), 'latin1')]));
    assert.equal((await run(['diagnose', one])).code, EXIT.BLOCKED);
  });

  it('UTF-16LE with a BOM (Windows PowerShell 5.1 `>`) is read', async () => {
    const file = join(dir, 'survey-utf16.txt');
    const text = fixtureText('windows', '06-haxm-149-2020-06-13-surveydda-z390-ws2019.txt');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const r = await run(['diagnose', file, '--json']);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.ok(JSON.parse(r.out).errors.some((e: { codes: string[] }) => e.codes.includes('DDA_FIRMWARE_KEPT_PCIE_CONTROL')));
  });

  it('standard input cannot be both the log and a host file; a missing file is exit 3', async () => {
    const r = await run(['diagnose', '-', '--lspci', '-']);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /standard input/);
    const m = await run(['diagnose', join(dir, 'nope.txt')]);
    assert.equal(m.code, EXIT.ENVIRONMENT);
    assert.match(m.err, /nope\.txt: no such file/);
  });
});
