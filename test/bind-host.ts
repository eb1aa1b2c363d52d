/**
 * Test helper for `bind`: a host tree from the real ASUS P6T6 pciutils dump (config bytes,
 * topology; its GT218 GPU 06:00.0 + HDMI audio 06:00.1, and two RTL8111 NICs 07:00.0 and
 * 08:00.0 with the same vendor:device 10ec:8168), plus what the kernel would show of it: the
 * IOMMU groups the test names (sys/kernel/iommu_groups and each function's iommu_group link),
 * driver links, driver_override, drivers/<drv>/{bind,unbind}, drivers_probe — regular files
 * standing in for the sysfs attributes.
 *
 * `fakeKernel` is the kernel's side of those attributes, observable: it records every write in
 * order and moves the `driver` link as the kernel would (unbind drops it; bind and drivers_probe
 * — honouring driver_override — set it). `refuse` lists functions vfio-pci's probe fails for.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { sysfsAttr, type AttrWriter } from '../src/remedies/vfio-bind/apply.js';
import { fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

export const GPU = '0000:06:00.0';
export const GPU_AUDIO = '0000:06:00.1';
export const NIC1 = '0000:07:00.0';
export const NIC2 = '0000:08:00.0';
/** The ICH10 root ports the NICs sit behind (lspci -tv of the same machine: 1c.1 → 08, 1c.2 → 07). */
export const ICH10_PORTS = ['0000:00:1c.0', '0000:00:1c.1', '0000:00:1c.2'];

export interface BindHostOptions {
  /** IOMMU groups to plant (every other function gets one of its own); null: IOMMU off (no groups). */
  groups?: string[][] | null;
  drivers?: Record<string, string>;
  /** The function whose interface carries the default route. */
  defaultRoute?: string;
  bootVga?: string;
  osRelease?: string;
  proxmoxBootTool?: boolean;
  /** Leave vfio-pci's driver directory out (module not loaded). */
  noVfioDriver?: boolean;
}

export const DRIVERS: Record<string, string> = { [GPU]: 'nouveau', [GPU_AUDIO]: 'snd_hda_intel', [NIC1]: 'r8169', [NIC2]: 'r8169' };

export interface BindHost {
  root: string;
  stateDir: string;
  dev(a: string): string;
  driverOf(a: string): string | null;
  override(a: string): string;
}

export function bindHost(dir: string, o: BindHostOptions = {}): BindHost {
  const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: '6.8.12-4-pve', cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on' });
  const devices = join(root, 'sys/bus/pci/devices');
  const dev = (a: string) => realpathSync(join(devices, a));
  const addrs = readdirNames(devices);
  const drvRoot = join(root, 'sys/bus/pci/drivers');
  const drivers = { ...DRIVERS, ...(o.drivers ?? {}) };
  for (const d of new Set([...Object.values(DRIVERS), ...Object.values(drivers), ...(o.noVfioDriver ? [] : ['vfio-pci'])].filter((x) => !(o.noVfioDriver && x === 'vfio-pci')))) {
    mkdirSync(join(drvRoot, d), { recursive: true });
    writeFileSync(join(drvRoot, d, 'bind'), '');
    writeFileSync(join(drvRoot, d, 'unbind'), '');
  }
  writeFileSync(join(root, 'sys/bus/pci/drivers_probe'), '');
  for (const a of addrs) {
    writeFileSync(join(dev(a), 'driver_override'), '(null)\n');
    const drv = drivers[a];
    if (drv) symlinkSync(relative(dev(a), join(drvRoot, drv)), join(dev(a), 'driver'));
  }
  if (o.groups !== null) {
    const planted = o.groups ?? [];
    const rest = addrs.filter((a) => !planted.flat().includes(a)).map((a) => [a]);
    [...planted, ...rest].forEach((members, id) => {
      const g = join(root, 'sys/kernel/iommu_groups', String(id));
      mkdirSync(join(g, 'devices'), { recursive: true });
      for (const a of members) {
        symlinkSync(relative(join(g, 'devices'), dev(a)), join(g, 'devices', a));
        symlinkSync(relative(dev(a), g), join(dev(a), 'iommu_group'));
      }
    });
  } else mkdirSync(join(root, 'sys/kernel'), { recursive: true });
  if (o.defaultRoute) {
    const net = join(dev(o.defaultRoute), 'net/eth1');
    mkdirSync(net, { recursive: true });
    mkdirSync(join(root, 'sys/class/net'), { recursive: true });
    symlinkSync(relative(join(root, 'sys/class/net'), net), join(root, 'sys/class/net/eth1'));
    mkdirSync(join(root, 'proc/net'), { recursive: true });
    writeFileSync(join(root, 'proc/net/route'), 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth1\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n');
  }
  if (o.bootVga) writeFileSync(join(dev(o.bootVga), 'boot_vga'), '1\n');
  mkdirSync(join(root, 'etc/modprobe.d'), { recursive: true });
  mkdirSync(join(root, 'etc/udev/rules.d'), { recursive: true });
  writeFileSync(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(join(root, 'etc/os-release'), o.osRelease ?? 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n');
  if (o.proxmoxBootTool) {
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, 'usr/sbin/proxmox-boot-tool'), '#!/bin/sh\n');
    mkdirSync(join(root, 'etc/kernel'), { recursive: true });
    writeFileSync(join(root, 'etc/kernel/proxmox-boot-uuids'), '1234-ABCD\n');
    mkdirSync(join(root, 'etc/default'), { recursive: true });
    writeFileSync(join(root, 'etc/default/grub'), 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n');
  }
  mkdirSync(join(root, 'proc/sys/kernel/random'), { recursive: true });
  writeFileSync(join(root, 'proc/sys/kernel/random/boot_id'), '11111111-2222-3333-4444-555555555555\n');
  const driverOf = (a: string) => {
    const l = join(dev(a), 'driver');
    return lstatOrNull(l) ? basename(readlinkSync(l)) : null;
  };
  return { root, stateDir: join(dir, 'state'), dev, driverOf, override: (a) => readFileSync(join(dev(a), 'driver_override'), 'utf8') };
}

function readdirNames(d: string): string[] {
  return readdirSync(d).filter((n) => /^[0-9a-f]{4}:/.test(n)).sort();
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

export interface KernelWrite {
  /** Path under the root, e.g. sys/bus/pci/drivers/nouveau/unbind or devices/0000:06:00.0/driver_override. */
  file: string;
  value: string;
}

/** The kernel's side of the attributes (see the file comment). */
export function fakeKernel(h: BindHost, refuse: string[] = []): { attr: AttrWriter; writes: KernelWrite[] } {
  const writes: KernelWrite[] = [];
  const drvRoot = join(h.root, 'sys/bus/pci/drivers');
  const setLink = (a: string, drv: string | null) => {
    const l = join(h.dev(a), 'driver');
    if (lstatOrNull(l)) unlinkSync(l);
    if (drv) symlinkSync(relative(h.dev(a), join(drvRoot, drv)), l);
  };
  const attr: AttrWriter = {
    write(path, value) {
      sysfsAttr.write(path, value); // the real write (O_NOFOLLOW, no create), then what the kernel does
      const a = value.trim();
      const rel = relative(h.root, path);
      const name = basename(path);
      const onDevice = /^0000:/.test(basename(dirname(path)));
      writes.push({ file: onDevice ? `${basename(dirname(path))}/${name}` : rel, value: a });
      if (onDevice) return; // driver_override: stored, acted on at the next probe
      if (name === 'unbind') {
        if (h.driverOf(a) === basename(dirname(path))) setLink(a, null);
      } else if (name === 'bind') {
        if (h.driverOf(a) === null && !(refuse.includes(a) && basename(dirname(path)) === 'vfio-pci')) setLink(a, basename(dirname(path)));
      } else if (name === 'drivers_probe') {
        if (h.driverOf(a) !== null) return;
        const ov = h.override(a).trim();
        const want = ov && ov !== '(null)' ? ov : (DRIVERS[a] ?? null);
        if (want && existsSync(join(drvRoot, want)) && !(refuse.includes(a) && want === 'vfio-pci')) setLink(a, want);
      }
    },
  };
  return { attr, writes };
}

/** Test doubles for the initramfs tools: each logs its argv; `FAIL_TOOL=name` makes that one exit 1. */
export function toolBin(dir: string): { bin: string; log: string; calls(): string[] } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, 'tools.log');
  for (const t of ['update-initramfs', 'proxmox-boot-tool', 'dracut', 'modprobe']) {
    writeFileSync(join(bin, t), `#!/bin/sh\necho "${t} $*" >> "${log}"\n[ "$FAIL_TOOL" = "${t}" ] && { echo "${t}: simulated failure" >&2; exit 1; }\nexit 0\n`);
    chmodSync(join(bin, t), 0o755);
  }
  return { bin, log, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}
