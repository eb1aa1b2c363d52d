/** `survey` and `explain` output: the table, the JSON document, the per-device explanation. */
import { beliefOf, CATALOG, confidenceOf, effectOf, TARGETS, type Effect, type Finding, type Target } from '../checks/finding.js';
import type { DeviceReport, Survey } from '../checks/index.js';
import type { ReadinessStatus } from '../checks/readiness.js';
import { ddaProcedure, isWindowsDevice, windowsMmio } from '../checks/dda.js';
import { mmioNeed } from '../checks/mmio.js';
import { MAX_LISTED_MEMBERS } from '../checks/groups.js';
import { analyzeReset, resetLines } from '../checks/reset.js';
import { rowText, VENDOR_RESET_SOURCE } from '../checks/reset-quirks.js';
import { pciPart } from '../host/location-path.js';
import type { Device, Host } from '../host/model.js';
import type { Grouping } from '../host/grouping/index.js';
import { hex4, printable, rangeSize } from './format.js';
import { explainGrouping } from './groups.js';

export const SURVEY_SCHEMA = 'assignable/survey/v2';

export interface Style {
  color: boolean;
}

const COLORS = { assignable: '32', warnings: '33', blocked: '31', dim: '2', bold: '1' } as const;
function paint(s: Style, what: keyof typeof COLORS, text: string): string {
  return s.color ? `\x1b[${COLORS[what]}m${text}\x1b[0m` : text;
}

function pad(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + '…' : text.padEnd(width);
}

export function slotLabel(d: Device): string {
  if (!d.slot) return '-';
  if (d.slot.embedded) return 'emb';
  return d.slot.physical !== null ? String(d.slot.physical) : '?';
}

const short = (a: string) => (a.startsWith('0000:') ? a.slice(5) : a);

/** The kernel's group number; else the predicted group, "p" and its lowest address ("p?" when uncertain). */
export function groupLabel(d: Device, host: Host): string {
  if (d.iommuGroup !== undefined) return d.iommuGroup === null ? 'none' : String(d.iommuGroup);
  const p = host.predicted.byDevice.get(d.address);
  if (!p) return host.predicted.uncovered.includes(d.address) ? 'none' : '?';
  return `${p.group.certain ? 'p' : 'p?'}${short(p.group.label)}`;
}

const GROUP_WIDTH = 10;

export function hostLine(sv: Survey): string[] {
  const h = sv.host;
  const sys = h.system ? `${h.system.manufacturer ?? ''} ${h.system.product ?? ''}`.trim() : h.system === null ? 'no SMBIOS' : 'system unknown';
  const kernel = h.kernel ? `kernel ${h.kernel.release}` : 'kernel unknown';
  const s = sv.iommu;
  const vendor = s.vendor === 'intel' ? 'Intel VT-d (DMAR)' : s.vendor === 'amd' ? 'AMD-Vi (IVRS)' : s.vendor === null ? 'none in firmware' : 'tables not captured';
  const enabled = s.kernelEnabled === true ? 'enabled by the kernel' : s.kernelEnabled === false ? 'NOT enabled by the kernel' : 'kernel state unknown';
  const ir = s.interruptRemapping === true ? 'interrupt remapping yes' : s.interruptRemapping === false ? 'interrupt remapping NO' : 'interrupt remapping unknown';
  return [`${sys} — ${kernel} — ${h.origin.kind === 'live' ? 'this host' : h.origin.description}`, `IOMMU: ${vendor}${s.vendor ? `, ${enabled}, ${ir}` : ''}`];
}

const READY_LABEL: Record<ReadinessStatus, string> = { pass: 'PASS', fail: 'FAIL', info: 'INFO', unknown: 'unknown' };
const READY_COLOR = { pass: 'assignable', fail: 'blocked', info: 'dim', unknown: 'dim' } as const;

/**
 * The readiness block, as virt-host-validate prints it: one line per check that the input
 * answers, the unanswered ones together on one line (old captures and loose files stay compact).
 */
export function readinessLines(sv: Survey, style: Style): string[] {
  const r = sv.readiness;
  const vm = r.virtualMachine;
  const vmItem = vm.is === true
    ? { status: 'info' as const, label: 'YES', detail: `${vm.hypervisor ?? 'hypervisor not named'}; ${vm.passedThrough.length > 0 ? `passed through to it: ${vm.passedThrough.map((a) => `${short(a)} ${printable(sv.host.byAddress.get(a)?.name ?? '')}`.trim()).join(', ')}` : 'no passed-through function'}` }
    : vm.is === false ? { status: 'pass' as const, label: 'no', detail: 'no "hypervisor" CPU flag and no other sign' } : { status: 'unknown' as const, label: 'unknown', detail: '' };
  const items: Array<{ name: string; status: ReadinessStatus; label?: string; detail: string }> = [
    { name: 'CPU virtualization', ...r.cpu },
    { name: 'KVM (/dev/kvm)', ...r.kvm },
    { name: 'IOMMU', ...r.iommu },
    { name: 'vfio modules', ...r.vfio },
    { name: 'virtual machine', ...vmItem },
  ];
  const out: string[] = [];
  for (const i of items.filter((x) => x.status !== 'unknown' || x.name === 'IOMMU')) {
    out.push(`  ${i.name.padEnd(18)} ${paint(style, READY_COLOR[i.status], (i.label ?? READY_LABEL[i.status]).padEnd(7))} ${i.detail}`);
  }
  const unknown = items.filter((x) => x.status === 'unknown' && x.name !== 'IOMMU').map((x) => x.name);
  if (unknown.length > 0) out.push(paint(style, 'dim', `  not in this input: ${unknown.join(', ')}`));
  return out;
}

export function renderSurvey(sv: Survey, target: Target, all: boolean, style: Style): string {
  const out: string[] = [hostLine(sv)[0]!, ...readinessLines(sv, style)];
  // The banner speaks for the target the table shows, as the rows do.
  for (const f of sv.hostFindings) {
    const e = effectOf(f.code, target);
    const label = e === 'block' ? paint(style, 'blocked', 'BLOCKER') : e === 'warn' ? paint(style, 'warnings', 'WARNING') : paint(style, 'dim', 'NOTE');
    out.push(`${label} ${f.code}: ${f.message} [${TARGETS.map((t) => `${t} ${effectOf(f.code, t)}`).join(' · ')}]`);
  }
  out.push('');
  const shown = sv.devices.filter((r) => all || !r.hidden);
  out.push(paint(style, 'bold', `${'ADDRESS'.padEnd(13)} ${'SLOT'.padEnd(4)} ${'NAME'.padEnd(44)} ${'GROUP'.padEnd(GROUP_WIDTH)} ${target.toUpperCase().padEnd(10)} FIRST REASON`));
  for (const r of shown) {
    const v = r.verdicts[target];
    const first = v.reasons[0];
    const reason = (first ? `${first}: ${CATALOG[first].title}` : '') + (v.confidence === 'believed' ? ' (believed, not sourced)' : '');
    out.push(`${r.device.address.padEnd(13)} ${slotLabel(r.device).padEnd(4)} ${pad(printable(r.device.name), 44)} ${groupLabel(r.device, sv.host).padEnd(GROUP_WIDTH)} ${paint(style, v.status, v.status.padEnd(10))} ${reason}`);
  }
  const hidden = sv.devices.length - shown.length;
  const counts = { assignable: 0, warnings: 0, blocked: 0 };
  for (const r of shown) counts[r.verdicts[target].status]++;
  out.push('');
  out.push(`${shown.length} device(s): ${counts.assignable} assignable, ${counts.warnings} with warnings, ${counts.blocked} blocked for ${target}${hidden > 0 ? `; ${hidden} bridges and chipset functions hidden (--all)` : ''}.`);
  out.push(`Details and fixes: assignable explain <address|slotN|name>.${target === 'vfio' ? ' Hyper-V or ESXi: --target dda|esxi.' : ''}`);
  if (!sv.host.groups && shown.length > 0) out.push('GROUP pXX:XX.X: predicted (the capture has no group data), named by its lowest address; p?: the prediction rests on facts the capture lacks (explain says which). All groups: --groups.');
  for (const n of sv.host.notes) out.push(paint(style, 'dim', `note: ${n.message}`));
  return out.join('\n') + '\n';
}

export function findingJson(f: Finding) {
  const effects = Object.fromEntries(TARGETS.map((t) => {
    const belief = beliefOf(f.code, t);
    return [t, { effect: effectOf(f.code, t), confidence: confidenceOf(f.code, t), ...(belief ? { note: belief } : {}) }];
  }));
  return { code: f.code, severity: f.severity, message: f.message, evidence: f.evidence, fixes: f.fixes, effects };
}

function predictedGroupJson(d: Device, host: Host) {
  const p = host.predicted.byDevice.get(d.address);
  return p ? { label: p.group.label, members: p.group.members, certain: p.group.certain, uncertain: p.group.uncertain } : null;
}

export function groupsJson(host: Host) {
  const g: Grouping = host.predicted;
  return {
    basis: host.groups ? 'kernel' : 'predicted',
    kernel: host.groups ? [...host.groups].map(([id, x]) => ({ id, members: x.devices })) : null,
    predicted: g.groups.map((x) => ({ label: x.label, members: x.members, certain: x.certain, uncertain: x.uncertain })),
    uncovered: g.uncovered,
    coverageUnknown: g.coverageUnknown,
  };
}

export function deviceJson(r: DeviceReport, host: Host) {
  const d = r.device;
  return {
    address: d.address,
    vendorId: d.config.vendorId,
    deviceId: d.config.deviceId,
    classCode: d.classCode,
    className: d.className,
    name: d.name,
    iommuGroup: d.iommuGroup ?? null,
    predictedGroup: predictedGroupJson(d, host),
    driver: d.driver ?? null,
    hidden: r.hidden,
    slot: d.slot ? { physical: d.slot.physical, designation: d.slot.designation, hpeRmrdsSlot: d.slot.hpeRmrdsSlot, embedded: d.slot.embedded, sources: d.slot.sources } : null,
    rmrr: d.rmrr === undefined ? null : d.rmrr.map((h) => ({ base: h.base, limit: h.limit, structure: h.structure, scope: h.scope, viaBridge: h.viaBridge })),
    ivmd: d.ivmd.map((h) => ({ start: h.start, length: h.length, type: h.type, flags: h.flags })),
    locationPath: d.locationPath.path,
    locationPathSource: d.locationPath.source,
    locationPathReason: d.locationPath.reason,
    windows: d.windows ? windowsJson(d.windows) : null,
    findings: r.findings.map(findingJson),
    verdicts: r.verdicts,
    reset: resetJson(d, host),
  };
}

/** The reset methods and where they came from; null for bridges, Windows-described functions, and unknown capabilities. */
function resetJson(d: Device, host: Host) {
  if (d.isBridge || d.isHostBridge || d.configSource === 'windows-pnp' || d.configSource === 'surveydda' || d.config.capabilities === undefined) return null;
  const a = analyzeReset(d, host);
  return {
    source: a.source,
    methods: a.methods,
    sysfs: a.sysfs ?? null,
    computed: a.computed,
    // The siblings are listed once below, not again inside a sentence.
    why: a.why.map((w) => (w.startsWith('shares its bus with ') ? `shares its bus with ${a.busSiblings.length} other function(s) (busSiblings)` : w)),
    kernelRows: a.kernelRows.map((m) => ({ function: m.row.fn, kind: m.row.kind, label: m.row.label, presence: m.presence, text: rowText(m) })),
    vendorReset: a.vendorReset ? { family: a.vendorReset.family, names: a.vendorReset.names, source: VENDOR_RESET_SOURCE } : null,
    // At most MAX_LISTED_MEMBERS each, as for group members: a bus of hundreds of VFs would repeat them all per function.
    busSiblings: a.busSiblings.slice(0, MAX_LISTED_MEMBERS),
    busSiblingCount: a.busSiblings.length,
    hotReset: { possible: a.hotReset.possible === 'unknown' ? null : a.hotReset.possible, affected: a.hotReset.affected.slice(0, MAX_LISTED_MEMBERS), affectedCount: a.hotReset.affected.length, why: a.hotReset.why },
  };
}

const DEVICE_TYPES: Record<number, string> = { 0: 'PciConventional', 1: 'PciX', 2: 'PciExpressEndpoint', 3: 'PciExpressLegacyEndpoint', 4: 'PciExpressRootComplexIntegratedEndpoint', 5: 'PciExpressTreatedAsPci' };

/** What Windows said, for explain: each property, "not read" or "Empty" when it did not. */
function windowsLine(w: NonNullable<Device['windows']>): string {
  const v = (x: unknown, f: (y: never) => string = (y) => String(y)) => (x === undefined ? 'not read' : x === null ? 'Empty' : f(x as never));
  const parts = [
    w.instanceId.startsWith('SurveyDDA#') ? 'from a SurveyDDA paste' : `instance ${w.instanceId}${w.dismounted ? ' (dismounted: PCIP\\)' : ''}`,
    `DeviceType ${v(w.deviceType, (n: number) => `${n}${DEVICE_TYPES[n] ? ` (${DEVICE_TYPES[n]})` : ''}`)}`,
    `RequiresReservedMemoryRegion ${v(w.requiresReservedMemoryRegion)}`,
    `AcsCompatibleUpHierarchy ${v(w.acsCompatibleUpHierarchy)}`,
    `InterruptSupport ${v(w.interruptSupport, (n: number) => `0x${n.toString(16)}`)}`,
  ];
  return parts.filter(Boolean).join(', ');
}

/** Windows' answers, unknown as null (JSON has no undefined). */
function windowsJson(w: NonNullable<Device['windows']>) {
  const n = <T>(v: T | undefined) => (v === undefined ? null : v);
  return {
    instanceId: w.instanceId,
    dismounted: w.dismounted,
    deviceType: n(w.deviceType),
    requiresReservedMemoryRegion: n(w.requiresReservedMemoryRegion),
    acsCompatibleUpHierarchy: n(w.acsCompatibleUpHierarchy),
    acsCapabilityRegister: n(w.acsCapabilityRegister),
    acsSupport: n(w.acsSupport),
    interruptSupport: n(w.interruptSupport),
    barTypes: n(w.barTypes),
    memoryRanges: w.memoryRanges ? w.memoryRanges.map((r) => ({ start: r.start, end: r.end })) : null,
    surveyLines: n(w.surveyLines),
  };
}

/** Host readiness; unknown as "unknown" statuses and null values (JSON has no undefined). */
function readinessJson(sv: Survey) {
  const r = sv.readiness;
  const vm = r.virtualMachine;
  return {
    cpu: { ...r.cpu, flags: sv.host.cpuFlags ?? null },
    kvm: { ...r.kvm, state: sv.host.kvm?.state ?? null },
    iommu: r.iommu,
    vfio: { ...r.vfio, modules: sv.host.vfioModules ? { loaded: sv.host.vfioModules.loaded ?? null, builtin: sv.host.vfioModules.builtin ?? null, files: sv.host.vfioModules.files ?? null } : null },
    virtualMachine: { is: vm.is ?? null, hypervisor: vm.hypervisor, evidence: vm.evidence, emulated: vm.emulated, passedThrough: vm.passedThrough },
  };
}

export function surveyJson(sv: Survey, target: Target | null) {
  const h = sv.host;
  return {
    target,
    host: {
      system: h.system ?? null,
      kernel: h.kernel ?? null,
      cmdline: h.cmdline ?? null,
      iommu: {
        vendor: sv.iommu.vendor ?? null,
        firmware: sv.iommu.firmware,
        kernelEnabled: sv.iommu.kernelEnabled ?? null,
        interruptRemapping: sv.iommu.interruptRemapping ?? null,
        relaxRmrrAvailable: sv.iommu.relaxRmrrAvailable ?? null,
        relaxRmrrActive: sv.iommu.relaxRmrrActive,
        unsafeInterrupts: sv.iommu.unsafeInterrupts ?? null,
      },
      bootloader: h.bootloader ?? null,
      bootDisk: { functions: h.bootDiskFunctions ?? null, evidence: h.bootDiskEvidence, unknown: h.bootDiskUnknown ?? null },
      // Windows' host-level answers (probe capture or SurveyDDA); absent keys were not read.
      windows: h.windows ?? null,
      readiness: readinessJson(sv),
      findings: sv.hostFindings.map(findingJson),
      notes: h.notes,
    },
    groups: groupsJson(h),
    devices: sv.devices.map((r) => deviceJson(r, h)),
  };
}

const MARK: Record<Effect, string> = { block: '✗', warn: '!', info: 'i', none: '·' };
const EFFECT_COLOR = { block: 'blocked', warn: 'warnings', info: 'dim', none: 'dim' } as const;

/** Each finding is marked by its effect on `target` (the verdict's target), with all three effects shown. */
/** Classes Microsoft supports for DDA with its own mitigations: GPUs and NVMe (windows-dda.md §4). */
const SUPPORTED_DDA_CLASSES = [0x03, 0x0108];
const MIB = 1n << 20n;

/** The DDA procedure for one device (windows-dda.md §4), with -Force only where it is the known way through. */
export function ddaSteps(r: DeviceReport, vm: string, total?: { lowMb: bigint; highMb: bigint } | null): string[] {
  const d = r.device;
  const base = d.classCode >> 16;
  const baseSub = d.classCode >> 8;
  const supported = base === SUPPORTED_DDA_CLASSES[0] || baseSub === SUPPORTED_DDA_CLASSES[1];
  const force = supported ? null : { needed: true, why: 'no vendor mitigation driver is known for this class, and without one Dismount refuses ("The manufacturer of this device has not supplied any directives for securing this device…"); -Force is the documented way through, and the device then runs without those mitigations' };
  let mmio: { lowMb: bigint; highMb: bigint } | null = null;
  // vm-config: the MMIO of every function that goes along, set once.
  if (total !== undefined) mmio = total;
  else if (isWindowsDevice(d)) mmio = windowsMmio(d);
  else {
    const m = mmioNeed(d);
    if (m && (m.low > 0n || m.high > 0n)) mmio = { lowMb: (m.low + MIB - 1n) / MIB + 128n, highMb: (m.high + MIB - 1n) / MIB + 512n };
  }
  const out: string[] = [];
  if (r.verdicts.dda.status === 'blocked') out.push(`# blocked for dda (${r.verdicts.dda.reasons.join(', ')}): these commands fail until that is fixed`);
  if (!d.locationPath.path) out.push(`# no location path: ${d.locationPath.reason ?? 'unknown'}; take it from Get-PnpDeviceProperty -InstanceId <id> -KeyName DEVPKEY_Device_LocationPaths`);
  return [...out, ...ddaProcedure(d, vm, force, mmio)];
}

export function renderExplain(sv: Survey, r: DeviceReport, style: Style, target: Target = 'vfio', vm?: string): string {
  const d = r.device;
  const out: string[] = [];
  out.push(paint(style, 'bold', `${d.address}  ${printable(d.name)} [${hex4(d.config.vendorId)}:${hex4(d.config.deviceId)}]`));
  out.push(`  ${d.className} (${(d.classCode >> 8).toString(16).padStart(4, '0')}), driver ${d.driver === undefined ? 'unknown' : (d.driver ?? 'none')}, IOMMU group ${groupLabel(d, sv.host)}${d.parent ? `, behind ${d.parent}` : ''}`);
  if (d.slot) {
    const what = d.slot.embedded ? `embedded (${d.slot.designation ?? 'onboard'}): no slot` : `slot ${d.slot.physical ?? '?'}${d.slot.designation ? ` (${d.slot.designation})` : ''}${d.slot.hpeRmrdsSlot ? `, HPE ${d.slot.hpeRmrdsSlot}` : ''}`;
    out.push(`  ${what}`);
    for (const s of d.slot.sources) out.push(paint(style, 'dim', `    from ${s}`));
  } else out.push('  slot unknown');
  if (d.windows) out.push(`  Windows: ${windowsLine(d.windows)}`);
  out.push(d.locationPath.path ? `  location path ${d.locationPath.path} (${d.locationPath.source === 'windows' ? 'from Windows' : 'derived from the topology'})` : `  location path unknown: ${d.locationPath.reason ?? 'not derived'}`);
  const vs = TARGETS.map((t) => `${t} ${paint(style, r.verdicts[t].status, r.verdicts[t].status)}${r.verdicts[t].reasons.length ? ` (${r.verdicts[t].reasons.join(', ')})` : ''}${r.verdicts[t].confidence === 'believed' ? ' [believed]' : ''}`);
  out.push(`  verdicts: ${vs.join(' · ')}`);
  const all = [...sv.hostFindings, ...r.findings];
  const order: Record<Effect, number> = { block: 0, warn: 1, info: 2, none: 3 };
  for (const f of all.sort((a, b) => order[effectOf(a.code, target)] - order[effectOf(b.code, target)])) {
    out.push('');
    const e = effectOf(f.code, target);
    const effects = TARGETS.map((t) => `${t} ${effectOf(f.code, t)}${confidenceOf(f.code, t) === 'believed' ? ' (believed)' : ''}`).join(' · ');
    out.push(`${paint(style, EFFECT_COLOR[e], MARK[e])} ${f.code}${f.device === null ? ' (host)' : ''} [${effects}]: ${f.message}`);
    for (const e of f.evidence) out.push(`    · ${e}`);
    for (const t of TARGETS) {
      const b = beliefOf(f.code, t);
      if (b) out.push(`    · ${t}: believed, not sourced — ${b}`);
    }
    for (const x of f.fixes) {
      out.push(`    ${x.rank}. ${x.title} [risk: ${x.risk}]${x.detail ? ` — ${x.detail}` : ''}`);
      for (const c of x.commands ?? []) out.push(`         ${c.startsWith('#') ? c : `$ ${c}`}`);
    }
  }
  out.push('');
  out.push(...explainGrouping(r, sv.host));
  const reset = resetLines(d, sv.host);
  if (reset.length) out.push('', ...reset);
  if (d.rmrr?.length) {
    out.push('');
    out.push(`  RMRR ranges: ${[...new Map(d.rmrr.map((h) => [h.structure, h])).values()].map((h) => `0x${h.base.toString(16)}-0x${h.limit.toString(16)} (${rangeSize(h.base, h.limit)})`).join(', ')}`);
  }
  if (target === 'dda' && !d.isBridge && !d.isHostBridge) {
    out.push('');
    out.push(paint(style, 'bold', 'Hyper-V DDA procedure (PowerShell, elevated):'));
    for (const l of ddaSteps(r, vm ?? '<vm>')) out.push(`    ${l}`);
  }
  return out.join('\n') + '\n';
}

/** `explain` and `fix` accept an address ("0000:06:00.0", "06:00.0"), a slot ("slot2") or a name fragment. */
export function findDevices(sv: Survey, query: string): DeviceReport[] {
  const q = query.trim().toLowerCase();
  // A Windows location path: the PCI part names one function.
  const lp = pciPart(query);
  if (lp) return sv.devices.filter((r) => r.device.locationPath.path !== null && pciPart(r.device.locationPath.path) === lp);
  const addr = /^(?:([0-9a-f]{4,8}):)?([0-9a-f]{2}):([0-9a-f]{2})(?:\.([0-7]))?$/.exec(q);
  if (addr) {
    const seg = (addr[1] ?? '0000').padStart(4, '0');
    const prefix = `${seg}:${addr[2]}:${addr[3]}`;
    return sv.devices.filter((r) => (addr[4] !== undefined ? r.device.address === `${prefix}.${addr[4]}` : r.device.address.startsWith(prefix + '.')));
  }
  const slot = /^slot\s*(\d+)$/.exec(q);
  if (slot) return sv.devices.filter((r) => r.device.slot?.physical === Number(slot[1]) && !r.device.isBridge);
  return sv.devices.filter((r) => !r.device.isBridge && `${r.device.name} ${r.device.className}`.toLowerCase().includes(q));
}
