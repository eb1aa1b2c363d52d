/**
 * A Windows probe capture (docs/windows-probe.md, schema assignable/windows-probe/v1) → HostFacts.
 * Functions get configSource 'windows-pnp': their identity and class from PnP ids, their place
 * in the tree from DEVPKEY_Device_Parent, bus/device/function from BusNumber and Address; what
 * Windows does not publish (config bytes, FLR, BAR sizes, IOMMU groups) stays unknown. Windows'
 * own verdict inputs (RequiresReservedMemoryRegion, DeviceType, ACS, InterruptSupport, the
 * root buses' NativePciExpressControl, Hyper-V state) are kept as facts for the checks.
 */
import { decodeDmar } from '../../firmware/acpi/dmar.js';
import { decodeIvrs } from '../../firmware/acpi/ivrs.js';
import { headerOnlyConfig, type PciConfig } from '../../firmware/pci/config.js';
import { decodeSmbiosFile } from '../../firmware/smbios/index.js';
import { formatAddress } from '../../host/address.js';
import type { FunctionFacts, HostFacts, HostNote, PciAddress, WindowsFunctionFacts, WindowsHostFacts, WindowsVm } from '../../host/model.js';
import { arr, bad, boolOrNull, isObj, num, obj, str, strings, strOrNull, u32OrNull, u64, type Json, type Obj } from './json.js';

export const PROBE_SCHEMA = 'assignable/windows-probe/v1';

/** pci.sys DeviceType values that are bridges or ports (15-pciprop-devpkeys.json, pid 1): 6..14. */
const FIRST_BRIDGE_DEVICE_TYPE = 6;
/** DEVPKEY_Device_Address for PCI: device number in the high word, function in the low word. */
const ADDRESS_FUNCTION_MASK = 0xffff;
const ADDRESS_DEVICE_SHIFT = 16;
/** PCI class 06 04: PCI-to-PCI bridge. */
const PCI_BRIDGE_BASE_SUB = 0x0604;

const P = (k: string) => `DEVPKEY_PciDevice_${k}`;
const D = (k: string) => `DEVPKEY_Device_${k}`;
const R = (k: string) => `DEVPKEY_PciRootBus_${k}`;

interface Ids {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number | null;
  subsystemId: number | null;
  revision: number;
  classCode: number | null;
}

/** `PCI\VEN_103C&DEV_323B&SUBSYS_3351103C&REV_01\…` and `PCI\CC_010400`. SUBSYS is subsystem id then subsystem vendor. */
export function idsFrom(instanceId: string, hardwareIds: string[] | null | undefined, compatibleIds: string[] | null | undefined): Ids | null {
  const m = /VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})(?:&SUBSYS_([0-9A-F]{4})([0-9A-F]{4}))?(?:&REV_([0-9A-F]{2}))?/i.exec([...(hardwareIds ?? []), instanceId].find((s) => /VEN_[0-9A-F]{4}&DEV_/i.test(s)) ?? '');
  if (!m) return null;
  const cc = (compatibleIds ?? []).map((s) => /\\CC_([0-9A-F]{6})$/i.exec(s)).find((x) => x);
  return {
    vendorId: parseInt(m[1]!, 16),
    deviceId: parseInt(m[2]!, 16),
    subsystemId: m[3] ? parseInt(m[3], 16) : null,
    subsystemVendorId: m[4] ? parseInt(m[4], 16) : null,
    revision: m[5] ? parseInt(m[5], 16) : 0,
    classCode: cc ? parseInt(cc[1]!, 16) : null,
  };
}

/** "PCI bus 4, device 0, function 0" (decimal), the fallback when BusNumber/Address are missing. */
function fromLocationInfo(s: string | null | undefined): { bus: number; device: number; function: number } | null {
  const m = s ? /PCI bus (\d+), device (\d+), function (\d+)/i.exec(s) : null;
  return m ? { bus: Number(m[1]), device: Number(m[2]), function: Number(m[3]) } : null;
}

interface Pending {
  facts: FunctionFacts;
  parentId: string | undefined;
  key: string;
}

function windowsFunction(d: Obj, path: string, props: Obj | undefined, instanceId: string): WindowsFunctionFacts {
  const pp = (k: string) => `${path}.properties.${k}`;
  const p = (k: string): Json | undefined => props?.[k];
  const w: WindowsFunctionFacts = { instanceId, dismounted: /^PCIP\\/i.test(instanceId) };
  const name = str(d.friendlyName, `${path}.friendlyName`);
  if (name !== undefined) w.name = name;
  const status = str(d.status, `${path}.status`);
  if (status !== undefined) w.status = status;
  if (props) {
    const set = <K extends keyof WindowsFunctionFacts>(k: K, v: WindowsFunctionFacts[K] | undefined) => {
      if (v !== undefined) w[k] = v;
    };
    set('problemCode', u32OrNull(p(D('ProblemCode')), pp(D('ProblemCode'))));
    const paths = strings(p(D('LocationPaths')), pp(D('LocationPaths')));
    if (paths !== undefined) w.locationPath = paths === null ? null : (paths.find((s) => /^PCIROOT\(/i.test(s)) ?? null);
    set('deviceType', u32OrNull(p(P('DeviceType')), pp(P('DeviceType'))));
    set('requiresReservedMemoryRegion', boolOrNull(p(P('RequiresReservedMemoryRegion')), pp(P('RequiresReservedMemoryRegion'))));
    set('acsCompatibleUpHierarchy', u32OrNull(p(P('AcsCompatibleUpHierarchy')), pp(P('AcsCompatibleUpHierarchy'))));
    set('acsCapabilityRegister', u32OrNull(p(P('AcsCapabilityRegister')), pp(P('AcsCapabilityRegister'))));
    set('acsSupport', u32OrNull(p(P('AcsSupport')), pp(P('AcsSupport'))));
    set('interruptSupport', u32OrNull(p(P('InterruptSupport')), pp(P('InterruptSupport'))));
    set('interruptMessageMaximum', u32OrNull(p(P('InterruptMessageMaximum')), pp(P('InterruptMessageMaximum'))));
    set('barTypes', u32OrNull(p(P('BarTypes')), pp(P('BarTypes'))));
    set('sriovSupport', u32OrNull(p(P('SriovSupport')), pp(P('SriovSupport'))));
  }
  const ranges = arr(d.memoryRanges, `${path}.memoryRanges`);
  if (ranges !== undefined) {
    w.memoryRanges = ranges.map((r, i) => {
      const o = obj(r, `${path}.memoryRanges[${i}]`)!;
      const start = u64(o.start, `${path}.memoryRanges[${i}].start`);
      const end = u64(o.end, `${path}.memoryRanges[${i}].end`);
      if (start === undefined || end === undefined) throw bad(`${path}.memoryRanges[${i}]`, 'a range needs start and end');
      if (end < start) throw bad(`${path}.memoryRanges[${i}]`, `end ${end} lies below start ${start}`);
      return { start, end };
    });
  }
  return w;
}

function configOf(ids: Ids, classCode: number, isBridge: boolean): PciConfig {
  // No config bytes: everything is from PnP ids, and capabilities are unknown.
  return headerOnlyConfig({ ...ids, classCode, headerType: isBridge ? 1 : 0 });
}

function firmware(doc: Obj, notes: HostNote[]): Pick<HostFacts, 'dmar' | 'ivrs' | 'smbios'> {
  const t = obj(doc.firmwareTables, 'firmwareTables');
  const out: Pick<HostFacts, 'dmar' | 'ivrs' | 'smbios'> = {};
  if (!t) return out;
  const bytes = (k: string): Uint8Array | null | undefined => {
    if (!(k in t)) return undefined;
    if (t[k] === null) return null;
    const o = obj(t[k], `firmwareTables.${k}`)!;
    const b64 = str(o.base64, `firmwareTables.${k}.base64`);
    if (b64 === undefined) return undefined;
    if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(b64)) throw bad(`firmwareTables.${k}.base64`, 'not base64');
    return new Uint8Array(Buffer.from(b64, 'base64'));
  };
  const dmar = bytes('dmar');
  if (dmar !== undefined) out.dmar = dmar === null ? null : decodeDmar(dmar);
  const ivrs = bytes('ivrs');
  if (ivrs !== undefined) out.ivrs = ivrs === null ? null : decodeIvrs(ivrs);
  const smbios = bytes('smbios');
  if (smbios !== undefined) out.smbios = smbios === null ? null : decodeSmbiosFile(smbios);
  // One IOMMU table read and the other not: "absent" is only known for the one that was read.
  if (out.dmar !== undefined && out.ivrs === undefined && !('ivrs' in t)) notes.push({ code: 'WINDOWS_IVRS_UNREAD', message: 'the probe did not read the IVRS table' });
  return out;
}

function hostFacts(doc: Obj): WindowsHostFacts {
  const w: WindowsHostFacts = { source: 'probe', errors: [] };
  const os = obj(doc.os, 'os');
  if (os) {
    w.os = {};
    const s = (k: 'caption' | 'version' | 'buildNumber' | 'editionId' | 'installationType') => {
      const v = str(os[k], `os.${k}`);
      if (v !== undefined) w.os![k] = v;
    };
    s('caption'); s('version'); s('buildNumber'); s('editionId'); s('installationType');
    const pt = num(os.productType, 'os.productType');
    if (pt !== undefined) w.os.productType = pt;
  }
  const ps = obj(doc.powershell, 'powershell');
  if (ps) {
    w.powershell = {};
    for (const k of ['edition', 'version', 'languageMode'] as const) {
      const v = str(ps[k], `powershell.${k}`);
      if (v !== undefined) w.powershell[k] = v;
    }
  }
  const probe = obj(doc.probe, 'probe');
  const elevated = boolOrNull(probe?.elevated, 'probe.elevated');
  if (typeof elevated === 'boolean') w.elevated = elevated;
  const roots = arr(doc.rootBuses, 'rootBuses');
  if (roots) {
    w.rootBuses = roots.map((r, i) => {
      const o = obj(r, `rootBuses[${i}]`)!;
      const id = str(o.instanceId, `rootBuses[${i}].instanceId`);
      if (id === undefined) throw bad(`rootBuses[${i}].instanceId`, 'missing');
      const props = obj(o.properties, `rootBuses[${i}].properties`);
      const rb: NonNullable<WindowsHostFacts['rootBuses']>[number] = { instanceId: id };
      if (props) {
        const bus = u32OrNull(props[D('BusNumber')], `rootBuses[${i}].properties.${D('BusNumber')}`);
        if (typeof bus === 'number') rb.busNumber = bus;
        const npc = boolOrNull(props[R('NativePciExpressControl')], `rootBuses[${i}].properties.${R('NativePciExpressControl')}`);
        if (npc !== undefined) rb.nativePciExpressControl = npc;
        const msi = boolOrNull(props[R('SystemMsiSupport')], `rootBuses[${i}].properties.${R('SystemMsiSupport')}`);
        if (msi !== undefined) rb.systemMsiSupport = msi;
      }
      return rb;
    });
  }
  const hv = obj(doc.hyperV, 'hyperV');
  if (hv) {
    const h: NonNullable<WindowsHostFacts['hyperV']> = {};
    if ('vmms' in hv) h.vmmsStatus = hv.vmms === null ? null : (str(obj(hv.vmms, 'hyperV.vmms')!.status, 'hyperV.vmms.status') ?? undefined);
    if (h.vmmsStatus === undefined) delete h.vmmsStatus;
    const feature = obj(hv.feature, 'hyperV.feature');
    const fs = str(feature?.state, 'hyperV.feature.state');
    if (fs !== undefined) h.featureState = fs;
    const vh = obj(hv.vmHost, 'hyperV.vmHost');
    if (vh) {
      const iov = boolOrNull(vh.iovSupport, 'hyperV.vmHost.iovSupport');
      if (typeof iov === 'boolean') h.iovSupport = iov;
      const reasons = strings(vh.iovSupportReasons, 'hyperV.vmHost.iovSupportReasons');
      if (reasons !== undefined) h.iovSupportReasons = reasons;
    }
    const handle = (v: Json, p: string) => {
      const o = obj(v, p)!;
      const out: { instanceId?: string; locationPath?: string } = {};
      const id = str(o.instanceId, `${p}.instanceId`);
      if (id !== undefined) out.instanceId = id;
      const lp = str(o.locationPath, `${p}.locationPath`);
      if (lp !== undefined) out.locationPath = lp;
      return out;
    };
    const pool = arr(hv.assignableDevices, 'hyperV.assignableDevices');
    if (pool !== undefined) h.assignableDevices = pool.map((v, i) => handle(v, `hyperV.assignableDevices[${i}]`));
    const vms = arr(hv.vms, 'hyperV.vms');
    if (vms !== undefined) {
      h.vms = vms.map((v, i) => {
        const p = `hyperV.vms[${i}]`;
        const o = obj(v, p)!;
        const name = str(o.name, `${p}.name`);
        if (name === undefined) throw bad(`${p}.name`, 'missing');
        const vm: WindowsVm = { name };
        const s = str(o.state, `${p}.state`); if (s !== undefined) vm.state = s;
        const g = num(o.generation, `${p}.generation`); if (g !== undefined) vm.generation = g;
        const sa = enumName(o.automaticStopAction, `${p}.automaticStopAction`, STOP_ACTIONS); if (sa !== undefined) vm.automaticStopAction = sa;
        const gc = boolOrNull(o.guestControlledCacheTypes, `${p}.guestControlledCacheTypes`); if (typeof gc === 'boolean') vm.guestControlledCacheTypes = gc;
        const lo = u64(o.lowMemoryMappedIoSpace, `${p}.lowMemoryMappedIoSpace`); if (lo !== undefined) vm.lowMemoryMappedIoSpace = lo;
        const hi = u64(o.highMemoryMappedIoSpace, `${p}.highMemoryMappedIoSpace`); if (hi !== undefined) vm.highMemoryMappedIoSpace = hi;
        const dm = boolOrNull(o.dynamicMemoryEnabled, `${p}.dynamicMemoryEnabled`); if (typeof dm === 'boolean') vm.dynamicMemoryEnabled = dm;
        const ct = enumName(o.checkpointType, `${p}.checkpointType`, CHECKPOINT_TYPES); if (ct !== undefined) vm.checkpointType = ct;
        const ad = arr(o.assignedDevices, `${p}.assignedDevices`);
        if (ad !== undefined) vm.assignedDevices = ad.map((x, j) => handle(x, `${p}.assignedDevices[${j}]`));
        return vm;
      });
    }
    w.hyperV = h;
  }
  const errors = arr(doc.errors, 'errors') ?? [];
  w.errors = errors.map((e, i) => {
    const o = obj(e, `errors[${i}]`)!;
    const out: WindowsHostFacts['errors'][number] = { step: str(o.step, `errors[${i}].step`) ?? '?', message: str(o.message, `errors[${i}].message`) ?? '' };
    const t = str(o.target, `errors[${i}].target`);
    if (t !== undefined) out.target = t;
    return out;
  });
  return w;
}

/** Hyper-V's StopAction and CheckpointType enums, for probes that left them as numbers. */
const STOP_ACTIONS: Record<number, string> = { 2: 'TurnOff', 3: 'Save', 4: 'ShutDown' };
const CHECKPOINT_TYPES: Record<number, string> = { 2: 'Disabled', 3: 'Production', 4: 'ProductionOnly', 5: 'Standard' };

function enumName(v: Json | undefined, path: string, names: Record<number, string>): string | undefined {
  if (typeof v === 'number') return names[v] ?? String(v);
  return str(v, path);
}

/** The probe document (already JSON-parsed) → HostFacts. `file` names the capture in the origin. */
export function windowsFactsFromProbe(root: Json, file: string): HostFacts {
  const doc = obj(root, '(document)');
  if (!doc) throw bad('(document)', 'empty');
  if (doc.schema !== PROBE_SCHEMA) throw bad('schema', `expected "${PROBE_SCHEMA}", found ${JSON.stringify(doc.schema ?? null)}`);
  const notes: HostNote[] = [];
  const windows = hostFacts(doc);
  const devs = arr(doc.pciDevices, 'pciDevices');
  const pending: Pending[] = [];
  const byId = new Map<string, Pending>();
  const seen = new Map<string, string>();
  for (const [i, v] of (devs ?? []).entries()) {
    const path = `pciDevices[${i}]`;
    const d = obj(v, path)!;
    const id = str(d.instanceId, `${path}.instanceId`);
    if (id === undefined) throw bad(`${path}.instanceId`, 'missing');
    if (!/^PCIP?\\/i.test(id)) continue;
    const dismounted = /^PCIP\\/i.test(id);
    // A device Windows no longer sees is history, unless Hyper-V holds it (PCIP\).
    if (d.present === false && !dismounted) continue;
    const props = obj(d.properties, `${path}.properties`);
    const pp = (k: string) => `${path}.properties.${k}`;
    const hw = props ? strings(props[D('HardwareIds')], pp(D('HardwareIds'))) : undefined;
    const compat = props ? strings(props[D('CompatibleIds')], pp(D('CompatibleIds'))) : undefined;
    const ids = idsFrom(id, hw, compat);
    if (!ids) throw bad(`${path}.instanceId`, `${id}: no VEN_xxxx&DEV_xxxx in it or its hardware ids`);
    const bus = props ? u32OrNull(props[D('BusNumber')], pp(D('BusNumber'))) : undefined;
    const addr = props ? u32OrNull(props[D('Address')], pp(D('Address'))) : undefined;
    let bdf = typeof bus === 'number' && typeof addr === 'number' ? { bus, device: addr >>> ADDRESS_DEVICE_SHIFT, function: addr & ADDRESS_FUNCTION_MASK } : null;
    bdf ??= fromLocationInfo(props ? strOrNull(props[D('LocationInfo')], pp(D('LocationInfo'))) : undefined);
    if (!bdf) {
      notes.push({ code: 'WINDOWS_FUNCTION_UNPLACED', message: `${id}: Windows gave no bus number and address for it, so it is left out` });
      continue;
    }
    if (bdf.bus > 0xff || bdf.device > 0x1f || bdf.function > 7) throw bad(`${path}.properties`, `bus ${bdf.bus}, device ${bdf.device}, function ${bdf.function} is not a PCI address`);
    // Windows does not publish PCI segment numbers: functions are placed in segment 0.
    const address: PciAddress = { segment: 0, ...bdf };
    const key = formatAddress(address);
    if (seen.has(key)) {
      notes.push({ code: 'WINDOWS_DUPLICATE_ADDRESS', message: `${id} and ${seen.get(key)} both sit at ${key} (two PCI segments?); only the first is kept` });
      continue;
    }
    seen.set(key, id);
    const w = windowsFunction(d, path, props, id);
    const baseSub = (ids.classCode ?? 0xffffff) >> 8;
    const pciClass = props ? [P('BaseClass'), P('SubClass'), P('ProgIf')].map((k) => u32OrNull(props[k], pp(k))) : [];
    const classCode = pciClass.length === 3 && pciClass.every((x) => typeof x === 'number') ? ((pciClass[0]! << 16) | (pciClass[1]! << 8) | pciClass[2]!) : (ids.classCode ?? 0xffffff);
    const isBridge = (typeof w.deviceType === 'number' && w.deviceType >= FIRST_BRIDGE_DEVICE_TYPE) || baseSub === PCI_BRIDGE_BASE_SUB;
    const parentId = props ? strOrNull(props[D('Parent')], pp(D('Parent'))) : undefined;
    const sysfs: FunctionFacts['sysfs'] = {};
    if (props && D('Service') in props) sysfs.driver = strOrNull(props[D('Service')], pp(D('Service'))) ?? null;
    const facts: FunctionFacts = { address, config: configOf(ids, classCode, isBridge), configSource: 'windows-pnp', sysfs, windows: w };
    const p: Pending = { facts, parentId: parentId ?? undefined, key };
    if (parentId === null) p.parentId = '';
    pending.push(p);
    byId.set(id.toUpperCase(), p);
  }
  // The tree: Parent chains up to the first non-PCI parent (the root bus).
  for (const p of pending) {
    const up: string[] = [];
    let cur = p.parentId;
    let known = cur !== undefined;
    const guard = new Set<string>();
    while (known && cur) {
      const q = byId.get(cur.toUpperCase());
      if (!q) {
        if (/^PCIP?\\/i.test(cur)) known = false; // a PCI parent the capture lacks
        break;
      }
      if (guard.has(q.key)) { known = false; break; }
      guard.add(q.key);
      up.unshift(q.key);
      cur = q.parentId;
      if (cur === undefined) known = false;
    }
    if (known) p.facts.sysfs!.ancestors = up;
  }
  // Bridge bus ranges from what sits below them (Windows does not publish the registers).
  const parentOf = new Map(pending.map((p) => [p.key, p.facts.sysfs?.ancestors?.at(-1)]));
  for (const p of pending) {
    const below = pending.filter((q) => q.facts.sysfs?.ancestors?.includes(p.key));
    if (below.length === 0) continue;
    const direct = below.filter((q) => parentOf.get(q.key) === p.key);
    const secondary = Math.min(...direct.map((q) => q.facts.address.bus));
    const subordinate = Math.max(...below.map((q) => q.facts.address.bus));
    p.facts.config.bridge = { primary: p.facts.address.bus, secondary, subordinate };
  }
  // One note per step and message, however many functions it concerns.
  const grouped = new Map<string, string[]>();
  for (const e of windows.errors) {
    const k = `${e.step}\u0000${e.message}`;
    grouped.set(k, [...(grouped.get(k) ?? []), ...(e.target ? [e.target] : [])]);
  }
  for (const [k, targets] of grouped) {
    const [step, message] = k.split('\u0000');
    const what = targets.length === 0 ? '' : targets.length === 1 ? ` (${targets[0]})` : ` (${targets.length}: ${targets[0]}, …)`;
    notes.push({ code: 'WINDOWS_PROBE_ERROR', message: `the probe could not read ${step}${what}: ${message}` });
  }
  if (pending.length > 0) notes.push({ code: 'WINDOWS_CONFIG_UNPUBLISHED', message: 'Windows publishes no config space to user mode: FLR, exact BAR sizes and the capability list are unknown; Windows\' own properties decide the dda verdicts' });
  return {
    origin: { kind: 'capture', description: `Windows probe capture ${file}` },
    functions: pending.map((p) => p.facts),
    ...firmware(doc, notes),
    windows,
    notes,
  };
}

export { isObj };
