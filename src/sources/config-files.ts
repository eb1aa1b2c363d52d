/**
 * The module and boot configuration a passthrough guide has a user edit, read as text for
 * `assignable lint` (src/checks/lint.ts): /etc/modules, modules-load.d, modprobe.d, the
 * initramfs module lists, /etc/default/grub (+ grub.d) and /etc/kernel/cmdline.
 *
 * Read through the host tree's Fs (bounded, never outside the root). A file that cannot be
 * used — binary, too big, a link out of the tree, unreadable — becomes a note naming it and
 * the others are still read: one bad file does not hide the rest.
 */
import { join } from 'node:path';
import type { ConfigFile, HostNote } from '../host/model.js';
import { SourceError } from './errors.js';
import type { Fs } from './fs.js';
import { listDir, readBytes } from './tree-read.js';

/** Single files, relative to the root. */
export const CONFIG_SINGLE = ['etc/modules', 'etc/default/grub', 'etc/kernel/cmdline', 'etc/initramfs-tools/modules'] as const;

/**
 * Directories and the suffix their reader takes: kmod and systemd-modules-load read only
 * *.conf, GRUB's /etc/default/grub.d only *.cfg. Other names are listed too (a guide's
 * "/etc/modprobe.d/vfio" without .conf is silently ignored — the lint says so).
 */
export const CONFIG_DIRS = [
  { dir: 'etc/modprobe.d', suffix: '.conf' },
  { dir: 'etc/modules-load.d', suffix: '.conf' },
  { dir: 'etc/default/grub.d', suffix: '.cfg' },
  { dir: 'etc/dracut.conf.d', suffix: '.conf' },
] as const;

/** A configuration file is a few KiB; the manifest caps each at CONFIG_MAX (manifest.ts). */
const NUL = 0;

/** Files in a directory read at most: a guide adds a handful. */
const DIR_FILES_MAX = 256;

function readOne(fs: Fs, root: string, rel: string, notes: HostNote[]): ConfigFile | undefined {
  const path = join(root, rel);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readBytes(fs, path);
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    notes.push({ code: 'CONFIG_UNREADABLE', message: `/${rel}: not read (${e.message}); lint skips it` });
    return undefined;
  }
  if (bytes === undefined) return undefined;
  if (bytes.includes(NUL)) {
    notes.push({ code: 'CONFIG_UNREADABLE', message: `/${rel}: not a text file (a NUL byte at offset ${bytes.indexOf(NUL)}); lint skips it` });
    return undefined;
  }
  return { path: `/${rel}`, text: new TextDecoder().decode(bytes) };
}

/**
 * The configuration files under `root`; undefined when the tree has no /etc at all (a capture
 * made before these files were collected: unknown, not "none").
 */
export function readConfigFiles(fs: Fs, root: string, notes: HostNote[]): ConfigFile[] | undefined {
  let etc: string[] | undefined;
  try {
    etc = listDir(fs, join(root, 'etc'));
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    notes.push({ code: 'CONFIG_UNREADABLE', message: `/etc: not read (${e.message}); lint has no configuration files` });
    return undefined;
  }
  if (etc === undefined) return undefined;
  const out: ConfigFile[] = [];
  for (const rel of CONFIG_SINGLE) {
    const f = readOne(fs, root, rel, notes);
    if (f) out.push(f);
  }
  for (const { dir } of CONFIG_DIRS) {
    let names: string[] | undefined;
    try {
      names = listDir(fs, join(root, dir));
    } catch (e) {
      if (!(e instanceof SourceError)) throw e;
      notes.push({ code: 'CONFIG_UNREADABLE', message: `/${dir}: not read (${e.message}); lint skips it` });
      continue;
    }
    if (names === undefined) continue;
    const sorted = names.filter((n) => !n.startsWith('.')).sort();
    if (sorted.length > DIR_FILES_MAX) notes.push({ code: 'CONFIG_UNREADABLE', message: `/${dir}: ${sorted.length} entries; lint reads the first ${DIR_FILES_MAX}` });
    for (const n of sorted.slice(0, DIR_FILES_MAX)) {
      const rel = `${dir}/${n}`;
      // Subdirectories are not configuration files; stat failures (a link out) are noted by readOne.
      let isDir = false;
      try {
        isDir = fs.statSync(join(root, rel)).isDirectory();
      } catch {
        /* readOne reports it */
      }
      if (isDir) continue;
      const f = readOne(fs, root, rel, notes);
      if (f) out.push(f);
    }
  }
  return out;
}
