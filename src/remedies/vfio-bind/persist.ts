/**
 * Persistent binding (pure): our own modprobe.d file — `options vfio-pci ids=…` so vfio-pci
 * claims the IDs at boot, `softdep <driver> pre: vfio-pci` so vfio-pci is loaded before the
 * driver that would take them — and, when an ID is shared with a device the host keeps (ids=
 * would take that one too), a udev rule that sets driver_override for the one address instead.
 * The files are wholly ours: each entry is a marker line the file is rebuilt from, and a file
 * that is not exactly what we would write is refused (someone edited it: edit it by hand).
 */
import type { Host } from '../../host/model.js';
import { vendorDevice } from '../../host/address.js';
import { toBind, VFIO_DRIVER, type BindPlan } from './plan.js';

export const MODPROBE_FILE = '/etc/modprobe.d/assignable-vfio.conf';
export const UDEV_FILE = '/etc/udev/rules.d/60-assignable-vfio.rules';

export interface BindEntry {
  address: string;
  ids: string;
  /** The driver it had (its softdep); null when none or unknown. */
  driver: string | null;
  /** ids: by vendor:device in modprobe.d; udev: by address through driver_override. */
  method: 'ids' | 'udev';
}

const MARKER = /^# assignable-bind (\S+) ([0-9a-f]{4}:[0-9a-f]{4}) (\S+) (ids|udev)$/;
const HEADER = '# Written by `assignable bind --persistent`: PCI functions handed to vfio-pci at boot.\n# `assignable bind DEVICE --unbind --persistent` removes them; do not edit by hand.\n';

export function parseEntries(text: string | null): BindEntry[] {
  if (text === null) return [];
  const out: BindEntry[] = [];
  for (const line of text.split('\n')) {
    const m = MARKER.exec(line);
    if (m) out.push({ address: m[1]!, ids: m[2]!, driver: m[3] === '-' ? null : m[3]!, method: m[4] as 'ids' | 'udev' });
  }
  return out;
}

export function renderModprobe(entries: BindEntry[]): string | null {
  if (entries.length === 0) return null;
  const lines = [HEADER.trimEnd(), ...entries.map((e) => `# assignable-bind ${e.address} ${e.ids} ${e.driver ?? '-'} ${e.method}`)];
  const ids = [...new Set(entries.filter((e) => e.method === 'ids').map((e) => e.ids))];
  if (ids.length) lines.push(`options ${VFIO_DRIVER} ids=${ids.join(',')}`);
  for (const d of [...new Set(entries.map((e) => e.driver).filter((d): d is string => d !== null))]) lines.push(`softdep ${d} pre: ${VFIO_DRIVER}`);
  return lines.join('\n') + '\n';
}

export function renderUdev(entries: BindEntry[]): string | null {
  const u = entries.filter((e) => e.method === 'udev');
  if (u.length === 0) return null;
  return HEADER + u.map((e) => `ACTION=="add", SUBSYSTEM=="pci", KERNEL=="${e.address}", ATTR{driver_override}="${VFIO_DRIVER}"`).join('\n') + '\n';
}

export interface FileEdit {
  /** Path on the host, e.g. /etc/modprobe.d/assignable-vfio.conf. */
  path: string;
  /** null: the file does not exist (before) / is removed (after). */
  before: string | null;
  after: string | null;
}

export interface PersistentPlan {
  edits: FileEdit[];
  /** The entries of this device after the change ([] for --unbind). */
  entries: BindEntry[];
  /** Devices the host keeps that share an ID with a bound function (why udev). */
  shared: Array<{ ids: string; address: string }>;
  notes: string[];
}

/** Build both files from the entries; refuse files that are not what we write. */
export function planPersistent(plan: BindPlan, host: Host, files: { modprobe: string | null; udev: string | null }, unbind: boolean): PersistentPlan | { problem: string } {
  for (const [path, text, render] of [[MODPROBE_FILE, files.modprobe, renderModprobe], [UDEV_FILE, files.udev, renderUdev]] as const) {
    if (text !== null && render(parseEntries(files.modprobe)) !== text) return { problem: `${path} is not as assignable wrote it (edited by hand?): edit it by hand, or remove it` };
  }
  const existing = parseEntries(files.modprobe);
  const mine = new Set(plan.functions.map((f) => f.address));
  const kept = existing.filter((e) => !mine.has(e.address));
  const fns = plan.functions.filter((f) => f.action !== 'leave-bridge');
  const ids = new Set(fns.map((f) => f.ids));
  // A function outside the set with the same vendor:device would be claimed by ids= too.
  const shared = host.devices.filter((d) => !mine.has(d.address) && !d.isBridge && ids.has(vendorDevice(d.config)) && d.driver !== VFIO_DRIVER).map((d) => ({ ids: vendorDevice(d.config), address: d.address }));
  const sharedIds = new Set(shared.map((s) => s.ids));
  const notes: string[] = [];
  const entries: BindEntry[] = unbind
    ? []
    : fns.map((f) => ({ address: f.address, ids: f.ids, driver: f.driver && f.driver !== VFIO_DRIVER ? f.driver : (existing.find((e) => e.address === f.address)?.driver ?? null), method: sharedIds.has(f.ids) ? 'udev' : 'ids' }));
  if (!unbind) {
    const drivers = [...new Set(entries.map((e) => e.driver).filter((d): d is string => d !== null))];
    if (drivers.length) notes.push(`softdep orders modules: if ${drivers.join(' or ')} is built into the kernel rather than a module, it binds before vfio-pci loads — then use vfio-pci.ids= on the kernel command line instead`);
    const nodrv = entries.filter((e) => e.driver === null).map((e) => e.address);
    if (nodrv.length) notes.push(`no host driver known for ${nodrv.join(', ')}: no softdep for it`);
    for (const e of entries.filter((x) => x.method === 'udev')) {
      const others = shared.filter((s) => s.ids === e.ids).map((s) => s.address);
      notes.push(`${e.address}: its ID ${e.ids} is also ${others.join(', ')}, which the host keeps — ids= would take those too, so a udev rule sets driver_override for ${e.address} alone. The rule runs when udev adds the device in the booted system; if ${e.driver ?? 'its driver'} is loaded from the initramfs it binds first (then add the rule to the initramfs, or use the runtime bind after boot).`);
    }
  }
  const all = [...kept, ...entries].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const edits: FileEdit[] = [
    { path: MODPROBE_FILE, before: files.modprobe, after: renderModprobe(all) },
    { path: UDEV_FILE, before: files.udev, after: renderUdev(all) },
  ].filter((e) => e.before !== e.after);
  return { edits, entries, shared, notes };
}

export type InitramfsKind = 'debian' | 'dracut';

/** /etc/os-release ID and ID_LIKE → the initramfs tool that family uses; null when unknown. */
export function initramfsKind(osRelease: string | null): InitramfsKind | null {
  if (osRelease === null) return null;
  const words: string[] = [];
  for (const line of osRelease.split('\n')) {
    const m = /^(ID|ID_LIKE)=(.*)$/.exec(line.trim());
    if (m) words.push(...m[2]!.replace(/^["']|["']$/g, '').toLowerCase().split(/\s+/));
  }
  if (words.some((w) => w === 'debian' || w === 'ubuntu')) return 'debian';
  if (words.some((w) => ['fedora', 'rhel', 'centos', 'rocky', 'almalinux', 'ol', 'suse', 'opensuse'].includes(w))) return 'dracut';
  return null;
}

/** The commands that rebuild the initramfs so the boot sees the files (and copy it where the host boots from). */
export function initramfsRefresh(kind: InitramfsKind, proxmoxBootTool: boolean): string[][] {
  if (kind === 'dracut') return [['dracut', '-f', '--regenerate-all']];
  // Proxmox: proxmox-boot-tool copies the new initramfs to the ESPs it manages.
  return [['update-initramfs', '-u', '-k', 'all'], ...(proxmoxBootTool ? [['proxmox-boot-tool', 'refresh']] : [])];
}
