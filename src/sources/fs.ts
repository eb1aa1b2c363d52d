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
 * Read a user-named input file (or "-" for standard input). Refuses FIFOs and devices,
 * which could block forever, and anything over MAX_INPUT_BYTES.
 */
export function readInput(path: string, what: string, fs: Fs = realFs): Uint8Array {
  if (path === '-') {
    if (process.stdin.isTTY) throw new SourceError('usage', '-', `${what}: standard input is a terminal; pipe a file into it or name the file`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(nodeFs.readFileSync(0));
    } catch (e) {
      throw sourceErrorFrom(e, '-', what);
    }
    if (bytes.length > MAX_INPUT_BYTES) throw new SourceError('too-large', '-', `${what}: standard input is larger than ${MAX_INPUT_BYTES} bytes`);
    return bytes;
  }
  let st;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, what);
  }
  if (st.isDirectory()) throw new SourceError('not-a-file', path, `${what}: ${path}: is a directory, not a file`);
  if (!st.isFile()) throw new SourceError('not-a-file', path, `${what}: ${path}: not a regular file (a FIFO or device could block forever)`);
  if (st.size > MAX_INPUT_BYTES) throw new SourceError('too-large', path, `${what}: ${path}: ${st.size} bytes, more than any firmware table or capture (${MAX_INPUT_BYTES})`);
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, what);
  }
}
