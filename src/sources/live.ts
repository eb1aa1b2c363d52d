/**
 * A live Linux host, read under a root directory ("/" for this machine). The same code
 * reads a capture directory written by `assignable collect`, which mirrors these files:
 * a live host is just a capture rooted at "/".
 *
 * Without root, some files are unreadable (config space past 64 bytes, the ACPI and SMBIOS
 * tables, the kernel log): each becomes a note saying what it costs, never a failure.
 */
import * as nodeFs from 'node:fs';
import { basename, join } from 'node:path';
import { decodeDmarTable } from '../firmware/acpi/dmar.js';
import { decodeIvrsTable } from '../firmware/acpi/ivrs.js';
import { parseAcpiTable } from '../firmware/acpi/table.js';
import { DecodeError } from '../firmware/errors.js';
import { capabilitiesUnread, decodePciConfig, type PciConfig } from '../firmware/pci/config.js';
import { decodeSmbiosSysfs } from '../firmware/smbios/index.js';
import { parseAddress } from '../host/address.js';
import type { BarSize, FunctionFacts, GroupFacts, HostFacts, HostNote, ReservedRegion } from '../host/model.js';
import { readBootDisk } from './boot-disk.js';
import { readBootFacts } from './boot.js';
import { SourceError } from './errors.js';
import { realFs, type Fs } from './fs.js';

const PCI_ADDR = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Read a small text file; undefined if it does not exist; throws SourceError('permission') if denied. */
function readText(fs: Fs, path: string): string | undefined {
  try {
    return new TextDecoder().decode(fs.readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENODEV' || code === 'EINVAL' || code === 'ENXIO') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw new SourceError('permission', path, `${path}: permission denied`);
    throw e;
  }
}

function readLinkBase(fs: Fs, path: string): string | null {
  try {
    return basename(fs.readlinkSync(path));
  } catch {
    return null;
  }
}

function listDir(fs: Fs, path: string): string[] | undefined {
  try {
    return fs.readdirSync(path);
  } catch {
    return undefined;
  }
}

/** sysfs `resource`: "start end flags" per line; lines 0-5 are the BARs. */
export function parseResource(text: string): BarSize[] {
  const bars: BarSize[] = [];
  text.split('\n').slice(0, 6).forEach((line, index) => {
    const [s, e, f] = line.trim().split(/\s+/).map((x) => BigInt(x));
    if (s === undefined || e === undefined || f === undefined || e <= s) return;
    const flags = Number(f & 0xffffffffn);
    const kind = flags & 0x100 ? 'io' : flags & 0x200 ? 'memory' : null;
    if (!kind) return;
    bars.push({ index, kind, is64: (flags & 0x100000) !== 0, prefetchable: (flags & 0x2000) !== 0, size: e - s + 1n });
  });
  return bars;
}

/** Header fields from sysfs' vendor/device/class files when config space itself is unreadable. */
function configFromIds(vendor: number, device: number, classCode: number): PciConfig {
  return {
    bytesAvailable: 0,
    vendorId: vendor,
    deviceId: device,
    command: 0,
    status: 0,
    revision: 0,
    classCode,
    headerType: (classCode >> 8) === 0x0604 ? 1 : 0,
    multifunction: false,
    interruptPin: 0,
    subsystemVendorId: null,
    subsystemId: null,
    bars: [],
    bridge: null,
    ...capabilitiesUnread(),
  };
}

/** PCI functions on the sysfs path of a block or net device: the last one is its controller. */
function pciOnPath(link: string): string[] {
  return link.split('/').filter((s) => PCI_ADDR.test(s));
}

function netFunctions(fs: Fs, root: string, iface: string, depth = 0): string[] {
  if (depth > 4) return [];
  // The interface's own sysfs path runs through its PCI function (virtio NICs add a
  // virtioN level, so the `device` link alone may not name it).
  for (const p of [join(root, 'sys/class/net', iface), join(root, 'sys/class/net', iface, 'device')]) {
    try {
      const pci = pciOnPath(fs.readlinkSync(p));
      if (pci.length > 0) return [pci.at(-1)!];
    } catch {
      /* not a link: a bridge, bond or VLAN has lower devices instead */
    }
  }
  const dir = join(root, 'sys/class/net', iface);
  const lower = [...(listDir(fs, join(dir, 'brif')) ?? []), ...(listDir(fs, dir) ?? []).filter((n) => n.startsWith('lower_')).map((n) => n.slice(6))];
  return [...new Set(lower.flatMap((l) => netFunctions(fs, root, l, depth + 1)))];
}

/** The kernel log: /dev/kmsg read without blocking on the live host, or a dmesg file in a capture. */
export function readKernelLog(fs: Fs, root: string): string | undefined {
  const file = readText(fs, join(root, 'var/log/dmesg')) ?? readText(fs, join(root, 'dmesg.txt'));
  if (file !== undefined || root !== '/' || fs !== realFs) return file;
  let fd: number;
  try {
    fd = nodeFs.openSync('/dev/kmsg', nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const lines: string[] = [];
  const buf = Buffer.alloc(8192);
  let total = 0;
  try {
    // One record per read; EAGAIN means the end of the buffer. Capped so it always ends.
    for (let i = 0; i < 20000 && total < 4 << 20; i++) {
      let n: number;
      try {
        n = nodeFs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // a record was overwritten while we read
        break;
      }
      if (n <= 0) break;
      total += n;
      const rec = buf.toString('utf8', 0, n);
      const semi = rec.indexOf(';');
      lines.push(semi >= 0 ? rec.slice(semi + 1).split('\n')[0]! : rec.trimEnd());
    }
  } finally {
    nodeFs.closeSync(fd);
  }
  return lines.join('\n');
}

export function readLiveHost(root = '/', fs: Fs = realFs): HostFacts {
  const notes: HostNote[] = [];
  const denied = new Set<string>();
  const guard = <T>(what: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SourceError && e.kind === 'permission') {
        denied.add(what);
        return undefined;
      }
      throw e;
    }
  };

  const devDir = join(root, 'sys/bus/pci/devices');
  const names = listDir(fs, devDir);
  if (names === undefined) throw new SourceError('not-found', devDir, `${devDir} does not exist: not a Linux host (or not a capture directory)`);
  let short = 0;
  const functions: FunctionFacts[] = [];
  const groupsKnown = fs.existsSync(join(root, 'sys/kernel/iommu_groups')) || fs.existsSync(join(root, 'sys/kernel'));
  for (const name of names.sort()) {
    const address = parseAddress(name);
    if (!address) continue;
    const dir = join(devDir, name);
    let link = '';
    try {
      link = fs.readlinkSync(dir);
    } catch {
      /* a capture may store plain directories; ancestors then come from bridge buses */
    }
    const path = pciOnPath(link);
    const bytes = guard('config', () => {
      try {
        return fs.readFileSync(join(dir, 'config'));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') throw new SourceError('permission', join(dir, 'config'), 'denied');
        return undefined;
      }
    });
    let config: PciConfig;
    if (bytes && bytes.length >= 64) {
      try {
        config = decodePciConfig(bytes);
      } catch (e) {
        if (e instanceof DecodeError) throw new SourceError('io', join(dir, 'config'), `${join(dir, 'config')}: ${e.message}`);
        throw e;
      }
      if (bytes.length < 256) short++;
    } else {
      const num = (f: string) => Number(readText(fs, join(dir, f))?.trim() ?? 'NaN');
      config = configFromIds(num('vendor'), num('device'), num('class'));
      short++;
    }
    const resetMethod = guard('reset_method', () => readText(fs, join(dir, 'reset_method')));
    const resetExists = fs.existsSync(join(dir, 'reset'));
    const bootVga = readText(fs, join(dir, 'boot_vga'));
    const resource = guard('resource', () => readText(fs, join(dir, 'resource')));
    const total = readText(fs, join(dir, 'sriov_totalvfs'));
    const num = readText(fs, join(dir, 'sriov_numvfs'));
    const physfn = readLinkBase(fs, join(dir, 'physfn'));
    const group = readLinkBase(fs, join(dir, 'iommu_group'));
    const sysfs: FunctionFacts['sysfs'] = {
      driver: readLinkBase(fs, join(dir, 'driver')),
      // Kernels before 5.15 have no reset_method; a missing `reset` file still means "no reset".
      resetMethods: resetMethod !== undefined ? resetMethod.trim().split(/\s+/).filter(Boolean) : resetExists ? undefined : [],
      bootVga: bootVga === undefined ? null : bootVga.trim() === '1',
      sriovTotalVfs: total === undefined ? null : Number(total.trim()),
      sriovNumVfs: num === undefined ? null : Number(num.trim()),
      physfn,
      netInterfaces: listDir(fs, join(dir, 'net')) ?? [],
    };
    if (resource !== undefined) sysfs.bars = parseResource(resource);
    // "No group" only means something when the kernel has IOMMU groups at all.
    if (groupsKnown) sysfs.iommuGroup = group !== null && /^\d+$/.test(group) ? Number(group) : null;
    if (link) sysfs.ancestors = path.slice(0, -1);
    functions.push({ address, config, configSource: 'bytes', sysfs });
  }

  // IOMMU groups: the directory always exists when the kernel has IOMMU support.
  let iommuGroups: GroupFacts[] | undefined;
  const gdir = join(root, 'sys/kernel/iommu_groups');
  const gnames = listDir(fs, gdir);
  if (gnames !== undefined) {
    iommuGroups = gnames.filter((g) => /^\d+$/.test(g)).map((g) => {
      const rr = readText(fs, join(gdir, g, 'reserved_regions'));
      const regions: ReservedRegion[] | undefined = rr?.split('\n').filter(Boolean).map((l) => {
        const [s, e, t] = l.trim().split(/\s+/);
        return { start: BigInt(s!), end: BigInt(e!), type: t ?? '' };
      });
      const gf: GroupFacts = { id: Number(g), devices: (listDir(fs, join(gdir, g, 'devices')) ?? []).filter((d) => PCI_ADDR.test(d)) };
      if (regions) gf.reservedRegions = regions;
      return gf;
    });
  } else if (fs.existsSync(join(root, 'sys/kernel'))) {
    iommuGroups = [];
  }

  const facts: HostFacts = { origin: { kind: root === '/' ? 'live' : 'capture', description: root === '/' ? 'this host' : `host tree at ${root}` }, functions, notes };
  if (iommuGroups !== undefined) facts.iommuGroups = iommuGroups;

  // Firmware tables.
  for (const sig of ['DMAR', 'IVRS'] as const) {
    const p = join(root, 'sys/firmware/acpi/tables', sig);
    const b = guard('acpi', () => {
      try {
        return fs.readFileSync(p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') throw new SourceError('permission', p, 'denied');
        return null;
      }
    });
    if (b === null) {
      if (fs.existsSync(join(root, 'sys/firmware/acpi/tables'))) facts[sig === 'DMAR' ? 'dmar' : 'ivrs'] = null;
    } else if (b !== undefined) {
      try {
        if (sig === 'DMAR') facts.dmar = decodeDmarTable(parseAcpiTable(b, 'DMAR'));
        else facts.ivrs = decodeIvrsTable(parseAcpiTable(b, 'IVRS'));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        notes.push({ code: `${sig}_UNDECODABLE`, message: `${p}: ${e.message}; treated as unknown` });
      }
    }
  }
  const ep = join(root, 'sys/firmware/dmi/tables/smbios_entry_point');
  const dmi = join(root, 'sys/firmware/dmi/tables/DMI');
  const epBytes = guard('smbios', () => (fs.existsSync(ep) ? fs.readFileSync(ep) : null));
  if (epBytes === null) facts.smbios = null;
  else if (epBytes !== undefined) {
    const t = guard('smbios', () => fs.readFileSync(dmi));
    if (t) {
      try {
        facts.smbios = decodeSmbiosSysfs(epBytes, t);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        notes.push({ code: 'SMBIOS_UNDECODABLE', message: `${dmi}: ${e.message}; treated as unknown` });
      }
    }
  }

  // Kernel.
  const release = readText(fs, join(root, 'proc/sys/kernel/osrelease'));
  if (release) facts.kernelRelease = release.trim();
  const cmdline = guard('cmdline', () => readText(fs, join(root, 'proc/cmdline')));
  if (cmdline !== undefined) facts.cmdline = cmdline.trim();
  const log = readKernelLog(fs, root);
  if (log !== undefined) facts.dmesg = log;

  // Slots.
  const sdir = join(root, 'sys/bus/pci/slots');
  const slots = listDir(fs, sdir);
  if (slots !== undefined) {
    facts.sysfsSlots = slots.map((n) => ({ name: n, address: readText(fs, join(sdir, n, 'address'))?.trim() ?? '' })).filter((s) => s.address !== '');
  }

  // What the host cannot lose: the root file system's disk, the default-route NIC.
  Object.assign(facts, readBootDisk(fs, root), readBootFacts(fs, root, facts.kernelRelease));
  const route = readText(fs, join(root, 'proc/net/route'));
  if (route !== undefined) {
    const ifaces = route.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === '00000000' && f[0]).map((f) => f[0]!);
    facts.defaultRouteFunctions = [...new Set(ifaces.flatMap((i) => netFunctions(fs, root, i)))];
  }

  if (denied.size > 0 || short > 0) {
    const parts: string[] = [];
    if (short > 0) parts.push(`config space past 64 bytes of ${short} function(s) (capabilities: MSI, FLR, ACS, PCIe type unknown)`);
    if (denied.has('acpi')) parts.push('the ACPI DMAR/IVRS tables (RMRR and IVMD unknown)');
    if (denied.has('smbios')) parts.push('the SMBIOS tables (slot numbers unknown)');
    notes.push({ code: 'NOT_ROOT', message: `not readable without root: ${parts.join('; ')}. Run as root for a complete survey.` });
  }
  return facts;
}
