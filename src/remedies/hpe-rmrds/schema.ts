/**
 * conrep schema files (conrep.xml 4.x/5.x, conrep_rmrds.xml): a <global> block and one
 * <Section> per setting, each stored in a BIOS environment variable (<ev>, with <length>
 * and <byte>), an NVRAM byte (<nvram>) or a CMOS byte (<cmos>); enumerated settings map
 * <value id> under <mask>; record settings (<Fields>) hold text or bytes per record.
 * Sections may be filtered by platform, processor maker, ROM family and ROM date, and one
 * name may appear several times under different filters.
 */
import { DecodeError } from '../../firmware/errors.js';
import { attr, elements, parseXml, textOf, unescapeXml, type XmlElement } from './xml.js';

export type Storage =
  | { kind: 'ev'; name: string; length: number; byte: number }
  | { kind: 'nvram'; address: number; byte: number }
  | { kind: 'cmos'; address: number; byte: number }
  /** A section the schema gives no storage for (it exists in HPE's files): it can be listed, not read or set. */
  | { kind: 'none' };

export interface SchemaField {
  name: string;
  size: number;
  start: number;
}

export interface SchemaSection {
  name: string;
  helptext: string;
  altname: string | null;
  storage: Storage;
  values: Array<{ id: number; name: string }>;
  /** Bits the enumerated values live in; without <mask> the whole byte. */
  mask: number;
  /** Record sections: length / recordSize records of these fields. */
  record: { recordSize: number; format: 'text' | 'bytes'; fields: SchemaField[]; emptyDelete: boolean } | null;
  filters: {
    platforms: string[] | null;
    procMans: string[] | null;
    romFamilies: string[] | null;
    romDatesAfter: string | null;
    romDatesBefore: string | null;
  };
}

export interface ConrepSchema {
  fileversion: string | null;
  minimumConrepVersion: string | null;
  platforms: string[] | null;
  onMismatch: string | null;
  sections: SchemaSection[];
}

const LABEL = 'conrep schema';

function num(text: string, section: string, field: string): number {
  const t = text.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (Number.isNaN(n)) throw new DecodeError(LABEL, 0, `Section "${section}" <${field}>`, `"${t}" is not a number (hex 0x.. or decimal)`, 'line');
  return n;
}

function childText(e: XmlElement, name: string): string | null {
  const c = elements(e, name)[0];
  return c ? unescapeXml(textOf(c)).trim() : null;
}

function list(e: XmlElement, outer: string, inner: string): string[] | null {
  const o = elements(e, outer)[0];
  return o ? elements(o, inner).map((x) => unescapeXml(textOf(x)).trim()) : null;
}

function parseSection(s: XmlElement): SchemaSection {
  const name = attr(s, 'name');
  if (!name) throw new DecodeError(LABEL, 0, '<Section>', 'a Section without a name', 'line');
  const byteText = childText(s, 'byte');
  const byte = byteText === null ? 0 : num(byteText, name, 'byte');
  const ev = childText(s, 'ev');
  const nvram = childText(s, 'nvram');
  const cmos = childText(s, 'cmos');
  const lengthText = childText(s, 'length');
  let storage: Storage;
  if (ev !== null) storage = { kind: 'ev', name: ev, length: lengthText === null ? 1 : num(lengthText, name, 'length'), byte };
  else if (nvram !== null) storage = { kind: 'nvram', address: num(nvram, name, 'nvram'), byte };
  else if (cmos !== null) storage = { kind: 'cmos', address: num(cmos, name, 'cmos'), byte };
  else storage = { kind: 'none' };
  const values = elements(s, 'value').map((v) => {
    const id = attr(v, 'id');
    if (id === undefined) throw new DecodeError(LABEL, 0, `Section "${name}" <value>`, 'a value without an id', 'line');
    return { id: num(id, name, 'value id'), name: unescapeXml(textOf(v)).trim() };
  });
  const maskText = childText(s, 'mask');
  const fieldsEl = elements(s, 'Fields')[0];
  const recordSizeText = childText(s, 'record_size');
  let record: SchemaSection['record'] = null;
  if (fieldsEl || recordSizeText !== null) {
    const fields = fieldsEl
      ? elements(fieldsEl, 'Field').map((f) => ({
          name: childText(f, 'Field_name') ?? 'Field',
          size: num(childText(f, 'Field_size') ?? '1', name, 'Field_size'),
          start: num(childText(f, 'Field_start') ?? '0', name, 'Field_start'),
        }))
      : [];
    record = {
      recordSize: recordSizeText === null ? 1 : Math.max(1, num(recordSizeText, name, 'record_size')),
      format: childText(s, 'format') === 'text' ? 'text' : 'bytes',
      fields,
      emptyDelete: childText(s, 'empty_delete') === '1',
    };
  }
  const dates = elements(s, 'romdates')[0];
  return {
    name,
    helptext: childText(s, 'helptext') ?? '',
    altname: childText(s, 'altname'),
    storage,
    values,
    mask: maskText === null ? 0xff : num(maskText, name, 'mask'),
    record,
    filters: {
      platforms: list(s, 'platforms', 'platform'),
      procMans: list(s, 'proc_mans', 'proc_man'),
      romFamilies: list(s, 'romfamilies', 'romfamily'),
      romDatesAfter: dates ? childText(dates, 'greaterthan') : null,
      romDatesBefore: dates ? childText(dates, 'lessthan') : null,
    },
  };
}

export function parseConrepSchema(text: string): ConrepSchema {
  const doc = parseXml(text, LABEL);
  if (doc.root.name !== 'Conrep') throw new DecodeError(LABEL, 1, 'root element', `is <${doc.root.name}>, not <Conrep>: not a conrep schema`, 'line');
  const g = elements(doc.root, 'global')[0];
  const sections = elements(doc.root, 'Section').map(parseSection);
  if (sections.length === 0) throw new DecodeError(LABEL, 1, '<Section>', 'no Section definitions: not a conrep schema (a settings file?)', 'line');
  if (sections.every((s) => s.storage.kind === 'none' && s.values.length === 0)) {
    throw new DecodeError(LABEL, 1, '<Section>', 'Sections carry values but no definitions: this is a settings file, not a schema', 'line');
  }
  return {
    fileversion: g ? childText(g, 'fileversion') : null,
    minimumConrepVersion: g ? childText(g, 'minimumconrepversion') : null,
    platforms: g ? list(g, 'platforms', 'platform') : null,
    onMismatch: g ? childText(g, 'onmismatch') : null,
    sections,
  };
}

export interface PlatformInfo {
  /** "ProLiant DL360e Gen8" */
  platform: string;
  /** ROM family, "P73" */
  family: string;
  /** "08/02/2014" */
  romDate: string;
  /** "Intel" */
  procMan: string;
}

/** mm/dd/yy or mm/dd/yyyy → yyyymmdd, for comparisons. */
function dateKey(d: string): number | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(d.trim());
  if (!m) return null;
  const y = m[3]!.length === 2 ? 2000 + Number(m[3]) : Number(m[3]);
  return y * 10000 + Number(m[1]) * 100 + Number(m[2]);
}

/** Platform names in HPE schemas are prefixes or words: "ProLiant DL3" matches "ProLiant DL380p Gen8", "Gen9" matches "ProLiant DL360 Gen9". */
export function platformMatches(list: string[], platform: string): boolean {
  return list.some((p) => platform.startsWith(p) || platform.split(/\s+/).includes(p) || platform.includes(` ${p}`));
}

export function sectionApplies(s: SchemaSection, p: PlatformInfo): boolean {
  const f = s.filters;
  if (f.platforms && !platformMatches(f.platforms, p.platform)) return false;
  if (f.procMans && !f.procMans.some((m) => p.procMan.toLowerCase().startsWith(m.toLowerCase()))) return false;
  if (f.romFamilies && !f.romFamilies.includes(p.family)) return false;
  const rom = dateKey(p.romDate);
  if (f.romDatesAfter && rom !== null && dateKey(f.romDatesAfter) !== null && rom <= dateKey(f.romDatesAfter)!) return false;
  if (f.romDatesBefore && rom !== null && dateKey(f.romDatesBefore) !== null && rom >= dateKey(f.romDatesBefore)!) return false;
  return true;
}

/** The definition of `name` for this platform: the first one whose filters match (names repeat under filters). */
export function findSection(schema: ConrepSchema, name: string, p: PlatformInfo | null): SchemaSection | undefined {
  const all = schema.sections.filter((s) => s.name === name || s.altname === name);
  return p ? all.find((s) => sectionApplies(s, p)) : all[0];
}
