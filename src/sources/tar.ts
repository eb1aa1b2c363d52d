/**
 * Just enough POSIX ustar for capture archives: regular files, directories and symbolic
 * links (sysfs is made of them). Pure: entries ⇄ bytes. Reading is bounds-checked and
 * refuses absolute or ".." member names, so an archive can never name a path outside itself.
 */
import { DecodeError } from '../firmware/errors.js';

export interface TarEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  data?: Uint8Array;
  linkname?: string;
  mode?: number;
}

const BLOCK = 512;
const enc = new TextEncoder();

function putString(h: Uint8Array, off: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new Error(`tar: "${s}" is longer than ${len} bytes`);
  h.set(b, off);
}
function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  putString(h, off, len, n.toString(8).padStart(len - 1, '0') + '\0');
}

function header(e: TarEntry, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  let name = e.path;
  let prefix = '';
  if (enc.encode(name).length > 100) {
    // ustar splits long names at a slash: prefix (at most 155 bytes) / name (at most 100).
    let cut = -1;
    for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
      if (enc.encode(name.slice(i + 1)).length <= 100) {
        cut = i;
        break;
      }
    }
    if (cut < 0 || enc.encode(name.slice(0, cut)).length > 155) throw new Error(`tar: path too long: ${e.path}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644));
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  putOctal(h, 124, 12, size);
  putOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  h[156] = e.type === 'dir' ? 0x35 : e.type === 'symlink' ? 0x32 : 0x30;
  if (e.linkname) putString(h, 157, 100, e.linkname);
  putString(h, 257, 6, 'ustar\0');
  putString(h, 263, 2, '00');
  putString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

export function writeTar(entries: TarEntry[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? new Uint8Array()) : new Uint8Array();
    const h = header(e, data.length, mtime);
    parts.push(h, data);
    total += BLOCK + data.length;
    const padLen = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (padLen) {
      parts.push(new Uint8Array(padLen));
      total += padLen;
    }
  }
  parts.push(new Uint8Array(2 * BLOCK));
  total += 2 * BLOCK;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const LABEL = 'capture archive (tar)';

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}
function octal(b: Uint8Array, off: number, len: number, field: string, at: number): number {
  const s = str(b, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new DecodeError(LABEL, at + off, field, `"${s}" is not an octal number`);
  return s === '' ? 0 : parseInt(s, 8);
}

/** Member names must stay inside the archive. */
export function safePath(p: string): string | null {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (p.startsWith('/') || parts.some((x) => x === '..')) return null;
  return parts.join('/');
}

export function readTar(bytes: Uint8Array, maxEntries = 200_000): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const h = bytes.subarray(at, at + BLOCK);
    if (h.every((x) => x === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = octal(h, 148, 8, 'checksum', at);
    if (stored !== sum) throw new DecodeError(LABEL, at + 148, 'header checksum', `is ${stored}, computed ${sum}: not a tar archive or damaged`);
    const size = octal(h, 124, 12, 'size', at);
    const prefix = str(h, 345, 155);
    const rawName = (prefix ? prefix + '/' : '') + str(h, 0, 100);
    const path = safePath(rawName);
    if (path === null) throw new DecodeError(LABEL, at, 'name', `member "${rawName}" points outside the archive`);
    const flag = h[156];
    const dataStart = at + BLOCK;
    if (dataStart + size > bytes.length) throw new DecodeError(LABEL, at + 124, 'size', `member "${rawName}" says ${size} bytes, the archive ends first (truncated)`);
    if (flag === 0x30 || flag === 0) out.push({ path, type: 'file', data: bytes.slice(dataStart, dataStart + size) });
    else if (flag === 0x35) out.push({ path, type: 'dir' });
    else if (flag === 0x32) out.push({ path, type: 'symlink', linkname: str(h, 157, 100) });
    // Other member types (hard links, devices, PAX headers) carry nothing a capture needs.
    if (out.length > maxEntries) throw new DecodeError(LABEL, at, 'entries', `more than ${maxEntries} members`);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
