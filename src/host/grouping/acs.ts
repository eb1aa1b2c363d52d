/**
 * pci_acs_enabled(dev, REQ_ACS_FLAGS) as Linux evaluates it once the IOMMU has requested ACS
 * (drivers/pci/pci.c, identical 5.4–6.12): device-specific quirks first, then the type rules,
 * then the ACS Capability/Control registers — with the Control bits the kernel itself turns on
 * (pci_std_enable_acs: Control |= Capability & (SV|RR|CR|UF)) and the command-line knobs.
 */
import { ACS_QUIRKS, INTEL_PCH_ROOT_PORTS, INTEL_SPT_ROOT_PORTS, PCH_ENABLE_REGRESSIONS, idIn, type AcsQuirkRow } from './acs-quirks.js';
import { ACS_CR, ACS_EC, ACS_RR, REQ_ACS_FLAGS, acsNames } from './acs-bits.js';
import { arrivalText, presentIn } from './kernel-version.js';
import type { AcsParams, DeviceSpec } from './params.js';
import type { KernelFacts } from '../model.js';

/** PCI Express Device/Port Type values (PCIe Base §7.5.3.2). */
export const PCIE_ENDPOINT = 0x0;
export const PCIE_LEGACY_ENDPOINT = 0x1;
export const PCIE_ROOT_PORT = 0x4;
export const PCIE_UPSTREAM_PORT = 0x5;
export const PCIE_DOWNSTREAM_PORT = 0x6;
export const PCIE_TO_PCI_BRIDGE = 0x7;
export const PCI_TO_PCIE_BRIDGE = 0x8;
export const PCIE_RCIEP = 0x9;
export const PCIE_RC_EVENT_COLLECTOR = 0xa;

/** What the grouping needs of one function. */
export interface AcsNode {
  address: string;
  vendor: number;
  device: number;
  /** PCIe type after the kernel's corrections; null: not PCI Express; undefined: capabilities not captured. */
  pcieType: number | null | undefined;
  multifunction: boolean;
  /** On a root bus (no bridge above); undefined when the topology is unknown. */
  onRootBus: boolean | undefined;
  /** ACS capability: null absent, undefined unknown (extended config space not captured). */
  acs: { capability: number; control: number } | null | undefined;
  /** Does a kernel device spec (pci=…=<device>) name this function? */
  matches(spec: DeviceSpec): boolean;
}

export interface AcsContext {
  kernel: KernelFacts | undefined;
  params: AcsParams;
  /** An IVRS table exists (AMD): decides the AMD SB quirk. */
  ivrs: boolean | undefined;
  /** Does this kernel carry the pcie_acs_override patch? */
  overridePatch: 'yes' | 'no' | 'unknown';
  /** The RCBA enable bit of the LPC bridge on this Root Port's bus (PCH quirk); undefined if not captured. */
  pchRcbaEnabled(n: AcsNode): boolean | undefined;
}

export interface AcsAnswer {
  isolated: boolean;
  /** False when a fact it rests on is unknown; `isolated` is then the likelier answer. */
  certain: boolean;
  /** The kernel's reason, for `explain`. */
  reason: string;
  /** REQ_ACS_FLAGS bits that are not enabled (standard path only). */
  missing: string[];
  /** The quirk row that decided, if one did. */
  quirk?: { name: string; label: string; arrival: string };
  uncertain: string[];
}

/** ThunderX1/2/3 Root Port device IDs of pci_quirk_cavium_acs_match. */
const CAVIUM_ROOT_PORTS = [[0xa000, 0xa7ff], 0xaf84, 0xb884] as const;

function yes(reason: string, row?: AcsQuirkRow): AcsAnswer {
  return { isolated: true, certain: true, reason, missing: [], quirk: row ? quirkRef(row) : undefined, uncertain: [] };
}
function no(reason: string, missing: string[] = [], row?: AcsQuirkRow): AcsAnswer {
  return { isolated: false, certain: true, reason, missing, quirk: row ? quirkRef(row) : undefined, uncertain: [] };
}
function quirkRef(row: AcsQuirkRow) {
  return { name: row.name, label: row.label ?? row.name, arrival: arrivalText(row.arrival) };
}

const isPort = (t: number | null | undefined) => t === PCIE_ROOT_PORT || t === PCIE_DOWNSTREAM_PORT;

function atLeast(k: KernelFacts, a: number, b: number, c = 0): boolean {
  if (k.major !== a) return k.major > a;
  if (k.minor !== b) return k.minor > b;
  return k.patch >= c;
}

/**
 * How the kernel applies pci=disable_acs_redir / pci=config_acs (iommu-groups §3.2, §6):
 *  - before 6.11: disable_acs_redir clears RR CR EC from the enabled value; no config_acs;
 *  - 6.11 (47c8846a49ba): both go through __pci_config_acs — masked bits taken from firmware,
 *    then the 1-flags ORed in (disable_acs_redir's flags are ~(RR|CR|EC)); only the first
 *    config_acs entry parses;
 *  - fixed (9cf8a952d57b, 6.15; back-ported to 6.12.y at an unpinned level): each entry its own
 *    flags; unmasked bits from the firmware value, masked bits from the flags.
 */
export type KnobSemantics = 'pre-6.11' | '6.11' | 'fixed';

/** The semantics this kernel may have, likeliest first. */
export function knobSemantics(k: KernelFacts | undefined): KnobSemantics[] {
  if (!k) return ['fixed', '6.11', 'pre-6.11'];
  if (!atLeast(k, 6, 11)) return ['pre-6.11'];
  if (atLeast(k, 6, 15)) return ['fixed'];
  if (k.minor === 11 && k.major === 6) return ['6.11'];
  return ['fixed', '6.11'];
}

/** The ACS Control bits __pci_config_acs works on (u16). */
const ACS_CTRL_MASK = 0xffff;
const REDIR_BITS = ACS_RR | ACS_CR | ACS_EC;

/** The config_acs entry that names this function, under these semantics (6.11 parses only the first). */
function configAcsEntry(n: AcsNode, ctx: AcsContext, sem: KnobSemantics) {
  if (sem === 'pre-6.11') return undefined;
  const entries = sem === '6.11' ? ctx.params.configAcs.slice(0, 1) : ctx.params.configAcs;
  return entries.find((e) => n.matches(e.spec));
}

/** The Control bits the kernel will have set under one semantics: captured | pci_std_enable_acs | the knobs. */
function controlUnder(n: AcsNode, ctx: AcsContext, sem: KnobSemantics): { control: number; notes: string[] } {
  const acs = n.acs!;
  const fw = acs.control;
  let control = fw | (acs.capability & REQ_ACS_FLAGS);
  const notes: string[] = [];
  if (ctx.params.disableRedir.some((s) => n.matches(s))) {
    if (sem === 'pre-6.11') control &= ~REDIR_BITS;
    else if (sem === 'fixed') control = fw & ~REDIR_BITS;
    else control = (((control & ~REDIR_BITS) | (fw & REDIR_BITS)) | (~REDIR_BITS & ACS_CTRL_MASK)) & ACS_CTRL_MASK;
    notes.push(sem === '6.11' ? 'pci=disable_acs_redir (6.11 semantics) keeps the firmware ReqRedir/CmpltRedir/EgressCtrl and sets every other bit here' : 'pci=disable_acs_redir clears ReqRedir, CmpltRedir, EgressCtrl here');
  }
  const e = configAcsEntry(n, ctx, sem);
  if (e) {
    control = sem === 'fixed' ? (fw & ~e.mask) | (e.value & e.mask) : ((control & ~e.mask) | (fw & e.mask)) | e.value;
    notes.push(`pci=config_acs sets ${acsNames(e.mask & e.value).join(' ') || 'nothing'} and ${sem === 'fixed' ? `clears ${acsNames(e.mask & ~e.value).join(' ') || 'nothing'}, the other bits as firmware left them` : `takes ${acsNames(e.mask & ~e.value).join(' ') || 'nothing'} from firmware (6.11 semantics)`} here`);
  }
  return { control, notes };
}

/** The Control bits the kernel will have set (under the likeliest semantics for this kernel). */
export function effectiveControl(n: AcsNode, ctx: AcsContext): { control: number; notes: string[] } {
  return controlUnder(n, ctx, knobSemantics(ctx.kernel)[0]!);
}

/** The standard register test (pci_acs_flags_enabled): implemented REQ bits must all be on. */
function flagsEnabled(n: AcsNode, ctx: AcsContext, kind: string): AcsAnswer {
  if (n.acs === undefined) {
    return { isolated: false, certain: false, reason: `${kind}: its ACS capability is unknown (extended config space not captured)`, missing: [], uncertain: [`${n.address}: ACS not captured (run lspci as root, or \`assignable collect\`)`] };
  }
  if (n.acs === null) return no(`${kind} without an ACS capability`, acsNames(REQ_ACS_FLAGS));
  const wanted = REQ_ACS_FLAGS & n.acs.capability;
  const implemented = acsNames(n.acs.capability & REQ_ACS_FLAGS).join(' ') || 'none of SrcValid ReqRedir CmpltRedir UpstreamFwd';
  const sems = knobSemantics(ctx.kernel);
  const answers = sems.map((sem) => {
    const { control, notes } = controlUnder(n, ctx, sem);
    const missing = wanted & ~control;
    const extra = notes.length ? `; ${notes.join('; ')}` : '';
    return missing === 0 ? yes(`${kind} with ACS (implements ${implemented}; the kernel enables them)${extra}`) : no(`${kind} with ACS, but ${acsNames(missing).join(' ')} stay off${extra}`, acsNames(missing));
  });
  const a = answers[0]!;
  if (answers.some((x) => x.isolated !== a.isolated)) {
    a.certain = false;
    a.uncertain.push(`${n.address}: how ${ctx.kernel ? `Linux ${ctx.kernel.release}` : 'the kernel'} applies pci=config_acs/disable_acs_redir (the 6.11 rules or the fixed ones of 9cf8a952d57b) decides whether it isolates`);
  }
  return a;
}

/** A release candidate's number ("6.12.0-rc3" → 3); a final release counts as after every rc. */
function rcOf(k: KernelFacts): number {
  const m = /^\d+\.\d+(?:\.\d+)?-rc(\d+)/.exec(k.release);
  return m ? Number(m[1]) : Infinity;
}

function pchEnabled(n: AcsNode, ctx: AcsContext, row: AcsQuirkRow): AcsAnswer {
  const family = INTEL_PCH_ROOT_PORTS.find((f) => idIn(f.ids, n.device))!.family;
  const k = ctx.kernel;
  const reg = k ? PCH_ENABLE_REGRESSIONS.find((r) => atLeast(k, ...r.from) && !atLeast(k, r.to[0], r.to[1], r.to[2] + 1) && (r.rcUpTo === undefined || rcOf(k) <= r.rcUpTo)) : undefined;
  // Both regressions skipped the enable quirk only for ports WITHOUT an ACS capability (iommu-groups §3.3);
  // these ports usually have none, so with the capability unknown "not isolated" is the likelier answer.
  if (reg && !n.acs) {
    const why = n.acs === undefined ? `${reg.what}; whether this port has an ACS capability (which the regression spared) was not captured` : reg.what;
    if (reg.patchKnown && n.acs === null) return no(`Intel ${family} Root Port: ${reg.what}`, [], row);
    return { ...no(`Intel ${family} Root Port: ${reg.what}`, [], row), certain: false, uncertain: [`${n.address}: ${why}`] };
  }
  const rcba = ctx.pchRcbaEnabled(n);
  if (rcba === false) return no(`Intel ${family} Root Port: the LPC bridge's RCBA is disabled, so the kernel's PCH ACS quirk cannot switch isolation on`, [], row);
  const a = yes(`Intel ${family} Root Port: isolated by the kernel's PCH quirk`, row);
  if (rcba === undefined) {
    a.certain = false;
    a.uncertain.push(`${n.address}: the PCH quirk needs RCBA enabled (LPC bridge 00:1f.0, config 0xF0 bit 0), which the capture does not show; every board seen enables it`);
  }
  return a;
}

/** A quirk row's answer: isolated / not isolated, or null for "no opinion" (the walk goes on). */
function rowAnswer(row: AcsQuirkRow, n: AcsNode, ctx: AcsContext): AcsAnswer | null {
  const t = n.pcieType;
  switch (row.rule) {
    case 'amd-sb': {
      if (!n.multifunction || n.onRootBus === false) return null;
      if (ctx.ivrs === false) return null;
      const a = yes('AMD southbridge function: the kernel\'s AMD SB quirk treats it as isolated', row);
      // The quirk answers only on a root bus and only when an IVRS table exists.
      if (ctx.ivrs === undefined) a.uncertain.push(`${n.address}: the AMD SB quirk needs an ACPI IVRS table, which was not read`);
      if (n.onRootBus === undefined) a.uncertain.push(`${n.address}: the AMD SB quirk needs it on a root bus, and the topology is unknown`);
      if (a.uncertain.length) a.certain = false;
      return a;
    }
    case 'mf-endpoint':
      return yes(`${row.label ?? 'multi-function endpoint'}: the kernel's quirk says its functions do not talk to each other`, row);
    case 'rciep':
      return t === PCIE_RCIEP ? yes('Root Complex integrated Endpoint: isolated by the kernel\'s Intel RCiEP quirk', row) : null;
    case 'isolated':
      return yes(`${row.label ?? 'device'}: isolated by a kernel quirk`, row);
    case 'intel-pch':
      if (t !== PCIE_ROOT_PORT || !INTEL_PCH_ROOT_PORTS.some((f) => idIn(f.ids, n.device))) return null;
      return pchEnabled(n, ctx, row);
    case 'intel-spt': {
      if (t !== PCIE_ROOT_PORT || !idIn(INTEL_SPT_ROOT_PORTS, n.device) || !n.acs) return null;
      // Control is the dword at ACS+8 here (lspci's ACSCtl line shows the wrong word); the kernel's
      // enable quirk sets the implemented SV/RR/CR/UF bits in it.
      // A port named by disable_acs_redir, or (6.11+) by config_acs, goes to the quirk's disable hook
      // first, which clears RR CR EC in that dword whatever flags were given (__pci_config_acs).
      const want = n.acs.capability & (ACS_RR | ACS_CR);
      const answers = knobSemantics(ctx.kernel).map((sem) => {
        const named = ctx.params.disableRedir.some((s) => n.matches(s)) ? 'pci=disable_acs_redir' : configAcsEntry(n, ctx, sem) ? 'pci=config_acs' : null;
        return named && want
          ? no(`Intel Sunrise/Union Point Root Port: ${named} makes the kernel's SPT hook clear its redirect bits`, acsNames(want), row)
          : yes('Intel Sunrise/Union Point Root Port: isolated (its ACS Control dword at +8, which the kernel sets)', row);
      });
      const a = answers[0]!;
      if (answers.some((x) => x.isolated !== a.isolated)) {
        a.certain = false;
        a.uncertain.push(`${n.address}: whether ${ctx.kernel ? `Linux ${ctx.kernel.release}` : 'the kernel'} reads this pci=config_acs entry (6.11 parses only the first; before 6.11 there is none)`);
      }
      return a;
    }
    case 'cavium':
      return t === PCIE_ROOT_PORT && idIn(CAVIUM_ROOT_PORTS, n.device) ? yes('Cavium ThunderX Root Port: isolated by the kernel\'s quirk', row) : null;
    case 'amazon-rp':
      return t === PCIE_ROOT_PORT ? yes('Annapurna Labs Root Port: isolated by the kernel\'s quirk', row) : null;
    case 'zhaoxin-ports':
    case 'wangxun': {
      if (row.rule === 'zhaoxin-ports' && !isPort(t)) return null;
      for (const ids of row.ruleIds ?? []) {
        if (!idIn(ids.ids, n.device)) continue;
        const p = presentIn(ids.arrival, ctx.kernel);
        if (p === 'no') break;
        const a = yes(`${row.label}: listed in the kernel's quirk`, row);
        if (p === 'unknown') {
          a.certain = false;
          a.uncertain.push(`${n.address}: whether this kernel's ${row.name} lists ${n.device.toString(16)} (${arrivalText(ids.arrival)})`);
        }
        return a;
      }
      return no(`${row.label}: not in the kernel's list, which counts every other ${row.rule === 'wangxun' ? 'Wangxun device' : 'Zhaoxin port'} as not isolated`, [], row);
    }
    case 'pve-override':
      return overrideAnswer(n, ctx, row);
  }
}

function overrideAnswer(n: AcsNode, ctx: AcsContext, row: AcsQuirkRow): AcsAnswer | null {
  const o = ctx.params.override;
  if (!o || ctx.overridePatch === 'no') return null;
  const t = n.pcieType;
  if (t === null) return null;
  // The patch leaves every device that has an ACS capability to the standard rules.
  if (n.acs !== null) return null;
  const hit = o.ids.some((i) => i.vendor === n.vendor && i.device === n.device)
    ? 'id'
    : isPort(t) && o.downstream
      ? 'downstream'
      : n.multifunction && (t === PCIE_ENDPOINT || t === PCIE_UPSTREAM_PORT || t === PCIE_LEGACY_ENDPOINT || t === PCIE_RCIEP) && o.multifunction
        ? 'multifunction'
        : null;
  if (!hit) return null;
  const a = yes(`pcie_acs_override=${hit === 'id' ? `id:${n.vendor.toString(16).padStart(4, '0')}:${n.device.toString(16).padStart(4, '0')}` : hit} pretends it isolates`, row);
  if (ctx.overridePatch === 'unknown') {
    a.certain = false;
    a.uncertain.push(`${n.address}: whether this kernel carries the pcie_acs_override patch`);
  }
  return a;
}

/** pci_acs_enabled(n, REQ_ACS_FLAGS) once the IOMMU is on. */
export function acsEnabled(n: AcsNode, ctx: AcsContext): AcsAnswer {
  const uncertain: string[] = [];
  for (const row of ACS_QUIRKS) {
    if (row.vendor !== 'any' && row.vendor !== n.vendor) continue;
    if (!idIn(row.devices, n.device)) continue;
    const presence = presentIn(row.arrival, ctx.kernel);
    if (presence === 'no') continue;
    const a = rowAnswer(row, n, ctx);
    if (!a) continue;
    if (presence === 'unknown') {
      a.certain = false;
      a.uncertain.push(`${n.address}: whether ${ctx.kernel ? `Linux ${ctx.kernel.release}` : 'the kernel'} has ${row.name} for it (${arrivalText(row.arrival)})`);
    }
    a.uncertain.unshift(...uncertain);
    if (a.uncertain.length) a.certain = false;
    return a;
  }
  const t = n.pcieType;
  let a: AcsAnswer;
  if (t === undefined) {
    a = { isolated: false, certain: false, reason: 'its capabilities are unknown (not captured)', missing: [], uncertain: [`${n.address}: capabilities not captured (run lspci as root, or \`assignable collect\`)`] };
  } else if (t === null) a = no('a conventional PCI function (no PCI Express capability): never isolated');
  else if (t === PCI_TO_PCIE_BRIDGE || t === PCIE_TO_PCI_BRIDGE || t === PCIE_RC_EVENT_COLLECTOR) a = no('a PCI/PCI-X bridge or Event Collector: never isolated');
  else if (t === PCIE_DOWNSTREAM_PORT) a = flagsEnabled(n, ctx, 'Downstream Port');
  else if (t === PCIE_ROOT_PORT) a = flagsEnabled(n, ctx, 'Root Port');
  else if (n.multifunction && (t === PCIE_ENDPOINT || t === PCIE_UPSTREAM_PORT || t === PCIE_LEGACY_ENDPOINT || t === PCIE_RCIEP)) a = flagsEnabled(n, ctx, 'multi-function device');
  else a = yes('a single-function device: nothing beside it to reach');
  a.uncertain.unshift(...uncertain);
  if (a.uncertain.length) a.certain = false;
  return a;
}

