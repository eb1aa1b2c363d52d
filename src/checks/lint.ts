/**
 * `assignable lint`: passthrough configuration that is stale (guide advice the running kernel
 * no longer needs or never understood) or in conflict with this host (vfio-pci ids or a
 * blacklist that take a device the host needs, boot options in the file of the bootloader it
 * does not boot with). Pure: the Host (with its configuration files) in, items with file:line,
 * the why and the fix out. An item whose deciding fact is unknown says so (certain: false).
 */
import { atLeast } from '../host/kernel.js';
import { overridePatchOf } from '../host/grouping/index.js';
import type { ConfigFile, Device, Host } from '../host/model.js';
import { hostNeed, managementFunctions } from './host-critical.js';
import { iommuState } from './iommu.js';
import { hex4 } from '../host/address.js';

/** Every lint code and what it means (documented in docs/verdicts.md, "Configuration lint"). */
export const LINT_CODES = {
  LINT_VFIO_VIRQFD: 'vfio_virqfd is listed to load: it was merged into vfio in Linux 6.2',
  LINT_AMD_IOMMU_ON: 'amd_iommu=on: amd_iommu has no "on" option',
  LINT_INTEL_IOMMU_ON_DEFAULT: 'intel_iommu=on where it changes nothing (the kernel enables VT-d by default, or the host is AMD)',
  LINT_ACS_OVERRIDE_UNPATCHED: 'pcie_acs_override= on a kernel without the out-of-tree ACS override patch',
  LINT_IOMMU_1: 'iommu=1: a number sets the size of the old AMD GART aperture, not the IOMMU',
  LINT_VFIO_IDS_HOST_DEVICE: 'vfio-pci ids= also capture a device the host needs',
  LINT_BLACKLIST_HOST_DRIVER: 'a blacklisted module is the driver of a device the host needs',
  LINT_UNSAFE_INTERRUPTS_NOT_NEEDED: 'allow_unsafe_interrupts is set while interrupt remapping works',
  LINT_DEAD_BOOT_CONFIG: 'kernel options in the file of the bootloader this host does not boot with',
  LINT_BOOT_CONFIG_CONFLICT: '/etc/default/grub and /etc/kernel/cmdline disagree, and which one this host boots with is unknown',
  LINT_GRUB_OVERRIDDEN: 'a GRUB_CMDLINE_LINUX(_DEFAULT) line that a later assignment replaces',
  LINT_IGNORED_FILE: 'a file its reader never reads (modprobe.d and modules-load.d read *.conf, grub.d reads *.cfg)',
  LINT_NOT_APPLIED: 'a passthrough option of the live boot file that the running kernel was not started with',
} as const;

export type LintCode = keyof typeof LINT_CODES;

export interface LintFinding {
  code: LintCode;
  /** The file on the host, e.g. /etc/modprobe.d/vfio.conf. */
  file: string;
  /** 1-based line of the setting. */
  line: number;
  /** The line as written. */
  text: string;
  /** What is wrong, and why. */
  message: string;
  fix: string;
  /** false: it may be stale, but a fact that decides it is unknown (the message says which). */
  certain: boolean;
}

export interface LintReport {
  /** The files read (paths on the host); undefined when no configuration was read. */
  files: string[] | undefined;
  findings: LintFinding[];
}

/** Module names: modprobe treats "-" and "_" alike. */
const mod = (s: string) => s.replace(/-/g, '_');

interface Line {
  file: string;
  line: number;
  text: string;
}

/** Non-comment lines of a file; `#` (and `;` for modules-load.d) starts a comment line. */
function lines(f: ConfigFile, comment = /^\s*[#;]/): Array<Line & { body: string }> {
  return f.text.split('\n').map((text, i) => ({ file: f.path, line: i + 1, text: text.replace(/\r$/, ''), body: text.replace(/\r$/, '').trim() })).filter((l) => l.body !== '' && !comment.test(l.body));
}

/** modprobe.d: commands with backslash continuations joined (reported at their first line). */
function modprobeCommands(f: ConfigFile): Array<Line & { words: string[] }> {
  const out: Array<Line & { words: string[] }> = [];
  const raw = f.text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let body = raw[i]!.replace(/\r$/, '');
    while (body.endsWith('\\') && i + 1 < raw.length) body = body.slice(0, -1) + ' ' + raw[++i]!.replace(/\r$/, '');
    const t = body.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ file: f.path, line: start + 1, text: raw[start]!.replace(/\r$/, ''), words: t.split(/\s+/) });
  }
  return out;
}

/** One kernel parameter as written in a boot configuration file. */
interface Param extends Line {
  key: string;
  value: string | null;
}

function params(words: string[], at: Line): Param[] {
  return words.filter((w) => w !== '' && !w.startsWith('$')).map((w) => {
    const eq = w.indexOf('=');
    return { ...at, key: eq < 0 ? w : w.slice(0, eq), value: eq < 0 ? null : w.slice(eq + 1) };
  });
}

const GRUB_VAR = /^\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(.*)$/;

/** A shell value: "…", '…' or a bare word; ${VAR} and $VAR references kept as words. */
function shellValue(v: string): string {
  const t = v.trim();
  const q = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(t);
  if (q) return (q[1] ?? q[2] ?? '').replace(/\\(.)/g, '$1');
  return t.split(/\s+#/)[0]!.split(/\s+/)[0] ?? '';
}

interface GrubAssignment extends Line {
  name: string;
  params: Param[];
  /** References its own earlier value ("$GRUB_CMDLINE_LINUX_DEFAULT …"): appends instead of replacing. */
  appends: boolean;
}

/** /etc/default/grub, then /etc/default/grub.d/*.cfg in name order (grub-mkconfig sources them so). */
function grubAssignments(files: ConfigFile[]): GrubAssignment[] {
  const grub = files.filter((f) => f.path === '/etc/default/grub' || (f.path.startsWith('/etc/default/grub.d/') && f.path.endsWith('.cfg')));
  const out: GrubAssignment[] = [];
  for (const f of grub) {
    for (const l of lines(f, /^\s*#/)) {
      const m = GRUB_VAR.exec(l.text);
      if (!m) continue;
      const name = m[1]!;
      const value = shellValue(m[2]!);
      const at = { file: l.file, line: l.line, text: l.text };
      out.push({ ...at, name, params: params(value.split(/\s+/), at), appends: new RegExp(`\\$\\{?${name}\\}?(?![A-Z_])`).test(value) });
    }
  }
  return out;
}

/** What GRUB passes: the last assignment of each variable, with the ones it appends to. */
function grubEffective(assign: GrubAssignment[]): { live: Param[]; overridden: GrubAssignment[] } {
  const live: Param[] = [];
  const overridden: GrubAssignment[] = [];
  for (const name of ['GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT']) {
    const mine = assign.filter((a) => a.name === name);
    let chain: GrubAssignment[] = [];
    for (const a of mine) {
      if (!a.appends) {
        overridden.push(...chain);
        chain = [];
      }
      chain.push(a);
    }
    for (const a of chain) live.push(...a.params);
  }
  return { live, overridden };
}

function kernelCmdlineParams(files: ConfigFile[]): Param[] {
  const f = files.find((x) => x.path === '/etc/kernel/cmdline');
  if (!f) return [];
  return lines(f, /^\s*#/).flatMap((l) => params(l.body.split(/\s+/), { file: l.file, line: l.line, text: l.text }));
}

/** Options a passthrough guide puts on the command line (the others — quiet, root= — are the distribution's). */
const PASSTHROUGH_KEY = /^(intel_iommu|amd_iommu|iommu|intremap|pcie_acs_override|pci|vfio[-_.].*|vfio_iommu_type1\..*|kvm[-_.].*|video|initcall_blacklist|modprobe\.blacklist|module_blacklist|nofb|nomodeset|pcie_aspm|rd\.driver\.(pre|blacklist))$/;

const paramText = (p: Param) => (p.value === null ? p.key : `${p.key}=${p.value}`);

/** The kernel's bool parser (kstrtobool): 1/y/Y/t/T/on is true. */
const truthy = (v: string | null) => v === null || /^(1|[yYtT]|on)/.test(v);

/** A device the host needs, with why; certain: false when it only may be (a storage controller, the root disk unknown). */
interface Needed {
  why: string;
  certain: boolean;
}

/** Devices the host cannot give away, with why (host-critical.ts): "may be" for a storage controller while the root disk is unknown. */
function hostNeeded(host: Host): Map<Device, Needed> {
  const mgmt = managementFunctions(host);
  const out = new Map<Device, Needed>();
  for (const d of host.devices) {
    if (d.isBridge || d.isHostBridge) continue;
    const need = hostNeed(d, host, mgmt);
    if (need) out.set(d, need);
  }
  return out;
}

/** "10de:1b80[:sv:sd[:class:mask]]" as vfio-pci parses its ids= (missing parts match any). */
function idsMatching(list: string, needed: Map<Device, Needed>): Array<{ id: string; device: Device; need: Needed }> {
  const out: Array<{ id: string; device: Device; need: Needed }> = [];
  for (const id of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const f = id.split(':').map((x) => parseInt(x, 16));
    if (f.length < 2 || f.slice(0, 2).some((x) => Number.isNaN(x))) continue;
    for (const [d, need] of needed) {
      const c = d.config;
      if (c.vendorId !== f[0] || c.deviceId !== f[1]) continue;
      // A subsystem pair, when given and known on both sides, must match too (PCI_ANY_ID = ffff…).
      const sv = f[2];
      const sd = f[3];
      if (sv !== undefined && sv !== 0xffffffff && c.subsystemVendorId !== null && c.subsystemVendorId !== undefined && sv !== c.subsystemVendorId) continue;
      if (sd !== undefined && sd !== 0xffffffff && c.subsystemId !== null && c.subsystemId !== undefined && sd !== c.subsystemId) continue;
      out.push({ id, device: d, need });
    }
  }
  return out;
}

function bootRefresh(host: Host): string {
  const b = host.bootloader;
  if (!b) return 'then regenerate the boot configuration (update-grub, or proxmox-boot-tool refresh) and reboot';
  if (b.kind === 'systemd-boot') return b.proxmoxBootTool ? 'then `proxmox-boot-tool refresh` and reboot' : 'then reinstall the boot entry (kernel-install) and reboot';
  return b.proxmoxBootTool ? 'then `proxmox-boot-tool refresh` and reboot' : 'then `update-grub` and reboot';
}

function checkParam(p: Param, host: Host, needed: Map<Device, Needed>, out: LintFinding[]): void {
  const at = { file: p.file, line: p.line, text: p.text };
  const refresh = bootRefresh(host);
  const key = p.key;
  if (key === 'amd_iommu' && p.value !== null && p.value.split(',').includes('on')) {
    out.push({ ...at, code: 'LINT_AMD_IOMMU_ON', certain: true, message: `${paramText(p)}: amd_iommu has no "on" option; the kernel logs "AMD-Vi: Unknown option - 'on'" and ignores it. AMD-Vi is enabled by default when the firmware has an IVRS table.`, fix: `remove amd_iommu=on (keep iommu=pt if wanted), ${refresh}` });
  }
  if (key === 'intel_iommu' && p.value !== null && p.value.split(',').includes('on')) {
    const s = iommuState(host);
    const cfg = host.kernelConfig;
    const k = host.kernel;
    let why: string | undefined;
    let certain = true;
    if (s.vendor === 'amd') why = 'this host is AMD (an IVRS table, no DMAR): intel_iommu= does nothing here';
    else if (cfg?.options.CONFIG_INTEL_IOMMU_DEFAULT_ON === 'y') why = `${cfg.path} has CONFIG_INTEL_IOMMU_DEFAULT_ON=y: this kernel enables VT-d by default`;
    else if (cfg) why = undefined; // read, and not on by default: the option is needed
    else if (k?.pve && atLeast(k, 6, 8)) why = `${k.release} is a Proxmox VE kernel from 6.8 on, built with CONFIG_INTEL_IOMMU_DEFAULT_ON=y (Proxmox VE 8.2 release notes)`;
    else {
      certain = false;
      why = `whether this kernel (${k?.release ?? 'release unknown'}) enables VT-d by default is unknown: its build configuration (/boot/config-<release>) was not read`;
    }
    if (why) out.push({ ...at, code: 'LINT_INTEL_IOMMU_ON_DEFAULT', certain, message: `${paramText(p)}: unnecessary — ${why}. Harmless, but it is guide advice for older kernels.`, fix: certain ? `remove "on" from intel_iommu= (keep other sub-options such as relax_rmrr), ${refresh}` : 'check `grep CONFIG_INTEL_IOMMU_DEFAULT_ON /boot/config-$(uname -r)`: with =y the option can go' });
  }
  if (key === 'iommu' && p.value !== null && p.value.split(',').some((v) => /^\d+$/.test(v))) {
    out.push({ ...at, code: 'LINT_IOMMU_1', certain: true, message: `${paramText(p)}: the x86 iommu= parser has no "1"; a number is read as the size of the AMD GART aperture (gart_parse_options), which has nothing to do with VT-d or AMD-Vi. It comes from libvirt's virt-host-validate hint "iommu=pt iommu=1".`, fix: `remove iommu=1 (iommu=pt is the passthrough-mode option), ${refresh}` });
  }
  if (key === 'pcie_acs_override') {
    const patch = overridePatchOf(host);
    if (patch !== 'yes') {
      const k = host.kernel;
      out.push({ ...at, code: 'LINT_ACS_OVERRIDE_UNPATCHED', certain: patch === 'no', message: patch === 'no' ? `${paramText(p)}: ${k!.release} is a stock kernel without the out-of-tree ACS override patch (Proxmox VE and zen/liquorix kernels carry it): the option is ignored and the IOMMU groups stay as they are.` : `${paramText(p)}: whether ${k ? `${k.release}` : 'this kernel (release unknown)'} carries the out-of-tree ACS override patch is unknown; without it the option is ignored.`, fix: patch === 'no' ? 'remove it; on kernels from 6.11, pci=config_acs= does this upstream for named devices (`assignable explain DEVICE` gives the exact value), or use a kernel with the patch' : 'check that the kernel in use carries the patch (`dmesg | grep -i "ACS overrides"` prints "Warning: PCIe ACS overrides enabled" when it does)' });
    }
  }
  if ((key === 'vfio-pci.ids' || key === 'vfio_pci.ids') && p.value) {
    for (const m of idsMatching(p.value, needed)) out.push(idsFinding(at, `${paramText(p)}`, m));
  }
  if (key === 'vfio_iommu_type1.allow_unsafe_interrupts' && truthy(p.value)) out.push(...unsafeFinding(at, paramText(p), host));
  if ((key === 'modprobe.blacklist' || key === 'module_blacklist') && p.value) {
    for (const name of p.value.split(',')) out.push(...blacklistFindings(at, name, needed, `${key}=${name}`));
  }
}

function idsFinding(at: Line, what: string, m: { id: string; device: Device; need: Needed }): LintFinding {
  return { ...at, code: 'LINT_VFIO_IDS_HOST_DEVICE', certain: m.need.certain, message: `${what}: vfio-pci takes every device with the id ${m.id} at boot, and ${m.device.address} (${m.device.name}) has it — ${m.need.why}: ${m.need.certain ? 'the host loses it' : 'if it is the host\'s, the host loses it'}.`, fix: `remove ${m.id} from the ids and bind only the device to pass through by its address (driver_override, \`assignable bind\`); devices with the same id are told apart by address, never by id` };
}

function unsafeFinding(at: Line, what: string, host: Host): LintFinding[] {
  const ir = iommuState(host).interruptRemapping;
  if (ir === false) return [];
  const certain = ir === true;
  return [{ ...at, code: 'LINT_UNSAFE_INTERRUPTS_NOT_NEEDED', certain, message: certain ? `${what}: this host has interrupt remapping (${host.dmar ? 'DMAR INTR_REMAP set' : 'IVRS/kernel log'}), so VFIO needs no unsafe interrupts; the setting only removes the protection against a guest forging interrupts (MSI injection) should remapping ever be off.` : `${what}: whether interrupt remapping works here is unknown (no DMAR/IVRS and no kernel log read); if it does, this setting is unnecessary and unsafe.`, fix: certain ? `delete the line (and the file if it holds nothing else); it takes effect when vfio_iommu_type1 next loads (a reboot)` : 'check `dmesg | grep -i -e "IRQ remapping" -e "Interrupt remapping"`: when enabled, remove this setting' }];
}

function blacklistFindings(at: Line, name: string, needed: Map<Device, Needed>, what: string): LintFinding[] {
  const out: LintFinding[] = [];
  for (const [d, need] of needed) {
    if (!d.driver || mod(d.driver) !== mod(name)) continue;
    out.push({ ...at, code: 'LINT_BLACKLIST_HOST_DRIVER', certain: need.certain, message: `${what}: ${name} is the driver of ${d.address} (${d.name}) — ${need.why}: blacklisted, the device is left without a driver when it is not loaded some other way.`, fix: `remove the blacklist for ${name}; to keep a passed-through device from it, bind that device alone to vfio-pci (driver_override, or \`softdep ${name} pre: vfio-pci\` with its id)` });
  }
  return out;
}

const MODULE_LISTS = (f: ConfigFile) => f.path === '/etc/modules' || f.path === '/etc/initramfs-tools/modules' || (f.path.startsWith('/etc/modules-load.d/') && f.path.endsWith('.conf'));

function virqfd(at: Line, host: Host): LintFinding {
  const k = host.kernel;
  const known = k !== undefined;
  return { ...at, code: 'LINT_VFIO_VIRQFD', certain: known, message: known ? `vfio_virqfd: merged into the vfio module in Linux 6.2, and this kernel is ${k.release}: there is no such module, and loading it fails ("Failed to find module 'vfio_virqfd'").` : 'vfio_virqfd: merged into the vfio module in Linux 6.2; the kernel release is unknown here, so whether it still exists is unknown.', fix: known ? 'delete the line; vfio, vfio_iommu_type1 and vfio_pci are all that is needed, then update-initramfs -u -k all' : 'on kernels from 6.2 delete the line (`uname -r` tells)' };
}

/** Every item of the host's configuration files, in file then line order. */
export function lintConfig(host: Host): LintReport {
  const files = host.configFiles;
  if (files === undefined) return { files: undefined, findings: [] };
  const out: LintFinding[] = [];
  const needed = hostNeeded(host);
  const k = host.kernel;

  for (const f of files) {
    // Files their reader skips.
    const dir = /^\/etc\/(modprobe\.d|modules-load\.d|default\/grub\.d)\//.exec(f.path);
    if (dir) {
      const suffix = dir[1] === 'default/grub.d' ? '.cfg' : '.conf';
      if (!f.path.endsWith(suffix)) {
        const first = lines(f)[0];
        if (first) out.push({ file: f.path, line: first.line, text: first.text, code: 'LINT_IGNORED_FILE', certain: true, message: `${f.path} does not end in ${suffix}: ${dir[1] === 'modprobe.d' ? 'modprobe' : dir[1] === 'modules-load.d' ? 'systemd-modules-load' : 'grub-mkconfig'} never reads it, so nothing in it takes effect.`, fix: `rename it to ${f.path}${suffix}${dir[1] === 'default/grub.d' ? ', then update-grub' : ', then update-initramfs -u -k all'}` });
        continue;
      }
    }
    if (MODULE_LISTS(f)) {
      for (const l of lines(f)) {
        const name = l.body.split(/\s+/)[0]!;
        if (mod(name) === 'vfio_virqfd' && (k === undefined || atLeast(k, 6, 2))) out.push(virqfd(l, host));
      }
    }
    if (f.path.startsWith('/etc/dracut.conf.d/')) {
      for (const l of lines(f, /^\s*#/)) {
        if (/drivers\+?=/.test(l.body) && /(^|[\s"'])vfio[_-]virqfd([\s"']|$)/.test(l.body) && (k === undefined || atLeast(k, 6, 2))) out.push(virqfd(l, host));
      }
    }
    if (f.path.startsWith('/etc/modprobe.d/')) {
      for (const c of modprobeCommands(f)) {
        const [cmd, name, ...rest] = c.words;
        const at = { file: c.file, line: c.line, text: c.text };
        if (cmd === 'options' && name && mod(name) === 'vfio_pci') {
          for (const opt of rest) if (opt.startsWith('ids=')) for (const m of idsMatching(opt.slice(4), needed)) out.push(idsFinding(at, `options ${name} ${opt}`, m));
        }
        if (cmd === 'options' && name && mod(name) === 'vfio_iommu_type1') {
          for (const opt of rest) if (opt.startsWith('allow_unsafe_interrupts=') && truthy(opt.slice('allow_unsafe_interrupts='.length))) out.push(...unsafeFinding(at, `options ${name} ${opt}`, host));
        }
        if (cmd === 'blacklist' && name) out.push(...blacklistFindings(at, name, needed, `blacklist ${name}`));
        if (cmd === 'install' && name && /^\/(usr\/)?bin\/(false|true)$/.test(rest[0] ?? '')) out.push(...blacklistFindings(at, name, needed, `install ${name} ${rest[0]}`));
      }
    }
  }

  // Kernel command-line files: which one is live, which is dead, what each option does.
  const assign = grubAssignments(files);
  const { live: grubLive, overridden } = grubEffective(assign);
  for (const a of overridden) {
    const lost = a.params.filter((p) => PASSTHROUGH_KEY.test(p.key) && !grubLive.some((q) => paramText(q) === paramText(p)));
    if (lost.length === 0) continue;
    const later = assign.filter((b) => b.name === a.name && !b.appends && (b.file > a.file || (b.file === a.file && b.line > a.line)))[0]!;
    out.push({ file: a.file, line: a.line, text: a.text, code: 'LINT_GRUB_OVERRIDDEN', certain: true, message: `${a.name} is set again at ${later.file}:${later.line} (grub-mkconfig reads /etc/default/grub, then /etc/default/grub.d/*.cfg), so ${lost.map(paramText).join(' ')} from this line never reach the kernel.`, fix: `put the options in the last assignment (${later.file}:${later.line}), then update-grub and reboot` });
  }
  const cmdlineFile = kernelCmdlineParams(files);
  const relevant = (ps: Param[]) => ps.filter((p) => PASSTHROUGH_KEY.test(p.key));
  const b = host.bootloader;
  let live: Param[];
  if (b?.kind === 'grub') {
    live = grubLive;
    const dead = relevant(cmdlineFile).filter((p) => !grubLive.some((q) => paramText(q) === paramText(p)));
    if (dead.length > 0) out.push(deadFinding(dead, 'GRUB', '/etc/default/grub (GRUB_CMDLINE_LINUX_DEFAULT), then update-grub', b.evidence));
  } else if (b?.kind === 'systemd-boot') {
    live = cmdlineFile;
    const dead = relevant(grubLive).filter((p) => !cmdlineFile.some((q) => paramText(q) === paramText(p)));
    if (dead.length > 0) out.push(deadFinding(dead, 'systemd-boot', `the single line of /etc/kernel/cmdline, then ${b.proxmoxBootTool ? 'proxmox-boot-tool refresh' : 'kernel-install'}`, b.evidence));
  } else {
    live = [...grubLive, ...cmdlineFile];
    const g = new Set(relevant(grubLive).map(paramText));
    const c = new Set(relevant(cmdlineFile).map(paramText));
    const differ = cmdlineFile.length > 0 && grubLive.length > 0 && ([...g].some((x) => !c.has(x)) || [...c].some((x) => !g.has(x)));
    if (differ) {
      const first = relevant(cmdlineFile)[0] ?? cmdlineFile[0]!;
      const onlyG = [...g].filter((x) => !c.has(x));
      const onlyC = [...c].filter((x) => !g.has(x));
      out.push({ file: first.file, line: first.line, text: first.text, code: 'LINT_BOOT_CONFIG_CONFLICT', certain: true, message: `/etc/default/grub and /etc/kernel/cmdline disagree${onlyG.length ? ` (only in GRUB: ${onlyG.join(' ')})` : ''}${onlyC.length ? ` (only in /etc/kernel/cmdline: ${onlyC.join(' ')})` : ''}, and which bootloader this host uses is unknown from these files: one of them is dead configuration.`, fix: '`proxmox-boot-tool status` (or `bootctl status`) tells which is in use: keep the options there, delete them from the other file' });
    }
  }
  for (const p of live) checkParam(p, host, needed, out);
  // Edited but not applied (no update-grub / proxmox-boot-tool refresh, or no reboot yet): only when the live file is known.
  if (b !== undefined && host.cmdline !== undefined) {
    const running = new Set(host.cmdline.split(' -- ')[0]!.trim().split(/\s+/).map((w) => w.replace(/^([^=]*=)"(.*)"$/, '$1$2')));
    for (const p of relevant(live)) {
      if (running.has(paramText(p))) continue;
      out.push({ file: p.file, line: p.line, text: p.text, code: 'LINT_NOT_APPLIED', certain: true, message: `${paramText(p)} is in ${p.file} but not on the command line the running kernel was started with (/proc/cmdline): the change has not taken effect yet.`, fix: `${bootRefresh(host).replace(/^then /, '')} — or, if it is not wanted, delete it here` });
    }
  }
  return { files: files.map((f) => f.path), findings: out.sort((x, y) => (x.file === y.file ? x.line - y.line : x.file < y.file ? -1 : 1)) };
}

function deadFinding(dead: Param[], bootloader: string, where: string, evidence: string[]): LintFinding {
  const first = dead[0]!;
  return { file: first.file, line: first.line, text: first.text, code: 'LINT_DEAD_BOOT_CONFIG', certain: true, message: `this host boots with ${bootloader} (${evidence.join('; ')}): ${first.file} is not read at boot, so ${dead.map(paramText).join(' ')} here ${dead.length > 1 ? 'have' : 'has'} no effect.`, fix: `put the options you need in ${where}; delete them here so the two files do not tell different stories` };
}
