/**
 * IOMMU group listings as users paste them into forums: the kernel's own groups (read from
 * /sys/kernel/iommu_groups by a script) with one `lspci -nns` line per function.
 *
 *  - the Arch wiki loop, one line per function:
 *      `IOMMU Group 1 00:01.0 PCI bridge [0604]: Intel Corporation … [8086:0c01] (rev 06)`
 *  - its variant with a header per group and the functions indented below:
 *      `IOMMU Group 1:` then `\t00:01.0 PCI bridge [0604]: …`
 *  - ls-iommu (HikariKnight): `IOMMU Group  16: 0000:01:00.0 VGA compatible controller [0300]
 *    NVIDIA Corporation GP104 [GeForce GTX 1070] [10de:1b81] (rev a1)` — group padded to three
 *    columns unless --legacy, no colon after the class; with -k, indented "Subsystem:" and
 *    "Kernel driver in use:" lines follow.
 *
 * What such a listing gives: the partition into groups, each function's address, class and
 * vendor:device ids. It holds no configuration space: capabilities stay unknown.
 */
import { DecodeError } from '../errors.js';
import { unreadDetails, type LspciFunction, type PciAddress } from './lspci-text.js';

const LABEL = 'IOMMU group listing';

export interface IommuListing {
  functions: LspciFunction[];
  /** Group number → addresses ("ssss:bb:dd.f"), as the kernel numbered them. */
  groups: Map<number, string[]>;
}

/** "IOMMU Group N" at the start of a line (after blanks): the mark of a listing. */
const GROUP_MARK = /^[ \t]*IOMMU Group +(\d{1,6})(:?)[ \t]*/;
const ADDRESS = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])(?::?[ \t]+|$)/;
const hex4 = (s: string, at: number) => /^[0-9a-fA-F]{4}$/.test(s.slice(at, at + 4));

export function isIommuListing(text: string): boolean {
  let start = 0;
  // Bounded: the mark is on the first lines of any listing (after a prompt or a heading).
  for (let n = 0; n < 20 && start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (GROUP_MARK.test(text.slice(start, Math.min(end, start + 64)))) return true;
    start = end + 1;
  }
  return false;
}

const fmt = (a: PciAddress) =>
  `${a.segment.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.device.toString(16).padStart(2, '0')}.${a.function}`;

/**
 * The tokens of an lspci -nns line after the address. Brackets are scanned by hand (a
 * product name may hold its own "[GeForce GTX 1070]"): the class is the first "[cccc]",
 * the ids the last "[vvvv:dddd]", the revision a trailing "(rev rr)".
 */
function describe(rest: string): Pick<LspciFunction, 'className' | 'classBaseSub' | 'progIf' | 'description' | 'vendorId' | 'deviceId' | 'revision'> {
  let classBaseSub: number | null = null;
  let classEnd = -1;
  let vendorId: number | null = null;
  let deviceId: number | null = null;
  let idsAt = -1;
  for (let i = rest.indexOf('['); i >= 0; i = rest.indexOf('[', i + 1)) {
    if (classBaseSub === null && rest[i + 5] === ']' && hex4(rest, i + 1)) {
      classBaseSub = parseInt(rest.slice(i + 1, i + 5), 16);
      classEnd = i;
    } else if (rest[i + 5] === ':' && rest[i + 10] === ']' && hex4(rest, i + 1) && hex4(rest, i + 6)) {
      vendorId = parseInt(rest.slice(i + 1, i + 5), 16);
      deviceId = parseInt(rest.slice(i + 6, i + 10), 16);
      idsAt = i;
    }
  }
  let revision: number | null = null;
  const rev = /\(rev ([0-9a-fA-F]{2})\)$/.exec(rest.trimEnd());
  if (rev) revision = parseInt(rev[1]!, 16);
  let progIf: number | null = null;
  const pi = rest.indexOf('(prog-if ');
  if (pi >= 0 && /^[0-9a-fA-F]{2}$/.test(rest.slice(pi + 9, pi + 11))) progIf = parseInt(rest.slice(pi + 9, pi + 11), 16);
  const className = classEnd >= 0 ? rest.slice(0, classEnd).trim() : (rest.split(':')[0] ?? '').trim();
  let description = classEnd >= 0 ? rest.slice(rest.indexOf(']', classEnd) + 1) : rest;
  if (idsAt >= 0) description = rest.slice(classEnd >= 0 ? rest.indexOf(']', classEnd) + 1 : 0, idsAt);
  description = description.replace(/^:/, '').trim();
  return { className, classBaseSub, progIf, description, vendorId, deviceId, revision };
}

function emptyFunction(line: number, address: PciAddress): LspciFunction {
  return {
    line,
    address,
    className: '',
    classBaseSub: null,
    progIf: null,
    description: '',
    vendorId: null,
    deviceId: null,
    revision: null,
    ...unreadDetails(),
  };
}

/** Parse a listing; lines that are neither group marks nor function lines (prompts, blank lines) are passed over. */
export function parseIommuListing(text: string): IommuListing {
  const functions: LspciFunction[] = [];
  const groups = new Map<number, string[]>();
  const seen = new Map<string, number>();
  let group: number | null = null;
  let cur: LspciFunction | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    let body = raw;
    const mark = GROUP_MARK.exec(raw);
    if (mark) {
      group = Number(mark[1]);
      body = raw.slice(mark[0].length);
      cur = null;
      if (body.trim() === '') {
        if (!groups.has(group)) groups.set(group, []);
        continue;
      }
    } else {
      const indented = raw.length > 0 && (raw[0] === '\t' || raw[0] === ' ');
      body = raw.trimStart();
      // ls-iommu -k: "Subsystem:" / "Kernel driver in use:" under the function line.
      if (indented && cur) {
        const colon = body.indexOf(': ');
        if (colon > 0) {
          const key = body.slice(0, colon);
          const value = body.slice(colon + 2).trim();
          if (key === 'Kernel driver in use') {
            cur.driver = value;
            continue;
          }
          if (key === 'Subsystem') {
            cur.subsystem = value;
            continue;
          }
          if (key === 'Kernel modules') {
            cur.modules = value.split(/, */);
            continue;
          }
        }
      }
      if (!indented) group = group !== null && ADDRESS.test(body) ? group : null;
    }
    const a = ADDRESS.exec(body);
    if (!a || group === null) continue;
    const address: PciAddress = { segment: a[1] ? parseInt(a[1], 16) : 0, bus: parseInt(a[2]!, 16), device: parseInt(a[3]!, 16), function: Number(a[4]) };
    const key = fmt(address);
    const before = seen.get(key);
    if (before !== undefined) {
      throw new DecodeError(LABEL, i + 1, 'address', `${key} is listed twice (first on line ${before}); paste one listing`, 'line');
    }
    seen.set(key, i + 1);
    cur = { ...emptyFunction(i + 1, address), ...describe(body.slice(a[0].length)), iommuGroup: group };
    functions.push(cur);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(key);
  }
  if (functions.length === 0) {
    throw new DecodeError(LABEL, 1, 'IOMMU Group', 'group lines but no PCI function under them (expected "IOMMU Group N 00:01.0 …" or an lspci -nns line under each "IOMMU Group N:")', 'line');
  }
  return { functions, groups };
}
