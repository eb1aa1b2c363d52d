/**
 * The only place that touches the file system for reading inputs. Everything above it
 * takes bytes. Tests swap in a wrapper to play "permission denied" even when run as root.
 */
import * as nodeFs from 'node:fs';
import { SourceError } from './errors.js';

export interface Fs {
  readFileSync(path: string): Uint8Array;
  statSync(path: string): { isFile(): boolean; isDirectory(): boolean; isFIFO?(): boolean; size: number };
  readdirSync(path: string): string[];
  readlinkSync(path: string): string;
  existsSync(path: string): boolean;
}

export const realFs: Fs = {
  readFileSync: (p) => new Uint8Array(nodeFs.readFileSync(p)),
  statSync: (p) => nodeFs.statSync(p),
  readdirSync: (p) => nodeFs.readdirSync(p),
  readlinkSync: (p) => nodeFs.readlinkSync(p),
  existsSync: (p) => nodeFs.existsSync(p),
};

/** Inputs are firmware tables and text captures: anything bigger is not one of ours. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** Map a Node error to the SourceError kind a user can act on. */
export function sourceErrorFrom(e: unknown, path: string, what: string): SourceError {
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
 * Read a pipe to its end, stopping one byte past MAX_INPUT_BYTES: a pipe has no size to
 * check beforehand, and the bound keeps an endless writer from filling memory.
 */
function readBounded(fd: number, path: string, what: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const chunk = new Uint8Array(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = nodeFs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      // A non-blocking standard input with nothing yet: wait for the writer rather than fail.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw sourceErrorFrom(e, path, what);
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_INPUT_BYTES) {
      throw new SourceError('too-large', path, `${what}: ${path === '-' ? 'standard input' : path} gives more than ${MAX_INPUT_BYTES} bytes, more than any firmware table or capture`);
    }
    chunks.push(chunk.slice(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Read a user-named input file, "-" for standard input, or a pipe the user named
 * (`--lspci <(lspci -nnvvv)` gives /dev/fd/63): all bounded by MAX_INPUT_BYTES. Devices are
 * refused (they could block forever or never end). Files inside a capture never come
 * through here: only what the user named on the command line.
 */
export function readInput(path: string, what: string, fs: Fs = realFs): Uint8Array {
  if (path === '-') {
    if (process.stdin.isTTY) throw new SourceError('usage', '-', `${what}: standard input is a terminal; pipe a file into it or name the file`);
    return readBounded(0, '-', what);
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
      fd = nodeFs.openSync(path, 'r');
    } catch (e) {
      throw sourceErrorFrom(e, path, what);
    }
    try {
      return readBounded(fd, path, what);
    } finally {
      nodeFs.closeSync(fd);
    }
  }
  if (!st.isFile()) throw new SourceError('not-a-file', path, `${what}: ${path}: not a regular file (a device could block forever; name a file, a pipe or "-")`);
  if (st.size > MAX_INPUT_BYTES) throw new SourceError('too-large', path, `${what}: ${path}: ${st.size} bytes, more than any firmware table or capture (${MAX_INPUT_BYTES})`);
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, what);
  }
}
