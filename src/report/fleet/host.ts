/**
 * One host of a fleet, reduced to what the fleet summary needs: read either from a survey
 * (a capture analysed here) or from a survey JSON document (`assignable/survey/v2`) that
 * another run wrote. Pure: no I/O; a document that lacks a field fails naming that field.
 */
import { effectOf, TARGETS, type FindingCode, type Target, type VerdictStatus } from '../../checks/finding.js';
import type { Survey } from '../../checks/index.js';
import type { Smbios } from '../../firmware/smbios/index.js';
import type { BiosInformation } from '../../firmware/smbios/types.js';
import { SURVEY_SCHEMA } from '../survey.js';

export interface FleetVerdict {
  status: VerdictStatus;
  reasons: string[];
}

/** A device a survey shows by default (bridges and chipset internals aside). */
export interface FleetDevice {
  address: string;
  vendorId: number;
  deviceId: number;
  name: string | null;
  classCode: number;
  /** Physical slot number; null when the device is in none or it is not known. */
  slot: number | null;
  verdicts: Record<Target, FleetVerdict>;
}

export interface FleetHost {
  /** The name the summary gives the host: the input's path without its suffix. */
  id: string;
  /** Where it was read from, and how. */
  source: string;
  kind: 'capture' | 'survey-json';
  /** null: not known (no SMBIOS, or not in the input). */
  model: { manufacturer: string | null; product: string | null } | null;
  /** null: not known — survey JSON documents do not carry the BIOS; captures do when they hold SMBIOS. */
  bios: { vendor: string | null; version: string | null; date: string | null } | null;
  kernel: string | null;
  iommu: {
    vendor: 'intel' | 'amd' | null;
    /** present, absent, or unknown (the tables were not in the input). */
    firmware: 'present' | 'absent' | 'unknown';
    kernelEnabled: boolean | null;
    interruptRemapping: boolean | null;
  };
  /** Host-wide findings with their effect per target. */
  hostFindings: Array<{ code: string; effects: Record<Target, string> }>;
  /** Every PCI function the input lists, bridges included. */
  functions: number;
  devices: FleetDevice[];
  /** RMRDS_SlotN → value from a conrep save in the capture; null when the capture has none. */
  rmrds: Record<string, string> | null;
}

/** A survey JSON document that is not one this version reads: the message names the field. */
export class FleetDocumentError extends Error {
  override readonly name = 'FleetDocumentError';
}

function fail(field: string, why: string): never {
  throw new FleetDocumentError(`survey JSON field ${field}: ${why}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, field: string): Obj {
  if (!isObj(v)) fail(field, `expected an object, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, `expected a string, found ${v === null ? 'null' : typeof v}`);
  return v;
}
function strOrNull(v: unknown, field: string): string | null {
  return v === null || v === undefined ? null : str(v, field);
}
function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(field, `expected a non-negative integer, found ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}
function boolOrNull(v: unknown, field: string): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'boolean') fail(field, `expected true, false or null, found ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}
function arr(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) fail(field, `expected an array, found ${v === null ? 'null' : typeof v}`);
  return v;
}

const STATUSES: readonly string[] = ['assignable', 'warnings', 'blocked'] satisfies VerdictStatus[];

function verdicts(v: unknown, field: string): Record<Target, FleetVerdict> {
  const o = obj(v, field);
  const out = {} as Record<Target, FleetVerdict>;
  for (const t of TARGETS) {
    const x = obj(o[t], `${field}.${t}`);
    const status = str(x.status, `${field}.${t}.status`);
    if (!STATUSES.includes(status)) fail(`${field}.${t}.status`, `"${status.slice(0, 40)}" is not assignable, warnings or blocked`);
    out[t] = { status: status as VerdictStatus, reasons: arr(x.reasons, `${field}.${t}.reasons`).map((r, i) => str(r, `${field}.${t}.reasons[${i}]`)) };
  }
  return out;
}

/** A parsed `survey --json` document → the host. Throws DecodeError naming the field that is wrong. */
export function hostFromSurveyJson(doc: unknown, id: string, source: string): FleetHost {
  const d = obj(doc, '(document)');
  if (d.schema !== SURVEY_SCHEMA) {
    fail('schema', typeof d.schema === 'string' ? `is "${d.schema.slice(0, 60)}"; fleet reads ${SURVEY_SCHEMA} documents (\`assignable survey --json\` of this version)` : `missing; not an assignable survey document`);
  }
  const h = obj(d.host, 'host');
  const sys = h.system === null || h.system === undefined ? null : obj(h.system, 'host.system');
  const kernel = h.kernel === null || h.kernel === undefined ? null : strOrNull(obj(h.kernel, 'host.kernel').release, 'host.kernel.release');
  const io = obj(h.iommu, 'host.iommu');
  const vendor = strOrNull(io.vendor, 'host.iommu.vendor');
  if (vendor !== null && vendor !== 'intel' && vendor !== 'amd') fail('host.iommu.vendor', `"${vendor.slice(0, 40)}" is not intel, amd or null`);
  const firmware = str(io.firmware, 'host.iommu.firmware');
  if (firmware !== 'present' && firmware !== 'absent' && firmware !== 'unknown') fail('host.iommu.firmware', `"${firmware.slice(0, 40)}" is not present, absent or unknown`);
  const hostFindings = arr(h.findings, 'host.findings').map((f, i) => {
    const o = obj(f, `host.findings[${i}]`);
    const eff = obj(o.effects, `host.findings[${i}].effects`);
    const effects = Object.fromEntries(TARGETS.map((t) => [t, str(obj(eff[t], `host.findings[${i}].effects.${t}`).effect, `host.findings[${i}].effects.${t}.effect`)])) as Record<Target, string>;
    return { code: str(o.code, `host.findings[${i}].code`), effects };
  });
  const all = arr(d.devices, 'devices');
  const devices: FleetDevice[] = [];
  all.forEach((x, i) => {
    const f = `devices[${i}]`;
    const o = obj(x, f);
    // Hidden devices (bridges, chipset internals) are not counted, but are checked as the others.
    const hidden = boolOrNull(o.hidden, `${f}.hidden`) === true;
    const slot = o.slot === null || o.slot === undefined ? null : obj(o.slot, `${f}.slot`);
    const physical = slot && slot.physical !== null && slot.physical !== undefined ? int(slot.physical, `${f}.slot.physical`) : null;
    const dev: FleetDevice = {
      address: str(o.address, `${f}.address`),
      vendorId: int(o.vendorId, `${f}.vendorId`),
      deviceId: int(o.deviceId, `${f}.deviceId`),
      name: strOrNull(o.name, `${f}.name`),
      classCode: int(o.classCode, `${f}.classCode`),
      slot: slot?.embedded === true ? null : physical,
      verdicts: verdicts(o.verdicts, `${f}.verdicts`),
    };
    if (!hidden) devices.push(dev);
  });
  return {
    id,
    source,
    kind: 'survey-json',
    model: sys ? { manufacturer: strOrNull(sys.manufacturer, 'host.system.manufacturer'), product: strOrNull(sys.product, 'host.system.product') } : null,
    bios: null,
    kernel,
    iommu: { vendor: vendor as 'intel' | 'amd' | null, firmware, kernelEnabled: boolOrNull(io.kernelEnabled, 'host.iommu.kernelEnabled'), interruptRemapping: boolOrNull(io.interruptRemapping, 'host.iommu.interruptRemapping') },
    hostFindings,
    functions: all.length,
    devices,
    rmrds: null,
  };
}

function biosOf(smbios: Smbios | null | undefined): FleetHost['bios'] {
  const b = smbios?.structures.find((s): s is BiosInformation => s.type === 0 && 'vendor' in s);
  if (!b) return null;
  return { vendor: b.vendor, version: b.version, date: b.releaseDate };
}

/** A survey run here (from a capture) → the host. */
export function hostFromSurvey(sv: Survey, id: string, source: string, rmrds: Record<string, string> | null): FleetHost {
  const h = sv.host;
  return {
    id,
    source,
    kind: 'capture',
    model: h.system ? { manufacturer: h.system.manufacturer, product: h.system.product } : null,
    bios: biosOf(h.smbios),
    kernel: h.kernel?.release ?? null,
    iommu: { vendor: sv.iommu.vendor ?? null, firmware: sv.iommu.firmware, kernelEnabled: sv.iommu.kernelEnabled ?? null, interruptRemapping: sv.iommu.interruptRemapping ?? null },
    hostFindings: sv.hostFindings.map((f) => ({ code: f.code, effects: Object.fromEntries(TARGETS.map((t) => [t, effectOf(f.code as FindingCode, t)])) as Record<Target, string> })),
    functions: sv.devices.length,
    devices: sv.devices
      .filter((r) => !r.hidden)
      .map((r) => ({
        address: r.device.address,
        vendorId: r.device.config.vendorId,
        deviceId: r.device.config.deviceId,
        name: r.device.name,
        classCode: r.device.classCode,
        slot: r.device.slot && !r.device.slot.embedded ? r.device.slot.physical : null,
        verdicts: Object.fromEntries(TARGETS.map((t) => [t, { status: r.verdicts[t].status, reasons: [...r.verdicts[t].reasons] }])) as Record<Target, FleetVerdict>,
      })),
    rmrds,
  };
}
