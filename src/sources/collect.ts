/**
 * `assignable collect`: a capture of this host that `survey --capture` reads with the very
 * reader that reads the live host. It mirrors, under the same paths, the sysfs/procfs files
 * that reader uses (files and symbolic links), and adds the standard formats people paste:
 * lspci -nnvvv (when lspci is installed), acpidump text of DMAR/IVRS, a dmidecode dump.
 *
 * --redact blanks serial numbers, UUIDs, asset tags and MAC addresses (SMBIOS strings and
 * HPE NIC records, the PCIe Device Serial Number, MAC-like text in logs) keeping lengths,
 * so every structure still decodes.
 */
import { dirname, join, normalize } from 'node:path';
import { decodePciConfig } from '../firmware/pci/config.js';
import { decodeEntryPoint } from '../firmware/smbios/entry.js';
import { walkStructures } from '../firmware/smbios/table.js';
import { acpidumpText, dmidecodeDumpBin } from '../report/dumps.js';
import type { TarEntry } from './tar.js';
import type { Fs } from './fs.js';
import { readKernelLog } from './live.js';

export interface CollectOptions {
  redact: boolean;
  /** `lspci -nnvvv` output when the tool is available (the CLI runs it). */
  lspciText?: string;
  toolVersion: string;
  created: string;
}

const KEEP_LOG = /DMAR|IOMMU|iommu|AMD-Vi|IRQ remapping|Linux version|Command line|vfio|RMRR|ACS|relaxable|pcie_acs|x2apic/;
const MAC = /\b([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const enc = new TextEncoder();

/** Blank SMBIOS strings that identify the machine, and HPE NIC MACs, in place. */
export function redactSmbiosTable(table: Uint8Array): Uint8Array {
  const t = table.slice();
  const sensitive: Record<number, number[]> = { 1: [0x07], 2: [0x07, 0x08], 3: [0x07, 0x08], 4: [0x20, 0x21], 17: [0x18, 0x19], 203: [0x23] };
  for (const s of walkStructures(t)) {
    const at = s.offset;
    if (s.type === 1 && s.length >= 0x18) t.fill(0, at + 8, at + 0x18); // UUID
    if (s.type === 209) for (let p = 4; p + 8 <= s.length; p += 8) t.fill(0, at + p + 2, at + p + 8);
    if (s.type === 233 && s.length >= 0x0e) t.fill(0, at + 8, at + 0x0e);
    const idx = (sensitive[s.type] ?? []).filter((o) => o < s.length).map((o) => t[at + o]!).filter((i) => i > 0);
    if (idx.length === 0) continue;
    // Walk the string set and overwrite the chosen strings with X (same length).
    let p = at + s.length;
    for (let n = 1; n <= s.strings.length; n++) {
      const len = enc.encode(s.strings[n - 1]!).length;
      if (idx.includes(n)) t.fill(0x58, p, p + len);
      p += len + 1;
    }
  }
  return t;
}

function redactConfig(bytes: Uint8Array): Uint8Array {
  const c = decodePciConfig(bytes);
  const dsn = c.extendedCapabilities?.find((x) => x.id === 0x0003);
  if (!dsn) return bytes;
  const out = bytes.slice();
  out.fill(0, dsn.offset + 4, dsn.offset + 12);
  return out;
}

export function collect(root: string, fs: Fs, o: CollectOptions): { entries: TarEntry[]; notes: string[] } {
  const entries = new Map<string, TarEntry>();
  const notes: string[] = [];
  const rel = (p: string) => normalize(p).replace(/^\/+/, '');
  const addDir = (p: string) => {
    const parts = rel(p).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!entries.has(d)) entries.set(d, { path: d, type: 'dir' });
    }
  };
  const addFile = (p: string, data: Uint8Array) => {
    addDir(dirname(rel(p)));
    entries.set(rel(p), { path: rel(p), type: 'file', data });
  };
  const addLink = (p: string, target: string) => {
    addDir(dirname(rel(p)));
    entries.set(rel(p), { path: rel(p), type: 'symlink', linkname: target });
  };
  const read = (p: string): Uint8Array | undefined => {
    try {
      return fs.readFileSync(join(root, p));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') notes.push(`${p}: permission denied (not captured)`);
      return undefined;
    }
  };
  const link = (p: string): string | undefined => {
    try {
      return fs.readlinkSync(join(root, p));
    } catch {
      return undefined;
    }
  };
  const list = (p: string): string[] => {
    try {
      return fs.readdirSync(join(root, p));
    } catch {
      return [];
    }
  };
  const copy = (p: string, transform?: (b: Uint8Array) => Uint8Array) => {
    const b = read(p);
    if (b !== undefined) addFile(p, transform ? transform(b) : b);
    return b;
  };
  /** Copy a symlink and make sure the directory it points to exists in the capture. */
  const copyLinkedDir = (p: string): string | null => {
    const target = link(p);
    if (target === undefined) {
      if (fs.existsSync(join(root, p))) {
        addDir(p);
        return rel(p);
      }
      return null;
    }
    addLink(p, target);
    const real = rel(join(dirname(p), target));
    addDir(real);
    return real;
  };

  // PCI functions.
  for (const name of list('sys/bus/pci/devices')) {
    const real = copyLinkedDir(`sys/bus/pci/devices/${name}`);
    if (!real) continue;
    copy(`${real}/config`, o.redact ? (b) => (b.length >= 64 ? redactConfig(b) : b) : undefined);
    for (const f of ['vendor', 'device', 'class', 'revision', 'subsystem_vendor', 'subsystem_device', 'resource', 'reset_method', 'boot_vga', 'sriov_totalvfs', 'sriov_numvfs']) copy(`${real}/${f}`);
    if (fs.existsSync(join(root, real, 'reset'))) addFile(`${real}/reset`, new Uint8Array());
    for (const l of ['driver', 'iommu_group', 'physfn']) {
      const t = link(`${real}/${l}`);
      if (t !== undefined) addLink(`${real}/${l}`, t);
    }
    for (const n of list(`${real}/net`)) addDir(`${real}/net/${n}`);
  }
  // IOMMU groups (the directory's presence means "the kernel supports IOMMU groups").
  if (fs.existsSync(join(root, 'sys/kernel/iommu_groups'))) addDir('sys/kernel/iommu_groups');
  for (const g of list('sys/kernel/iommu_groups')) {
    addDir(`sys/kernel/iommu_groups/${g}/devices`);
    for (const d of list(`sys/kernel/iommu_groups/${g}/devices`)) addLink(`sys/kernel/iommu_groups/${g}/devices/${d}`, link(`sys/kernel/iommu_groups/${g}/devices/${d}`) ?? `../../../../bus/pci/devices/${d}`);
    copy(`sys/kernel/iommu_groups/${g}/reserved_regions`);
  }
  if (!fs.existsSync(join(root, 'sys/kernel/iommu_groups')) && fs.existsSync(join(root, 'sys/kernel'))) addDir('sys/kernel');
  // Firmware tables, and the forum formats beside them.
  if (fs.existsSync(join(root, 'sys/firmware/acpi/tables'))) addDir('sys/firmware/acpi/tables');
  let acpi = '';
  for (const sig of ['DMAR', 'IVRS']) {
    const b = copy(`sys/firmware/acpi/tables/${sig}`);
    if (b) acpi += acpidumpText(sig, b);
  }
  if (acpi) addFile('acpidump.txt', enc.encode(acpi));
  const ep = read('sys/firmware/dmi/tables/smbios_entry_point');
  const dmi = read('sys/firmware/dmi/tables/DMI');
  if (ep && dmi) {
    let table = dmi;
    try {
      decodeEntryPoint(ep);
      if (o.redact) table = redactSmbiosTable(dmi);
    } catch {
      notes.push('SMBIOS tables present but not decodable: copied as they are, not redacted');
    }
    addFile('sys/firmware/dmi/tables/smbios_entry_point', ep);
    addFile('sys/firmware/dmi/tables/DMI', table);
    addFile('dmidecode.bin', dmidecodeDumpBin(ep, table));
  }
  // Slots, kernel, command line.
  for (const s of list('sys/bus/pci/slots')) copy(`sys/bus/pci/slots/${s}/address`);
  copy('proc/sys/kernel/osrelease');
  copy('proc/cmdline');
  // Only what the survey needs from mounts and routes: the root file system, the default route.
  const mounts = read('proc/mounts');
  const rootLine = mounts && new TextDecoder().decode(mounts).split('\n').find((l) => l.split(' ')[1] === '/' && !l.startsWith('rootfs'));
  if (rootLine) {
    addFile('proc/mounts', enc.encode(rootLine + '\n'));
    const dev = rootLine.split(' ')[0]!;
    if (dev.startsWith('/dev/')) {
      let name = dev.slice(5);
      if (dev.startsWith('/dev/mapper/')) {
        const t = link(dev.slice(1));
        if (t) {
          addLink(dev.slice(1), t);
          name = t.split('/').pop()!;
        }
      }
      const walkBlock = (n: string, depth: number) => {
        if (depth > 4) return;
        const real = copyLinkedDir(`sys/class/block/${n}`);
        if (!real) return;
        for (const sl of list(`sys/class/block/${n}/slaves`)) {
          addDir(`${real}/slaves/${sl}`);
          walkBlock(sl, depth + 1);
        }
      };
      walkBlock(name, 0);
    }
  }
  const route = read('proc/net/route');
  if (route) {
    const lines = new TextDecoder().decode(route).split('\n');
    const keep = [lines[0] ?? '', ...lines.slice(1).filter((l) => l.split(/\s+/)[1] === '00000000')];
    addFile('proc/net/route', enc.encode(keep.join('\n') + '\n'));
    const walkNet = (iface: string, depth: number) => {
      if (depth > 4) return;
      const real = copyLinkedDir(`sys/class/net/${iface}`);
      const dev = link(`sys/class/net/${iface}/device`);
      if (real && dev !== undefined) addLink(`${real}/device`, dev);
      const lower = [...list(`sys/class/net/${iface}/brif`), ...list(`sys/class/net/${iface}`).filter((x) => x.startsWith('lower_')).map((x) => x.slice(6))];
      for (const l of list(`sys/class/net/${iface}/brif`)) if (real) addDir(`${real}/brif/${l}`);
      for (const x of list(`sys/class/net/${iface}`).filter((x) => x.startsWith('lower_'))) if (real) addDir(`${real}/${x}`);
      for (const l of lower) walkNet(l, depth + 1);
    };
    for (const l of keep.slice(1)) {
      const iface = l.trim().split(/\s+/)[0];
      if (iface) walkNet(iface, 0);
    }
  }
  // The kernel log lines about IOMMUs (the live reader reads them from /dev/kmsg).
  const log = readKernelLog(fs, root) ?? '';
  const kept = log.split('\n').filter((l) => KEEP_LOG.test(l));
  if (kept.length > 0) addFile('var/log/dmesg', enc.encode((o.redact ? kept.map((l) => l.replace(MAC, 'XX:XX:XX:XX:XX:XX').replace(UUID, 'XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX')) : kept).join('\n') + '\n'));
  if (o.lspciText) {
    const t = o.redact ? o.lspciText.replace(/(Device Serial Number )\S+/g, '$1XX-XX-XX-XX-XX-XX-XX-XX').replace(MAC, 'XX:XX:XX:XX:XX:XX') : o.lspciText;
    addFile('lspci-nnvvv.txt', enc.encode(t));
  }
  const manifest = { schema: 'assignable/capture/v1', tool: `assignable ${o.toolVersion}`, created: o.created, redacted: o.redact, notes };
  addFile('capture.json', enc.encode(JSON.stringify(manifest, null, 2) + '\n'));
  return { entries: [...entries.values()], notes };
}

