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
/** Typeflags: pax extended header for the next member (POSIX.1-2001); GNU long name / long link name. */
const PAX_EXTENDED = 0x78; // 'x'
const GNU_LONGNAME = 0x4c; // 'L'
const GNU_LONGLINK = 0x4b; // 'K'
/** A pax header or GNU long name bigger than this holds no path we would accept. */
const MAX_META = 64 * 1024;
const enc = new TextEncoder();

function putString(h: Uint8Array, off: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new Error(`tar: "${s}" is longer than ${len} bytes`);
  h.set(b, off);
}
function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  putString(h, off, len, n.toString(8).padStart(len - 1, '0') + '\0');
}

/** A POSIX.1-2001 (pax) record "LEN key=value\n", where LEN counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = enc.encode(body).length;
  let len = bodyLen + 1;
  while (len !== bodyLen + String(len).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

/** ustar splits a long name at a slash: prefix (at most 155 bytes) / name (at most 100); null when it cannot. */
function ustarSplit(path: string): { prefix: string; name: string } | null {
  if (enc.encode(path).length <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    if (enc.encode(path.slice(i + 1)).length <= 100) return enc.encode(path.slice(0, i)).length <= 155 ? { prefix: path.slice(0, i), name: path.slice(i + 1) } : null;
  }
  return null;
}

/**
 * Names and link targets that ustar cannot hold (sysfs links of SAS disks run past 100 bytes)
 * go into a pax extended header before the entry, as GNU and bsdtar read them.
 */
function paxFor(e: TarEntry): TarEntry | null {
  let records = '';
  if (ustarSplit(e.path) === null) records += paxRecord('path', e.path);
  if (e.linkname !== undefined && enc.encode(e.linkname).length > 100) records += paxRecord('linkpath', e.linkname);
  return records ? { path: 'PaxHeaders/entry', type: 'file', data: enc.encode(records) } : null;
}

function header(e: TarEntry, size: number, mtime: number, typeflag?: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  // Too long for ustar: the pax header before this one carries the full name; this one keeps its tail.
  const { prefix, name } = ustarSplit(e.path) ?? { prefix: '', name: e.path.slice(-100).replace(/^[^/]*\//, '') };
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644));
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  putOctal(h, 124, 12, size);
  putOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum field counts as spaces
  h[156] = typeflag ?? (e.type === 'dir' ? 0x35 : e.type === 'symlink' ? 0x32 : 0x30);
  if (e.linkname) putString(h, 157, 100, enc.encode(e.linkname).length > 100 ? '' : e.linkname);
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
  const add = (h: Uint8Array, data: Uint8Array) => {
    parts.push(h, data);
    total += BLOCK + data.length;
    const padLen = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (padLen) {
      parts.push(new Uint8Array(padLen));
      total += padLen;
    }
  };
  for (const e of entries) {
    const pax = paxFor(e);
    if (pax) add(header(pax, pax.data!.length, mtime, PAX_EXTENDED), pax.data!);
    const data = e.type === 'file' ? (e.data ?? new Uint8Array()) : new Uint8Array();
    add(header(e, data.length, mtime), data);
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

/** One decoder for every header field: a capture has thousands of members. */
const utf8 = new TextDecoder();

function str(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return utf8.decode(b.subarray(off, end));
}
function octal(b: Uint8Array, off: number, len: number, field: string, at: number): number {
  const s = str(b, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw new DecodeError(LABEL, at + off, field, `"${s}" is not an octal number`);
  return s === '' ? 0 : parseInt(s, 8);
}

/** Names of plain components ("." and ".." refused), no leading, doubled or trailing "/". */
const PLAIN_PATH = /^(?!\.\.?(?:\/|$))[^/]+(?:\/(?!\.\.?(?:\/|$))[^/]+)*$/;

/** Member names must stay inside the archive. */
export function safePath(p: string): string | null {
  // The usual member name ("sys/bus/pci/devices/0000:00:01.0"): nothing to drop or refuse.
  if (PLAIN_PATH.test(p)) return p;
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (p.startsWith('/') || parts.some((x) => x === '..')) return null;
  return parts.join('/');
}

/** The path and linkpath records of a pax extended header. */
function paxValues(data: Uint8Array, at: number): { path?: string; linkpath?: string } {
  const text = new TextDecoder().decode(data);
  const out: { path?: string; linkpath?: string } = {};
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(' ', i);
    const len = sp > i ? Number(text.slice(i, sp)) : NaN;
    if (!Number.isInteger(len) || len <= sp - i || i + len > text.length) throw new DecodeError(LABEL, at, 'pax header', `record at byte ${i} has no valid length`);
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) {
      const key = rec.slice(0, eq);
      if (key === 'path') out.path = rec.slice(eq + 1);
      else if (key === 'linkpath') out.linkpath = rec.slice(eq + 1);
    }
    i += len;
  }
  return out;
}

export function readTar(bytes: Uint8Array, maxEntries = 200_000): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  // Long names from a pax ('x') or GNU ('L'/'K') header, for the member that follows.
  let longPath: string | undefined;
  let longLink: string | undefined;
  while (at + BLOCK <= bytes.length) {
    const h = bytes.subarray(at, at + BLOCK);
    let raw = 0;
    for (let i = 0; i < BLOCK; i++) raw += h[i]!;
    // An all-zero block ends the archive.
    if (raw === 0) break;
    // The checksum counts its own eight bytes as blanks.
    let sum = raw + 8 * 0x20;
    for (let i = 148; i < 156; i++) sum -= h[i]!;
    const stored = octal(h, 148, 8, 'checksum', at);
    if (stored !== sum) throw new DecodeError(LABEL, at + 148, 'header checksum', `is ${stored}, computed ${sum}: not a tar archive or damaged`);
    const size = octal(h, 124, 12, 'size', at);
    const prefix = str(h, 345, 155);
    const flag = h[156];
    const dataStart = at + BLOCK;
    const headerName = (prefix ? prefix + '/' : '') + str(h, 0, 100);
    if (dataStart + size > bytes.length) throw new DecodeError(LABEL, at + 124, 'size', `member "${headerName}" says ${size} bytes, the archive ends first (truncated)`);
    if (flag === PAX_EXTENDED || flag === GNU_LONGNAME || flag === GNU_LONGLINK) {
      if (size > MAX_META) throw new DecodeError(LABEL, at + 124, 'size', `a ${String.fromCharCode(flag)} header of ${size} bytes is no real long name`);
      const data = bytes.subarray(dataStart, dataStart + size);
      if (flag === PAX_EXTENDED) {
        const v = paxValues(data, dataStart);
        if (v.path !== undefined) longPath = v.path;
        if (v.linkpath !== undefined) longLink = v.linkpath;
      } else if (flag === GNU_LONGNAME) longPath = str(data, 0, data.length);
      else longLink = str(data, 0, data.length);
      at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    const rawName = longPath ?? headerName;
    const linkname = longLink ?? str(h, 157, 100);
    longPath = longLink = undefined;
    const path = safePath(rawName);
    if (path === null) throw new DecodeError(LABEL, at, 'name', `member "${rawName}" points outside the archive`);
    if (flag === 0x30 || flag === 0) out.push({ path, type: 'file', data: bytes.slice(dataStart, dataStart + size) });
    else if (flag === 0x35) out.push({ path, type: 'dir' });
    else if (flag === 0x32) out.push({ path, type: 'symlink', linkname });
    // Other member types (hard links, devices, PAX headers) carry nothing a capture needs.
    if (out.length > maxEntries) throw new DecodeError(LABEL, at, 'entries', `more than ${maxEntries} members`);
    at = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
