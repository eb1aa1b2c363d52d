/**
 * `--surveydda FILE`: the text Microsoft's SurveyDDA.ps1 prints (both revisions: the 2015
 * survey-dda.ps1 and "revision 1"), as users paste it — retyped, with stray spaces, lost blank
 * lines, a forum post around it, cut off at the end — turned into HostFacts.
 *
 * What each line means comes from the script itself (test/fixtures/windows/01-…ps1, 02-…ps1):
 * the checks run in order RMRR → ACS → DeviceType → (disabled) → interrupts → MMIO → location
 * path, each failing check ending the device. So a DeviceType line also says the RMRR and ACS
 * checks passed — but those tests pass on an unreadable ($null) value too, so a pass is kept as
 * "not flagged", never as "fine". The interrupt line counts allocated IRQs, and under
 * PowerShell 7 its gwmi calls fail and it prints "no interrupts at all -- assignment can work"
 * for every device: interrupts from SurveyDDA are unknown unless it saw message-based ones.
 * SurveyDDA prints no PCI addresses: devices get placeholder addresses in segment ffff, in the
 * order printed, and are found by name or location path.
 */
import type { PciConfig } from '../../firmware/pci/config.js';
import { headerOnlyConfig } from '../../firmware/pci/config.js';
import { DecodeError } from '../../firmware/errors.js';
import type { FunctionFacts, HostFacts, HostNote, WindowsFunctionFacts } from '../../host/model.js';

export const SURVEYDDA_FORMAT = 'SurveyDDA output';
/** Placeholder segment: SurveyDDA prints no addresses (documented in README and json.md). */
export const SURVEYDDA_SEGMENT = 0xffff;
/** pci.sys DeviceType values SurveyDDA's lines imply (15-pciprop-devpkeys.json pid 1). */
const DT = { endpoint: 2, legacy: 3, integrated: 4, treatedAsPci: 5 } as const;
const MSI_BIT = 0x2;
const LINE_BIT = 0x1;
const DISPLAY_CLASS = 0x030000;
const UNKNOWN_CLASS = 0xffffff;

type Kind =
  | 'rmrr' | 'acs' | 'express' | 'embedded' | 'legacy-gfx' | 'legacy' | 'kept' | 'old'
  | 'disabled' | 'disabled2' | 'no-irq' | 'line' | 'msi' | 'no-mmio' | 'mmio' | 'no-iov';

/** SurveyDDA's messages, matched ignoring case and spacing (retyped pastes). */
const MESSAGES: Array<[Kind, string]> = [
  ['rmrr', 'BIOS requires that this device remain attached to BIOS-owned memory. Not assignable.'],
  ['acs', 'Traffic from this device may be redirected to other devices in the system. Not assignable.'],
  ['express', 'Express Endpoint -- more secure.'],
  ['embedded', 'Embedded Endpoint -- less secure.'],
  ['legacy-gfx', 'Legacy Express Endpoint -- graphics controller.'],
  ['legacy', 'Legacy, non-VGA PCI device. Not assignable.'],
  ['kept', 'BIOS kept control of PCI Express for this device. Not assignable.'],
  ['old', 'Old-style PCI device, switch port, etc. Not assignable.'],
  ['disabled', 'Device is Disabled, unable to check resource requirements, it may be assignable.'],
  ['disabled2', 'Enable the device and rerun this script to confirm.'],
  ['no-irq', 'And it has no interrupts at all -- assignment can work.'],
  ['line', 'All of the interrupts are line-based, no assignment can work.'],
  ['msi', 'And its interrupts are message-based, assignment can work.'],
  ['no-mmio', 'And it has no MMIO space'],
  ['no-iov', "Unfortunately, this machine doesn't support using them in a VM."],
];

const norm = (s: string) => s.toLowerCase().replace(/[\u2018\u2019]/g, "'").replace(/\s+/g, '').replace(/[.]+$/, '');
const NORMALISED = MESSAGES.map(([k, t]) => [k, norm(t)] as const);
const MMIO_RE = /^and\s*it\s*requires\s*at\s*least\s*:?\s*(\d+)\s*mb\s*of\s*mmio\s*gap\s*space/i;

function kindOf(line: string): { kind: Kind; mb?: number } | null {
  const n = norm(line);
  if (n === '') return null;
  for (const [k, t] of NORMALISED) if (n === t) return { kind: k };
  const m = MMIO_RE.exec(line.trim());
  if (m) return { kind: 'mmio', mb: Number(m[1]) };
  return null;
}

/** A line cut off at the end of a paste: a prefix of one of the messages; the message when only one fits. */
function truncatedMessage(line: string): { kind: Kind | null } | null {
  const n = norm(line);
  if (n.length < 4) return null;
  const fits = NORMALISED.filter(([, t]) => t.startsWith(n) && t !== n);
  if (fits.length === 0) return null;
  // Long enough to tell one message from all others: keep it ("BIOS kept cont" is the kept-control line).
  return { kind: fits.length === 1 && n.length >= MIN_UNIQUE_PREFIX ? fits[0]![0] : null };
}
const MIN_UNIQUE_PREFIX = 10;

/** PowerShell error output (the gwmi failures of a PowerShell 7 run), prompts, fences, the banner. */
function noise(line: string): 'gwmi' | 'skip' | null {
  const t = line.trim();
  if (/^gwmi\s*:/i.test(t) || /^Get-WmiObject\s*:/i.test(t) || /The term 'gwmi' is not recognized/i.test(t)) return 'gwmi';
  if (/^Line\s*\|/.test(t) || /^\d+\s*\|/.test(t) || /^\|/.test(t)) return 'skip';
  if (/^PS\s+[A-Za-z]:\\.*>/.test(t) || /^PS\s*[A-Za-z]:.*>/.test(t) || /^```/.test(t)) return 'skip';
  if (/^Executing SurveyDDA\.ps1/i.test(t) || /^Generating a list of PCI Express endpoint devices/i.test(t)) return 'skip';
  return null;
}

const LOCATION_RE = /^PCIROOT\s*\(/i;

interface Block {
  name: string;
  line: number;
  kinds: Kind[];
  texts: string[];
  mmioMb?: number;
  locationPath?: string;
  gwmiFailed: boolean;
}

export interface SurveyDdaParse {
  revision: 'revision 1' | 'original (2015)' | 'unknown';
  blocks: Block[];
  brokenByPowerShell7: boolean;
  truncated: boolean;
  iovUnsupported: boolean;
}

export function parseSurveyDda(text: string): SurveyDdaParse {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let revision: SurveyDdaParse['revision'] = /Executing SurveyDDA\.ps1,\s*revision\s*1/i.test(text) ? 'revision 1' : 'unknown';
  const blocks: Block[] = [];
  let cur: Block | null = null;
  let broken = false;
  let truncated = false;
  let iov = false;
  const lastContent = lines.map((l) => l.trim()).filter((l) => l !== '').length;
  let contentSeen = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    contentSeen++;
    const nz = noise(line);
    if (nz === 'gwmi') {
      broken = true;
      // Revision 1 runs gwmi at its lines 88 and 116 (test/fixtures/windows/01-…ps1).
      if (/SurveyDDA\.ps1:(88|116)\b/i.test(line)) revision = 'revision 1';
      if (cur) cur.gwmiFailed = true;
      return;
    }
    if (nz === 'skip') return;
    if (LOCATION_RE.test(line)) {
      // Retyped paths pick up spaces; the path itself has none.
      if (cur) cur.locationPath = line.replace(/\s+/g, '').toUpperCase();
      return;
    }
    const k = kindOf(line);
    if (k) {
      if (k.kind === 'no-iov') iov = true;
      else if (cur) {
        cur.kinds.push(k.kind);
        cur.texts.push(line.replace(/\s+/g, ' '));
        if (k.mb !== undefined) cur.mmioMb = k.mb;
      }
      return;
    }
    const cut = contentSeen === lastContent ? truncatedMessage(line) : null;
    if (cut) {
      truncated = true;
      if (cut.kind && cur) {
        cur.kinds.push(cut.kind);
        cur.texts.push(`${line.replace(/\s+/g, ' ')}… (cut off)`);
      }
      return;
    }
    // Anything else is a device's friendly name (or prose around the paste: dropped below when no verdict follows).
    cur = { name: line, line: i + 1, kinds: [], texts: [], gwmiFailed: false };
    blocks.push(cur);
  });
  const kept = blocks.filter((b) => b.kinds.length > 0);
  if (revision === 'unknown') {
    // Only revision 1 prints MMIO lines and the legacy-endpoint lines.
    if (kept.some((b) => b.kinds.some((k) => k === 'mmio' || k === 'no-mmio' || k === 'legacy' || k === 'legacy-gfx' || k === 'disabled'))) revision = 'revision 1';
    else if (kept.some((b) => b.kinds.some((k) => k === 'no-irq' || k === 'msi' || k === 'line')) && !broken) revision = 'original (2015)';
  }
  return { revision, blocks: kept, brokenByPowerShell7: broken, truncated, iovUnsupported: iov };
}

function windowsOf(b: Block, index: number): WindowsFunctionFacts {
  const has = (k: Kind) => b.kinds.includes(k);
  const w: WindowsFunctionFacts = { instanceId: `SurveyDDA#${index + 1}`, dismounted: false, name: b.name, surveyLines: b.texts };
  if (b.locationPath !== undefined) w.locationPath = b.locationPath;
  // The script's order: RMRR, then ACS, then DeviceType — a later line means the earlier checks did not flag it.
  if (has('rmrr')) w.requiresReservedMemoryRegion = true;
  else w.requiresReservedMemoryRegion = false;
  if (has('acs')) w.acsCompatibleUpHierarchy = 0;
  if (has('express')) w.deviceType = DT.endpoint;
  else if (has('embedded')) w.deviceType = DT.integrated;
  else if (has('legacy') || has('legacy-gfx')) w.deviceType = DT.legacy;
  else if (has('kept')) w.deviceType = DT.treatedAsPci;
  if (has('disabled')) w.status = 'Disabled';
  // Only a message-based line is evidence of MSI; "no interrupts at all" is SurveyDDA's false positive.
  if (has('msi') && !b.gwmiFailed) w.interruptSupport = MSI_BIT;
  else if (has('line') && !b.gwmiFailed) w.interruptSupport = LINE_BIT;
  if (b.mmioMb !== undefined) w.surveyMmioMb = b.mmioMb;
  return w;
}

function configOf(classCode: number): PciConfig {
  // SurveyDDA prints no ids.
  return headerOnlyConfig({ vendorId: 0xffff, deviceId: 0xffff, classCode, headerType: 0 });
}

export function surveyDdaFacts(text: string, file: string): HostFacts {
  const p = parseSurveyDda(text);
  if (p.blocks.length === 0) throw new DecodeError(SURVEYDDA_FORMAT, 1, 'device blocks', 'no device name followed by a SurveyDDA verdict line was found (paste what SurveyDDA.ps1 printed, from "Generating a list of PCI Express endpoint devices" on)', 'line');
  const notes: HostNote[] = [
    { code: 'SURVEYDDA_INPUT', message: `SurveyDDA output (${p.revision}): it prints no PCI addresses, ids or topology — devices are numbered ffff:BB:DD.F in the order printed; an ACS pass is only "not flagged" (SurveyDDA's test passes on an unreadable value)` },
  ];
  if (p.brokenByPowerShell7) notes.push({ code: 'SURVEYDDA_POWERSHELL7', message: 'SurveyDDA ran where gwmi does not exist (PowerShell 7): its interrupt and MMIO lines are meaningless, so interrupts are unknown — run it under Windows PowerShell 5.1, or use the assignable probe' });
  if (p.truncated) notes.push({ code: 'SURVEYDDA_TRUNCATED', message: 'the paste ends in the middle of a SurveyDDA line: the last device may be incomplete' });
  const functions: FunctionFacts[] = p.blocks.map((b, i) => {
    const w = windowsOf(b, i);
    const classCode = b.kinds.includes('legacy-gfx') ? DISPLAY_CLASS : UNKNOWN_CLASS;
    return {
      address: { segment: SURVEYDDA_SEGMENT, bus: i >> 8, device: (i >> 3) & 0x1f, function: i & 7 },
      config: configOf(classCode),
      configSource: 'surveydda',
      windows: w,
    };
  });
  const windows: HostFacts['windows'] = { source: 'surveydda', errors: p.brokenByPowerShell7 ? [{ step: 'SurveyDDA', message: "The term 'gwmi' is not recognized" }] : [] };
  if (p.iovUnsupported) windows.hyperV = { iovSupport: false };
  return { origin: { kind: 'capture', description: `SurveyDDA output ${file}` }, functions, windows, notes };
}
