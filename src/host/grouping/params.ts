/**
 * Kernel command-line parameters that change ACS, read the way the kernel reads them:
 *  - pcie_acs_override= (out-of-tree patch; tokens matched by prefix, at most 15 id: entries);
 *  - pci=disable_acs_redir=<devices> (clears RR, CR, EC);
 *  - pci=config_acs=<flags>@<device>[;…] (Linux 6.11+; right-most flag character is bit 0).
 */
export interface AcsOverride {
  downstream: boolean;
  multifunction: boolean;
  ids: Array<{ vendor: number; device: number }>;
  /** Tokens the patch would skip, with why (for the lint and `explain`). */
  ignored: string[];
}

/** A device as the kernel's pci_dev_str_match takes it: a path from a root bus, or IDs. */
export type DeviceSpec =
  | { kind: 'path'; segment: number; bus: number; path: Array<{ device: number; fn: number }> }
  | { kind: 'ids'; vendor: number; device: number; subvendor?: number; subdevice?: number };

export interface AcsParams {
  override: AcsOverride | null;
  disableRedir: DeviceSpec[];
  /** config_acs entries: mask of bits given, and their values. */
  configAcs: Array<{ spec: DeviceSpec; mask: number; value: number }>;
  problems: string[];
}

/** The patch allows 15 id: entries (its slot check is off by one). */
const OVERRIDE_MAX_IDS = 15;
/** config_acs knows 7 ACS bits: SV TB RR CR UF EC DT. */
const CONFIG_ACS_BITS = 7;

export const NO_PARAMS: AcsParams = { override: null, disableRedir: [], configAcs: [], problems: [] };

/** The kernel's own arguments: everything after "--" goes to init. */
function words(cmdline: string): string[] {
  const all = cmdline.trim().split(/\s+/).filter(Boolean);
  const end = all.indexOf('--');
  return end < 0 ? all : all.slice(0, end);
}

export function parseOverride(value: string): AcsOverride {
  const o: AcsOverride = { downstream: false, multifunction: false, ids: [], ignored: [] };
  for (const tok of value.split(',')) {
    if (tok.startsWith('downstream')) o.downstream = true;
    else if (tok.startsWith('multifunction')) o.multifunction = true;
    else if (tok.startsWith('id:')) {
      const m = /^id:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})/.exec(tok);
      if (!m) o.ignored.push(`${tok}: not id:VVVV:DDDD with 4 hex digits each`);
      else if (o.ids.length >= OVERRIDE_MAX_IDS) o.ignored.push(`${tok}: more than ${OVERRIDE_MAX_IDS} id: entries`);
      else o.ids.push({ vendor: parseInt(m[1]!, 16), device: parseInt(m[2]!, 16) });
    } else if (tok !== '') o.ignored.push(`${tok}: unknown token`);
  }
  return o;
}

export function parseDeviceSpec(text: string): DeviceSpec | null {
  const ids = /^pci:([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})(?::([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}))?$/.exec(text);
  if (ids) {
    const spec: DeviceSpec = { kind: 'ids', vendor: parseInt(ids[1]!, 16), device: parseInt(ids[2]!, 16) };
    if (ids[3]) Object.assign(spec, { subvendor: parseInt(ids[3], 16), subdevice: parseInt(ids[4]!, 16) });
    return spec;
  }
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])((?:\/[0-9a-fA-F]{1,2}\.[0-7])*)$/.exec(text);
  if (!m) return null;
  const path = [{ device: parseInt(m[3]!, 16), fn: Number(m[4]) }];
  for (const hop of (m[5] ?? '').split('/').filter(Boolean)) {
    const [d, f] = hop.split('.');
    path.push({ device: parseInt(d!, 16), fn: Number(f) });
  }
  return { kind: 'path', segment: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2]!, 16), path };
}

/** "10x" → bits: the right-most character is bit 0; 1 on, 0 off, x unchanged. */
function parseFlags(flags: string): { mask: number; value: number } | null {
  if (flags.length === 0 || flags.length > CONFIG_ACS_BITS || !/^[01xX]+$/.test(flags)) return null;
  let mask = 0;
  let value = 0;
  [...flags].reverse().forEach((c, bit) => {
    if (c === 'x' || c === 'X') return;
    mask |= 1 << bit;
    if (c === '1') value |= 1 << bit;
  });
  return { mask, value };
}

export function parseAcsParams(cmdline: string | undefined): AcsParams {
  if (!cmdline) return NO_PARAMS;
  const p: AcsParams = { override: null, disableRedir: [], configAcs: [], problems: [] };
  for (const w of words(cmdline)) {
    if (w.startsWith('pcie_acs_override=')) {
      // Each occurrence runs the patch's early_param again: flags and ids add up.
      const o = parseOverride(w.slice('pcie_acs_override='.length));
      if (p.override) {
        const ids = [...p.override.ids];
        const ignored = [...p.override.ignored, ...o.ignored];
        for (const [i, id] of o.ids.entries()) {
          if (ids.length < OVERRIDE_MAX_IDS) ids.push(id);
          else ignored.push(`id:${id.vendor.toString(16).padStart(4, '0')}:${id.device.toString(16).padStart(4, '0')} (entry ${i + 1} of a later pcie_acs_override): more than ${OVERRIDE_MAX_IDS} id: entries`);
        }
        p.override = { downstream: p.override.downstream || o.downstream, multifunction: p.override.multifunction || o.multifunction, ids, ignored };
      } else p.override = o;
    }
    if (!w.startsWith('pci=')) continue;
    for (const opt of w.slice(4).split(',')) {
      // pci_setup keeps a pointer to the value: a later disable_acs_redir= or config_acs= replaces an earlier one.
      if (opt.startsWith('disable_acs_redir=')) {
        p.disableRedir = [];
        for (const d of opt.slice('disable_acs_redir='.length).split(';').filter(Boolean)) {
          const spec = parseDeviceSpec(d);
          if (spec) p.disableRedir.push(spec);
          else p.problems.push(`pci=disable_acs_redir: "${d}" is not a device the kernel can match`);
        }
      } else if (opt.startsWith('config_acs=')) {
        p.configAcs = [];
        for (const e of opt.slice('config_acs='.length).split(';').filter(Boolean)) {
          const at = e.indexOf('@');
          // The kernel rejects an entry without "@<device>" ("ACS Flags missing"), e.g. its own documentation's example.
          if (at < 0) {
            p.problems.push(`pci=config_acs: "${e}" has no @<device>; the kernel ignores it`);
            continue;
          }
          const flags = parseFlags(e.slice(0, at));
          const spec = parseDeviceSpec(e.slice(at + 1));
          if (!flags || !spec) p.problems.push(`pci=config_acs: "${e}" is not <flags>@<device>; the kernel ignores it`);
          else p.configAcs.push({ spec, ...flags });
        }
      }
    }
  }
  return p;
}
