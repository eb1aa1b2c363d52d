/**
 * `lspci` output as users paste it: -v/-vv/-vvv, with or without -nn, -k, -D, and the
 * hex lines of -x/-xxx/-xxxx (the format pciutils' `-F` reads). Each function becomes a
 * record of what the text says; when hex lines are present their bytes are kept too.
 * `configFromLspci` turns lspci's words into the same PciConfig the byte decoder makes.
 */
import { lowerHexDigitValue } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { checkLineLengths, dedent, describeText, normaliseLineEnds } from '../text.js';
import { isIommuListing, parseIommuListing } from './iommu-listing.js';
import { ACS_BITS, CAP_NAMES, ECAP_NAMES, PORT_TYPES, type AcsBit, type CapabilityEntry, type PciConfig } from './config.js';

export interface PciAddress {
  segment: number;
  bus: number;
  device: number;
  function: number;
}

export interface LspciRegion {
  index: number;
  kind: 'memory' | 'io';
  is64: boolean;
  prefetchable: boolean;
  address: bigint | null;
  size: bigint | null;
  disabled: boolean;
}

export interface LspciCapability {
  offset: number;
  extended: boolean;
  version: number | null;
  /** Text after "Capabilities: [xx] ". */
  header: string;
  /** The indented lines below it, without their leading tabs. */
  lines: string[];
}

export interface LspciFunction {
  line: number;
  address: PciAddress;
  className: string;
  /** base << 8 | sub, from "[0600]" (-nn) or "Class 0600". */
  classBaseSub: number | null;
  progIf: number | null;
  description: string;
  vendorId: number | null;
  deviceId: number | null;
  revision: number | null;
  subsystem: string | null;
  attrs: Map<string, string>;
  driver: string | null;
  modules: string[];
  iommuGroup: number | null;
  physicalSlot: string | null;
  bus: { primary: number; secondary: number; subordinate: number } | null;
  regions: LspciRegion[];
  interruptPin: number | null;
  capabilities: LspciCapability[];
  /** "Capabilities: <access denied>": lspci ran without root. */
  capabilitiesDenied: boolean;
  config: Uint8Array | null;
}

/** The fields a record's header line does not give: filled from its detail lines, if it has any. */
export function unreadDetails(): Pick<LspciFunction, 'subsystem' | 'attrs' | 'driver' | 'modules' | 'iommuGroup' | 'physicalSlot' | 'bus' | 'regions' | 'interruptPin' | 'capabilities' | 'capabilitiesDenied' | 'config'> {
  return {
    subsystem: null,
    attrs: new Map(),
    driver: null,
    modules: [],
    iommuGroup: null,
    physicalSlot: null,
    bus: null,
    regions: [],
    interruptPin: null,
    capabilities: [],
    capabilitiesDenied: false,
    config: null,
  };
}

export interface LspciCapture {
  functions: LspciFunction[];
  /** Whether any function had "Kernel driver in use" / "IOMMU group" lines: tells null from unknown. */
  hasDriverLines: boolean;
  hasGroupLines: boolean;
  hasSlotLines: boolean;
}

const HEAD = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7]) (.*)$/;
const LABEL = 'lspci text';

function parseSize(s: string): bigint | null {
  const m = /^(\d+)([KMGTP]?)$/.exec(s);
  if (!m) return null;
  const mult = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n, P: 1n << 50n }[m[2] as '' | 'K' | 'M' | 'G' | 'T' | 'P'];
  return BigInt(m[1]!) * mult;
}

function parseHeader(rest: string): Pick<LspciFunction, 'className' | 'classBaseSub' | 'progIf' | 'description' | 'vendorId' | 'deviceId' | 'revision'> {
  const colon = rest.indexOf(': ');
  const classPart = colon >= 0 ? rest.slice(0, colon) : rest;
  let desc = colon >= 0 ? rest.slice(colon + 2) : '';
  let classBaseSub: number | null = null;
  let className = classPart;
  const cm = /^(.*?) ?\[([0-9a-f]{4})\]$/.exec(classPart) ?? /^(Class) ([0-9a-f]{4})$/.exec(classPart);
  if (cm) {
    className = cm[1]!;
    classBaseSub = parseInt(cm[2]!, 16);
  }
  let progIf: number | null = null;
  // No leading "\s*" in these patterns: on a run of blanks it retries from every one of them
  // (quadratic). lspci prints one space before each parenthesis; trim after cutting instead.
  const pm = /\(prog-if ([0-9a-f]{2})(?: \[[^\]]*\])?\)/.exec(desc);
  if (pm) {
    progIf = parseInt(pm[1]!, 16);
    desc = (desc.slice(0, pm.index).trimEnd() + ' ' + desc.slice(pm.index + pm[0].length).trimStart()).trimEnd();
  }
  let revision: number | null = null;
  const rm = /\(rev ([0-9a-f]{2})\)/.exec(desc);
  if (rm) {
    revision = parseInt(rm[1]!, 16);
    desc = (desc.slice(0, rm.index).trimEnd() + ' ' + desc.slice(rm.index + rm[0].length).trimStart()).trimEnd();
  }
  let vendorId: number | null = null;
  let deviceId: number | null = null;
  desc = desc.trimEnd();
  const im = /\[([0-9a-f]{4}):([0-9a-f]{4})\]$/.exec(desc) ?? /Device ([0-9a-f]{4}):([0-9a-f]{4})$/.exec(desc);
  if (im) {
    vendorId = parseInt(im[1]!, 16);
    deviceId = parseInt(im[2]!, 16);
    if (im[0].startsWith('[')) desc = desc.slice(0, desc.length - im[0].length).trimEnd();
  }
  return { className, classBaseSub, progIf, description: desc.trim(), vendorId, deviceId, revision };
}

function parseRegion(index: number, text: string): LspciRegion {
  const io = text.startsWith('I/O ports');
  const addr = /at ([0-9a-f]+)/.exec(text);
  const size = /\[size=([0-9]+[KMGTP]?)\]/.exec(text);
  return {
    index,
    kind: io ? 'io' : 'memory',
    is64: /\(64-bit/.test(text),
    prefetchable: /[ (]prefetchable/.test(text),
    address: addr ? BigInt('0x' + addr[1]!) : null,
    size: size ? parseSize(size[1]!) : null,
    disabled: /\[disabled\]/.test(text),
  };
}


/**
 * A config-space hex line "xx: b0 b1 … b15" (or "xxx:" past 0xff), parsed by hand: a 4 KiB
 * dump is 256 such lines per function, and this is the hot loop of reading lspci -xxxx.
 * Returns offset × HEX_LINE_COUNT_SPAN + the byte count (one number, not an object per line:
 * a million lines make garbage), or -1 if the line is not one; the bytes go to `out` at that offset.
 */
const HEX_LINE_COUNT_SPAN = 32;

function hexLine(text: string, start: number, end: number, out: Uint8Array): number {
  const colon = text.charCodeAt(start + 2) === 0x3a ? 2 : text.charCodeAt(start + 3) === 0x3a ? 3 : -1;
  if (colon < 0) return -1;
  let offset = 0;
  for (let i = 0; i < colon; i++) {
    const d = lowerHexDigitValue(text.charCodeAt(start + i));
    if (d < 0) return -1;
    offset = offset * 16 + d;
  }
  let count = 0;
  let p = start + colon + 1;
  while (p + 2 < end && text.charCodeAt(p) === 0x20 && count < 16) {
    // Lower case, as lspci writes them.
    const hi = lowerHexDigitValue(text.charCodeAt(p + 1));
    const lo = lowerHexDigitValue(text.charCodeAt(p + 2));
    if (hi < 0 || lo < 0) break;
    if (offset + count < out.length) out[offset + count] = (hi << 4) | lo;
    count++;
    p += 3;
  }
  // Anything but trailing blanks after the bytes: not a hex line (e.g. a decoded "Bus: …" line).
  for (; p < end; p++) if (text.charCodeAt(p) !== 0x20 && text.charCodeAt(p) !== 0x0d) return -1;
  return count > 0 ? offset * HEX_LINE_COUNT_SPAN + count : -1;
}

export function parseLspci(text: string): LspciCapture {
  const functions: LspciFunction[] = [];
  let cur: LspciFunction | null = null;
  let cap: LspciCapability | null = null;
  const buf = new Uint8Array(4096);
  let hexLength = 0;
  const finishHex = () => {
    if (cur && hexLength > 0) cur.config = buf.slice(0, hexLength);
    hexLength = 0;
  };
  // Column-0 lines that are neither a device header nor hex: prompts, prose, Markdown.
  let foreign = 0;
  let firstForeign = 0;
  const seen = new Map<string, number>();
  // Reported after the check for foreign text, which says more about a wrong file.
  let duplicate: DecodeError | null = null;
  // Line by line without splitting the text: a 100 MB -xxxx dump is two million hex lines,
  // read in place; only the other lines become strings.
  let next = 0;
  for (let i = 0, start = 0; start <= text.length; i++, start = next) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    next = end + 1;
    const stop = end > start && text.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    // Hex lines start at column 0 with a hex offset: test them before anything else.
    if (cur && stop - start > 3 && text.charCodeAt(start) !== 0x09) {
      const packed = hexLine(text, start, stop, buf);
      if (packed >= 0) {
        const offset = Math.floor(packed / HEX_LINE_COUNT_SPAN);
        const count = packed % HEX_LINE_COUNT_SPAN;
        if (offset !== hexLength || offset + count > buf.length) {
          throw new DecodeError(LABEL, i + 1, 'hex dump', `config space line at 0x${offset.toString(16)} does not follow 0x${hexLength.toString(16)} for ${text.slice(start, start + 3)}`, 'line');
        }
        hexLength += count;
        continue;
      }
    }
    const raw = text.slice(start, stop);
    const head = raw.charCodeAt(0) !== 0x09 ? HEAD.exec(raw) : null;
    if (head) {
      finishHex();
      const h = parseHeader(head[5]!);
      const address = { segment: head[1] ? parseInt(head[1], 16) : 0, bus: parseInt(head[2]!, 16), device: parseInt(head[3]!, 16), function: Number(head[4]) };
      const key = formatPciAddress(address);
      const before = seen.get(key);
      // Two records for one function: two captures pasted into one file; which one is true is unknown.
      if (before !== undefined) duplicate ??= new DecodeError(LABEL, i + 1, 'device record', `${key} appears twice (first on line ${before}): give one lspci capture per file`, 'line');
      seen.set(key, i + 1);
      cur = {
        line: i + 1,
        address,
        ...h,
        ...unreadDetails(),
      };
      functions.push(cur);
      cap = null;
      continue;
    }
    if (raw.charCodeAt(0) !== 0x09 && raw.charCodeAt(0) !== 0x20 && raw !== '') {
      if (foreign++ === 0) firstForeign = i + 1;
      continue;
    }
    if (!cur) continue;
    if (raw.startsWith('\t\t') || raw.startsWith('\t\t\t')) {
      if (cap) cap.lines.push(raw.replace(/^\t+/, ''));
      continue;
    }
    if (!raw.startsWith('\t')) continue;
    const body = raw.slice(1);
    const c = /^Capabilities: \[([0-9a-f]+)(?: v(\d+))?\] (.*)$/.exec(body);
    if (c) {
      const offset = parseInt(c[1]!, 16);
      cap = { offset, extended: offset >= 0x100, version: c[2] ? Number(c[2]) : null, header: c[3]!, lines: [] };
      cur.capabilities.push(cap);
      continue;
    }
    cap = null;
    if (/^Capabilities: <access denied>/.test(body)) {
      cur.capabilitiesDenied = true;
      continue;
    }
    const colon = body.indexOf(': ');
    if (colon < 0) continue;
    const key = body.slice(0, colon);
    const value = body.slice(colon + 2).trim();
    const region = /^Region (\d+)$/.exec(key);
    if (region) {
      cur.regions.push(parseRegion(Number(region[1]), value));
      continue;
    }
    if (!cur.attrs.has(key)) cur.attrs.set(key, value);
    switch (key) {
      case 'Subsystem':
        cur.subsystem = value;
        break;
      case 'Kernel driver in use':
        cur.driver = value;
        break;
      case 'Kernel modules':
        cur.modules = value.split(/,\s*/);
        break;
      case 'IOMMU group':
        cur.iommuGroup = /^\d+$/.test(value) ? Number(value) : null;
        break;
      case 'Physical Slot':
        cur.physicalSlot = value;
        break;
      case 'Bus': {
        const b = /primary=([0-9a-f]+), secondary=([0-9a-f]+), subordinate=([0-9a-f]+)/.exec(value);
        if (b) cur.bus = { primary: parseInt(b[1]!, 16), secondary: parseInt(b[2]!, 16), subordinate: parseInt(b[3]!, 16) };
        break;
      }
      case 'Interrupt': {
        const p = /pin ([A-D])/.exec(value);
        if (p) cur.interruptPin = p[1]!.charCodeAt(0) - 64;
        break;
      }
    }
  }
  finishHex();
  // lspci writes nothing but records; a few lines around them (a prompt, a heading) are a
  // paste, more foreign lines than records is another kind of text that happens to hold some.
  if (functions.length > 0 && foreign > 3 && foreign > functions.length) {
    throw new DecodeError(LABEL, firstForeign, 'device record', `${foreign} lines are not lspci output, against ${functions.length} device record(s): ${describeText(text)} (expected lspci -nnvvv output)`, 'line');
  }
  if (duplicate) throw duplicate;
  return {
    functions,
    hasDriverLines: functions.some((f) => f.driver !== null || f.modules.length > 0),
    hasGroupLines: functions.some((f) => f.iommuGroup !== null),
    hasSlotLines: functions.some((f) => f.physicalSlot !== null),
  };
}

export const formatPciAddress = (a: PciAddress): string =>
  `${a.segment.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.device.toString(16).padStart(2, '0')}.${a.function}`;

/** What a file given as lspci output turned out to be. */
export interface LspciInput {
  kind: 'lspci' | 'lspci-machine' | 'iommu-listing';
  capture: LspciCapture;
  /** From an IOMMU group listing: the kernel's groups, number → addresses. */
  groups?: Map<number, string[]>;
}

/** `lspci -t`: "-[0000:00]-+-00.0  Intel …" — the topology, no record per function. */
const TREE_LINE = /^[-+|\\ ]*\[(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}\]-/;
/** `lspci -mm`: `00:1f.2 "SATA controller" "Intel Corporation" …` (quoted fields). */
const MACHINE_LINE = /^(?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7] "/;
/** `lspci -vmm`: "Slot:\t00:1f.2" opens each record. */
const MACHINE_V_SLOT = /^Slot:\t((?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])$/;

/** The first line with something on it, without splitting the text. */
function firstNonBlankLine(text: string): string {
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (text.slice(start, end).trim() !== '') return text.slice(start, end);
    start = end + 1;
  }
  return '';
}

/** "Intel Corporation [8086]" (-nn) → 0x8086; without -nn there is no id. */
function trailingId(s: string): number | null {
  const m = /\[([0-9a-fA-F]{4})\]$/.exec(s);
  return m ? parseInt(m[1]!, 16) : null;
}
const withoutId = (s: string) => s.replace(/ ?\[[0-9a-fA-F]{4}\]$/, '');

/** The quoted and dashed fields of an -mm line, read left to right without backtracking. */
function machineFields(s: string): { quoted: string[]; options: string[] } {
  const quoted: string[] = [];
  const options: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ') {
      i++;
    } else if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) break;
      quoted.push(s.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = s.indexOf(' ', i);
      if (end < 0) end = s.length;
      options.push(s.slice(i, end));
      i = end;
    }
  }
  return { quoted, options };
}

function machineFunction(line: number, address: PciAddress, cls: string, vendor: string, device: string, rev: string | null, progIf: string | null): LspciFunction {
  const classBaseSub = trailingId(cls);
  const vendorId = trailingId(vendor);
  const deviceId = trailingId(device);
  if (classBaseSub === null || vendorId === null || deviceId === null) {
    throw new DecodeError(LABEL, line, 'machine-readable record', 'lspci -mm without -nn names devices but gives no ids: paste `lspci -nnvvv` (or at least `lspci -mm -nn`)', 'line');
  }
  return {
    line,
    address,
    className: withoutId(cls),
    classBaseSub,
    progIf: progIf !== null && /^[0-9a-fA-F]{2}$/.test(progIf) ? parseInt(progIf, 16) : null,
    description: `${withoutId(vendor)} ${withoutId(device)}`.trim(),
    vendorId,
    deviceId,
    revision: rev !== null && /^[0-9a-fA-F]{2}$/.test(rev) ? parseInt(rev, 16) : null,
    ...unreadDetails(),
  };
}

function parseAddress(s: string): PciAddress {
  const parts = s.split(':');
  const [seg, bus, df] = parts.length === 3 ? parts : ['0', parts[0]!, parts[1]!];
  const [dev, fn] = df!.split('.');
  return { segment: parseInt(seg!, 16), bus: parseInt(bus!, 16), device: parseInt(dev!, 16), function: Number(fn) };
}

/**
 * `lspci -mm -nn` and `lspci -vmm -nn`: identity and class only (and, from -vmm, the driver,
 * slot and IOMMU group lines). No config space: capabilities stay unknown.
 */
export function parseLspciMachine(lines: string[]): LspciCapture {
  const functions: LspciFunction[] = [];
  const seen = new Map<string, number>();
  const add = (fn: LspciFunction) => {
    const key = formatPciAddress(fn.address);
    const before = seen.get(key);
    if (before !== undefined) throw new DecodeError(LABEL, fn.line, 'device record', `${key} appears twice (first on line ${before}): give one lspci capture per file`, 'line');
    seen.set(key, fn.line);
    functions.push(fn);
  };
  let rec: { line: number; address: PciAddress; f: Map<string, string> } | null = null;
  const flush = () => {
    if (!rec) return;
    const g = (k: string) => rec!.f.get(k) ?? '';
    const fn = machineFunction(rec.line, rec.address, g('Class'), g('Vendor'), g('Device'), rec.f.get('Rev') ?? null, rec.f.get('ProgIf') ?? null);
    if (rec.f.has('Driver')) fn.driver = g('Driver');
    if (rec.f.has('Module')) fn.modules = [g('Module')];
    if (rec.f.has('PhySlot')) fn.physicalSlot = g('PhySlot');
    if (/^\d+$/.test(g('IOMMUGroup'))) fn.iommuGroup = Number(g('IOMMUGroup'));
    if (rec.f.has('SVendor') && rec.f.has('SDevice')) fn.subsystem = `${g('SVendor')} ${g('SDevice')}`;
    add(fn);
    rec = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const slot = MACHINE_V_SLOT.exec(l);
    if (slot) {
      flush();
      rec = { line: i + 1, address: parseAddress(slot[1]!), f: new Map() };
      continue;
    }
    if (rec) {
      const tab = l.indexOf(':\t');
      if (tab > 0) {
        if (!rec.f.has(l.slice(0, tab))) rec.f.set(l.slice(0, tab), l.slice(tab + 2));
        continue;
      }
      if (l.trim() === '') flush();
      continue;
    }
    if (!MACHINE_LINE.test(l)) continue;
    const sp = l.indexOf(' ');
    const { quoted, options } = machineFields(l.slice(sp + 1));
    const opt = (p: string) => options.find((o) => o.startsWith(p))?.slice(2) ?? null;
    const fn = machineFunction(i + 1, parseAddress(l.slice(0, sp)), quoted[0] ?? '', quoted[1] ?? '', quoted[2] ?? '', opt('-r'), opt('-p'));
    if (quoted[3] && quoted[4]) fn.subsystem = `${quoted[3]} ${quoted[4]}`;
    add(fn);
  }
  flush();
  return {
    functions,
    hasDriverLines: functions.some((f) => f.driver !== null),
    hasGroupLines: functions.some((f) => f.iommuGroup !== null),
    hasSlotLines: functions.some((f) => f.physicalSlot !== null),
  };
}

/**
 * A paste whose tabs became spaces (editors, forum code blocks): lspci's one- and two-tab
 * levels are rebuilt from the indentation depth, the smallest indent being one level.
 */
function retab(lines: string[]): string[] {
  if (lines.some((l) => l.charCodeAt(0) === 0x09)) return lines;
  let unit = 0;
  for (const l of lines) {
    let n = 0;
    while (n < l.length && l.charCodeAt(n) === 0x20) n++;
    if (n > 0 && n < l.length && (unit === 0 || n < unit)) unit = n;
  }
  if (unit === 0) return lines;
  return lines.map((l) => {
    let n = 0;
    while (n < l.length && l.charCodeAt(n) === 0x20) n++;
    return n === 0 ? l : '\t'.repeat(Math.max(1, Math.round(n / unit))) + l.slice(n);
  });
}

/**
 * Whatever a user gave as "lspci output": lspci -v…/-x… text, lspci -mm/-vmm with -nn,
 * or an IOMMU group listing (Arch wiki script, ls-iommu). Indented, CRLF and CR-only
 * pastes are read too. A file with no device record in any of these forms is refused
 * with what it looks like instead.
 */
export function parseLspciInput(input: string): LspciInput {
  const text = dedent(normaliseLineEnds(input));
  checkLineLengths(text, LABEL);
  if (text.trim() === '') throw new DecodeError(LABEL, 1, 'device record', 'the file is empty (expected lspci -nnvvv output)', 'line');
  // lspci prints text only: control bytes mean a binary file that happens to hold a header-like line.
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(text.slice(0, 4096))) throw new DecodeError(LABEL, 1, 'device record', `not text: ${describeText(text)} (expected lspci -nnvvv output)`, 'line');
  if (isIommuListing(text)) {
    const l = parseIommuListing(text);
    return {
      kind: 'iommu-listing',
      capture: { functions: l.functions, hasDriverLines: l.functions.some((f) => f.driver !== null), hasGroupLines: true, hasSlotLines: false },
      groups: l.groups,
    };
  }
  // Split only for the forms that need lines: a -xxxx dump is read in place.
  let split: string[] | undefined;
  const lines = () => (split ??= text.split('\n'));
  const first = firstNonBlankLine(text);
  if (TREE_LINE.test(first.slice(0, 200))) {
    throw new DecodeError(LABEL, 1, 'device record', 'this is lspci -t (tree) output: it shows the topology but holds no device records; paste `lspci -nnvvv` instead', 'line');
  }
  // Neither form without a quote or a "Slot:" in the text: that test spares a -xxxx dump's million hex lines.
  if ((text.includes('"') || text.includes('Slot:')) && lines().some((l) => MACHINE_LINE.test(l) || MACHINE_V_SLOT.test(l))) {
    const capture = parseLspciMachine(lines());
    if (capture.functions.length > 0) return { kind: 'lspci-machine', capture };
  }
  // retab only changes lines that begin with a space; a native search says whether there is one.
  const capture = parseLspci(text.startsWith(' ') || text.includes('\n ') ? retab(lines()).join('\n') : text);
  if (capture.functions.length === 0) {
    throw new DecodeError(LABEL, 1, 'device record', `no lspci device records: ${describeText(text)} (expected lspci -nnvvv output)`, 'line');
  }
  return { kind: 'lspci', capture };
}

/** lspci's capability titles → capability ids. */
const TITLE_IDS: Array<[string, number, boolean]> = [
  ['Power Management', 0x01, false],
  ['AGP version 3', 0x0e, false],
  ['AGP', 0x02, false],
  ['Vital Product Data', 0x03, false],
  ['Slot ID', 0x04, false],
  ['MSI-X', 0x11, false],
  ['MSI', 0x05, false],
  ['CompactPCI hot-swap', 0x06, false],
  ['PCI-X', 0x07, false],
  ['HyperTransport', 0x08, false],
  ['Vendor Specific Information', 0x09, false],
  ['Debug port', 0x0a, false],
  ['CompactPCI central resource control', 0x0b, false],
  ['Hot-plug capable', 0x0c, false],
  ['Subsystem', 0x0d, false],
  ['Secure device', 0x0f, false],
  ['Express', 0x10, false],
  ['SATA HBA', 0x12, false],
  ['PCI Advanced Features', 0x13, false],
  ['Enhanced Allocation', 0x14, false],
  ['Advanced Error Reporting', 0x0001, true],
  ['Virtual Channel', 0x0002, true],
  ['Device Serial Number', 0x0003, true],
  ['Power Budgeting', 0x0004, true],
  ['Root Complex Link', 0x0005, true],
  ['Root Complex Internal Link', 0x0006, true],
  ['Root Complex Event Collector', 0x0007, true],
  ['Multi-Function Virtual Channel', 0x0008, true],
  ['Vendor Specific Information: ID=', 0x000b, true],
  ['Access Control Services', 0x000d, true],
  ['Alternative Routing-ID Interpretation', 0x000e, true],
  ['Address Translation Service', 0x000f, true],
  ['Single Root I/O Virtualization', 0x0010, true],
  ['Multi-Root I/O Virtualization', 0x0011, true],
  ['Multicast', 0x0012, true],
  ['Page Request Interface', 0x0013, true],
  ['Physical Resizable BAR', 0x0015, true],
  ['Dynamic Power Allocation', 0x0016, true],
  ['Transaction Processing Hints', 0x0017, true],
  ['Latency Tolerance Reporting', 0x0018, true],
  ['Secondary PCI Express', 0x0019, true],
  ['Process Address Space ID', 0x001b, true],
  ['Downstream Port Containment', 0x001d, true],
  ['L1 PM Substates', 0x001e, true],
  ['Precision Time Measurement', 0x001f, true],
  ['Readiness Time Reporting', 0x0022, true],
  ['Designated Vendor-Specific', 0x0023, true],
  ['VF Resizable BAR', 0x0024, true],
  ['Data Link Feature', 0x0025, true],
  ['Physical Layer 16.0 GT/s', 0x0026, true],
  ['Lane Margining at the Receiver', 0x0027, true],
  ['Physical Layer 32.0 GT/s', 0x002a, true],
  ['Data Object Exchange', 0x002e, true],
  ['Device 3', 0x002f, true],
  ['Integrity & Data Encryption', 0x0030, true],
  ['Physical Layer 64.0 GT/s', 0x0031, true],
];

export function capabilityIdFromTitle(title: string, extended: boolean): number | null {
  for (const [prefix, id, ext] of TITLE_IDS) if (ext === extended && title.startsWith(prefix)) return id;
  const m = /^Extended Capability ID (0x[0-9a-f]+)/.exec(title);
  if (m && extended) return parseInt(m[1]!, 16);
  return null;
}

/** lspci's words for the PCI Express Device/Port Type, most specific first. */
const PORT_PHRASES: Array<[string, number]> = [
  ['Legacy Endpoint', 0x1],
  ['Root Complex Integrated Endpoint', 0x9],
  ['Root Complex Event Collector', 0xa],
  ['Root Port', 0x4],
  ['Upstream Port', 0x5],
  ['Downstream Port', 0x6],
  ['PCI-Express to PCI/PCI-X Bridge', 0x7],
  ['PCI/PCI-X to PCI-Express Bridge', 0x8],
  ['Endpoint', 0x0],
];

/** The continuation lines of a register line (lspci wraps long registers onto more lines). */
function register(lines: string[], prefix: string): string | null {
  const i = lines.findIndex((x) => x.startsWith(prefix));
  if (i < 0) return null;
  let text = lines[i]!.slice(prefix.length);
  for (let j = i + 1; j < lines.length && !/^[A-Za-z0-9]+:/.test(lines[j]!) && !/^[A-Z][A-Za-z0-9 ]*:\s/.test(lines[j]!); j++) text += ' ' + lines[j]!;
  return text;
}

/** "SrcValid+" and the like: each bit's pattern made once, not per register line. */
const ACS_BIT_SET = ACS_BITS.map((b) => [b, new RegExp(`\\b${b}\\+`)] as const);

function acsBits(text: string | null): AcsBit[] | null {
  if (text === null) return null;
  return ACS_BIT_SET.filter(([, re]) => re.test(text)).map(([b]) => b);
}

function acsRaw(bits: AcsBit[]): number {
  return bits.reduce((v, b) => v | (1 << ACS_BITS.indexOf(b)), 0);
}

/** What the whole capture shows about how lspci ran. */
export interface LspciCaptureKind {
  /** Some function lists an extended capability and none was denied: lspci read the 4 KiB space as root. */
  extendedSpaceRead: boolean;
}

export function lspciCaptureKind(functions: readonly LspciFunction[]): LspciCaptureKind {
  return { extendedSpaceRead: functions.some((f) => f.capabilities.some((c) => c.extended)) && !functions.some((f) => f.capabilitiesDenied) };
}

/**
 * What lspci's text says, in the shape of the byte decoder's PciConfig. Fields lspci
 * did not show stay undefined (unknown) — e.g. capabilities when lspci ran without root.
 */
export function configFromLspci(f: LspciFunction, capture?: LspciCaptureKind): PciConfig {
  // In a run that read extended config space (root, MMCONFIG), what lspci lists is all there is.
  const complete = capture?.extendedSpaceRead === true && !f.capabilitiesDenied && f.attrs.has('Status');
  const known = f.capabilities.length > 0 || complete || (!f.capabilitiesDenied && f.attrs.has('Status') && /Cap-/.test(f.attrs.get('Status')!));
  const extendedKnown = known && (f.capabilities.some((c) => c.extended) || complete);
  const caps: CapabilityEntry[] = [];
  const ecaps: CapabilityEntry[] = [];
  const cfg: PciConfig = {
    bytesAvailable: 0,
    vendorId: f.vendorId ?? 0xffff,
    deviceId: f.deviceId ?? 0xffff,
    command: 0,
    status: 0,
    revision: f.revision ?? 0,
    classCode: ((f.classBaseSub ?? 0xffff) << 8) | (f.progIf ?? 0),
    headerType: f.bus ? 1 : 0,
    multifunction: false,
    interruptPin: f.interruptPin ?? 0,
    subsystemVendorId: null,
    subsystemId: null,
    bars: f.regions.filter((r) => r.address !== null).map((r) => ({ index: r.index, kind: r.kind, is64: r.is64, prefetchable: r.prefetchable, address: r.address! })),
    bridge: f.bus,
    capabilities: known ? caps : undefined,
    extendedCapabilities: extendedKnown ? ecaps : undefined,
    chainProblems: [],
    pm: known ? null : undefined,
    msi: known ? null : undefined,
    msix: known ? null : undefined,
    pcie: known ? null : undefined,
    acs: extendedKnown ? null : undefined,
    ari: extendedKnown ? null : undefined,
    ats: extendedKnown ? null : undefined,
    sriov: extendedKnown ? null : undefined,
    aer: extendedKnown ? false : undefined,
  };
  const sub = f.subsystem ? /\[([0-9a-f]{4}):([0-9a-f]{4})\]/.exec(f.subsystem) : null;
  if (sub) {
    cfg.subsystemVendorId = parseInt(sub[1]!, 16);
    cfg.subsystemId = parseInt(sub[2]!, 16);
  }
  for (const c of f.capabilities) {
    const id = capabilityIdFromTitle(c.header, c.extended);
    const entry: CapabilityEntry = {
      offset: c.offset,
      id: id ?? -1,
      extended: c.extended,
      name: id === null ? c.header : ((c.extended ? ECAP_NAMES[id] : CAP_NAMES[id]) ?? c.header),
    };
    if (c.version !== null) entry.version = c.version;
    (c.extended ? ecaps : caps).push(entry);
    if (id === null) continue;
    // Header and lines as one text, for the few capabilities whose fields may be on either.
    const all = () => `${c.header}\n${c.lines.join('\n')}`;
    if (!c.extended && id === 0x01) {
      const v = /version (\d+)/.exec(c.header);
      const status = c.lines.find((l) => l.startsWith('Status:')) ?? '';
      const ps = /Status: D(\d)/.exec(status);
      cfg.pm = { version: v ? Number(v[1]) : 0, noSoftReset: /NoSoftRst\+/.test(status), powerState: ps ? Number(ps[1]) : 0 };
    } else if (!c.extended && id === 0x05) {
      const count = /Count=(\d+)\/(\d+)/.exec(c.header);
      cfg.msi = { enabled: /Enable\+/.test(c.header), vectors: count ? Number(count[2]) : 1, is64: /64bit\+/.test(c.header), maskable: /Mask(?:able)?\+/.test(c.header) };
    } else if (!c.extended && id === 0x11) {
      const n = /(?:Count|TabSize)=(\d+)/.exec(c.header);
      const text = all();
      const t = /Vector table: BAR=(\d)/.exec(text);
      const p = /PBA: BAR=(\d)/.exec(text);
      cfg.msix = { enabled: /Enable\+/.test(c.header), tableSize: n ? Number(n[1]) : 0, tableBar: t ? Number(t[1]) : 0, pbaBar: p ? Number(p[1]) : 0 };
    } else if (!c.extended && id === 0x10) {
      const ver = /Express \(v(\d)\)/.exec(c.header);
      const portType = PORT_PHRASES.find(([phrase]) => c.header.includes(phrase))?.[1] ?? -1;
      const slotImplemented = /\(Slot\+\)/.test(c.header);
      const sltCap = register(c.lines, 'SltCap:');
      const slotNo = sltCap ? /Slot #(\d+)/.exec(sltCap) : null;
      const devCap = register(c.lines, 'DevCap:');
      const devCap2 = register(c.lines, 'DevCap2:');
      cfg.pcie = {
        version: ver ? Number(ver[1]) : 1,
        portType,
        portTypeName: PORT_TYPES[portType] ?? c.header,
        slotImplemented,
        flr: devCap !== null && /FLReset\+/.test(devCap),
        physicalSlot: slotImplemented && slotNo ? Number(slotNo[1]) : null,
        hotPlugCapable: sltCap ? /HotPlug\+/.test(sltCap) : null,
        ariForwarding: devCap2 && /ARIFwd[+-]/.test(devCap2) && (portType === 4 || portType === 6) ? /ARIFwd\+/.test(devCap2) : null,
      };
    } else if (c.extended && id === 0x000d) {
      const capBits = acsBits(register(c.lines, 'ACSCap:')) ?? [];
      const ctlBits = acsBits(register(c.lines, 'ACSCtl:')) ?? [];
      cfg.acs = { capability: capBits, control: ctlBits, capabilityRaw: acsRaw(capBits), controlRaw: acsRaw(ctlBits) };
    } else if (c.extended && id === 0x0001) {
      cfg.aer = true;
    } else if (c.extended && id === 0x000e) {
      const n = /Next Function: (\d+)/.exec(all());
      cfg.ari = { nextFunction: n ? Number(n[1]) : 0 };
    } else if (c.extended && id === 0x000f) {
      cfg.ats = { enabled: /ATSCtl:\s*Enable\+/.test(all()) };
    } else if (c.extended && id === 0x0010) {
      const t = all();
      const num = (re: RegExp) => Number(re.exec(t)?.[1] ?? 0);
      cfg.sriov = {
        vfEnabled: /IOVCtl:\s*Enable\+/.test(t),
        initialVfs: num(/Initial VFs: (\d+)/),
        totalVfs: num(/Total VFs: (\d+)/),
        numVfs: num(/Number of VFs: (\d+)/),
        vfOffset: num(/VF offset: (\d+)/),
        vfStride: num(/stride: (\d+)/),
        vfDeviceId: parseInt(/Device ID: ([0-9a-f]{4})/.exec(t)?.[1] ?? '0', 16),
      };
    }
  }
  // A conventional PCI function has no extended configuration space at all.
  if (known && cfg.pcie === null) {
    cfg.extendedCapabilities = [];
    cfg.acs = cfg.ari = cfg.ats = cfg.sriov = null;
    cfg.aer = false;
  }
  return cfg;
}
