/**
 * Reset: which methods Linux can use on a function between VM runs, and where that answer
 * comes from — sysfs `reset_method` (Linux 5.15+) when the host has it, else computed from
 * config space the way drivers/pci/pci.c probes them, with the kernel's own per-device rows
 * (drivers/pci/quirks.c, ./reset-quirks.ts) and the devices gnif/vendor-reset supports.
 */
import type { Device, Host } from '../host/model.js';
import { busKey } from '../host/topology.js';
import { finding, type Finding, type Fix } from './finding.js';
import { vendorDevice } from '../host/address.js';
import {
  kernelRowsFor, resetMethodSysfsText, rowText, VENDOR_RESET_SOURCE, VENDOR_RESET_UDEV_SOURCE, VENDOR_RESET_URL, vendorResetFamily,
  type RowMatch, type VendorResetFamily,
} from './reset-quirks.js';

/** PCI capability ID of Advanced Features (PCI Code and ID Assignment spec). */
const CAP_ID_AF = 0x13;

/** The kernel's probe order (pci_reset_fn_methods[]); ACPI _RST and CXL are not visible in config space. */
export const RESET_METHOD_ORDER = ['device_specific', 'acpi', 'flr', 'af_flr', 'pm', 'bus', 'cxl_bus'] as const;

export interface HotReset {
  /** A secondary bus reset of the bus it is on is possible at all (not a root bus, no NO_BUS_RESET). */
  possible: boolean | 'unknown';
  /** Every function that bus reset also resets ([] when there is no bus reset): VFIO's hot reset needs each owned by vfio-pci (the same VM). */
  affected: string[];
  why: string;
}

export interface ResetAnalysis {
  /** What decides: sysfs reset_method as the kernel reports it, or computed here. */
  source: 'sysfs' | 'computed';
  /** Usable methods in the kernel's order. */
  methods: string[];
  /** sysfs reset_method: the list, [] when the host has no reset at all, undefined when not read (kernels < 5.15). */
  sysfs: string[] | undefined;
  /** Computed from config space and the kernel's rows, whatever sysfs says (explain shows both). */
  computed: string[];
  /** Why a method is not in `computed` (or is only doubtful). */
  why: string[];
  /** Kernel rows (drivers/pci/quirks.c) that apply, with whether this kernel has them. */
  kernelRows: RowMatch[];
  vendorReset: VendorResetFamily | null;
  /** Other functions on the same bus (the real siblings). */
  busSiblings: string[];
  hotReset: HotReset;
}

/** At most 16 addresses, then how many more: a bus of hundreds of VFs would repeat them all per function. */
const names = (xs: string[]) => (xs.length <= 16 ? xs.join(', ') : `${xs.slice(0, 16).join(', ')} … and ${xs.length - 16} more`);

const sameBus = (d: Device, host: Host) => (host.byBus.get(busKey(d.pci.segment, d.pci.bus)) ?? []).filter((o) => o.address !== d.address);

/** Every function below `d` (a bridge's whole subtree). */
function below(d: Device, host: Host, seen = new Set<string>()): string[] {
  const out: string[] = [];
  for (const c of d.children) {
    if (seen.has(c)) continue;
    seen.add(c);
    out.push(c);
    const cd = host.byAddress.get(c);
    if (cd) out.push(...below(cd, host, seen));
  }
  return out;
}

const has = (rows: RowMatch[], kind: RowMatch['row']['kind']) => rows.filter((m) => m.row.kind === kind && m.presence !== 'no');

/** Which resets Linux could use, from config space and the kernel's rows, when sysfs does not say. */
export function possibleResets(d: Device, host: Host): { methods: string[]; why: string[]; rows: RowMatch[] } {
  const c = d.config;
  const methods: string[] = [];
  const why: string[] = [];
  const rows = kernelRowsFor({ vendorId: c.vendorId, deviceId: c.deviceId, classCode: d.classCode, revision: c.revision, rootBus: d.parent === undefined ? undefined : d.parent === null, flr: c.pcie ? c.pcie.flr : c.pcie === null ? false : undefined }, host.kernel);
  // A row the kernel surely has decides; one it may lack is reported as a doubt.
  const sure = (m: RowMatch) => m.presence === 'yes' && !m.undecided;
  const doubt = (m: RowMatch, method: string) => why.push(`${method} may be excluded: ${rowText(m)}`);

  const specific = has(rows, 'device-specific');
  if (specific.some(sure)) methods.push('device_specific');
  else for (const m of specific) why.push(`device_specific only if this kernel has it: ${rowText(m)}`);

  const noFlr = has(rows, 'no-flr');
  if (c.pcie?.flr) {
    if (noFlr.some(sure)) why.push(`no FLR: ${rowText(noFlr.find(sure)!)}`);
    else {
      methods.push('flr');
      for (const m of noFlr) doubt(m, 'flr');
    }
  } else why.push(c.pcie ? 'no FLR (DevCap FLReset-)' : 'no PCI Express FLR');
  // pci_af_flr also needs the AF capability's TP and FLR bits, which are not decoded here.
  if (c.capabilities?.some((x) => x.id === CAP_ID_AF) && !noFlr.some(sure)) {
    methods.push('af_flr');
    why.push('af_flr assumed from the Advanced Features capability (its TP and FLR bits are not decoded)');
  }

  const noPm = has(rows, 'no-pm-reset');
  if (c.pm && !c.pm.noSoftReset) {
    if (noPm.some(sure)) why.push(`no PM reset although NoSoftRst-: ${rowText(noPm.find(sure)!)}`);
    else {
      methods.push('pm');
      for (const m of noPm) doubt(m, 'pm');
    }
  } else if (c.pm) why.push('PM NoSoftRst+ (D3hot→D0 does not reset it)');
  else why.push('no Power Management capability');

  // pci_parent_bus_reset: not on a root bus, not a bridge, a bridge above, no NO_BUS_RESET on it,
  // and no other function on its bus. (pci_dev_reset_slot_function also refuses a slot shared with another function.)
  const onBus = sameBus(d, host);
  const noBus = has(rows, 'no-bus-reset');
  if (d.parent === undefined) why.push('whether a bridge is above it is unknown (topology not captured)');
  else if (d.parent === null) why.push('on a root bus (no bridge to reset it)');
  else if (onBus.length > 0) why.push(`shares its bus with ${onBus.map((o) => o.address).join(', ')}`);
  else if (noBus.some(sure)) why.push(`no bus reset: ${rowText(noBus.find(sure)!)}`);
  else {
    methods.push('bus');
    for (const m of noBus) doubt(m, 'bus');
  }
  return { methods, why, rows };
}

/** Per host and bus: what a reset of that bus touches and whether the kernel refuses it (the same for every function there). */
const busResetCache = new WeakMap<Host, Map<string, HotReset>>();

/** A secondary bus reset of its bus, as VFIO's hot reset does it (pci_bus_resettable: bridge and every device on the bus without NO_BUS_RESET). */
export function hotReset(d: Device, host: Host): HotReset {
  let cache = busResetCache.get(host);
  if (!cache) busResetCache.set(host, (cache = new Map()));
  const key = `${busKey(d.pci.segment, d.pci.bus)}<${d.parent === undefined ? '?' : d.parent ?? 'root'}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const bus = host.byBus.get(busKey(d.pci.segment, d.pci.bus)) ?? [d];
  let r: HotReset;
  // A root bus has no bridge to reset it: nothing is affected because nothing can be reset.
  if (d.parent === undefined) r = { possible: 'unknown', affected: [], why: 'the bridge above it is unknown' };
  else if (d.parent === null) r = { possible: false, affected: [], why: 'on a root bus: no bridge to reset it' };
  else {
    const affected = [...bus.map((o) => o.address), ...bus.flatMap((o) => below(o, host))];
    const bridge = host.byAddress.get(d.parent);
    const flagged = [bridge, ...bus].filter((x): x is Device => x !== undefined).flatMap((x) => {
      const rows = kernelRowsFor({ vendorId: x.config.vendorId, deviceId: x.config.deviceId, classCode: x.classCode, revision: x.config.revision, rootBus: x.parent === undefined ? undefined : x.parent === null, flr: undefined }, host.kernel).filter((m) => m.row.kind === 'no-bus-reset' && m.presence === 'yes');
      return rows.map((m) => `${x.address}: ${rowText(m)}`);
    });
    r = flagged.length
      ? { possible: false, affected, why: `the kernel refuses a bus reset there — ${flagged.join('; ')}` }
      : { possible: true, affected, why: `resetting the bus below ${d.parent} resets ${names(affected)}` };
  }
  cache.set(key, r);
  return r;
}

export function analyzeReset(d: Device, host: Host): ResetAnalysis {
  const computed = possibleResets(d, host);
  const sysfs = d.resetMethods === null ? [] : d.resetMethods;
  return {
    source: sysfs !== undefined ? 'sysfs' : 'computed',
    methods: sysfs ?? computed.methods,
    sysfs,
    computed: computed.methods,
    why: computed.why,
    kernelRows: computed.rows,
    vendorReset: vendorResetFamily(d.config.vendorId, d.config.deviceId),
    busSiblings: sameBus(d, host).map((o) => o.address),
    hotReset: hotReset(d, host),
  };
}

/** The vendor-reset rung of a fix ladder: the DKMS module, loaded early, and device_specific selected on 5.15+. */
function vendorResetFix(d: Device, fam: VendorResetFamily, rank: number): Fix {
  return {
    rank,
    title: `Install gnif/vendor-reset (supports ${fam.family}: ${fam.names})`,
    risk: 'medium',
    detail: `An out-of-tree module that hooks the kernel's device-specific reset for this GPU (${VENDOR_RESET_SOURCE}, ${VENDOR_RESET_URL}). Load it before vfio-pci binds; from ${resetMethodSysfsText} also select its method (as ${VENDOR_RESET_UDEV_SOURCE} does).`,
    commands: [
      `# build and register the module with DKMS from a checkout of ${VENDOR_RESET_URL}`,
      'dkms install .',
      "echo vendor-reset >> /etc/modules  # load it at boot, before vfio-pci; refresh the initramfs",
      'modprobe vendor-reset',
      `echo device_specific > /sys/bus/pci/devices/${d.address}/reset_method  # ${resetMethodSysfsText} and later`,
    ],
  };
}

export function checkReset(d: Device, host: Host): Finding[] {
  if (d.isBridge || d.isHostBridge || d.config.capabilities === undefined) return [];
  const a = analyzeReset(d, host);
  const source = a.source === 'sysfs' ? `sysfs reset_method: ${a.methods.join(' ') || '(empty)'}` : `computed from config space: ${a.methods.join(' ') || 'none'}`;
  const rows = a.kernelRows.map(rowText);
  // Evidence names at most 16 bus siblings, then how many more (a bus of VFs would repeat them all per function).
  const why = a.why.map((w) => (w.startsWith('shares its bus with ') ? `shares its bus with ${names(a.busSiblings)}` : w));
  const out: Finding[] = [];
  // With vendor-reset loaded, the kernel lists device_specific first for the GPUs it supports.
  const vendorResetActive = a.vendorReset !== null && a.sysfs?.[0] === 'device_specific';
  if (a.vendorReset && !vendorResetActive) {
    const f = a.vendorReset;
    out.push(finding('VENDOR_RESET_NEEDED', d.address, `${f.family} (${f.names}): users report it does not come back after a VM stops (the AMD "reset bug"); gnif/vendor-reset resets it.`, [
      `vendor-reset table: ${f.family}, device ${vendorDevice(d.config)} (${VENDOR_RESET_SOURCE})`,
      a.sysfs === undefined ? `sysfs reset_method not read (not in this input, or a kernel before ${resetMethodSysfsText})` : `sysfs reset_method: ${a.sysfs.join(' ') || '(empty)'} — no device_specific, so vendor-reset is not in effect`,
      ...rows,
    ], [vendorResetFix(d, f, 1)]));
  }
  const hot = a.hotReset;
  const hotFix: Fix | null = hot.possible === true
    ? { rank: 1, title: `Pass every function on its bus to the same VM: ${names(hot.affected)}`, risk: 'low', detail: 'When vfio-pci owns every function a bus reset touches, VFIO can reset the bus between VM runs (hot reset).' }
    : null;
  if (a.methods.length === 0) {
    const fixes: Fix[] = [];
    if (hotFix) fixes.push(hotFix);
    if (a.vendorReset) fixes.push(vendorResetFix(d, a.vendorReset, fixes.length + 1));
    else fixes.push({ rank: fixes.length + 1, title: 'A device-specific reset', risk: 'medium', detail: 'Only a device-specific method (a kernel quirk or an out-of-tree module such as gnif/vendor-reset for the GPUs it lists) can reset it alone.' });
    out.push(finding('NO_RESET', d.address, 'No way to reset it: between VM runs it keeps its state, and QEMU says "vfio: Cannot reset device …, no available reset mechanism."', [
      source, ...why, ...rows, `bus (hot) reset: ${hot.possible === true ? 'possible' : hot.possible === false ? 'not possible' : 'unknown'} — ${hot.why}`,
    ], fixes));
  } else if (a.methods.length === 1 && a.methods[0] === 'bus') {
    out.push(finding('BUS_RESET_ONLY', d.address, 'It can only be reset by resetting its bus (no FLR or PM reset).', [source, ...why, ...rows]));
  }
  return out;
}

/** For explain: the methods and where each answer came from. */
export function resetLines(d: Device, host: Host): string[] {
  // Linux's reset methods mean nothing for a function Windows described.
  if (d.isBridge || d.isHostBridge || d.configSource === 'windows-pnp' || d.configSource === 'surveydda') return [];
  if (d.config.capabilities === undefined) return ['  reset: unknown (capabilities past 64 bytes not read)'];
  const a = analyzeReset(d, host);
  const out: string[] = [];
  out.push(`  reset: ${a.methods.join(', ') || 'none'} (${a.source === 'sysfs' ? 'from sysfs reset_method' : `computed from config space${host.kernel ? ` for Linux ${host.kernel.release}` : ', kernel unknown'}`})`);
  if (a.sysfs !== undefined) out.push(`    sysfs reset_method: ${a.sysfs.join(' ') || '(empty: no reset)'}`);
  else out.push(`    sysfs reset_method: not read (not in this input, or a kernel before ${resetMethodSysfsText})`);
  out.push(`    computed from config space: ${a.computed.join(' ') || 'none'}`);
  for (const w of a.why) out.push(`      ${w.startsWith('shares its bus with ') ? `shares its bus with ${names(a.busSiblings)}` : w}`);
  for (const m of a.kernelRows) out.push(`    ${rowText(m)}`);
  if (a.vendorReset) out.push(`    vendor-reset table: ${a.vendorReset.family} (${VENDOR_RESET_SOURCE})`);
  out.push(`    bus siblings: ${names(a.busSiblings) || 'none'}; hot reset ${a.hotReset.possible === true ? 'possible' : a.hotReset.possible === false ? 'not possible' : 'unknown'}: ${a.hotReset.why}`);
  return out;
}
