/**
 * Small reads of a host tree (sysfs, procfs, /etc, /boot), shared by the readers of one
 * host: what is not there stays unknown (undefined), a refusal (permission, a FIFO, a link
 * leaving the tree) is a one-line SourceError. Sizes are bounded by the Fs reading, never by
 * stat: sysfs files all report 4096 bytes and procfs files 0.
 */
import { basename } from 'node:path';
import { SourceError } from './errors.js';
import { sourceErrorFrom, type Fs } from './fs.js';

/** A PCI function's sysfs name, "0000:00:1f.2". */
export const PCI_ADDR = /^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Errors that mean "this file is not there" in sysfs/procfs: the fact stays unknown. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ENODEV', 'EINVAL', 'ENXIO']);

/** A file's bytes (at most `max`, else the Fs's cap for that path); undefined if it does not exist. */
export function readBytes(fs: Fs, path: string, max?: number): Uint8Array | undefined {
  try {
    return fs.readIfPresent ? fs.readIfPresent(path, max) : fs.readFileSync(path, max);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (ABSENT.has(code)) return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw new SourceError('permission', path, `${path}: permission denied`);
    throw sourceErrorFrom(e, path, 'host tree');
  }
}

export function readText(fs: Fs, path: string, max?: number): string | undefined {
  const b = readBytes(fs, path, max);
  return b === undefined ? undefined : new TextDecoder().decode(b);
}

/** A symbolic link's target; undefined when it is not a link (or not there). */
export function readLink(fs: Fs, path: string): string | undefined {
  try {
    return fs.linkIfPresent ? fs.linkIfPresent(path) : fs.readlinkSync(path);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    return undefined;
  }
}

export function readLinkBase(fs: Fs, path: string): string | null {
  const t = readLink(fs, path);
  return t === undefined ? null : basename(t);
}

export function listDir(fs: Fs, path: string): string[] | undefined {
  try {
    return fs.readdirSync(path);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    return undefined;
  }
}

/** PCI functions on the sysfs path of a block or net device: the last one is its controller. */
export function pciOnPath(link: string): string[] {
  return link.split('/').filter((s) => PCI_ADDR.test(s));
}

/** For facts that only add to the survey (boot disk, bootloader): any failure leaves them unknown. */
export function optional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
