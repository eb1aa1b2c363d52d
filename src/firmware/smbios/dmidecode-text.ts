/**
 * `dmidecode` text output — what users paste into forums — read back into the same
 * typed structures the binary decoder produces, for types 1, 9, 41 and 203 as dmidecode
 * 2.12–3.6 print them. Blocks dmidecode could not decode ("Header and Data:" hex plus
 * "Strings:") are rebuilt as bytes and go through the binary decoder, which is how HPE
 * OEM records of older dmidecode versions still yield slot and device data.
 */
import { ByteView, hexDigitValue } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { checkLineLengths, dedent, describeText, normaliseLineEnds } from '../text.js';
import { isHpeServer, type Smbios } from './index.js';
import {
  HPE_DEVICE_LOCATIONS,
  HPE_DEVICE_TYPES,
  ONBOARD_TYPES,
  SLOT_CHARACTERISTICS_1,
  SLOT_CHARACTERISTICS_2,
  SLOT_LENGTH,
  SLOT_TYPES,
  SLOT_USAGE,
  SLOT_WIDTHS,
  shortWidth,
} from './names.js';
import type { RawStructure } from './table.js';
import {
  decodeStructure,
  HPE_TYPE_NAMES,
  TYPE_NAMES,
  type DecodeContext,
  type HpeDeviceCorrelation,
  type OnboardDevice,
  type SmbiosStructure,
  type SystemInformation,
  type SystemSlot,
} from './types.js';

const LABEL = 'dmidecode text';

export interface TextBlock {
  line: number;
  handle: number;
  type: number;
  length: number;
  title: string;
  /** "Key: value" pairs at the first indentation level, in order (keys may repeat). */
  fields: Array<[string, string]>;
  /** Lines under a key that has no value of its own ("Characteristics:", "Strings:", …). */
  lists: Map<string, string[]>;
}

const HANDLE = /^Handle 0x([0-9A-Fa-f]{4}), DMI type (\d+), (\d+) bytes/;
/** Nothing but white space (what trim() would empty), tested without making the trimmed copy. */
const BLANK = /^\s*$/;

/**
 * Split dmidecode output into blocks. dmidecode indents with tabs: one for "Key: value",
 * two for list items. Pastes that turned tabs into spaces are read by relative depth.
 * List items keep their exact text (an all-space string is still a string: the indices of
 * the strings after it depend on it).
 */
export function parseDmidecodeBlocks(input: string): { version: string | null; blocks: TextBlock[] } {
  const text = dedent(normaliseLineEnds(input));
  checkLineLengths(text, LABEL);
  const lines = text.split('\n');
  let version: string | null = null;
  const blocks: TextBlock[] = [];
  let cur: TextBlock | null = null;
  let listKey: string | null = null;
  let spaceLevel1 = -1;
  for (let i = 0; i < lines.length; i++) {
    // normaliseLineEnds left no CR. The patterns run only on lines that can match them.
    const raw = lines[i]!;
    const first = raw.charCodeAt(0);
    if (first === 0x53 /* S */) {
      const v = /^SMBIOS (\d+\.\d+(?:\.\d+)?) present/.exec(raw);
      if (v) version = v[1]!;
    }
    const h = first === 0x48 /* H */ ? HANDLE.exec(raw) : null;
    if (h) {
      cur = { line: i + 1, handle: parseInt(h[1]!, 16), type: Number(h[2]), length: Number(h[3]), title: '', fields: [], lists: new Map() };
      blocks.push(cur);
      listKey = null;
      continue;
    }
    if (!cur || raw === '') {
      listKey = null;
      continue;
    }
    let level: number;
    let body: string;
    let tabs = 0;
    while (raw.charCodeAt(tabs) === 0x09) tabs++;
    if (tabs > 0) {
      level = tabs;
      body = raw.slice(tabs);
    } else {
      let spaces = 0;
      while (raw.charCodeAt(spaces) === 0x20) spaces++;
      if (spaces > 0 && spaceLevel1 < 0) spaceLevel1 = spaces;
      level = spaces === 0 ? 0 : spaces <= spaceLevel1 ? 1 : 2;
      body = raw.slice(spaces);
    }
    if (level >= 2 && listKey) {
      cur.lists.get(listKey)!.push(body);
      continue;
    }
    if (BLANK.test(body)) {
      listKey = null;
      continue;
    }
    if (level === 0) {
      if (cur.title === '') cur.title = raw.trim();
      else cur = null; // text after a block that is not a new Handle line
      continue;
    }
    const colon = body.indexOf(':');
    if (colon < 0) continue;
    const key = body.slice(0, colon).trim();
    // dmidecode writes "Key: value"; a string's own leading blanks follow that one space.
    const value = body.slice(body.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1).trimEnd();
    if (BLANK.test(value)) {
      listKey = key;
      if (!cur.lists.has(key)) cur.lists.set(key, []);
    } else {
      listKey = null;
    }
    cur.fields.push([key, value]);
  }
  return { version, blocks };
}

const field = (b: TextBlock, key: string): string | null => b.fields.find(([k]) => k === key)?.[1] ?? null;

/** dmidecode's placeholder texts for absent strings. */
function str(v: string | null): string | null {
  if (v === null || v === 'Not Specified' || v === '<BAD INDEX>' || v === 'Not Provided') return null;
  return v;
}

/** Compare spec names and dmidecode's wording: case, "Gen ", hyphens and trailing parentheses aside. */
function norm(s: string): string {
  return withoutTrailingParenthesis(s.toLowerCase().replace(/\bgen /g, ''))
    .replace(/-/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * "PCI Express 3 x16 (something)" → "PCI Express 3 x16": the last parenthesised part, found
 * with index scans (a pattern with "[^)]*" then "\s*$" retries from every "(" — quadratic).
 */
function withoutTrailingParenthesis(s: string): string {
  const t = s.trimEnd();
  const close = t.length - 1;
  if (t[close] !== ')') return s;
  const open = t.indexOf('(', t.lastIndexOf(')', close - 1) + 1);
  if (open < 0 || open >= close) return s;
  return t.slice(0, open).trimEnd();
}

/** Each code table by normalised name, built on its first lookup (the first code of a name wins, as a scan in table order found it). */
const byNormalisedName = new WeakMap<Record<number, string>, Map<string, number>>();

function codeOf(table: Record<number, string>, name: string): number | null {
  let names = byNormalisedName.get(table);
  if (!names) {
    names = new Map();
    for (const [code, nm] of Object.entries(table)) {
      const n = norm(nm);
      if (!names.has(n)) names.set(n, Number(code));
    }
    byNormalisedName.set(table, names);
  }
  return names.get(norm(name)) ?? null;
}

function bdf(text: string | null): { segment: number; bus: number; device: number; function: number } | null {
  const m = text ? /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(text) : null;
  if (!m) return null;
  return { segment: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), device: parseInt(m[3]!, 16), function: parseInt(m[4]!, 10) };
}

const NO_ADDRESS = { segment: null, bus: null, device: null, function: null };

/** dmidecode's sentences for the slot characteristic bits, keyed by our bit names. */
const CHARACTERISTIC_PHRASES: Array<[RegExp, string]> = [
  [/^Unknown$/, 'Unknown'],
  [/^5\.0 V is provided$/, '5.0 V'],
  [/^3\.3 V is provided$/, '3.3 V'],
  [/^Opening is shared$/, 'Shared'],
  [/^PC Card-16 is supported$/, 'PC Card 16'],
  [/^Cardbus is supported$/, 'CardBus'],
  [/^Zoom Video is supported$/, 'Zoom Video'],
  [/^Modem ring resume is supported$/, 'Modem Ring Resume'],
  [/^PME signal is supported$/, 'PME'],
  [/^Hot-plug devices are supported$/, 'Hot-plug'],
  [/^SMBus signal is supported$/, 'SMBus'],
  [/^PCIe slot bifurcation is supported$/, 'Bifurcation'],
  [/^Async\/surprise removal is supported$/, 'Async/surprise removal'],
  [/CXL 1\.0/, 'Flexbus CXL 1.0'],
  [/CXL 2\.0/, 'Flexbus CXL 2.0'],
  [/CXL 3\.0/, 'Flexbus CXL 3.0'],
];
const ALL_CHARACTERISTICS = [...SLOT_CHARACTERISTICS_1, ...SLOT_CHARACTERISTICS_2];

function widthCode(text: string): number | null {
  for (const [code, name] of Object.entries(SLOT_WIDTHS)) {
    if (name === text || shortWidth(name) === text) return Number(code);
  }
  return null;
}

function slotFromText(b: TextBlock, common: Common): SystemSlot {
  // Before 3.6: "Type: x8 PCI Express 3 x16" (bus width prefixed to the slot type).
  // From 3.6: "Type: PCI Express 3 x16" and "Data Bus Width: 8x or x8"; the numeric
  // "Data Bus Width" / "Data Bus Width (Base)" lines are SMBIOS 3.2's base width.
  const typeText = field(b, 'Type') ?? '';
  const m = /^(x\d+|\d+-bit) (.*)$/.exec(typeText);
  const named = b.fields.find(([k, v]) => k === 'Data Bus Width' && !/^\d+$/.test(v))?.[1] ?? null;
  const widthText = m ? m[1]! : named;
  const slotTypeText = m ? m[2]! : typeText;
  const slotTypeCode = slotTypeText === '' || slotTypeText === '<OUT OF SPEC>' ? null : codeOf(SLOT_TYPES, slotTypeText);
  const widthCodeValue = widthText ? widthCode(widthText) : null;
  const usage = field(b, 'Current Usage');
  const usageCode = usage ? codeOf(SLOT_USAGE, usage) : null;
  const length = field(b, 'Length');
  const lengthCode = length ? codeOf(SLOT_LENGTH, length) : null;
  const id = field(b, 'ID');
  const characteristics: string[] = [];
  for (const phrase of b.lists.get('Characteristics') ?? []) {
    const hit = CHARACTERISTIC_PHRASES.find(([re]) => re.test(phrase.trim()));
    if (hit) characteristics.push(hit[1]);
  }
  characteristics.sort((x, y) => ALL_CHARACTERISTICS.indexOf(x) - ALL_CHARACTERISTICS.indexOf(y));
  const width = b.fields.find(([k, v]) => (k === 'Data Bus Width' || k === 'Data Bus Width (Base)') && /^\d+$/.test(v))?.[1] ?? null;
  const physical = field(b, 'Slot Physical Width');
  return {
    ...common,
    type: 9,
    name: TYPE_NAMES[9]!,
    designation: str(field(b, 'Designation')),
    slotType: slotTypeCode !== null ? SLOT_TYPES[slotTypeCode]! : slotTypeText || null,
    slotTypeCode,
    dataBusWidth: widthCodeValue !== null ? SLOT_WIDTHS[widthCodeValue]! : null,
    dataBusWidthCode: widthCodeValue,
    currentUsage: usageCode !== null ? SLOT_USAGE[usageCode]! : usage,
    currentUsageCode: usageCode,
    slotLength: lengthCode !== null ? SLOT_LENGTH[lengthCode]! : length,
    id: id !== null && /^\d+$/.test(id) ? Number(id) : null,
    characteristics,
    ...(bdf(field(b, 'Bus Address')) ?? NO_ADDRESS),
    dataBusWidthBase: width !== null && /^\d+$/.test(width) ? Number(width) : null,
    peers: [],
    slotInformation: null,
    physicalWidth: physical ? widthCode(physical) : null,
    pitch: null,
    height: null,
  };
}

function onboardFromText(b: TextBlock, common: Common): OnboardDevice {
  const t = field(b, 'Type');
  const code = t ? codeOf(ONBOARD_TYPES, t) : null;
  const status = field(b, 'Status');
  const inst = field(b, 'Type Instance');
  return {
    ...common,
    type: 41,
    name: TYPE_NAMES[41]!,
    referenceDesignation: str(field(b, 'Reference Designation')),
    deviceType: code !== null ? ONBOARD_TYPES[code]! : t,
    deviceTypeCode: code,
    enabled: status === null ? null : status === 'Enabled',
    typeInstance: inst !== null && /^\d+$/.test(inst) ? Number(inst) : null,
    ...(bdf(field(b, 'Bus Address')) ?? NO_ADDRESS),
  };
}

function systemFromText(b: TextBlock, common: Common): SystemInformation {
  const uuid = field(b, 'UUID');
  return {
    ...common,
    type: 1,
    name: TYPE_NAMES[1]!,
    manufacturer: str(field(b, 'Manufacturer')),
    productName: str(field(b, 'Product Name')),
    version: str(field(b, 'Version')),
    serialNumber: str(field(b, 'Serial Number')),
    uuid: uuid && /^[0-9A-Fa-f-]{36}$/.test(uuid) ? uuid.toUpperCase() : null,
    wakeUpType: str(field(b, 'Wake-up Type')),
    skuNumber: str(field(b, 'SKU Number')),
    family: str(field(b, 'Family')),
  };
}

const hexOrNull = (v: string | null, absent: RegExp = /^(N\/A|Device Not Present)$/): number | null =>
  v === null || absent.test(v) || !/^0x[0-9a-fA-F]+$/.test(v) ? null : parseInt(v, 16);
const intOrNull = (v: string | null): number | null => (v !== null && /^\d+$/.test(v) ? Number(v) : null);
const bayOrNull = (v: string | null): number | null => (v === 'Do Not Display' ? 0xff : v === 'Unknown' ? 0 : intOrNull(v));

function correlationFromText(b: TextBlock, common: Common): HpeDeviceCorrelation {
  const devType = field(b, 'Device Type');
  const devLoc = field(b, 'Device Location');
  const typeCode = devType ? codeOf(HPE_DEVICE_TYPES, devType) : null;
  const locCode = devLoc ? codeOf(HPE_DEVICE_LOCATIONS, devLoc) : null;
  const pci = field(b, 'PCI Device');
  const pm = pci ? /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(pci) : null;
  const seg = hexOrNull(field(b, 'Segment Group Number'));
  return {
    ...common,
    type: 203,
    name: HPE_TYPE_NAMES[203]!,
    assocDevice: hexOrNull(field(b, 'Associated Device Record')),
    assocSmbus: hexOrNull(field(b, 'Associated SMBus Record')),
    vendorId: hexOrNull(field(b, 'PCI Vendor ID')),
    deviceId: hexOrNull(field(b, 'PCI Device ID')),
    subVendorId: hexOrNull(field(b, 'PCI Sub Vendor ID')),
    subDeviceId: hexOrNull(field(b, 'PCI Sub Device ID')),
    classCode: hexOrNull(field(b, 'PCI Class Code')),
    subClassCode: hexOrNull(field(b, 'PCI Sub Class Code')),
    parentHandle: hexOrNull(field(b, 'Parent Handle')),
    flags: hexOrNull(field(b, 'Flags')),
    deviceType: typeCode !== null ? HPE_DEVICE_TYPES[typeCode]! : devType,
    deviceTypeCode: typeCode,
    deviceLocation: locCode !== null ? HPE_DEVICE_LOCATIONS[locCode]! : devLoc,
    deviceLocationCode: locCode,
    deviceInstance: intOrNull(field(b, 'Device Instance')),
    deviceSubInstance: intOrNull(field(b, 'Device Sub-Instance')),
    bay: bayOrNull(field(b, 'Bay')),
    enclosure: bayOrNull(field(b, 'Enclosure')),
    devicePath: str(field(b, 'Device Path')),
    structuredName: str(field(b, 'Structured Name')),
    deviceName: str(field(b, 'Device Name')),
    uefiLocation: str(field(b, 'UEFI Location')),
    assocRealHandle: hexOrNull(field(b, 'Associated Real/Phys Handle')),
    partNumber: str(field(b, 'PCI Part Number')),
    serialNumber: str(field(b, 'Serial Number')),
    ...(pm && seg !== null
      ? { segment: seg, bus: parseInt(pm[1]!, 16), device: parseInt(pm[2]!, 16), function: parseInt(pm[3]!, 10) }
      : NO_ADDRESS),
  };
}

interface Common {
  type: number;
  handle: number;
  length: number;
  offset: number;
}

/** Rebuild the bytes of a block dmidecode printed as "Header and Data:" + "Strings:". */
/** One character of white space, as \s counts it. */
/**
 * What RegExp `\s` matches (ECMA-262 WhiteSpace and LineTerminator), by code unit: a regular
 * expression run per character was most of the cost of reading a hex block.
 */
export function isWhite(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

export function rawFromHexBlock(b: TextBlock): RawStructure | null {
  const hexLines = b.lists.get('Header and Data');
  if (!hexLines || hexLines.length === 0) return null;
  const bytes: number[] = [];
  // Tokens between white space (as split(/\s+/) cuts them), read by hand: every HPE OEM record
  // of a ProLiant's dmidecode is such a block.
  for (const l of hexLines) {
    const n = l.length;
    // A line of nothing but white space is an empty token (as split gives it), not a hex byte.
    if (BLANK.test(l)) throw new DecodeError(LABEL, b.line, 'Header and Data', '"" is not a hex byte', 'line');
    for (let i = 0; i < n; ) {
      if (isWhite(l.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && !isWhite(l.charCodeAt(j))) j++;
      const hi = j - i === 2 ? hexDigitValue(l.charCodeAt(i)) : -1;
      const lo = hi < 0 ? -1 : hexDigitValue(l.charCodeAt(i + 1));
      if (lo < 0) throw new DecodeError(LABEL, b.line, 'Header and Data', `"${l.slice(i, j)}" is not a hex byte`, 'line');
      bytes.push((hi << 4) | lo);
      i = j;
    }
  }
  if (bytes.length < 4 || bytes[1] !== bytes.length) {
    throw new DecodeError(LABEL, b.line, 'Header and Data', `${bytes.length} bytes given, the header says ${bytes[1] ?? '?'}`, 'line');
  }
  const strings = b.lists.get('Strings') ?? [];
  return { offset: 0, type: bytes[0]!, length: bytes.length, handle: bytes[2]! | (bytes[3]! << 8), view: new ByteView(Uint8Array.from(bytes), 'SMBIOS'), strings };
}

export function decodeDmidecodeText(text: string): Smbios {
  const { version, blocks } = parseDmidecodeBlocks(text);
  if (blocks.length === 0) {
    throw new DecodeError(LABEL, 1, 'Handle', `no "Handle 0x…, DMI type …" block: not dmidecode output; ${describeText(normaliseLineEnds(text))}`, 'line');
  }
  const sysBlock = blocks.find((b) => b.type === 1 && field(b, 'Manufacturer') !== null);
  const system = sysBlock ? systemFromText(sysBlock, { type: 1, handle: sysBlock.handle, length: sysBlock.length, offset: 0 }) : null;
  const [maj, min] = (version ?? '').split('.').map(Number);
  const ctx: DecodeContext = { version: maj !== undefined && min !== undefined && !Number.isNaN(min) ? maj * 0x100 + min : null, hpeOem: isHpeServer(system) };
  const structures: SmbiosStructure[] = [];
  for (const b of blocks) {
    const common = { type: b.type, handle: b.handle, length: b.length, offset: 0 };
    const raw = rawFromHexBlock(b);
    if (raw) {
      structures.push(decodeStructure(raw, ctx));
    } else if (b.type === 1 && system && b === sysBlock) {
      structures.push(system);
    } else if (b.type === 9 && field(b, 'Designation') !== null) {
      structures.push(slotFromText(b, common));
    } else if (b.type === 41 && field(b, 'Reference Designation') !== null) {
      structures.push(onboardFromText(b, common));
    } else if (b.type === 203 && /Device Correlation Record/.test(b.title) && ctx.hpeOem) {
      structures.push(correlationFromText(b, common));
    } else {
      structures.push({ ...common, name: b.title, strings: b.lists.get('Strings') ?? [] });
    }
  }
  return {
    source: 'text',
    version,
    entryPoint: null,
    structures,
    system,
    slots: structures.filter((s): s is SystemSlot => s.type === 9 && 'designation' in s),
    onboardDevices: structures.filter((s): s is OnboardDevice => s.type === 41 && 'referenceDesignation' in s),
    hpeDeviceCorrelation: structures.filter((s): s is HpeDeviceCorrelation => s.type === 203 && 'structuredName' in s),
  };
}
