/** `assignable conrep lint` and `conrep diff`: check a settings file against a schema; compare two. */
import { findSection, platformMatches, sectionApplies, type ConrepSchema, type PlatformInfo } from './schema.js';
import { settingsAttr, type ConrepSettings } from './settings.js';

export interface LintIssue {
  severity: 'error' | 'warning';
  section: string | null;
  message: string;
}

export function platformOf(s: ConrepSettings): PlatformInfo | null {
  const platform = settingsAttr(s, 'originating_platform');
  if (!platform) return null;
  return {
    platform,
    family: settingsAttr(s, 'originating_family') ?? '',
    romDate: settingsAttr(s, 'originating_romdate') ?? '',
    procMan: settingsAttr(s, 'originating_processor_manufacturer') ?? '',
  };
}

export function lintSettings(s: ConrepSettings, schema: ConrepSchema, platformOverride?: PlatformInfo): LintIssue[] {
  const issues: LintIssue[] = [];
  const p = platformOverride ?? platformOf(s);
  if (p && schema.platforms && !platformMatches(schema.platforms, p.platform)) {
    issues.push({ severity: 'warning', section: null, message: `the file comes from "${p.platform}", which this schema does not list among its platforms` });
  }
  const seen = new Map<string, number>();
  for (const sec of s.sections) {
    seen.set(sec.name, (seen.get(sec.name) ?? 0) + 1);
    const defs = schema.sections.filter((d) => d.name === sec.name || d.altname === sec.name);
    if (defs.length === 0) {
      issues.push({ severity: 'error', section: sec.name, message: 'unknown section: this schema does not define it' });
      continue;
    }
    const def = p ? findSection(schema, sec.name, p) : defs[0];
    if (!def) {
      issues.push({ severity: 'warning', section: sec.name, message: `defined only for other platforms, processors or ROMs than ${p!.platform} (${p!.family}, ${p!.procMan})` });
      continue;
    }
    if (def.storage.kind === 'none') issues.push({ severity: 'warning', section: sec.name, message: 'the schema gives this setting no storage (<ev>, <nvram> or <cmos>): conrep cannot set it' });
    if (def.record) {
      if (sec.value !== null && sec.value !== '') issues.push({ severity: 'error', section: sec.name, message: `takes records (${def.record.fields.map((f) => f.name + 'N').join(', ')}), not a value` });
      const count = def.storage.kind === 'ev' ? Math.floor(def.storage.length / def.record.recordSize) : 0;
      for (const [k, v] of sec.records) {
        const m = /^(.*?)(\d+)$/.exec(k);
        const f = m ? def.record.fields.find((x) => x.name === m[1]) : undefined;
        if (!f || Number(m![2]) >= count) issues.push({ severity: 'error', section: sec.name, message: `<${k}> is not a record field of this setting (fields ${def.record.fields.map((x) => x.name).join(', ')}, records 0-${count - 1})` });
        else if (def.record.format === 'text' ? v.length > f.size : !new RegExp(`^[0-9a-fA-F]{${2 * f.size}}$`).test(v)) issues.push({ severity: 'error', section: sec.name, message: `<${k}>${v}</${k}> does not fit a ${f.size}-byte ${def.record.format} field` });
      }
    } else if (def.values.length > 0) {
      if (sec.value === null) issues.push({ severity: 'error', section: sec.name, message: 'takes a value, not records' });
      else if (!def.values.some((v) => v.name === sec.value)) issues.push({ severity: 'error', section: sec.name, message: `value "${sec.value}" is not one of: ${def.values.map((v) => v.name).join(', ')}` });
    }
    if (p && def.filters.platforms && !sectionApplies(def, p)) issues.push({ severity: 'warning', section: sec.name, message: `not defined for ${p.platform}` });
  }
  for (const [name, n] of seen) if (n > 1) issues.push({ severity: 'error', section: name, message: `appears ${n} times: conrep would apply each in turn, the last one wins` });
  return issues;
}

export interface SettingsDiff {
  header: Array<{ attr: string; a: string | null; b: string | null }>;
  changed: Array<{ section: string; a: string; b: string }>;
  onlyA: string[];
  onlyB: string[];
}

const shown = (s: { value: string | null; records: Array<[string, string]> }) => (s.value !== null ? s.value : s.records.map(([k, v]) => `${k}=${v}`).join(' '));

export function diffSettings(a: ConrepSettings, b: ConrepSettings): SettingsDiff {
  const header: SettingsDiff['header'] = [];
  for (const k of new Set([...a.attrs.map(([x]) => x), ...b.attrs.map(([x]) => x)])) {
    const va = settingsAttr(a, k);
    const vb = settingsAttr(b, k);
    if (va !== vb) header.push({ attr: k, a: va, b: vb });
  }
  const mapA = new Map(a.sections.map((s) => [s.name, s]));
  const mapB = new Map(b.sections.map((s) => [s.name, s]));
  const changed: SettingsDiff['changed'] = [];
  for (const [n, sa] of mapA) {
    const sb = mapB.get(n);
    if (sb && shown(sa) !== shown(sb)) changed.push({ section: n, a: shown(sa), b: shown(sb) });
  }
  return { header, changed, onlyA: [...mapA.keys()].filter((n) => !mapB.has(n)), onlyB: [...mapB.keys()].filter((n) => !mapA.has(n)) };
}
