/**
 * conrep settings files: what `conrep -s` writes (the <Conrep version originating_…> header,
 * one <Section name helptext> per setting, multi-field records as children like <Line0> or
 * <Index0>) and the partial files `conrep -l` loads. Order, attributes and unknown content
 * are kept, so a file read and written again is the same file (whitespace aside).
 */
import { DecodeError } from '../../firmware/errors.js';
import { attr, elements, escapeXml, parseXml, textOf, unescapeXml, type XmlElement } from './xml.js';

export interface SettingsSection {
  name: string;
  /** All attributes as written (name, helptext, anything else), in order. */
  attrs: Array<[string, string]>;
  /** A plain value ("Endpoints_Excluded"), or null when the section holds records. */
  value: string | null;
  /** Record children in order: ["Line0", "GH2"], ["Index0", "00"], … */
  records: Array<[string, string]>;
}

export interface ConrepSettings {
  declaration: boolean;
  prolog: string[];
  /** Attributes of <Conrep>: version, originating_platform, originating_family, … */
  attrs: Array<[string, string]>;
  sections: SettingsSection[];
}

const LABEL = 'conrep settings';

function sectionOf(e: XmlElement): SettingsSection {
  const name = attr(e, 'name');
  if (!name) throw new DecodeError(LABEL, 1, '<Section>', 'a Section without a name attribute', 'line');
  const kids = elements(e);
  if (kids.length === 0) return { name, attrs: e.attrs, value: unescapeXml(textOf(e)).trim(), records: [] };
  return { name, attrs: e.attrs, value: null, records: kids.map((k) => [k.name, unescapeXml(textOf(k)).trim()] as [string, string]) };
}

export function parseConrepSettings(text: string): ConrepSettings {
  const doc = parseXml(text, LABEL);
  if (doc.root.name !== 'Conrep') throw new DecodeError(LABEL, 1, 'root element', `is <${doc.root.name}>, not <Conrep>`, 'line');
  if (elements(doc.root, 'global').length > 0) throw new DecodeError(LABEL, 1, '<global>', 'this is a conrep schema (it has <global>), not a settings file', 'line');
  return { declaration: doc.declaration, prolog: doc.prolog, attrs: doc.root.attrs, sections: elements(doc.root, 'Section').map(sectionOf) };
}

export const settingsAttr = (s: ConrepSettings, name: string): string | null => s.attrs.find(([k]) => k === name)?.[1] ?? null;

/** Write settings in conrep's own layout: one Section per line, two-space indent. */
export function writeConrepSettings(s: ConrepSettings): string {
  const out: string[] = [];
  if (s.declaration) out.push('<?xml version="1.0" encoding="UTF-8"?>');
  for (const c of s.prolog) out.push(`<!--${c}-->`);
  const rootAttrs = s.attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
  out.push(`<Conrep${rootAttrs}>`);
  for (const sec of s.sections) {
    const attrs = sec.attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
    const body = sec.value !== null ? escapeXml(sec.value) : sec.records.map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
    out.push(`  <Section${attrs}>${body}</Section>`);
  }
  out.push('</Conrep>');
  return out.join('\n') + '\n';
}

/**
 * The minimal partial file conrep loads: exactly the form HPE's advisory and the users who
 * succeeded with it wrote, `<Conrep><Section name="RMRDS_Slot2" helptext=".">Endpoints_Excluded</Section></Conrep>`.
 */
export function overrideFile(sections: Array<{ name: string; value: string; helptext?: string }>): string {
  return `<Conrep>${sections.map((s) => `<Section name="${escapeXml(s.name)}" helptext="${escapeXml(s.helptext ?? '.')}">${escapeXml(s.value)}</Section>`).join('')}</Conrep>`;
}

/** Value of a section in a settings file (first occurrence), or undefined. */
export function valueOf(s: ConrepSettings, name: string): string | null | undefined {
  const sec = s.sections.find((x) => x.name === name);
  return sec === undefined ? undefined : sec.value;
}

/** Two settings files say the same thing: same header attributes, same sections, values, records. */
export function sameSettings(a: ConrepSettings, b: ConrepSettings): boolean {
  const norm = (s: ConrepSettings) => JSON.stringify({ attrs: s.attrs, sections: s.sections });
  return norm(a) === norm(b);
}
