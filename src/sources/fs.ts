/**
 * The only place that touches the file system for reading inputs. Everything above it
 * takes bytes. Tests swap in a wrapper to play "permission denied" even when run as root.
 *
 * Every read is bounded by a byte count, never by the size stat reports (sysfs says 4096,
 * /proc says 0), and only regular files are read: a FIFO would block forever, /dev/zero
 * never ends.
 */
import * as nodeFs from 'node:fs';
import { dirname, basename, join, relative, resolve, sep } from 'node:path';
import { SourceError } from './errors.js';
import { DIR_ENTRIES_MAX, TOTAL_MAX, maxBytesFor } from './manifest.js';

export interface Fs {
  /** At most `max` bytes; more is a SourceError('too-large'). */
  readFileSync(path: string, max?: number): Uint8Array;
  statSync(path: string): { isFile(): boolean; isDirectory(): boolean; isFIFO?(): boolean; size: number };
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  existsSync(path: string): boolean;
  /**
   * readFileSync, but undefined when there is no such file — found out without an Error built
   * and thrown to say so: a survey asks for dozens of optional sysfs files per device, most absent.
   * Optional: an Fs without it answers through readFileSync's ENOENT.
   */
  readIfPresent?(path: string, max?: number): Uint8Array | undefined;
  /** readlinkSync, but undefined when the path is no link (or absent), without an Error. Optional, as readIfPresent. */
  linkIfPresent?(path: string): string | undefined;
  /** This machine's own root: the kernel log may then be read from /dev/kmsg. */
  readonly live?: boolean;
}

/**
 * Inputs are firmware tables and text captures: anything bigger is not one of ours. The
 * largest real one is `lspci -xxxx` of an SR-IOV host, about 13.6 KB per function: 8192
 * functions (VFs enabled) are 111 MB.
 */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

function what(st: nodeFs.Stats): string {
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO, not a regular file (reading it could block forever)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

/**
 * Read a regular file, at most `max` bytes. Opened without blocking and checked on the open
 * descriptor, so a FIFO or device swapped in after a check is still refused.
 */
export function readRegularFile(path: string, max: number, label = path): Uint8Array {
  const pre = nodeFs.statSync(path);
  if (!pre.isFile()) throw new SourceError('not-a-file', path, `${label}: ${what(pre)}`);
  const fd = nodeFs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK | nodeFs.constants.O_NOCTTY);
  try {
    const st = nodeFs.fstatSync(fd);
    if (!st.isFile()) throw new SourceError('not-a-file', path, `${label}: ${what(st)}`);
    // The first buffer holds what fstat says, so a 100 MB capture is read without copies; the
    // loop still takes a file that grows, or a /proc file whose size says 0.
    const parts: Uint8Array[] = [];
    let total = 0;
    let buf = new Uint8Array(Math.min(max + 1, st.size > 0 ? st.size : 1 << 16));
    let used = 0;
    for (;;) {
      const n = nodeFs.readSync(fd, buf, used, Math.min(buf.length - used, max + 1 - total), null);
      if (n === 0) break;
      used += n;
      total += n;
      if (total > max) throw new SourceError('too-large', path, `${label}: more than ${max} bytes, more than such a file can really hold`);
      if (used === buf.length) {
        parts.push(buf);
        buf = new Uint8Array(Math.min(max + 1 - total, 1 << 16));
        used = 0;
      }
    }
    if (parts.length === 1 && used === 0) return parts[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of [...parts, buf.subarray(0, used)]) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** Whether anything is at `p` (following links), without an exception when nothing is. */
function present(p: string): boolean {
  return nodeFs.statSync(p, { throwIfNoEntry: false }) !== undefined;
}

export const realFs: Fs = {
  readFileSync: (p, max = MAX_INPUT_BYTES) => readRegularFile(p, max),
  readIfPresent: (p, max = MAX_INPUT_BYTES) => (present(p) ? readRegularFile(p, max) : undefined),
  statSync: (p) => nodeFs.statSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  readlinkSync: (p) => nodeFs.readlinkSync(p),
  existsSync: (p) => nodeFs.existsSync(p),
  live: true,
};

/**
 * A host tree (a --root directory, a capture directory, or "/" itself) that is never left:
 * every path is resolved through its symbolic links and refused when it ends outside the
 * tree (relative links inside it, as sysfs has everywhere, are fine); files are read with
 * the caps of the manifest and a total for the whole tree.
 */
export function treeFs(root: string): Fs {
  const top = resolve(root);
  let realTop: string | null = null;
  let used = 0;
  const inside = (p: string) => realTop === sep || p === realTop || p.startsWith(realTop + sep);
  /** The real path of `p`, refused if it leaves the tree. */
  const real = (p: string): string => {
    realTop ??= nodeFs.realpathSync.native(top);
    const r = nodeFs.realpathSync.native(p);
    if (!inside(r)) throw new SourceError('usage', p, `${p}: leads to ${r}, outside ${root}; a host tree or capture is read only inside itself`);
    return r;
  };
  const rel = (p: string) => relative(top, resolve(p));
  const readFileSync = (p: string, max?: number): Uint8Array => {
    const r = real(p);
    const data = readRegularFile(r, Math.min(max ?? Infinity, maxBytesFor(rel(p))), p);
    used += data.length;
    if (used > TOTAL_MAX) throw new SourceError('too-large', p, `${p}: the files of ${root} exceed ${TOTAL_MAX} bytes together, more than any host holds for us`);
    return data;
  };
  return {
    readFileSync,
    // Absence is asked of stat, which answers without an exception; what is there is read as above.
    readIfPresent: (p, max) => (present(p) ? readFileSync(p, max) : undefined),
    statSync: (p) => nodeFs.statSync(real(p)),
    readdirSync(p) {
      const names = nodeFs.readdirSync(real(p));
      if (names.length > DIR_ENTRIES_MAX) throw new SourceError('too-large', p, `${p}: ${names.length} entries, more than ${DIR_ENTRIES_MAX}`);
      return names;
    },
    // The link itself is read, not followed: only its directory must be inside.
    readlinkSync: (p) => nodeFs.readlinkSync(join(real(dirname(p)), basename(p))),
    existsSync(p) {
      if (nodeFs.lstatSync(p, { throwIfNoEntry: false }) === undefined) return false;
      try {
        real(p);
        return true;
      } catch (e) {
        if (e instanceof SourceError) throw e;
        return false;
      }
    },
    live: top === sep,
  };
}

/** Standard input, at most `max` bytes: `--lspci -` fed from an endless producer ends with an error. */
/**
 * Read a pipe (standard input, or one the user named such as `<(lspci -nnvvv)` → /dev/fd/63)
 * to its end, stopping past `max`: a pipe has no size to check beforehand, and the bound keeps
 * an endless writer from filling memory.
 */
function readPipe(fd: number, label: string, max: number, what: string): Uint8Array {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(1 << 16);
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = nodeFs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') break;
      // A non-blocking pipe with nothing yet: wait a little, as readFileSync(0) does.
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > max) throw new SourceError('too-large', label, `${what}: ${label === '-' ? 'standard input' : label} gives more than ${max} bytes, more than any firmware table or capture`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}

/** Map a Node error to the SourceError kind a user can act on. */
export function sourceErrorFrom(e: unknown, path: string, what: string): SourceError {
  if (e instanceof SourceError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SourceError('not-found', path, `${what}: ${path}: no such file`);
    case 'EACCES':
    case 'EPERM':
      return new SourceError('permission', path, `${what}: ${path}: permission denied (run as root)`);
    case 'EISDIR':
      return new SourceError('not-a-file', path, `${what}: ${path}: is a directory, not a file`);
    default:
      return new SourceError('io', path, `${what}: ${path}: ${(e as Error | undefined)?.message ?? String(e)}`);
  }
}

/**
 * Read a user-named input file, "-" for standard input, or a pipe the user named
 * (`--lspci <(lspci -nnvvv)` gives /dev/fd/63): at most `max` bytes. Devices are refused (they
 * could block forever or never end). Files inside a capture never come through here: only what
 * the user named on the command line (`--lspci`, `--pci-ids`, `fix --schema`, …).
 */
export function readInput(path: string, what: string, fs: Fs = realFs, max = MAX_INPUT_BYTES): Uint8Array {
  if (path === '-') {
    if (process.stdin.isTTY) throw new SourceError('usage', '-', `${what}: standard input is a terminal; pipe a file into it or name the file`);
    try {
      return readPipe(0, '-', max, what);
    } catch (e) {
      throw sourceErrorFrom(e, '-', what);
    }
  }
  let st;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, what);
  }
  if (st.isDirectory()) throw new SourceError('not-a-file', path, `${what}: ${path}: is a directory, not a file`);
  if (st.isFIFO?.() === true && fs === realFs) {
    let fd: number;
    try {
      // Non-blocking: opening a FIFO nobody writes to would otherwise wait forever.
      fd = nodeFs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK);
    } catch (e) {
      throw sourceErrorFrom(e, path, what);
    }
    try {
      const bytes = readPipe(fd, path, max, what);
      if (bytes.length === 0) throw new SourceError('usage', path, `${what}: ${path}: a FIFO that gave nothing (no writer connected, or the command behind it printed nothing)`);
      return bytes;
    } catch (e) {
      throw sourceErrorFrom(e, path, what);
    } finally {
      nodeFs.closeSync(fd);
    }
  }
  if (!st.isFile()) throw new SourceError('not-a-file', path, `${what}: ${path}: not a regular file (a device could block forever; name a file, a pipe or "-")`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path, max);
  } catch (e) {
    if (e instanceof SourceError) throw new SourceError(e.kind, path, `${what}: ${e.message}`);
    throw sourceErrorFrom(e, path, what);
  }
  if (bytes.length > max) throw new SourceError('too-large', path, `${what}: ${path}: more than ${max} bytes, more than any firmware table or capture`);
  return bytes;
}
