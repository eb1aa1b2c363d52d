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
import { decodePciConfig, headerOnlyConfig, type PciConfig } from '../firmware/pci/config.js';
import { decodeSmbiosSysfs } from '../firmware/smbios/index.js';
import { parseAddress } from '../host/address.js';
import type { BarSize, FunctionFacts, GroupFacts, HostFacts, HostNote, ReservedRegion } from '../host/model.js';
import { readBootDisk } from './boot-disk.js';
import { readBootFacts } from './boot.js';
import { readConfigFiles } from './config-files.js';
import { readReadiness } from './readiness.js';
import { SourceError } from './errors.js';
import { realFs, treeFs, type Fs } from './fs.js';
import { listDir, PCI_ADDR, pciOnPath, readBytes, readLink, readLinkBase, readText } from './tree-read.js';

// include/linux/ioport.h
const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

/** A sysfs number ("0x8086", "4"): anything else in a host tree is bad input. */
function sysfsNumber(path: string, text: string): number {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw new SourceError('usage', path, `${path}: expected a number, found "${t.slice(0, 40)}"`);
  return Number(t);
}

function hexBig(path: string, line: number, field: string, t: string | undefined): bigint {
  if (t === undefined || !/^0x[0-9a-fA-F]{1,16}$/.test(t)) throw new SourceError('usage', path, `${path}: line ${line}: ${field}: expected a hex number like 0x00000000fe000000, found "${(t ?? '').slice(0, 40)}"`);
  return BigInt(t);
}

const UNUSED_BAR = /^\s*0x0{1,16}\s+0x0{1,16}\s+0x[0-9a-fA-F]{1,16}\s*$/;

/** sysfs `resource`: "start end flags" per line; lines 0-5 are the BARs. */
export function parseResource(text: string, path = 'resource'): BarSize[] {
  const bars: BarSize[] = [];
  text.split('\n').slice(0, 6).forEach((line, index) => {
    if (line.trim() === '') return;
    // An unused BAR (start = end = 0), most lines of most functions: no BigInt to make.
    if (UNUSED_BAR.test(line)) return;
    const [s, e, f] = line.trim().split(/\s+/).map((x, i) => hexBig(path, index + 1, ['start', 'end', 'flags'][i] ?? 'value', x));
    if (s === undefined || e === undefined || f === undefined || e <= s) return;
    const flags = Number(f & 0xffffffffn);
    const kind = flags & IORESOURCE_IO ? 'io' : flags & IORESOURCE_MEM ? 'memory' : null;
    if (!kind) return;
    bars.push({ index, kind, is64: (flags & IORESOURCE_MEM_64) !== 0, prefetchable: (flags & IORESOURCE_PREFETCH) !== 0, size: e - s + 1n });
  });
  return bars;
}

/** Header fields from sysfs' vendor/device/class files when config space itself is unreadable. */
function configFromIds(vendor: number, device: number, classCode: number): PciConfig {
  return headerOnlyConfig({ vendorId: vendor, deviceId: device, classCode, headerType: (classCode >> 8) === 0x0604 ? 1 : 0 });
}

/** Stacked devices (bonds, bridges, VLANs) nest at most a few levels. */
const MAX_STACK_DEPTH = 4;

/** The PCI functions under a network interface, through bridges, bonds and VLANs; each visited once. */
function netFunctions(fs: Fs, root: string, iface: string, seen = new Set<string>(), depth = 0): string[] {
  if (depth > MAX_STACK_DEPTH || seen.has(iface)) return [];
  seen.add(iface);
  // The interface's own sysfs path runs through its PCI function (virtio NICs add a
  // virtioN level, so the `device` link alone may not name it).
  for (const p of [join(root, 'sys/class/net', iface), join(root, 'sys/class/net', iface, 'device')]) {
    // Not a link: a bridge, bond or VLAN has lower devices instead.
    const link = readLink(fs, p);
    const pci = link === undefined ? [] : pciOnPath(link);
    if (pci.length > 0) return [pci.at(-1)!];
  }
  const dir = join(root, 'sys/class/net', iface);
  const lower = [...(listDir(fs, join(dir, 'brif')) ?? []), ...(listDir(fs, dir) ?? []).filter((n) => n.startsWith('lower_')).map((n) => n.slice(6))];
  return [...new Set(lower.flatMap((l) => netFunctions(fs, root, l, seen, depth + 1)))];
}

/** Records of /dev/kmsg read at most, and bytes: it always ends. */
const KMSG_MAX_RECORDS = 20_000;
const KMSG_MAX_BYTES = 4 << 20;

/** The kernel log: /dev/kmsg read without blocking on the live host, or a dmesg file in a capture. */
export function readKernelLog(fs: Fs, root: string): string | undefined {
  const file = readText(fs, join(root, 'var/log/dmesg')) ?? readText(fs, join(root, 'dmesg.txt'));
  if (file !== undefined || root !== '/' || fs.live !== true) return file;
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
    // One record per read; EAGAIN means the end of the buffer.
    for (let i = 0; i < KMSG_MAX_RECORDS && total < KMSG_MAX_BYTES; i++) {
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

/** What one read of a host tree shares: where, through what, and what it could not read. */
interface Reading {
  root: string;
  fs: Fs;
  notes: HostNote[];
  /** Kinds of files denied to a non-root user. */
  denied: Set<string>;
  /** Functions whose config space stopped at 64 bytes (or was not readable at all). */
  short: number;
}

/** Run a read; "permission denied" becomes a note instead of a failure. */
function guard<T>(r: Reading, what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof SourceError && e.kind === 'permission') {
      r.denied.add(what);
      return undefined;
    }
    throw e;
  }
}

function readFunctionConfig(r: Reading, dir: string): PciConfig {
  const path = join(dir, 'config');
  const bytes = guard(r, 'config', () => readBytes(r.fs, path));
  if (bytes && bytes.length >= 64) {
    if (bytes.length < 256) r.short++;
    try {
      return decodePciConfig(bytes);
    } catch (e) {
      if (e instanceof DecodeError) throw new SourceError('usage', path, `${path}: ${e.message}`);
      throw e;
    }
  }
  r.short++;
  const num = (f: string) => {
    const p = join(dir, f);
    const t = readText(r.fs, p);
    return t === undefined ? NaN : sysfsNumber(p, t);
  };
  return configFromIds(num('vendor'), num('device'), num('class'));
}

function readFunctionSysfs(r: Reading, dir: string, groupsKnown: boolean, link: string): FunctionFacts['sysfs'] {
  const fs = r.fs;
  const optNumber = (f: string) => {
    const t = readText(fs, join(dir, f));
    return t === undefined ? null : sysfsNumber(join(dir, f), t);
  };
  const resetMethod = guard(r, 'reset_method', () => readText(fs, join(dir, 'reset_method')));
  const resetExists = fs.existsSync(join(dir, 'reset'));
  const bootVga = readText(fs, join(dir, 'boot_vga'));
  const resource = guard(r, 'resource', () => readText(fs, join(dir, 'resource')));
  const group = readLinkBase(fs, join(dir, 'iommu_group'));
  const sysfs: FunctionFacts['sysfs'] = {
    driver: readLinkBase(fs, join(dir, 'driver')),
    // Kernels before 5.15 have no reset_method; a missing `reset` file still means "no reset".
    resetMethods: resetMethod !== undefined ? resetMethod.trim().split(/\s+/).filter(Boolean) : resetExists ? undefined : [],
    bootVga: bootVga === undefined ? null : bootVga.trim() === '1',
    sriovTotalVfs: optNumber('sriov_totalvfs'),
    sriovNumVfs: optNumber('sriov_numvfs'),
    physfn: readLinkBase(fs, join(dir, 'physfn')),
    netInterfaces: listDir(fs, join(dir, 'net')) ?? [],
  };
  if (resource !== undefined) sysfs.bars = parseResource(resource, join(dir, 'resource'));
  // "No group" only means something when the kernel has IOMMU groups at all.
  if (groupsKnown) sysfs.iommuGroup = group !== null && /^\d+$/.test(group) ? Number(group) : null;
  if (link) sysfs.ancestors = pciOnPath(link).slice(0, -1);
  return sysfs;
}

function readFunctions(r: Reading): FunctionFacts[] {
  const devDir = join(r.root, 'sys/bus/pci/devices');
  const names = listDir(r.fs, devDir);
  if (names === undefined) throw new SourceError('not-found', devDir, `${devDir} does not exist: not a Linux host (or not a capture directory)`);
  const groupsKnown = r.fs.existsSync(join(r.root, 'sys/kernel/iommu_groups')) || r.fs.existsSync(join(r.root, 'sys/kernel'));
  const functions: FunctionFacts[] = [];
  for (const name of names.sort()) {
    const address = parseAddress(name);
    if (!address) continue;
    const dir = join(devDir, name);
    // A capture may store plain directories; ancestors then come from bridge buses.
    const link = readLink(r.fs, dir) ?? '';
    const config = readFunctionConfig(r, dir);
    functions.push({ address, config, configSource: 'bytes', sysfs: readFunctionSysfs(r, dir, groupsKnown, link) });
  }
  return functions;
}

/** sys/kernel/iommu_groups/N/reserved_regions: "start end type" per line. */
function parseReservedRegions(path: string, text: string): ReservedRegion[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    const [s, e, t] = l.trim().split(/\s+/);
    return { start: hexBig(path, i + 1, 'start', s), end: hexBig(path, i + 1, 'end', e), type: t ?? '' };
  });
}

/** IOMMU groups: the directory exists whenever the kernel has IOMMU support. */
function readGroups(r: Reading): GroupFacts[] | undefined {
  const gdir = join(r.root, 'sys/kernel/iommu_groups');
  const gnames = listDir(r.fs, gdir);
  if (gnames === undefined) return r.fs.existsSync(join(r.root, 'sys/kernel')) ? [] : undefined;
  return gnames.filter((g) => /^\d+$/.test(g)).map((g) => {
    const path = join(gdir, g, 'reserved_regions');
    const rr = readText(r.fs, path);
    const gf: GroupFacts = { id: Number(g), devices: (listDir(r.fs, join(gdir, g, 'devices')) ?? []).filter((d) => PCI_ADDR.test(d)) };
    if (rr !== undefined) gf.reservedRegions = parseReservedRegions(path, rr);
    return gf;
  });
}

function readAcpi(r: Reading, facts: HostFacts): void {
  for (const sig of ['DMAR', 'IVRS'] as const) {
    const p = join(r.root, 'sys/firmware/acpi/tables', sig);
    const b = guard(r, 'acpi', () => readBytes(r.fs, p) ?? null);
    if (b === null) {
      if (r.fs.existsSync(join(r.root, 'sys/firmware/acpi/tables'))) facts[sig === 'DMAR' ? 'dmar' : 'ivrs'] = null;
    } else if (b !== undefined) {
      try {
        if (sig === 'DMAR') facts.dmar = decodeDmarTable(parseAcpiTable(b, 'DMAR'));
        else facts.ivrs = decodeIvrsTable(parseAcpiTable(b, 'IVRS'));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        r.notes.push({ code: `${sig}_UNDECODABLE`, message: `${p}: ${e.message}; treated as unknown` });
      }
    }
  }
}

function readSmbios(r: Reading, facts: HostFacts): void {
  const ep = join(r.root, 'sys/firmware/dmi/tables/smbios_entry_point');
  const dmi = join(r.root, 'sys/firmware/dmi/tables/DMI');
  const epBytes = guard(r, 'smbios', () => readBytes(r.fs, ep) ?? null);
  if (epBytes === null) {
    facts.smbios = null;
    return;
  }
  if (epBytes === undefined) return;
  const t = guard(r, 'smbios', () => readBytes(r.fs, dmi));
  if (t === undefined) {
    if (!r.denied.has('smbios')) r.notes.push({ code: 'SMBIOS_UNDECODABLE', message: `${dmi}: missing beside its entry point; SMBIOS treated as unknown` });
    return;
  }
  try {
    facts.smbios = decodeSmbiosSysfs(epBytes, t);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    r.notes.push({ code: 'SMBIOS_UNDECODABLE', message: `${dmi}: ${e.message}; treated as unknown` });
  }
}

function readKernel(r: Reading, facts: HostFacts): void {
  const release = readText(r.fs, join(r.root, 'proc/sys/kernel/osrelease'));
  if (release) facts.kernelRelease = release.trim();
  const cmdline = guard(r, 'cmdline', () => readText(r.fs, join(r.root, 'proc/cmdline')));
  if (cmdline !== undefined) facts.cmdline = cmdline.trim();
  const log = readKernelLog(r.fs, r.root);
  if (log !== undefined) facts.dmesg = log;
  const sdir = join(r.root, 'sys/bus/pci/slots');
  const slots = listDir(r.fs, sdir);
  if (slots !== undefined) {
    facts.sysfsSlots = slots.map((n) => ({ name: n, address: readText(r.fs, join(sdir, n, 'address'))?.trim() ?? '' })).filter((s) => s.address !== '');
  }
}

/** What the host cannot lose: the root file system's disk, the default-route NIC. */
function readCritical(r: Reading, facts: HostFacts): void {
  const { fs, root } = r;
  Object.assign(facts, readBootDisk(fs, root), readBootFacts(fs, root, facts.kernelRelease));
  const route = readText(fs, join(root, 'proc/net/route'));
  if (route !== undefined) {
    const ifaces = route.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === '00000000' && f[0]).map((f) => f[0]!);
    const seen = new Set<string>();
    facts.defaultRouteFunctions = [...new Set(ifaces.flatMap((i) => netFunctions(fs, root, i, seen)))];
  }
}

function notReadableNote(r: Reading): HostNote | undefined {
  if (r.denied.size === 0 && r.short === 0) return undefined;
  const parts: string[] = [];
  if (r.short > 0) parts.push(`config space past 64 bytes of ${r.short} function(s) (capabilities: MSI, FLR, ACS, PCIe type unknown)`);
  if (r.denied.has('acpi')) parts.push('the ACPI DMAR/IVRS tables (RMRR and IVMD unknown)');
  if (r.denied.has('smbios')) parts.push('the SMBIOS tables (slot numbers unknown)');
  return { code: 'NOT_ROOT', message: `not readable without root: ${parts.join('; ')}. Run as root for a complete survey.` };
}

/**
 * Read a host tree. With the plain file system (the default) it is read through `treeFs`:
 * never outside `root`, only regular files, every read bounded.
 */
export function readLiveHost(root = '/', fs: Fs = realFs): HostFacts {
  const r: Reading = { root, fs: fs === realFs ? treeFs(root) : fs, notes: [], denied: new Set(), short: 0 };
  const functions = readFunctions(r);
  const iommuGroups = readGroups(r);
  const facts: HostFacts = { origin: { kind: root === '/' ? 'live' : 'capture', description: root === '/' ? 'this host' : `host tree at ${root}` }, functions, notes: r.notes };
  if (iommuGroups !== undefined) facts.iommuGroups = iommuGroups;
  readAcpi(r, facts);
  readSmbios(r, facts);
  readKernel(r, facts);
  readCritical(r, facts);
  const config = readConfigFiles(r.fs, r.root, r.notes);
  if (config !== undefined) facts.configFiles = config;
  Object.assign(facts, readReadiness(r.fs, r.root, facts.kernelRelease));
  const note = notReadableNote(r);
  if (note) r.notes.push(note);
  return facts;
}

/**
 * A host tree that holds configuration but no sysfs (`lint --root` on a copied /etc): the
 * configuration files with what the tree says about the kernel and the bootloader. No PCI
 * functions: the checks that need them say so.
 */
export function readConfigTree(root: string, fs: Fs = realFs): HostFacts {
  const tree = fs === realFs ? treeFs(root) : fs;
  const notes: HostNote[] = [];
  const facts: HostFacts = { origin: { kind: root === '/' ? 'live' : 'capture', description: root === '/' ? 'this host' : `host tree at ${root}` }, functions: [], notes };
  const release = readText(tree, join(root, 'proc/sys/kernel/osrelease'))?.trim();
  if (release) facts.kernelRelease = release;
  const cmdline = readText(tree, join(root, 'proc/cmdline'))?.trim();
  if (cmdline) facts.cmdline = cmdline;
  const log = readKernelLog(tree, root);
  if (log !== undefined) facts.dmesg = log;
  Object.assign(facts, readBootFacts(tree, root, facts.kernelRelease));
  // Without /sys the tree cannot say whether it booted with EFI: /etc/kernel/cmdline may be systemd-boot's.
  if (facts.bootloader && !tree.existsSync(join(root, 'sys/firmware')) && tree.existsSync(join(root, 'etc/kernel/cmdline'))) delete facts.bootloader;
  const config = readConfigFiles(tree, root, notes);
  if (config !== undefined) facts.configFiles = config;
  return facts;
}
