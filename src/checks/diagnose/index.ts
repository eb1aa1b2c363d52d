/**
 * diagnose: the errors in a pasted log, each explained by its finding code(s); with a host
 * (a capture, a live tree, loose files) each named device is joined to the host's Device and
 * the real checks for it (runSurvey) give the findings and fix ladders — nothing is re-derived
 * here. Pure: text and an optional Survey in, a Diagnosis out.
 */
import type { Finding, FindingCode } from '../finding.js';
import type { DeviceReport, Survey } from '../index.js';
import { recognize, type Hit } from './match.js';

export { recognize, normalizeAddress, type Hit, type Recognized } from './match.js';
export { MESSAGES, DIAGNOSE_ONLY_CODES, type KnownMessage } from './messages.js';

export interface JoinedDevice {
  report: DeviceReport;
  /** The message's codes the host's own checks also produce for this device (or the host). */
  confirmed: FindingCode[];
  /** Those findings, with the checks' own evidence and fix ladder. */
  findings: Finding[];
}

export interface Joined {
  /** Devices of the host the error names (by address, IOMMU group or name). */
  devices: JoinedDevice[];
  /** Why nothing was joined, or what the join could not settle. */
  note: string | null;
}

export interface DiagnosedError {
  hit: Hit;
  codes: FindingCode[];
  /** One code: the message decides it; several: the kernel log line that came with it decides. */
  decided: boolean;
  joined: Joined | null;
}

export interface Diagnosis {
  lineCount: number;
  errors: DiagnosedError[];
}

function devicesFor(hit: Hit, sv: Survey): { reports: DeviceReport[]; via: string } {
  if (hit.device !== null) return { reports: sv.devices.filter((r) => r.device.address === hit.device), via: `address ${hit.device}` };
  if (hit.group !== null) {
    const members = sv.host.groups?.get(hit.group)?.devices;
    if (members === undefined) return { reports: [], via: `IOMMU group ${hit.group}` };
    return { reports: sv.devices.filter((r) => members.includes(r.device.address)), via: `IOMMU group ${hit.group}` };
  }
  if (hit.deviceName !== null) {
    const q = hit.deviceName.toLowerCase();
    return { reports: sv.devices.filter((r) => r.device.name.toLowerCase() === q), via: `name "${hit.deviceName}"` };
  }
  return { reports: [], via: '' };
}

function join(hit: Hit, codes: FindingCode[], sv: Survey): Joined {
  const { reports, via } = devicesFor(hit, sv);
  if (via === '') {
    // A host-wide error (no device in the line): the host's own findings may still confirm it.
    const hostHits = sv.hostFindings.filter((f) => codes.includes(f.code));
    return { devices: [], note: hostHits.length > 0 ? `the host data shows ${[...new Set(hostHits.map((f) => f.code))].join(', ')} (host)` : 'the line names no device' };
  }
  if (reports.length === 0) {
    const noGroups = hit.group !== null && hit.device === null && sv.host.groups === undefined;
    return { devices: [], note: noGroups ? `${via}: the host data has no kernel IOMMU groups (give a capture or lspci -vv from that host)` : `${via}: no such device in the host data — is it the same host?` };
  }
  let devices = reports.map((report) => {
    const all = [...report.findings, ...sv.hostFindings];
    const findings = all.filter((f) => codes.includes(f.code));
    return { report, confirmed: [...new Set(findings.map((f) => f.code))], findings };
  });
  // Names are not unique (two "High Definition Audio Controller"s): keep the ones the host's checks agree with.
  if (hit.device === null && hit.group === null && devices.some((d) => d.confirmed.length > 0)) devices = devices.filter((d) => d.confirmed.length > 0);
  const unconfirmed = devices.filter((d) => d.confirmed.length === 0);
  const note = unconfirmed.length === 0 ? null : `the host data does not show ${codes.join(' or ')} for ${unconfirmed.map((d) => d.report.device.address).join(', ')}: the log may be from another boot, kernel or host`;
  return { devices, note };
}

const before = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** The wording is from other kernels than the host data's: the log is not from this boot of this host. */
function kernelNote(hit: Hit, sv: Survey): string | null {
  const k = sv.host.kernel;
  const range = hit.message.kernel;
  if (!k || !range) return null;
  const v: [number, number] = [k.major, k.minor];
  const outside = (range.since && before(v, range.since)) || (range.until && !before(v, range.until));
  if (!outside) return null;
  const span = `${range.since ? `from ${range.since.join('.')}` : ''}${range.since && range.until ? ' ' : ''}${range.until ? `before ${range.until.join('.')}` : ''}`;
  return `Linux prints this wording ${span}; the host data's kernel is ${k.release}: the log comes from another kernel`;
}

export function diagnose(text: string, sv: Survey | null = null): Diagnosis {
  const r = recognize(text);
  const errors = r.hits.map((hit) => {
    let codes = hit.message.codes;
    let joined = sv ? join(hit, codes, sv) : null;
    const kn = sv ? kernelNote(hit, sv) : null;
    if (joined && kn) joined = { ...joined, note: joined.note === null ? kn : `${joined.note}; ${kn}` };
    // The host's checks settle which of several codes it is, when they produce exactly some of them.
    if (joined && codes.length > 1) {
      const seen = [...new Set(joined.devices.flatMap((d) => d.confirmed))];
      if (seen.length > 0) codes = codes.filter((c) => seen.includes(c));
    }
    return { hit, codes, decided: codes.length === 1, joined };
  });
  return { lineCount: r.lineCount, errors };
}
