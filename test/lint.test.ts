/**
 * `assignable lint` on trees built from real guide configurations (test/fixtures/lint, sources in
 * test/fixtures/SOURCES.md) laid over a real host tree (the ASUS P6T6 pciutils dump, built by
 * test/sysfs-tree.ts). The expectations come from outside our code: the line of each stale setting
 * is found by searching the fixture file's text, the devices' ids from the pciutils lspci output,
 * what GRUB really passes from bash sourcing the files as grub-mkconfig does, the kernel behaviour
 * from the kernel sources named in docs/verdicts.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINT_CODES, type LintCode } from '../src/checks/lint.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { main } from './main-validated.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const P6T6_DUMP = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
/** lspci -nn of the same machine (pciutils' own output): the oracle for the devices' ids. */
const P6T6_LSPCI = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.lspci313-vvvnn.txt');
const lspciId = (addr: string) => new RegExp(`^${addr.slice(5)} .*\\[([0-9a-f]{4}:[0-9a-f]{4})\\]`, 'm').exec(P6T6_LSPCI)![1]!;

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface TreeOptions {
  kernel?: string;
  cmdline?: string;
  /** Guide folders of test/fixtures/lint laid over the tree, in order. */
  guides?: string[];
  /** boot_vga=1 on this function. */
  console?: string;
  /** driver links: address → driver. */
  drivers?: Record<string, string>;
  /** The default route leaves through this function (enp7s0 style interface). */
  routeVia?: string;
  /** A real DMAR (test/fixtures/dmar) as the firmware's table. */
  dmar?: string;
  /** An EFI boot with /etc/kernel/cmdline and proxmox-boot-tool: systemd-boot. */
  systemdBoot?: string;
  /** Extra files: path under the root → content. */
  files?: Record<string, string | Uint8Array>;
}

/** The GRUB_CMDLINE_LINUX(_DEFAULT) values of the tree's /etc/default/grub, read here by a regex of the test's own. */
function grubValues(root: string): string {
  let text = '';
  try {
    text = readFileSync(join(root, 'etc/default/grub'), 'utf8');
  } catch {
    return 'quiet';
  }
  return [...text.matchAll(/^GRUB_CMDLINE_LINUX(?:_DEFAULT)?=(?:"([^"]*)"|'([^']*)')/gm)].map((m) => m[1] ?? m[2]).join(' ');
}

function tree(o: TreeOptions): string {
  const root = sysfsTreeFromDump(P6T6_DUMP, { kernel: o.kernel ?? '6.8.12-4-pve', cmdline: o.cmdline ?? 'BOOT_IMAGE=/boot/vmlinuz root=/dev/mapper/pve-root ro quiet' });
  made.push(root);
  for (const g of o.guides ?? []) cpSync(fixture('lint', g), root, { recursive: true });
  const dev = (a: string) => join(root, 'sys/bus/pci/devices', a);
  if (o.console) writeFileSync(join(dev(o.console), 'boot_vga'), '1\n');
  for (const [a, drv] of Object.entries(o.drivers ?? {})) symlinkSync(`../../../bus/pci/drivers/${drv}`, join(dev(a), 'driver'));
  if (o.routeVia) {
    mkdirSync(join(root, 'proc/net'), { recursive: true });
    writeFileSync(join(root, 'proc/net/route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nenp7s0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n');
    mkdirSync(join(root, 'sys/class/net'), { recursive: true });
    symlinkSync(`../../devices/pci0000:00/0000:00:1c.2/${o.routeVia}/net/enp7s0`, join(root, 'sys/class/net/enp7s0'));
  }
  if (o.dmar) {
    mkdirSync(join(root, 'sys/firmware/acpi/tables'), { recursive: true });
    copyFileSync(fixture('dmar', o.dmar), join(root, 'sys/firmware/acpi/tables/DMAR'));
  }
  if (o.systemdBoot !== undefined) {
    mkdirSync(join(root, 'sys/firmware/efi'), { recursive: true });
    mkdirSync(join(root, 'etc/kernel'), { recursive: true });
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, 'etc/kernel/cmdline'), o.systemdBoot);
    writeFileSync(join(root, 'usr/sbin/proxmox-boot-tool'), '#!/bin/sh\n');
    writeFileSync(join(root, 'etc/kernel/proxmox-boot-uuids'), 'ABCD-1234\n');
  }
  for (const [p, content] of Object.entries(o.files ?? {})) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  // Unless a test says otherwise, the host was rebooted after the edit: it runs with what its boot file says.
  if (o.cmdline === undefined) writeFileSync(join(root, 'proc/cmdline'), `BOOT_IMAGE=/boot/vmlinuz-${o.kernel ?? '6.8.12-4-pve'} ro ${o.systemdBoot ?? grubValues(root)}\n`);
  return root;
}

interface Item {
  code: LintCode;
  file: string;
  line: number;
  text: string;
  certain: boolean;
  message: string;
  fix: string;
}
interface Doc {
  files: string[] | null;
  findings: Item[];
  unknown: string[];
  notes: Array<{ code: string; message: string }>;
  bootloader: string | null;
}

const seen = new Set<LintCode>();

async function lint(...args: string[]): Promise<{ code: number; doc: Doc; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['lint', ...args, '--json'], { out: (s) => void (out += s), err: (s) => void (err += s) });
  const doc = (out ? JSON.parse(out) : { findings: [] }) as Doc;
  for (const f of doc.findings) seen.add(f.code);
  return { code, doc, err };
}

async function text(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** The 1-based line of the fixture file (as laid in the tree) holding `needle`: searched, not known. */
function lineOf(root: string, file: string, needle: string): number {
  const i = readFileSync(join(root, file), 'utf8').split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} in ${file}`);
  return i + 1;
}

function only(doc: Doc, code: LintCode): Item[] {
  return doc.findings.filter((f) => f.code === code);
}

describe('lint: trees from real guides', () => {
  it('scottkey.dev (Proxmox, Intel) on a 6.8 Proxmox kernel: vfio_virqfd and intel_iommu=on, each at its line; nouveau blacklisted under the console GPU', async () => {
    const root = tree({ guides: ['scottkey-proxmox'], console: '0000:06:00.0', drivers: { '0000:06:00.0': 'nouveau' } });
    const { code, doc } = await lint('--root', root);
    assert.equal(code, 1);
    const [virqfd] = only(doc, 'LINT_VFIO_VIRQFD');
    assert.deepEqual([virqfd?.file, virqfd?.line, virqfd?.certain], ['/etc/modules', lineOf(root, 'etc/modules', 'vfio_virqfd'), true]);
    const [intel] = only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT');
    assert.deepEqual([intel?.file, intel?.line, intel?.certain], ['/etc/default/grub', lineOf(root, 'etc/default/grub', 'intel_iommu=on'), true]);
    assert.match(intel!.message, /6\.8/);
    // The guide's ids (an RTX 3090, 10de:2204/10de:1aef) are on no device of this host: nothing to say.
    assert.equal(only(doc, 'LINT_VFIO_IDS_HOST_DEVICE').length, 0);
    const [bl] = only(doc, 'LINT_BLACKLIST_HOST_DRIVER');
    assert.deepEqual([bl?.file, bl?.line], ['/etc/modprobe.d/blacklist.conf', lineOf(root, 'etc/modprobe.d/blacklist.conf', 'blacklist nouveau')]);
    assert.match(bl!.message, /0000:06:00\.0/);
    // `blacklist nvidia` names no driver in use here.
    assert.equal(doc.findings.filter((f) => f.text.includes('nvidia')).length, 0);
    assert.equal(doc.findings.length, 3, doc.findings.map((f) => f.code).join(' '));
  });

  it('the same guide on a 6.1 kernel: vfio_virqfd still exists there (merged in 6.2), so it is not stale', async () => {
    const root = tree({ guides: ['scottkey-proxmox'], kernel: '6.1.0-18-amd64' });
    const { doc } = await lint('--root', root);
    assert.equal(only(doc, 'LINT_VFIO_VIRQFD').length, 0);
  });

  it('Master449 (Ubuntu, AMD): amd_iommu=on is no option, iommu=1 is a GART size — both on the one GRUB line', async () => {
    const root = tree({ guides: ['master449-ubuntu-amd'], kernel: '6.8.0-45-generic' });
    const { code, doc } = await lint('--root', root);
    assert.equal(code, 1);
    const line = lineOf(root, 'etc/default/grub', 'amd_iommu=on');
    assert.deepEqual(only(doc, 'LINT_AMD_IOMMU_ON').map((f) => [f.file, f.line, f.certain]), [['/etc/default/grub', line, true]]);
    assert.deepEqual(only(doc, 'LINT_IOMMU_1').map((f) => [f.file, f.line]), [['/etc/default/grub', line]]);
    assert.match(only(doc, 'LINT_AMD_IOMMU_ON')[0]!.message, /Unknown option - 'on'/);
    // iommu=pt on the same line is a real option: not reported.
    assert.ok(!doc.findings.some((f) => /iommu=pt:/.test(f.message)));
  });

  it('amrzs.net (Proxmox 8.2, N100): on its own 6.8.4-2-pve kernel the ACS override is patched in, intel_iommu=on is stale', async () => {
    const root = tree({ guides: ['amrzs-pve-n100'], kernel: '6.8.4-2-pve' });
    const { doc } = await lint('--root', root);
    assert.equal(only(doc, 'LINT_ACS_OVERRIDE_UNPATCHED').length, 0);
    assert.deepEqual(only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').map((f) => [f.line, f.certain]), [[lineOf(root, 'etc/default/grub', 'intel_iommu=on'), true]]);
  });

  it('the same line on a stock Ubuntu kernel: pcie_acs_override is ignored there; intel_iommu=on is only "may be" (build config not read)', async () => {
    const root = tree({ guides: ['amrzs-pve-n100'], kernel: '6.8.0-45-generic' });
    const { code, doc } = await lint('--root', root);
    assert.equal(code, 1);
    const line = lineOf(root, 'etc/default/grub', 'pcie_acs_override');
    assert.deepEqual(only(doc, 'LINT_ACS_OVERRIDE_UNPATCHED').map((f) => [f.file, f.line, f.certain]), [['/etc/default/grub', line, true]]);
    assert.deepEqual(only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').map((f) => f.certain), [false]);
    assert.match(only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT')[0]!.message, /unknown/);
  });

  it('with the kernel build config read: CONFIG_INTEL_IOMMU_DEFAULT_ON=y makes intel_iommu=on certain-stale; "is not set" makes it needed', async () => {
    const on = tree({ guides: ['amrzs-pve-n100'], kernel: '6.8.0-45-generic', files: { 'boot/config-6.8.0-45-generic': 'CONFIG_INTEL_IOMMU=y\nCONFIG_INTEL_IOMMU_DEFAULT_ON=y\n' } });
    assert.deepEqual(only((await lint('--root', on)).doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').map((f) => f.certain), [true]);
    const off = tree({ guides: ['amrzs-pve-n100'], kernel: '6.8.0-45-generic', files: { 'boot/config-6.8.0-45-generic': 'CONFIG_INTEL_IOMMU=y\n# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n' } });
    assert.equal(only((await lint('--root', off)).doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').length, 0);
  });

  it('Unicorn-OS (Manjaro): the single-quoted GRUB line is read; its vfio-pci.ids name no device here', async () => {
    const root = tree({ guides: ['unicorn-manjaro'], kernel: '6.6.10-1-MANJARO' });
    const { doc } = await lint('--root', root);
    assert.deepEqual(only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').map((f) => f.line), [lineOf(root, 'etc/default/grub', 'vfio-pci.ids')]);
    assert.equal(only(doc, 'LINT_VFIO_IDS_HOST_DEVICE').length, 0);
  });

  it('vfio-pci ids that also take the NIC of the default route (two RTL8111 with one id): at the ids line, naming the host NIC', async () => {
    const id = lspciId('0000:07:00.0');
    assert.equal(id, lspciId('0000:08:00.0'), 'the two NICs share one vendor:device (pciutils says so)');
    const root = tree({ guides: ['clean-proxmox'], routeVia: '0000:07:00.0', files: { 'etc/modprobe.d/vfio.conf': `options vfio-pci ids=${id}\n` } });
    const { code, doc } = await lint('--root', root);
    assert.equal(code, 1);
    const items = only(doc, 'LINT_VFIO_IDS_HOST_DEVICE');
    assert.deepEqual(items.map((f) => [f.file, f.line, f.certain]), [['/etc/modprobe.d/vfio.conf', 1, true]]);
    assert.match(items[0]!.message, /0000:07:00\.0/);
    assert.doesNotMatch(items[0]!.message, /0000:08:00\.0/);
  });

  it('the same id on the kernel command line (vfio-pci.ids=, as the Unicorn-OS guide writes it) is found in GRUB too', async () => {
    const id = lspciId('0000:07:00.0');
    const root = tree({ routeVia: '0000:07:00.0', files: { 'etc/default/grub': `GRUB_CMDLINE_LINUX_DEFAULT='quiet iommu=pt vfio-pci.ids=${id}'\n` } });
    const { doc } = await lint('--root', root);
    assert.deepEqual(only(doc, 'LINT_VFIO_IDS_HOST_DEVICE').map((f) => [f.file, f.line]), [['/etc/default/grub', 1]]);
  });

  it('a storage controller in the ids while the root disk is unknown: "may be", not certain', async () => {
    const id = lspciId('0000:04:00.0');
    const root = tree({ files: { 'etc/modprobe.d/vfio.conf': `options vfio_pci ids=${id}\n` } });
    const { code, doc } = await lint('--root', root);
    assert.deepEqual(only(doc, 'LINT_VFIO_IDS_HOST_DEVICE').map((f) => f.certain), [false]);
    assert.equal(code, 0, 'only uncertain items: exit 0');
  });

  it('Proxmox wiki allow_unsafe_interrupts: stale where the DMAR has INTR_REMAP, "may be" without tables, silent where remapping is absent', async () => {
    // iasl -d: supermicro-x10dai "Flags : 01" (INTR_REMAP), supermicro-x8sil "Flags : 00" (test/findings.test.ts).
    const ir = tree({ guides: ['proxmox-wiki-unsafe'], dmar: 'supermicro-x10dai-4a64a6.dat' });
    const a = await lint('--root', ir);
    assert.deepEqual(only(a.doc, 'LINT_UNSAFE_INTERRUPTS_NOT_NEEDED').map((f) => [f.file, f.line, f.certain]), [['/etc/modprobe.d/iommu_unsafe_interrupts.conf', 1, true]]);
    assert.equal(a.code, 1);
    const unknown = tree({ guides: ['proxmox-wiki-unsafe'] });
    assert.deepEqual(only((await lint('--root', unknown)).doc, 'LINT_UNSAFE_INTERRUPTS_NOT_NEEDED').map((f) => f.certain), [false]);
    const noIr = tree({ guides: ['proxmox-wiki-unsafe'], dmar: 'supermicro-x8sil-40aecb.dat' });
    assert.equal(only((await lint('--root', noIr)).doc, 'LINT_UNSAFE_INTERRUPTS_NOT_NEEDED').length, 0);
  });

  it('a Proxmox host booting with systemd-boot: the guide\'s GRUB line is dead configuration', async () => {
    const root = tree({ guides: ['scottkey-proxmox'], systemdBoot: 'root=ZFS=rpool/ROOT/pve-1 boot=zfs\n' });
    const { doc } = await lint('--root', root);
    assert.equal(doc.bootloader, 'systemd-boot');
    const dead = only(doc, 'LINT_DEAD_BOOT_CONFIG');
    assert.deepEqual(dead.map((f) => [f.file, f.line]), [['/etc/default/grub', lineOf(root, 'etc/default/grub', 'intel_iommu=on')]]);
    assert.match(dead[0]!.message, /intel_iommu=on iommu=pt/);
    // Dead options are reported as dead, not linted one by one as if live.
    assert.equal(only(doc, 'LINT_INTEL_IOMMU_ON_DEFAULT').length, 0);
  });

  it('a GRUB host with options in /etc/kernel/cmdline: that file is dead there', async () => {
    const root = tree({ guides: ['clean-proxmox'], files: { 'etc/kernel/cmdline': 'root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on\n' } });
    const { doc } = await lint('--root', root);
    assert.equal(doc.bootloader, 'grub');
    assert.deepEqual(only(doc, 'LINT_DEAD_BOOT_CONFIG').map((f) => [f.file, f.line]), [['/etc/kernel/cmdline', 1]]);
  });

  it('bootloader unknown (a copied /etc alone, no sysfs) and the two files disagree: a conflict, said as such', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-lint-etc-'));
    made.push(dir);
    cpSync(fixture('lint', 'scottkey-proxmox'), dir, { recursive: true });
    mkdirSync(join(dir, 'etc/kernel'), { recursive: true });
    writeFileSync(join(dir, 'etc/kernel/cmdline'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet iommu=pt\n');
    const { code, doc } = await lint('--root', dir);
    assert.equal(doc.bootloader, null);
    const [c] = only(doc, 'LINT_BOOT_CONFIG_CONFLICT');
    assert.deepEqual([c?.file, c?.line, c?.certain], ['/etc/kernel/cmdline', 1, true]);
    assert.match(c!.message, /only in GRUB: intel_iommu=on/);
    // No sysfs, no kernel release: said, and version-dependent items are only "may be".
    assert.ok(doc.unknown.some((u) => /PCI devices/.test(u)));
    assert.ok(doc.unknown.some((u) => /kernel release/.test(u)));
    assert.deepEqual(only(doc, 'LINT_VFIO_VIRQFD').map((f) => f.certain), [false]);
    assert.equal(code, 1);
  });

  it('GRUB line replaced by a later /etc/default/grub.d/*.cfg: the earlier options never reach the kernel (bash, sourcing as grub-mkconfig does, agrees)', async (t) => {
    const root = tree({ guides: ['scottkey-proxmox'], files: { 'etc/default/grub.d/50-cloudimg-settings.cfg': '# set by the image\nGRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\n' } });
    const { doc } = await lint('--root', root);
    const items = only(doc, 'LINT_GRUB_OVERRIDDEN');
    assert.deepEqual(items.map((f) => [f.file, f.line]), [['/etc/default/grub', lineOf(root, 'etc/default/grub', 'intel_iommu=on')]]);
    assert.match(items[0]!.message, /50-cloudimg-settings\.cfg:2/);
    const sh = spawnSync('bash', ['-c', 'GRUB_DISTRIBUTOR=; . "$1" 2>/dev/null; for f in "$2"/*.cfg; do . "$f"; done; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"', '_', join(root, 'etc/default/grub'), join(root, 'etc/default/grub.d')], { encoding: 'utf8' });
    if (sh.error) return t.skip(`bash not runnable: ${sh.error.message}`);
    assert.equal(sh.stdout, 'console=tty1 console=ttyS0');
    assert.doesNotMatch(sh.stdout, /intel_iommu/);
  });

  it('a guide line appended with $GRUB_CMDLINE_LINUX_DEFAULT in grub.d keeps the earlier one: no finding (bash agrees)', async (t) => {
    const root = tree({ guides: ['clean-proxmox'], files: { 'etc/default/grub.d/iommu.cfg': 'GRUB_CMDLINE_LINUX_DEFAULT="${GRUB_CMDLINE_LINUX_DEFAULT} video=efifb:off"\n' } });
    const { doc } = await lint('--root', root);
    assert.equal(only(doc, 'LINT_GRUB_OVERRIDDEN').length, 0);
    const sh = spawnSync('bash', ['-c', '. "$1" 2>/dev/null; for f in "$2"/*.cfg; do . "$f"; done; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"', '_', join(root, 'etc/default/grub'), join(root, 'etc/default/grub.d')], { encoding: 'utf8' });
    if (sh.error) return t.skip(`bash not runnable: ${sh.error.message}`);
    assert.equal(sh.stdout, 'quiet iommu=pt video=efifb:off');
  });

  it('the same advice in the other places guides put it: modules-load.d, initramfs-tools, dracut, install-as-blacklist and module_blacklist= — each at its line', async () => {
    const guideModules = readFileSync(fixture('lint/scottkey-proxmox/etc/modules'), 'utf8');
    const root = tree({
      guides: ['clean-proxmox'],
      console: '0000:06:00.0',
      drivers: { '0000:06:00.0': 'nouveau' },
      files: {
        'etc/modules-load.d/vfio.conf': guideModules,
        'etc/initramfs-tools/modules': guideModules,
        'etc/dracut.conf.d/vfio.conf': 'add_drivers+=" vfio vfio_iommu_type1 vfio_pci vfio_virqfd "\n',
        'etc/modprobe.d/nouveau.conf': '# keep the host driver off the GPU\ninstall nouveau /bin/false\n',
        'etc/default/grub': 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt module_blacklist=nouveau"\n',
      },
    });
    const { doc } = await lint('--root', root);
    const at = (code: LintCode) => only(doc, code).map((f) => `${f.file}:${f.line}`);
    assert.deepEqual(at('LINT_VFIO_VIRQFD'), [
      '/etc/dracut.conf.d/vfio.conf:1',
      `/etc/initramfs-tools/modules:${lineOf(root, 'etc/initramfs-tools/modules', 'vfio_virqfd')}`,
      `/etc/modules-load.d/vfio.conf:${lineOf(root, 'etc/modules-load.d/vfio.conf', 'vfio_virqfd')}`,
    ]);
    assert.deepEqual(at('LINT_BLACKLIST_HOST_DRIVER'), ['/etc/default/grub:1', `/etc/modprobe.d/nouveau.conf:${lineOf(root, 'etc/modprobe.d/nouveau.conf', 'install')}`]);
  });

  it('pcie_acs_override in a copied /etc with no kernel release: "may be", and the message says the release is unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-lint-etc-'));
    made.push(dir);
    cpSync(fixture('lint', 'amrzs-pve-n100'), dir, { recursive: true });
    const { doc } = await lint('--root', dir);
    const [acs] = only(doc, 'LINT_ACS_OVERRIDE_UNPATCHED');
    assert.deepEqual([acs?.line, acs?.certain], [lineOf(dir, 'etc/default/grub', 'pcie_acs_override'), false]);
    assert.match(acs!.message, /release unknown/);
  });

  it('a copied /etc with --kernel: the version-dependent items become certain; a --kernel the tree contradicts is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-lint-etc-'));
    made.push(dir);
    cpSync(fixture('lint', 'scottkey-proxmox'), dir, { recursive: true });
    const { doc } = await lint('--root', dir, '--kernel', '6.8.12-4-pve');
    assert.deepEqual(only(doc, 'LINT_VFIO_VIRQFD').map((f) => f.certain), [true]);
    const bad = await text('lint', '--root', tree({ kernel: '6.1.0-18-amd64' }), '--kernel', '6.8.12-4-pve');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /the tree says its kernel is 6\.1\.0-18-amd64/);
    assert.equal((await text('lint', '--root', dir, '--kernel', '$(reboot)')).code, 2);
  });

  it('the guide\'s vfio.conf saved without .conf: modprobe never reads it (modprobe.d(5): only *.conf)', async () => {
    const root = tree({ guides: ['clean-proxmox'], files: { 'etc/modprobe.d/vfio': readFileSync(fixture('lint/scottkey-proxmox/etc/modprobe.d/vfio.conf')) } });
    const { doc } = await lint('--root', root);
    assert.deepEqual(only(doc, 'LINT_IGNORED_FILE').map((f) => [f.file, f.line]), [['/etc/modprobe.d/vfio', 1]]);
  });

  it('the guide\'s GRUB line edited but never applied (no update-grub, or no reboot): each missing option at its line', async () => {
    const root = tree({ guides: ['master449-ubuntu-amd'], kernel: '6.8.0-45-generic', cmdline: 'BOOT_IMAGE=/boot/vmlinuz-6.8.0-45-generic root=UUID=0b1e ro quiet splash' });
    const { doc } = await lint('--root', root);
    const line = lineOf(root, 'etc/default/grub', 'amd_iommu=on');
    assert.deepEqual(only(doc, 'LINT_NOT_APPLIED').map((f) => [f.file, f.line, f.message.split(' ')[0]]), [
      ['/etc/default/grub', line, 'amd_iommu=on'],
      ['/etc/default/grub', line, 'iommu=pt'],
      ['/etc/default/grub', line, 'iommu=1'],
      ['/etc/default/grub', line, 'video=efifb:off'],
    ]);
  });

  it('a clean tree (current advice, this host\'s own GPU bound) gives no finding, not even a "may be", and exit 0', async () => {
    const root = tree({ guides: ['clean-proxmox'], routeVia: '0000:07:00.0', dmar: 'supermicro-x10dai-4a64a6.dat', drivers: { '0000:07:00.0': 'r8169', '0000:06:00.0': 'vfio-pci' } });
    const { code, doc } = await lint('--root', root);
    assert.deepEqual(doc.findings, []);
    assert.equal(code, 0);
    assert.deepEqual(doc.files, ['/etc/modules', '/etc/default/grub', '/etc/modprobe.d/vfio.conf']);
  });

  it('text output: file:line: CODE message, the line itself and the fix; survey prints the one summary line', async () => {
    const root = tree({ guides: ['scottkey-proxmox'] });
    const r = await text('lint', '--root', root);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`^/etc/modules:${lineOf(root, 'etc/modules', 'vfio_virqfd')}: LINT_VFIO_VIRQFD `, 'm'));
    assert.match(r.out, /^ {2}fix: /m);
    const s = await text('survey', '--root', root);
    assert.match(s.out, /^lint: 2 stale or conflicting settings — run assignable lint$/m);
    const clean = await text('survey', '--root', tree({ guides: ['clean-proxmox'] }));
    assert.match(clean.out, /^lint: no stale or conflicting settings in 3 configuration file\(s\)$/m);
  });
});

describe('lint: bad input is normal input', () => {
  it('a binary file, a huge file and a link out of the tree are notes; the other files are still linted', async () => {
    const root = tree({ guides: ['scottkey-proxmox'], files: { 'etc/modprobe.d/zz-binary.conf': new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), 'etc/modprobe.d/zz-huge.conf': '#'.repeat(300 * 1024) } });
    symlinkSync('/etc/passwd', join(root, 'etc/modprobe.d/zz-link.conf'));
    const { code, doc, err } = await lint('--root', root);
    assert.equal(err, '');
    assert.equal(code, 1);
    assert.ok(only(doc, 'LINT_VFIO_VIRQFD').length === 1);
    const notes = doc.notes.map((n) => n.message).join('\n');
    assert.match(notes, /zz-binary\.conf: not a text file \(a NUL byte at offset 4\)/);
    assert.match(notes, /zz-huge\.conf: not read .*more than/);
    assert.match(notes, /zz-link\.conf: not read .*outside/);
    const t = await text('lint', '--root', root);
    assert.match(t.out, /^note: \/etc\/modprobe\.d\/zz-binary\.conf/m);
  });

  it('--root that does not exist: exit 3, one line; a file as --root: exit 2; --root with --capture: exit 2', async () => {
    const missing = await text('lint', '--root', join(tmpdir(), 'assignable-no-such-root-xyz'));
    assert.equal(missing.code, 3);
    assert.equal(missing.err.trim().split('\n').length, 1);
    const file = await text('lint', '--root', fixture('lint/proxmox-wiki-unsafe/etc/modprobe.d/iommu_unsafe_interrupts.conf'));
    assert.equal(file.code, 2);
    assert.match(file.err, /not a directory/);
    const both = await text('lint', '--root', '/', '--capture', 'x');
    assert.equal(both.code, 2);
  });

  it('a tree without /etc (a capture from before): exit 3 saying so, never "clean"', async () => {
    const r = await text('lint', '--capture', fixture('captures', 'asus-p6t6-pciutils-tree.tar.gz'));
    assert.equal(r.code, 3);
    assert.match(r.err, /no \/etc in it/);
  });

  it('collect records the configuration files, and lint --capture of that capture finds the same items', async () => {
    const root = tree({ guides: ['master449-ubuntu-amd'], kernel: '6.8.0-45-generic' });
    const out = join(mkdtempSync(join(tmpdir(), 'assignable-lint-cap-')), 'c.tar.gz');
    made.push(join(out, '..'));
    const c = await text('collect', '--root', root, '--no-lspci', '-o', out);
    assert.equal(c.code, 0, c.err);
    const live = await lint('--root', root);
    const cap = await lint('--capture', out);
    assert.deepEqual(cap.doc.findings, live.doc.findings);
    assert.ok(cap.doc.findings.length >= 2);
  });

  it('collect --redact blanks the UUID and address a GRUB line holds; lint of that capture still finds the guide\'s items', async () => {
    const uuid = '0b1e2c3d-1111-2222-3333-444455556666';
    const root = tree({ guides: ['scottkey-proxmox'], files: { 'etc/default/grub': `GRUB_CMDLINE_LINUX="root=UUID=${uuid} ip=192.168.1.5"\nGRUB_CMDLINE_LINUX_DEFAULT="quiet intel_iommu=on iommu=pt"\n` }, cmdline: 'ro quiet intel_iommu=on iommu=pt' });
    const out = join(mkdtempSync(join(tmpdir(), 'assignable-lint-cap-')), 'r.tar.gz');
    made.push(join(out, '..'));
    const c = await text('collect', '--root', root, '--no-lspci', '--redact', '-o', out);
    assert.equal(c.code, 0, c.err);
    const raw = gunzipSync(readFileSync(out)).toString('latin1');
    assert.ok(raw.includes('intel_iommu=on'), 'the configuration is in the capture');
    assert.ok(!raw.includes(uuid) && !raw.includes('192.168.1.5'), 'identifying values are not');
    const { doc } = await lint('--capture', out);
    assert.deepEqual(doc.findings.map((f) => `${f.file}:${f.line}:${f.code}`), ['/etc/default/grub:2:LINT_INTEL_IOMMU_ON_DEFAULT', `/etc/modules:${lineOf(root, 'etc/modules', 'vfio_virqfd')}:LINT_VFIO_VIRQFD`]);
  });
});

describe('lint codes', () => {
  it('every code is produced by a test above and documented in docs/verdicts.md', () => {
    const all = Object.keys(LINT_CODES) as LintCode[];
    assert.deepEqual(all.filter((c) => !seen.has(c)), []);
    const md = readFileSync(join(ROOT, 'docs/verdicts.md'), 'utf8');
    for (const c of all) assert.match(md, new RegExp(`^\\| \`${c}\` \\|`, 'm'), c);
  });
});
