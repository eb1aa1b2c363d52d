/**
 * Settings ⇄ bytes, by a schema's rules: what `conrep -s` reads out of NVRAM, CMOS and the
 * BIOS environment variables, and what `conrep -l` writes back. The simulator is built on
 * it, and `assignable conrep decode` exposes it.
 *
 * Our reading of the schema encoding: an enumerated setting lives in one byte — NVRAM or
 * CMOS at <nvram>/<cmos> + <byte>, or byte <byte> of the EV — and takes the value whose id
 * equals the byte under <mask>; a record setting's EV is <length>/<record_size> records of
 * <Fields>; text fields are ASCII padded with NULs, other fields hex bytes.
 */
import { DecodeError } from '../../firmware/errors.js';
import { findSection, sectionApplies, type ConrepSchema, type PlatformInfo, type SchemaSection } from './schema.js';
import type { ConrepSettings, SettingsSection } from './settings.js';

export interface BiosImage {
  nvram: Uint8Array;
  cmos: Uint8Array;
  ev: Map<string, Uint8Array>;
}

export const NVRAM_SIZE = 4096;
export const CMOS_SIZE = 256;

export function emptyImage(): BiosImage {
  return { nvram: new Uint8Array(NVRAM_SIZE), cmos: new Uint8Array(CMOS_SIZE), ev: new Map() };
}

const LABEL = 'conrep settings';
const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** Where an enumerated setting's byte lives: the array and the index in it. */
function location(img: BiosImage, s: SchemaSection, forWrite: boolean): { arr: Uint8Array; at: number } | null {
  const st = s.storage;
  if (st.kind === 'nvram' || st.kind === 'cmos') {
    const arr = st.kind === 'nvram' ? img.nvram : img.cmos;
    const at = st.address + st.byte;
    if (at >= arr.length) throw new DecodeError(LABEL, 0, `Section "${s.name}"`, `${st.kind} address 0x${at.toString(16)} is outside the ${arr.length}-byte ${st.kind}`, 'line');
    return { arr, at };
  }
  if (st.kind === 'ev') {
    let arr = img.ev.get(st.name);
    if (!arr || arr.length < st.length) {
      if (!forWrite && !arr) return { arr: new Uint8Array(st.length), at: st.byte };
      const grown = new Uint8Array(Math.max(st.length, arr?.length ?? 0));
      if (arr) grown.set(arr);
      arr = grown;
      if (forWrite) img.ev.set(st.name, arr);
    }
    return { arr, at: st.byte };
  }
  return null;
}

/** One section's value as conrep would save it, or undefined if the schema cannot locate it. */
export function readSection(img: BiosImage, s: SchemaSection): Omit<SettingsSection, 'attrs'> | undefined {
  if (s.record && s.storage.kind === 'ev') {
    const bytes = img.ev.get(s.storage.name) ?? new Uint8Array(s.storage.length);
    const { recordSize, fields, format } = s.record;
    const records: Array<[string, string]> = [];
    const count = Math.floor(s.storage.length / recordSize);
    for (let i = 0; i < count; i++) {
      for (const f of fields) {
        const b = bytes.subarray(i * recordSize + f.start, i * recordSize + f.start + f.size);
        if (format === 'text') {
          const t = String.fromCharCode(...b).replace(/[\0 ]+$/, '');
          if (t !== '') records.push([`${f.name}${i}`, t]);
        } else records.push([`${f.name}${i}`, Array.from(b, hex2).join('')]);
      }
    }
    return { name: s.name, value: null, records };
  }
  if (s.values.length === 0) {
    if (s.storage.kind !== 'ev') return undefined;
    return { name: s.name, value: Array.from(img.ev.get(s.storage.name) ?? new Uint8Array(s.storage.length), hex2).join(''), records: [] };
  }
  const loc = location(img, s, false);
  if (!loc) return undefined;
  const v = loc.arr[loc.at]! & s.mask;
  const match = s.values.find((x) => (x.id & s.mask) === v);
  return { name: s.name, value: match ? match.name : `0x${hex2(v)}`, records: [] };
}

export function writeSection(img: BiosImage, s: SchemaSection, sec: SettingsSection): void {
  if (s.record && s.storage.kind === 'ev') {
    const loc = location(img, s, true)!;
    const { recordSize, fields, format } = s.record;
    for (const [key, text] of sec.records) {
      const m = /^(.*?)(\d+)$/.exec(key);
      const f = m ? fields.find((x) => x.name === m[1]) : undefined;
      const i = m ? Number(m[2]) : -1;
      if (!f || i < 0 || (i + 1) * recordSize > s.storage.length) throw new DecodeError(LABEL, 0, `Section "${s.name}" <${key}>`, 'no such record field in the schema', 'line');
      const at = i * recordSize + f.start;
      const b = new Uint8Array(f.size);
      if (format === 'text') {
        if (text.length > f.size) throw new DecodeError(LABEL, 0, `Section "${s.name}" <${key}>`, `"${text}" is longer than ${f.size} characters`, 'line');
        for (let k = 0; k < text.length; k++) b[k] = text.charCodeAt(k) & 0xff;
      } else {
        if (!/^([0-9a-fA-F]{2})*$/.test(text) || text.length !== 2 * f.size) throw new DecodeError(LABEL, 0, `Section "${s.name}" <${key}>`, `"${text}" is not ${f.size} hex byte(s)`, 'line');
        for (let k = 0; k < f.size; k++) b[k] = parseInt(text.slice(2 * k, 2 * k + 2), 16);
      }
      loc.arr.set(b, at);
    }
    return;
  }
  if (sec.value === null) throw new DecodeError(LABEL, 0, `Section "${s.name}"`, 'records given for a setting that takes a value', 'line');
  const loc = location(img, s, true);
  if (!loc) throw new DecodeError(LABEL, 0, `Section "${s.name}"`, 'the schema gives this setting no storage', 'line');
  if (s.values.length === 0) {
    if (!/^([0-9a-fA-F]{2})*$/.test(sec.value)) throw new DecodeError(LABEL, 0, `Section "${s.name}"`, `"${sec.value}" is not hex bytes`, 'line');
    for (let k = 0; k * 2 < sec.value.length && k < loc.arr.length; k++) loc.arr[k] = parseInt(sec.value.slice(2 * k, 2 * k + 2), 16);
    return;
  }
  const v = s.values.find((x) => x.name === sec.value);
  if (!v) throw new DecodeError(LABEL, 0, `Section "${s.name}"`, `"${sec.value}" is not one of ${s.values.map((x) => x.name).join(', ')}`, 'line');
  loc.arr[loc.at] = (loc.arr[loc.at]! & ~s.mask & 0xff) | (v.id & s.mask);
}

/** Every setting the schema defines for this platform, as `conrep -s` saves them. */
export function readSettings(img: BiosImage, schema: ConrepSchema, p: PlatformInfo, header: Array<[string, string]>, prolog: string[] = []): ConrepSettings {
  const seen = new Set<string>();
  const sections: SettingsSection[] = [];
  for (const s of schema.sections) {
    if (seen.has(s.name) || !sectionApplies(s, p)) continue;
    const r = readSection(img, s);
    if (!r) continue;
    seen.add(s.name);
    sections.push({ ...r, attrs: [['name', s.name], ['helptext', s.helptext]] });
  }
  return { declaration: true, prolog, attrs: header, sections };
}

/** Apply a settings file (full or partial) to an image, section by section, in file order. */
export function applySettings(img: BiosImage, schema: ConrepSchema, p: PlatformInfo, settings: ConrepSettings): string[] {
  const applied: string[] = [];
  for (const sec of settings.sections) {
    const def = findSection(schema, sec.name, p);
    if (!def) throw new DecodeError(LABEL, 0, `Section "${sec.name}"`, `not defined for ${p.platform} by this schema`, 'line');
    writeSection(img, def, sec);
    applied.push(sec.name);
  }
  return applied;
}

/** Image files: JSON with hex strings, the simulator's NVRAM and what `conrep decode` reads. */
export interface ImageFile {
  platform: PlatformInfo;
  nvram: string;
  cmos: string;
  ev: Record<string, string>;
}

const toHex = (b: Uint8Array) => Array.from(b, hex2).join('');
function fromHex(h: string, what: string): Uint8Array {
  if (typeof h !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new DecodeError('BIOS image', 0, what, 'not a hex string', 'line');
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

export function imageToFile(img: BiosImage, platform: PlatformInfo): ImageFile {
  return { platform, nvram: toHex(img.nvram), cmos: toHex(img.cmos), ev: Object.fromEntries([...img.ev].map(([k, v]) => [k, toHex(v)])) };
}

export function imageFromFile(text: string): { image: BiosImage; platform: PlatformInfo } {
  let j: ImageFile;
  try {
    j = JSON.parse(text) as ImageFile;
  } catch (e) {
    throw new DecodeError('BIOS image', 1, 'JSON', (e as Error).message, 'line');
  }
  if (!j || typeof j !== 'object' || typeof j.nvram !== 'string' || typeof j.cmos !== 'string' || !j.platform) {
    throw new DecodeError('BIOS image', 1, 'JSON', 'expected { platform, nvram, cmos, ev }', 'line');
  }
  // Every platform field is read as text later on: a missing one is bad input, not a crash.
  const p = j.platform as unknown as Record<string, unknown>;
  for (const k of ['platform', 'family', 'romDate', 'procMan'] as const) {
    if (typeof p !== 'object' || typeof p[k] !== 'string') throw new DecodeError('BIOS image', 1, `platform.${k}`, 'missing or not a string (expected { platform, family, romDate, procMan })', 'line');
  }
  if (j.ev !== undefined && (j.ev === null || typeof j.ev !== 'object' || Array.isArray(j.ev))) throw new DecodeError('BIOS image', 1, 'ev', 'expected an object of hex strings', 'line');
  const nvram = new Uint8Array(NVRAM_SIZE);
  nvram.set(fromHex(j.nvram, 'nvram').subarray(0, NVRAM_SIZE));
  const cmos = new Uint8Array(CMOS_SIZE);
  cmos.set(fromHex(j.cmos, 'cmos').subarray(0, CMOS_SIZE));
  const ev = new Map(Object.entries(j.ev ?? {}).map(([k, v]) => [k, fromHex(v, `ev ${k}`)]));
  return { image: { nvram, cmos, ev }, platform: j.platform };
}
