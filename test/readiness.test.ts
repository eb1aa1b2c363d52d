/**
 * Host readiness and "this host is itself a virtual machine" (issue 10, point 1).
 *
 * The KVM guest is a host tree built from real config-space bytes (test/fixtures/pci/kvm-guest,
 * SOURCES.md): a QEMU/KVM guest's virtio functions read from sysfs, pciutils' transitional
 * virtio-net, and one physical AMD Fiji GPU function from pciutils' dumps — with that guest's
 * cpuinfo flags line and its "Hypervisor detected: KVM" kernel log line. The oracle for which
 * function is physical is lspci's own description in the dump's header lines, not our decode.
 */
import assert from 'node:assert/strict';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runSurvey } from '../src/checks/index.js';
import { virtualMachine } from '../src/checks/virtual-machine.js';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { buildHost } from '../src/host/build.js';
import type { HostFacts } from '../src/host/model.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { collect } from '../src/sources/collect.js';
import { realFs } from '../src/sources/fs.js';
import { readLiveHost } from '../src/sources/live.js';
import { writeTar } from '../src/sources/tar.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { main } from './main-validated.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const DIR = 'pci/kvm-guest';
const DUMP = fixtureText(DIR, 'kvm-guest-gpu.dump.txt');
const RELEASE = '6.8.0-45-generic';
const CMDLINE = `BOOT_IMAGE=/boot/vmlinuz-${RELEASE} root=/dev/vda1 ro quiet`;

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

function put(root: string, rel: string, data: string | Uint8Array = '') {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), data);
}

interface GuestOptions {
  cmdline?: string;
  /** Ubuntu's vfio module files under lib/modules (not loaded). */
  moduleFiles?: boolean;
  kernelConfig?: boolean;
  cpuinfo?: string;
}

/** The KVM guest as a host tree: no DMAR/IVRS (ACPI tables without them), no IOMMU groups, no kvm misc device. */
function guestTree(o: GuestOptions = {}): string {
  const root = sysfsTreeFromDump(DUMP, { kernel: RELEASE, cmdline: o.cmdline ?? CMDLINE });
  put(root, 'proc/cpuinfo', o.cpuinfo ?? fixtureText(DIR, 'cpuinfo.txt'));
  copyFileSync(fixture(DIR, 'dmesg.txt'), join(root, 'dmesg.txt'));
  for (const d of ['sys/firmware/acpi/tables', 'sys/kernel', 'sys/class/misc', 'sys/module']) mkdirSync(join(root, d), { recursive: true });
  put(root, 'sys/firmware/acpi/tables/APIC', '');
  if (o.moduleFiles !== false) {
    // Ubuntu 24.04's linux-modules package: drivers/vfio/{vfio,vfio_iommu_type1}.ko.zst, drivers/vfio/pci/vfio-pci*.ko.zst.
    for (const f of ['vfio.ko.zst', 'vfio_iommu_type1.ko.zst', 'pci/vfio-pci.ko.zst', 'pci/vfio-pci-core.ko.zst']) put(root, `lib/modules/${RELEASE}/kernel/drivers/vfio/${f}`);
  }
  if (o.kernelConfig) put(root, `boot/config-${RELEASE}`, fixtureText(DIR, 'kernel-config.txt'));
  return root;
}

/** lspci's header lines of the dump: the functions it does not describe as Red Hat virtio devices. */
function physicalByLspci(): string[] {
  return [...DUMP.matchAll(/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (.*)$/gm)].filter((m) => !/Red Hat.*Virtio/i.test(m[2]!)).map((m) => `0000:${m[1]}`);
}

describe('a KVM guest with a passed-through GPU (acceptance of issue 10 point 1)', () => {
  const root = guestTree();

  it('survey says it is a virtual machine and names the passed-through physical function, in its first lines', async () => {
    assert.deepEqual(physicalByLspci(), ['0000:00:10.0'], 'the fixture: one non-virtio function, lspci says');
    const r = await run('survey', '--root', root);
    const lines = r.out.split('\n');
    const vmLine = lines.findIndex((l) => /^\s+virtual machine\s+YES\s+KVM; passed through to it: 00:10\.0 .*Fiji/.test(l));
    assert.ok(vmLine > 0 && vmLine <= 6, r.out);
    // The readiness block comes before the findings and the table.
    assert.ok(lines.findIndex((l) => /^(BLOCKER|WARNING|NOTE) /.test(l)) > vmLine, r.out);
    assert.match(r.out, /^\s+CPU virtualization\s+FAIL\s+neither vmx nor svm/m);
    assert.match(r.out, /^\s+KVM \(\/dev\/kvm\)\s+FAIL/m);
    assert.match(r.out, /^\s+vfio modules\s+INFO\s+available, not loaded: vfio, vfio_iommu_type1, vfio_pci/m);
  });

  it('JSON: readiness.virtualMachine names KVM, its evidence, and exactly the physical function lspci names', async () => {
    const r = await run('survey', '--json', '--root', root);
    const doc = JSON.parse(r.out);
    const vm = doc.host.readiness.virtualMachine;
    assert.equal(vm.is, true);
    assert.equal(vm.hypervisor, 'KVM');
    assert.deepEqual(vm.passedThrough, physicalByLspci());
    // The cpuinfo line carries the flag, the kernel log the name: both are evidence.
    assert.ok(/\bhypervisor\b/.test(fixtureText(DIR, 'cpuinfo.txt')));
    assert.ok(vm.evidence.some((e: string) => /hypervisor" CPU flag/.test(e)));
    assert.ok(vm.evidence.some((e: string) => /Hypervisor detected: KVM/.test(e)));
    assert.equal(vm.emulated.length, 6);
    assert.equal(doc.host.readiness.cpu.status, 'fail');
    assert.deepEqual(doc.host.readiness.cpu.flags, ['hypervisor']);
  });

  it('the first fix of the IOMMU finding is a virtual IOMMU, and no fix says "firmware setup"', async () => {
    const doc = JSON.parse((await run('survey', '--json', '--root', root)).out);
    const absent = doc.host.findings.find((f: { code: string }) => f.code === 'IOMMU_ABSENT');
    assert.ok(absent, doc.host.findings.map((f: { code: string }) => f.code).join(' '));
    assert.match(absent.fixes[0].title, /virtual IOMMU/);
    assert.ok(absent.fixes[0].commands.some((c: string) => /-device intel-iommu,intremap=on,caching-mode=on/.test(c)));
    assert.ok(absent.fixes[0].commands.some((c: string) => /^qm set <vmid> -machine q35,viommu=intel$/.test(c)));
    for (const f of doc.host.findings) for (const x of f.fixes) assert.doesNotMatch(`${x.title} ${x.detail}`, /firmware setup/i, `${f.code}: ${x.title}`);
    const explain = await run('explain', '00:10.0', '--root', root);
    assert.match(explain.out, /IOMMU_ABSENT \(host\)[^\n]*\n(?:\s+·[^\n]*\n)*\s+1\. Give this virtual machine a virtual IOMMU/);
  });

  it('each readiness finding is emitted, with the guest-specific fix for missing vmx/svm', () => {
    const sv = runSurvey(buildHost(readLiveHost(root)));
    const codes = sv.hostFindings.map((f) => f.code);
    for (const c of ['HOST_IS_VIRTUAL_MACHINE', 'CPU_VIRTUALIZATION_MISSING', 'KVM_UNAVAILABLE', 'VFIO_NOT_LOADED'] as const) assert.ok(codes.includes(c), `${c} in ${codes}`);
    assert.ok(!codes.includes('VFIO_MODULES_MISSING'));
    assert.match(sv.hostFindings.find((f) => f.code === 'CPU_VIRTUALIZATION_MISSING')!.fixes[0]!.title, /nested virtualization/);
  });

  it('a kernel built without VFIO (its config says "# CONFIG_VFIO is not set") gives VFIO_MODULES_MISSING', () => {
    assert.match(fixtureText(DIR, 'kernel-config.txt'), /^# CONFIG_VFIO is not set$/m);
    const sv = runSurvey(buildHost(readLiveHost(guestTree({ moduleFiles: false, kernelConfig: true }))));
    const f = sv.hostFindings.find((x) => x.code === 'VFIO_MODULES_MISSING');
    assert.ok(f, sv.hostFindings.map((x) => x.code).join(' '));
    assert.match(f.message, /\bvfio\b/);
    assert.ok(f.evidence.some((e) => /CONFIG_VFIO=not set/.test(e)), f.evidence.join(' | '));
    assert.equal(sv.readiness.vfio.status, 'fail');
  });

  it('a VM with a virtual DMAR the kernel left off: the fix is its virtual IOMMU on the hypervisor, not the firmware setup', () => {
    // One fact changed: a real DMAR (Supermicro X10DAi) in the guest's ACPI tables, intel_iommu=on, no groups.
    const root = guestTree({ cmdline: `${CMDLINE} intel_iommu=on` });
    copyFileSync(fixture('dmar', 'supermicro-x10dai-4a64a6.dat'), join(root, 'sys/firmware/acpi/tables/DMAR'));
    const sv = runSurvey(buildHost(readLiveHost(root)));
    const f = sv.hostFindings.find((x) => x.code === 'IOMMU_DISABLED_BY_KERNEL');
    assert.ok(f, sv.hostFindings.map((x) => x.code).join(' '));
    assert.match(f.fixes[0]!.title, /virtual IOMMU on its hypervisor/);
    assert.ok(f.fixes[0]!.commands!.some((c) => /intel-iommu/.test(c)));
    assert.ok(!f.fixes.some((x) => /firmware setup/i.test(`${x.title} ${x.detail}`)));
  });

  it('a VM whose virtual DMAR has no interrupt remapping: turn it on in the virtual IOMMU (intremap=on), not in a firmware setup', () => {
    // iasl -d of this DMAR: "Flags : 00" (INTR_REMAP clear); one fact changed: it is in the guest's ACPI tables.
    const root = guestTree({ cmdline: `${CMDLINE} intel_iommu=on` });
    copyFileSync(fixture('dmar', 'supermicro-x8sil-40aecb.dat'), join(root, 'sys/firmware/acpi/tables/DMAR'));
    const sv = runSurvey(buildHost(readLiveHost(root)));
    const f = sv.hostFindings.find((x) => x.code === 'INTERRUPT_REMAPPING_ABSENT');
    assert.ok(f, sv.hostFindings.map((x) => x.code).join(' '));
    assert.match(f.fixes[0]!.title, /interrupt remapping in this VM's virtual IOMMU/);
    assert.ok(f.fixes[0]!.commands!.some((c) => /intremap=on/.test(c)));
    assert.ok(!f.fixes.some((x) => /firmware setup/i.test(`${x.title} ${x.detail}`)));
  });

  it('the kernel IOMMU mode is read from the command line (iommu=pt)', () => {
    const sv = runSurvey(buildHost(readLiveHost(guestTree({ cmdline: `${CMDLINE} intel_iommu=on iommu=pt` }))));
    assert.match(sv.readiness.iommu.mode ?? '', /^passthrough \(iommu=pt\).*; intel_iommu=on$/);
  });

  it('collect keeps exactly what readiness read: one CPU flags line, the "Hypervisor detected" line; its capture surveys the same', async () => {
    const flags = fixtureText(DIR, 'cpuinfo.txt');
    // A second CPU and a model line that must not leave the host.
    const tree = guestTree({ cpuinfo: `${flags.replace(/^processor.*\n/, 'processor\t: 0\nmodel name\t: Some CPU @ 2.00GHz\n')}\nprocessor\t: 1\n${flags.split('\n')[1]}\n` });
    const c = collect(tree, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' });
    const files = new Map(c.entries.filter((e) => e.type === 'file').map((e) => [e.path, Buffer.from(e.data!).toString('latin1')]));
    assert.equal(files.get('proc/cpuinfo'), `processor\t: 0\n${flags.split('\n')[1]}\n`);
    assert.match(files.get('var/log/dmesg') ?? '', /Hypervisor detected: KVM/);
    const dir = mkdtempSync(join(tmpdir(), 'assignable-guest-cap-'));
    const tgz = join(dir, 'guest.tar.gz');
    writeFileSync(tgz, gzipSync(writeTar(c.entries)));
    const fromTree = JSON.parse((await run('survey', '--json', '--root', tree)).out).host.readiness;
    const fromCapture = JSON.parse((await run('survey', '--json', '--capture', tgz)).out).host.readiness;
    assert.deepEqual(fromCapture, fromTree);
    assert.equal(fromCapture.virtualMachine.is, true);
  });
});

describe('not a virtual machine', () => {
  it('the DL380e Gen8 example (bare metal, no cpuinfo) never says VM; readiness it cannot know is unknown', async () => {
    const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
    const r = await run('survey', '--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt'));
    assert.doesNotMatch(r.out, /virtual machine\s+YES|HOST_IS_VIRTUAL_MACHINE/);
    assert.match(r.out, /not in this input: CPU virtualization, KVM \(\/dev\/kvm\), vfio modules, virtual machine/);
    const doc = JSON.parse((await run('survey', '--json', '--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt'))).out);
    assert.equal(doc.host.readiness.virtualMachine.is, null);
    assert.deepEqual(doc.host.readiness.virtualMachine.passedThrough, []);
    assert.equal(doc.host.readiness.cpu.status, 'unknown');
    // Its IOMMU advice stays the firmware's (no VM advice on bare metal).
    assert.ok(!doc.host.findings.some((f: { fixes: Array<{ title: string }> }) => f.fixes.some((x) => /virtual IOMMU/.test(x.title))));
  });

  it('a board tree whose CPU flags lack "hypervisor" (one fact changed: the guest line with vmx for it) is known not to be a VM', () => {
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: '6.8.0', cmdline: 'quiet intel_iommu=on' });
    put(root, 'proc/cpuinfo', fixtureText(DIR, 'cpuinfo.txt').replace(/ hypervisor\b/, '').replace(/^flags\t\t: /m, 'flags\t\t: vmx '));
    const sv = runSurvey(buildHost(readLiveHost(root)));
    assert.equal(sv.readiness.virtualMachine.is, false);
    assert.equal(sv.readiness.cpu.status, 'pass');
    assert.ok(!sv.hostFindings.some((f) => f.code === 'HOST_IS_VIRTUAL_MACHINE' || f.code === 'CPU_VIRTUALIZATION_MISSING'));
  });
});

describe('virtio alone does not outweigh the CPU flags', () => {
  it('bare metal (flags without "hypervisor") with a hardware virtio function, as a DPU presents, is not a VM; without the flags line the virtio function makes it one', () => {
    const board = functionsFromLspci(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'));
    const virtio = functionsFromLspci(DUMP).find((f) => f.address.device === 9)!;
    const facts = (cpuFlags?: string[]): HostFacts => ({ origin: { kind: 'capture', description: 't' }, functions: [...board, { ...virtio, address: { segment: 0, bus: 0x0a, device: 0, function: 0 } }], notes: [], ...(cpuFlags ? { cpuFlags } : {}) });
    assert.equal(virtualMachine(buildHost(facts(['vmx']))).is, false);
    assert.equal(virtualMachine(buildHost(facts())).is, true);
  });
});

describe('/dev/kvm on this machine', () => {
  it('the live reader opens it read-write exactly when the OS lets this process (access(2) is the oracle)', (t) => {
    if (!existsSync('/dev/kvm')) return t.skip('this machine has no /dev/kvm');
    if (!existsSync('/sys/bus/pci/devices')) return t.skip('no PCI sysfs here');
    let allowed = true;
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      allowed = false;
    }
    const kvm = readLiveHost('/').kvm;
    if (kvm === undefined) return t.skip('/sys/class/misc not readable here');
    assert.equal(kvm.state, allowed ? 'usable' : 'unusable', kvm.detail);
  });
});

describe('SMBIOS names the hypervisor', () => {
  it('QEMU / "Standard PC (Q35 + ICH9, 2009)" (a QEMU q35 guest\'s dmidecode type 1 record) is KVM/QEMU evidence', () => {
    const facts = readLiveHost(guestTree());
    facts.smbios = decodeDmidecodeText(readFileSync(fixture(DIR, 'qemu-q35.dmidecode.txt'), 'latin1'));
    facts.dmesg = '';
    const vm = virtualMachine(buildHost(facts));
    assert.equal(vm.is, true);
    assert.equal(vm.hypervisor, 'KVM/QEMU');
    assert.ok(vm.evidence.includes('SMBIOS system: QEMU / Standard PC (Q35 + ICH9, 2009)'), vm.evidence.join(' | '));
  });
});
