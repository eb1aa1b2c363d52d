/**
 * What the verdicts and advice claim (issue 7, points 19–22, 24): each case is a host tree or
 * capture built from real bytes (a pciutils dump, real DMAR tables), and each expectation is
 * the kernel's or the tool's documented behaviour stated beside it — never our own output.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { readBootFacts } from '../src/sources/boot.js';
import { treeFs } from '../src/sources/fs.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { validatedJson } from './json-schema.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), outBytes: (b) => void (out += Buffer.from(b).toString('latin1')) });
  return validatedJson({ code, out, err });
}

interface J {
  host: { findings: Array<{ code: string; message: string; evidence: string[]; fixes: Array<{ title: string; detail: string; commands?: string[] }> }> };
  devices: Array<{
    address: string;
    findings: Array<{ code: string; message: string; evidence: string[]; effects: Record<string, { effect: string; confidence: string; note?: string }> }>;
    verdicts: Record<'vfio' | 'dda' | 'esxi', { status: string; reasons: string[]; confidence: string }>;
    hidden: boolean;
  }>;
}
async function json(...args: string[]): Promise<{ code: number; j: J }> {
  const r = await run('survey', '--json', ...args);
  assert.ok(r.out.startsWith('{'), `exit ${r.code}: ${r.err}`);
  return { code: r.code, j: JSON.parse(r.out) as J };
}

const P6T6 = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
const P6T6_FILE = fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
/** iasl -d of this table says "Flags : 00" at offset 025h: INTR_REMAP (bit 0) is clear. */
const DMAR_NO_IR = fixture('dmar', 'supermicro-x8sil-40aecb.dat');
/** iasl -d says "Flags : 01": INTR_REMAP set. */
const DMAR_IR = fixture('dmar', 'supermicro-x10dai-4a64a6.dat');
const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];

function put(root: string, rel: string, text: string | Buffer = ''): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}
function ln(root: string, rel: string, target: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  symlinkSync(target, join(root, rel));
}
function tree(kernel: string, cmdline: string): string {
  return sysfsTreeFromDump(P6T6, { kernel, cmdline });
}

describe('19. interrupt remapping', () => {
  it('the fixture DMARs say what iasl says about INTR_REMAP', () => {
    assert.match(fixtureText('dmar', 'supermicro-x8sil-40aecb.dsl'), /^\[025h 0037 001h\] +Flags : 00$/m);
    assert.match(fixtureText('dmar', 'supermicro-x10dai-4a64a6.dsl'), /^\[025h 0037 001h\] +Flags : 01$/m);
  });

  // drivers/vfio/vfio_iommu_type1.c: without isolated MSI and without allow_unsafe_interrupts,
  // attaching a group fails with -EPERM ("No interrupt remapping support.  Use the module param
  // \"allow_unsafe_interrupts\" to enable VFIO IOMMU support on this platform").
  it('absent: vfio is blocked, with allow_unsafe_interrupts as a high-risk fix', async () => {
    const { j } = await json('--lspci', P6T6_FILE, '--dmar', DMAR_NO_IR, '--kernel', '6.8.0', '--cmdline', 'ro quiet intel_iommu=on');
    const f = j.host.findings.find((x) => x.code === 'INTERRUPT_REMAPPING_ABSENT');
    assert.ok(f, JSON.stringify(j.host.findings.map((x) => x.code)));
    const unsafe = f.fixes.find((x) => /unsafe/i.test(x.title))!;
    assert.ok(unsafe.commands?.some((c) => /allow_unsafe_interrupts=1/.test(c)));
    const gpu = j.devices.find((d) => d.address === '0000:06:00.0')!;
    assert.equal(gpu.verdicts.vfio.status, 'blocked');
    assert.ok(gpu.verdicts.vfio.reasons.includes('INTERRUPT_REMAPPING_ABSENT'));
  });

  it('present: no finding', async () => {
    const { j } = await json('--lspci', P6T6_FILE, '--dmar', DMAR_IR, '--kernel', '6.8.0');
    assert.ok(!j.host.findings.some((x) => x.code.startsWith('INTERRUPT_REMAPPING')));
  });

  it('allowed on the command line: a warning for vfio (another code), still blocked for Hyper-V', async () => {
    const { j } = await json('--lspci', P6T6_FILE, '--dmar', DMAR_NO_IR, '--kernel', '6.8.0', '--cmdline', 'ro vfio_iommu_type1.allow_unsafe_interrupts=1');
    assert.ok(!j.host.findings.some((x) => x.code === 'INTERRUPT_REMAPPING_ABSENT'));
    const f = j.host.findings.find((x) => x.code === 'INTERRUPT_REMAPPING_UNSAFE_ALLOWED')!;
    assert.ok(f.evidence.some((e) => /command line: vfio_iommu_type1\.allow_unsafe_interrupts=1/.test(e)));
    const gpu = j.devices.find((d) => d.address === '0000:06:00.0')!;
    assert.ok(!gpu.verdicts.vfio.reasons.includes('INTERRUPT_REMAPPING_ABSENT'));
    assert.notEqual(gpu.verdicts.vfio.status, 'blocked');
    assert.ok(gpu.verdicts.dda.reasons.includes('INTERRUPT_REMAPPING_UNSAFE_ALLOWED'));
  });

  it('allowed by the loaded module (sysfs parameter Y) on a host tree', async () => {
    const root = tree('6.8.0', 'ro quiet');
    put(root, 'sys/firmware/acpi/tables/DMAR');
    copyFileSync(DMAR_NO_IR, join(root, 'sys/firmware/acpi/tables/DMAR'));
    put(root, 'sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y\n');
    const { j } = await json('--root', root);
    const f = j.host.findings.find((x) => x.code === 'INTERRUPT_REMAPPING_UNSAFE_ALLOWED')!;
    assert.ok(f.evidence.some((e) => /allow_unsafe_interrupts = Y/.test(e)));
    // N from the module wins over nothing on the command line: absent again.
    put(root, 'sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'N\n');
    const again = await json('--root', root);
    assert.ok(again.j.host.findings.some((x) => x.code === 'INTERRUPT_REMAPPING_ABSENT'));
    rmSync(root, { recursive: true, force: true });
  });

  it('banner, rows and explain agree per target: no ✗ under a "warnings" verdict', async () => {
    const args = ['--lspci', P6T6_FILE, '--dmar', DMAR_NO_IR, '--kernel', '6.8.0', '--cmdline', 'ro vfio_iommu_type1.allow_unsafe_interrupts=1'];
    const s = await run('survey', ...args);
    assert.match(s.out, /^WARNING INTERRUPT_REMAPPING_UNSAFE_ALLOWED:/m);
    assert.doesNotMatch(s.out, /^BLOCKER INTERRUPT_REMAPPING/m);
    const dda = await run('survey', '--target', 'dda', ...args);
    assert.match(dda.out, /^BLOCKER INTERRUPT_REMAPPING_UNSAFE_ALLOWED:/m);
    // The Realtek NIC at 07:00.0: a PCIe endpoint with MSI; for vfio only warnings.
    const row = /^0000:07:00\.0 .* (assignable|warnings|blocked) /m.exec(s.out)!;
    assert.equal(row[1], 'warnings');
    const e = await run('explain', '07:00.0', ...args);
    assert.match(e.out, /verdicts: vfio warnings/);
    assert.doesNotMatch(e.out, /✗/);
    assert.match(e.out, /INTERRUPT_REMAPPING_UNSAFE_ALLOWED \(host\) \[vfio warn · dda block · esxi warn\]/);
    const ed = await run('explain', '07:00.0', '--target', 'dda', ...args);
    assert.match(ed.out, /✗ INTERRUPT_REMAPPING_UNSAFE_ALLOWED/);
  });
});

describe('20. IOMMU disabled by the kernel: the advice reads what it quotes', () => {
  /** A host tree whose firmware has a DMAR but whose kernel made no IOMMU groups. */
  function disabledHost(cmdline: string, release = '6.8.12-4-pve'): string {
    const root = tree(release, cmdline);
    put(root, 'sys/firmware/acpi/tables/DMAR');
    copyFileSync(DMAR_IR, join(root, 'sys/firmware/acpi/tables/DMAR'));
    mkdirSync(join(root, 'sys/kernel/iommu_groups'), { recursive: true });
    return root;
  }
  const disabled = (j: J) => j.host.findings.find((f) => f.code === 'IOMMU_DISABLED_BY_KERNEL')!;

  it('never "add intel_iommu=on" when the command line has it', async () => {
    const root = disabledHost('BOOT_IMAGE=/boot/vmlinuz root=/dev/sda2 ro intel_iommu=on iommu=pt');
    const { j } = await json('--root', root);
    const f = disabled(j);
    assert.ok(f, 'finding');
    assert.ok(!f.fixes.some((x) => /Add intel_iommu=on/.test(x.title)), JSON.stringify(f.fixes));
    assert.ok(f.fixes.some((x) => /already has intel_iommu=on/.test(x.detail)));
    rmSync(root, { recursive: true, force: true });
  });

  it('no claim about build options it has not read; quotes /boot/config-<release> when it has', async () => {
    const root = disabledHost('ro quiet');
    const { j } = await json('--root', root);
    const fix = disabled(j).fixes[0]!;
    assert.match(fix.title, /Add intel_iommu=on/);
    assert.doesNotMatch(fix.detail, /sets CONFIG_INTEL_IOMMU_DEFAULT_ON=n/);
    assert.match(fix.detail, /unknown .*\/boot\/config-6\.8\.12-4-pve/);
    put(root, 'boot/config-6.8.12-4-pve', 'CONFIG_INTEL_IOMMU=y\n# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\nCONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n');
    const read = await json('--root', root);
    const f = disabled(read.j);
    assert.match(f.fixes[0]!.detail, /\/boot\/config-6\.8\.12-4-pve has CONFIG_INTEL_IOMMU_DEFAULT_ON not set/);
    assert.ok(f.evidence.includes('/boot/config-6.8.12-4-pve: # CONFIG_INTEL_IOMMU_DEFAULT_ON is not set'));
    assert.ok(f.evidence.includes('/boot/config-6.8.12-4-pve: CONFIG_IOMMU_DEFAULT_DMA_LAZY=y'));
    // Default-on build: the option is not the cause, so it is not the advice.
    put(root, 'boot/config-6.8.12-4-pve', 'CONFIG_INTEL_IOMMU=y\nCONFIG_INTEL_IOMMU_DEFAULT_ON=y\n');
    const on = disabled((await json('--root', root)).j);
    assert.ok(!on.fixes.some((x) => /Add intel_iommu=on/.test(x.title)));
    rmSync(root, { recursive: true, force: true });
  });

  it('systemd-boot with proxmox-boot-tool (EFI + /etc/kernel/cmdline): only its command', async () => {
    const root = disabledHost('ro quiet');
    put(root, 'etc/kernel/cmdline', 'root=ZFS=rpool/ROOT/pve-1 boot=zfs\n');
    mkdirSync(join(root, 'sys/firmware/efi/efivars'), { recursive: true });
    put(root, 'usr/sbin/proxmox-boot-tool', '#!/bin/sh\n');
    put(root, 'etc/kernel/proxmox-boot-uuids', 'ABCD-1234\n');
    put(root, 'etc/default/grub', 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n');
    const cmds = disabled((await json('--root', root)).j).fixes[0]!.commands!.join('\n');
    assert.match(cmds, /proxmox-boot-tool refresh/);
    assert.doesNotMatch(cmds, /update-grub/);
    rmSync(root, { recursive: true, force: true });
  });

  it('GRUB (no /etc/kernel/cmdline, or not EFI): only update-grub', async () => {
    const root = disabledHost('ro quiet');
    put(root, 'etc/default/grub', 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n');
    put(root, 'etc/kernel/cmdline', 'root=/dev/sda2\n'); // present, but a legacy (non-EFI) boot
    const fix = disabled((await json('--root', root)).j).fixes[0]!;
    assert.match(fix.commands!.join('\n'), /update-grub/);
    assert.doesNotMatch(fix.commands!.join('\n'), /proxmox-boot-tool|kernel\/cmdline/);
    assert.match(fix.detail, /boots with GRUB/);
    rmSync(root, { recursive: true, force: true });
  });

  it('from loose files the bootloader is unknown: both, labelled', async () => {
    const e = await run('explain', '05:00.0', ...DL380E, '--kernel', '6.8.12-4-pve');
    assert.match(e.out, /bootloader is unknown/);
    assert.match(e.out, /update-grub/);
    assert.match(e.out, /proxmox-boot-tool refresh/);
  });
});

describe('21. the boot disk through ZFS, LVM, md and dm-crypt', () => {
  // Disks of the fake host: sda on the ICH10 AHCI controller, sdb on the LSI SAS2008 HBA.
  const SDA = '../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda';
  const SDB = '../../devices/pci0000:00/0000:00:03.0/0000:04:00.0/host1/port-1:0/end_device-1:0/target1:0:0/1:0:0:0/block/sdb';
  function disks(root: string): void {
    ln(root, 'sys/class/block/sda3', `${SDA}/sda3`);
    ln(root, 'sys/class/block/sdb3', `${SDB}/sdb3`);
    ln(root, 'dev/disk/by-id/ata-ST1000-A-part3', '../../sda3');
    ln(root, 'dev/disk/by-id/scsi-35000c500-B-part3', '../../sdb3');
  }
  const codesOf = (j: J, a: string) => j.devices.find((d) => d.address === a)!.findings.map((f) => f.code);

  // Proxmox VE's default ZFS install: rpool mirrored over two disks, / is rpool/ROOT/pve-1.
  const ZPOOL = `  pool: rpool
 state: ONLINE
config:

\tNAME                                      STATE     READ WRITE CKSUM
\trpool                                     ONLINE       0     0     0
\t  mirror-0                                ONLINE       0     0     0
\t    /dev/disk/by-id/ata-ST1000-A-part3     ONLINE       0     0     0
\t    /dev/disk/by-id/scsi-35000c500-B-part3 ONLINE       0     0     0

errors: No known data errors
`;
  it('Proxmox ZFS mirror (rpool/ROOT/pve-1): both controllers hold the root', async () => {
    const root = tree('6.8.12-4-pve', 'root=ZFS=rpool/ROOT/pve-1 boot=zfs');
    disks(root);
    put(root, 'proc/mounts', 'rpool/ROOT/pve-1 / zfs rw,relatime,xattr,noacl,casesensitive 0 0\nrpool /rpool zfs rw 0 0\n');
    put(root, 'zpool-status-P.txt', ZPOOL);
    const { j } = await json('--root', root);
    for (const a of ['0000:00:1f.2', '0000:04:00.0']) {
      assert.ok(codesOf(j, a).includes('HOST_BOOT_DISK'), `${a}: ${codesOf(j, a)}`);
      assert.ok(!codesOf(j, a).includes('HOST_BOOT_DISK_UNKNOWN'));
      assert.equal(j.devices.find((d) => d.address === a)!.verdicts.vfio.status, 'blocked');
    }
    const ev = j.devices.find((d) => d.address === '0000:04:00.0')!.findings.find((f) => f.code === 'HOST_BOOT_DISK')!.evidence;
    assert.ok(ev.some((e) => /rpool\/ROOT\/pve-1 \(zfs\)/.test(e)));
    assert.ok(ev.some((e) => /sdb3 → 0000:04:00\.0/.test(e)));
    rmSync(root, { recursive: true, force: true });
  });

  it('ZFS without zpool status: "boot disk unknown" on every storage controller, never silence', async () => {
    const root = tree('6.8.12-4-pve', 'root=ZFS=rpool/ROOT/pve-1 boot=zfs');
    disks(root);
    put(root, 'proc/mounts', 'rpool/ROOT/pve-1 / zfs rw 0 0\n');
    const { j } = await json('--root', root);
    for (const a of ['0000:00:1f.2', '0000:04:00.0']) {
      const f = j.devices.find((d) => d.address === a)!.findings.find((x) => x.code === 'HOST_BOOT_DISK_UNKNOWN');
      assert.ok(f, a);
      assert.match(f.message, /ZFS pool rpool/);
    }
    // Not a storage controller: no such finding.
    assert.ok(!codesOf(j, '0000:06:00.0').includes('HOST_BOOT_DISK_UNKNOWN'));
    rmSync(root, { recursive: true, force: true });
  });

  it('LVM on dm-crypt on md RAID1 (slaves, then md/dev-*/block)', async () => {
    const root = tree('6.1.0-18-amd64', 'root=/dev/mapper/vg-root ro');
    disks(root);
    put(root, 'proc/mounts', '/dev/mapper/vg-root / ext4 rw,relatime 0 0\n');
    ln(root, 'dev/mapper/vg-root', '../dm-1');
    // dm-1 (LVM) on dm-0 (dm-crypt) on md0; md0 lists its members only under md/dev-*.
    ln(root, 'sys/class/block/dm-1', '../../devices/virtual/block/dm-1');
    ln(root, 'sys/devices/virtual/block/dm-1/slaves/dm-0', '../../dm-0');
    ln(root, 'sys/class/block/dm-0', '../../devices/virtual/block/dm-0');
    ln(root, 'sys/devices/virtual/block/dm-0/slaves/md0', '../../md0');
    ln(root, 'sys/class/block/md0', '../../devices/virtual/block/md0');
    mkdirSync(join(root, 'sys/devices/virtual/block/md0/md'), { recursive: true });
    ln(root, 'sys/block/md0', '../devices/virtual/block/md0');
    ln(root, 'sys/devices/virtual/block/md0/md/dev-sda3/block', `../../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda3`);
    ln(root, 'sys/devices/virtual/block/md0/md/dev-sdb3/block', `../../../../../pci0000:00/0000:00:03.0/0000:04:00.0/host1/block/sdb/sdb3`);
    const { j } = await json('--root', root);
    for (const a of ['0000:00:1f.2', '0000:04:00.0']) assert.ok(codesOf(j, a).includes('HOST_BOOT_DISK'), `${a}: ${codesOf(j, a)}`);
    rmSync(root, { recursive: true, force: true });
  });

  it('loose files (no mount table): boot disk unknown', async () => {
    const { j } = await json('--lspci', P6T6_FILE, '--kernel', '6.8.0');
    assert.ok(codesOf(j, '0000:04:00.0').includes('HOST_BOOT_DISK_UNKNOWN'));
  });
});

describe('22. ESXi and firmware-reserved memory: believed, not sourced', () => {
  it('the JSON effects carry the confidence and the reason; text says believed', async () => {
    const { j } = await json(...DL380E, '--kernel', '6.8.12-4-pve');
    const d = j.devices.find((x) => x.address === '0000:05:00.0')!;
    const f = d.findings.find((x) => x.code === 'RMRR_DIRECT')!;
    assert.deepEqual({ effect: f.effects.vfio!.effect, confidence: f.effects.vfio!.confidence }, { effect: 'block', confidence: 'documented' });
    assert.equal(f.effects.esxi!.confidence, 'believed');
    assert.match(f.effects.esxi!.note!, /no VMware document/);
    // Not "assignable" on a belief: the ESXi verdict warns and says why.
    assert.notEqual(d.verdicts.esxi.status, 'assignable');
    assert.equal(d.verdicts.esxi.confidence, 'believed');
    const e = await run('explain', '05:00.0', '--target', 'esxi', ...DL380E);
    assert.match(e.out, /esxi: believed, not sourced/);
    assert.doesNotMatch(e.out, /ESXi DirectPath I\/O does not enforce RMRRs\./);
  });
});

describe('24. survey exit status for scripts', () => {
  it('--all shows bridges (blocked) but they do not make the host "blocked"', async () => {
    const plain = await run('survey', '--lspci', P6T6_FILE, '--kernel', '6.8.0');
    const all = await run('survey', '--all', '--lspci', P6T6_FILE, '--kernel', '6.8.0');
    assert.equal(plain.code, EXIT.OK);
    assert.match(all.out, /^0000:00:03\.0 .* blocked +BRIDGE/m);
    assert.equal(all.code, EXIT.OK);
  });

  it('--device: exit 1 when that device is blocked, 0 when not, 2 when nothing matches', async () => {
    assert.equal((await run('survey', '--device', '05:00.0', ...DL380E)).code, EXIT.BLOCKED);
    const usb = await run('survey', '--device', '00:1d.0', ...DL380E, '--kernel', '5.15.0');
    assert.equal(usb.code, EXIT.OK, usb.out);
    assert.match(usb.out, /^1 device\(s\)/m);
    assert.equal((await run('survey', '--device', 'frobnicator', ...DL380E)).code, EXIT.INPUT);
  });

  it('--class by hex and by name (PCI class codes: 03 display, 0c03 USB)', async () => {
    const { j } = await json('--class', 'gpu', '--lspci', P6T6_FILE, '--kernel', '6.8.0');
    assert.deepEqual(j.devices.map((d) => d.address), ['0000:06:00.0']);
    const usb = await json('--class', '0c03', '--lspci', P6T6_FILE, '--kernel', '6.8.0');
    assert.deepEqual(usb.j.devices.map((d) => d.address), ['0000:00:1a.0', '0000:00:1a.1', '0000:00:1a.2', '0000:00:1a.7', '0000:00:1d.0', '0000:00:1d.1', '0000:00:1d.2', '0000:00:1d.7']);
    assert.equal((await run('survey', '--class', 'banana', '--lspci', P6T6_FILE)).code, EXIT.INPUT);
  });
});

describe('20. kernel command-line fixes quote what is there', () => {
  it('relax_rmrr with intel_iommu=on already set: "Change", never a second "Add"', async () => {
    const e = await run('explain', '05:00.0', ...DL380E, '--kernel', '6.8.12-4-pve', '--cmdline', 'ro quiet intel_iommu=on iommu=pt');
    assert.match(e.out, /Change intel_iommu=on to intel_iommu=on,relax_rmrr on the kernel command line/);
    assert.doesNotMatch(e.out, /Add intel_iommu=on/);
  });
});

describe('sysfs attributes are read, not judged by their stat size', () => {
  // Every sysfs attribute reports st_size 4096 whatever it holds (fs/sysfs/file.c), so a reader
  // that checks the size first never reads allow_unsafe_interrupts on a real host.
  it('allow_unsafe_interrupts = Y through an Fs whose files all stat as 4096 bytes', () => {
    const root = tree('6.8.12-4-pve', 'ro quiet');
    try {
      put(root, 'sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts', 'Y\n');
      const t = treeFs(root);
      const sysfsLike = { ...t, statSync: (p: string) => ({ ...t.statSync(p), size: 4096 }) };
      assert.equal(readBootFacts(sysfsLike, root, '6.8.12-4-pve').vfioAllowUnsafeInterrupts, true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
