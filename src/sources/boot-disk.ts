/**
 * Which PCI functions hold the root file system: `/` from the mount table, down through
 * ZFS pools (`zpool status -P`), device-mapper (LVM, dm-crypt) and md RAID (their
 * `slaves`, md's `dev-*` members) to each physical disk, and from its sysfs path to the
 * controller's PCI function. What cannot be followed is said, never dropped.
 */
import { execFileSync } from 'node:child_process';
import { basename, join, posix } from 'node:path';
import type { HostFacts } from '../host/model.js';
import type { Fs } from './fs.js';
import { listDir, optional, pciOnPath, readLink, readText } from './tree-read.js';

export type BootDiskFacts = Pick<HostFacts, 'bootDiskFunctions' | 'bootDiskEvidence' | 'bootDiskUnknown' | 'zpoolStatus'>;

/** In a capture or host tree, `zpool status -P` output is kept in this file at its root. */
export const ZPOOL_STATUS_FILE = 'zpool-status-P.txt';

/** dm on md on dm…: real stacks are a few levels deep. */
const MAX_DEPTH = 8;
/** `zpool status -P` of one pool: a line per vdev, far below this. */
const ZPOOL_OUTPUT_MAX = 1 << 20;

// The boot disk only adds to the survey: whatever cannot be read leaves it unknown, never an error.
const text = (fs: Fs, path: string) => optional(() => readText(fs, path));
const list = (fs: Fs, path: string) => optional(() => listDir(fs, path)) ?? [];
const link = (fs: Fs, path: string) => optional(() => readLink(fs, path));

/** The mount of `/`: the last one listed wins (it is mounted over the others). */
export function rootMount(mounts: string): { source: string; fsType: string } | undefined {
  let found: { source: string; fsType: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [source, target, fsType] = line.split(' ');
    if (target === '/' && source && fsType && fsType !== 'rootfs') found = { source: source.replace(/\\040/g, ' '), fsType };
  }
  return found;
}

/** Member device paths of a pool in `zpool status -P` output (its config section). */
export function zpoolMembers(status: string, pool: string): string[] | undefined {
  const lines = status.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s*pool: ${pool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`).test(l));
  if (start < 0) return undefined;
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (/^\s*pool: /.test(l)) break;
    const m = /^\s+(\/dev\/\S+)\s/.exec(l + ' ');
    if (m) out.push(m[1]!);
  }
  return out;
}

/** A /dev path (possibly a symlink such as /dev/disk/by-id/…, /dev/mapper/…) → its kernel name. */
function kernelName(fs: Fs, root: string, devPath: string): string {
  let p = devPath;
  for (let i = 0; i < MAX_DEPTH; i++) {
    const l = link(fs, join(root, p));
    if (l === undefined) break;
    p = posix.resolve(posix.dirname(p), l);
  }
  return basename(p);
}

/** One block device → the PCI functions under it, with the chain that led there. */
function blockToPci(fs: Fs, root: string, name: string, ev: string[], unresolved: string[], depth = 0, seen = new Set<string>()): string[] {
  if (depth > MAX_DEPTH || seen.has(name)) {
    unresolved.push(`${name}: stacked too deep`);
    return [];
  }
  seen.add(name);
  const sys = link(fs, join(root, 'sys/class/block', name));
  const pci = sys === undefined ? [] : pciOnPath(sys);
  if (pci.length > 0) {
    ev.push(`${name} → ${pci.at(-1)} (/sys/class/block/${name})`);
    return [pci.at(-1)!];
  }
  // device-mapper (LVM, dm-crypt) and md list what they are built on in `slaves`; md also in md/dev-*/block.
  let lower = list(fs, join(root, 'sys/class/block', name, 'slaves'));
  if (lower.length === 0) {
    lower = list(fs, join(root, 'sys/block', name, 'md'))
      .filter((d) => d.startsWith('dev-'))
      .map((d) => link(fs, join(root, 'sys/block', name, 'md', d, 'block')))
      .filter((l): l is string => l !== undefined)
      .map((l) => basename(l));
  }
  if (lower.length > 0) {
    ev.push(`${name} is built on ${lower.join(', ')}`);
    return [...new Set(lower.flatMap((l) => blockToPci(fs, root, l, ev, unresolved, depth + 1, seen)))];
  }
  if (sys === undefined) unresolved.push(`${name}: no /sys/class/block/${name}`);
  else ev.push(`${name} is on no PCI device (${sys})`);
  return [];
}

/** `zpool status -P <pool>`: from the tree's saved copy, or run on the live host. */
function zpoolStatus(fs: Fs, root: string, pool: string): { text: string; from: string } | undefined {
  const saved = text(fs, join(root, ZPOOL_STATUS_FILE));
  if (saved !== undefined) return { text: saved, from: ZPOOL_STATUS_FILE };
  // Only on the running host: a tree or capture carries its own copy (or none).
  if (root !== '/' || fs.live !== true) return undefined;
  try {
    const out = execFileSync('zpool', ['status', '-P', pool], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: ZPOOL_OUTPUT_MAX });
    return { text: out, from: `zpool status -P ${pool}` };
  } catch {
    return undefined;
  }
}

export function readBootDisk(fs: Fs, root: string): BootDiskFacts {
  const mounts = text(fs, join(root, 'proc/mounts')) ?? text(fs, join(root, 'proc/self/mounts'));
  if (mounts === undefined) return { bootDiskUnknown: 'the mount table (/proc/mounts) was not read' };
  const m = rootMount(mounts);
  if (!m) return { bootDiskUnknown: '/proc/mounts lists no mount of /' };
  const ev = [`/proc/mounts: / is ${m.source} (${m.fsType})`];
  const unresolved: string[] = [];
  let names: string[];
  let zpool: string | undefined;
  if (m.fsType === 'zfs') {
    const pool = m.source.split('/')[0]!;
    const st = zpoolStatus(fs, root, pool);
    const members = st ? zpoolMembers(st.text, pool) : undefined;
    if (!st || !members || members.length === 0) {
      const kstat = fs.existsSync(join(root, 'proc/spl/kstat/zfs', pool)) ? ` (/proc/spl/kstat/zfs/${pool} shows it imported, but not its disks)` : '';
      return { bootDiskEvidence: ev, bootDiskUnknown: `/ is on ZFS pool ${pool}${kstat}; its member disks are unknown: ${st ? `${st.from} does not list pool ${pool}` : '`zpool status -P` was not available'}` };
    }
    ev.push(`${st.from}: pool ${pool} on ${members.join(', ')}`);
    names = members.map((p) => kernelName(fs, root, p));
    if (st.from !== ZPOOL_STATUS_FILE) {
      // What was run is kept for `collect`, with each member as its kernel name: by-id names carry disk serials.
      let text = st.text;
      members.forEach((p, i) => (text = text.split(p).join(`/dev/${names[i]}`)));
      zpool = text;
    }
  } else if (m.source.startsWith('/dev/')) {
    names = [kernelName(fs, root, m.source)];
  } else {
    // NFS, tmpfs, overlay…: no local disk holds / (or none this can follow).
    return { bootDiskEvidence: ev, bootDiskUnknown: `/ is ${m.source} (${m.fsType}), not a block device this can follow to a disk` };
  }
  const functions = [...new Set(names.flatMap((n) => blockToPci(fs, root, n, ev, unresolved)))];
  const out: BootDiskFacts = { bootDiskFunctions: functions, bootDiskEvidence: ev };
  if (zpool !== undefined) out.zpoolStatus = zpool;
  if (unresolved.length > 0) out.bootDiskUnknown = `not followed to a PCI device: ${unresolved.join('; ')}`;
  return out;
}
