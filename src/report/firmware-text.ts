/**
 * Human output of `assignable dmar`, `ivrs` and `smbios`: one line per structure and
 * per scope or entry, hex addresses, range sizes in KiB/MiB.
 */
import { SCOPE_TYPES, type DeviceScope, type Dmar } from '../firmware/acpi/dmar.js';
import { ENTRY_NAMES, SPECIAL_VARIETY, type Ivrs, type IvhdEntry } from '../firmware/acpi/ivrs.js';
import type { Smbios } from '../firmware/smbios/index.js';
import type { SmbiosStructure } from '../firmware/smbios/types.js';
import { scopePath } from '../firmware/format.js';
import { bdf, hex2, hexn, printable, rangeSize, rid } from './format.js';

const SCOPE_SHORT: Record<number, string> = { 1: 'endpoint', 2: 'bridge', 3: 'IOAPIC', 4: 'HPET', 5: 'ACPI device' };

function scopeLine(s: DeviceScope): string {
  const kind = (SCOPE_SHORT[s.type] ?? `type ${s.type}`).padEnd(11);
  const extra = s.type === 3 ? `  IOAPIC id ${s.enumerationId}` : s.type === 4 ? `  HPET id ${s.enumerationId}` : s.type === 5 ? `  ACPI device ${s.enumerationId}` : '';
  const flags = s.flags ? `  flags 0x${hex2(s.flags)}` : '';
  return `        scope ${kind} ${scopePath(s)}${extra}${flags}`;
}

export function renderDmar(d: Dmar, bytes: number): string {
  const out: string[] = [];
  const flagNames = [d.intrRemap && 'INTR_REMAP', d.x2apicOptOut && 'X2APIC_OPT_OUT', d.dmaCtrlPlatformOptIn && 'DMA_CTRL_PLATFORM_OPT_IN'].filter(Boolean);
  out.push(`DMAR  ${d.oemId}/${d.oemTableId} rev ${d.oemRevision}, ${bytes} bytes, checksum ${d.checksumOk ? 'ok' : 'BAD'}`);
  out.push(`      host address width ${d.hostAddressWidth} bits, flags 0x${hex2(d.flags)}${flagNames.length ? ' ' + flagNames.join(' ') : ''}`);
  for (const s of d.structures) {
    const at = `@0x${s.offset.toString(16).padStart(3, '0')}`;
    switch (s.type) {
      case 'DRHD':
        out.push(`DRHD  ${at}  segment ${s.segment}  register base ${hexn(s.registerBase)}  flags 0x${hex2(s.flags)}${s.includePciAll ? ' INCLUDE_PCI_ALL' : ''}`);
        break;
      case 'RMRR':
        out.push(`RMRR  ${at}  segment ${s.segment}  ${hexn(s.base)}-${hexn(s.limit)}  ${rangeSize(s.base, s.limit)}`);
        break;
      case 'ATSR':
        out.push(`ATSR  ${at}  segment ${s.segment}  flags 0x${hex2(s.flags)}${s.allPorts ? ' ALL_PORTS' : ''}`);
        break;
      case 'RHSA':
        out.push(`RHSA  ${at}  register base ${hexn(s.registerBase)}  proximity domain ${s.proximityDomain}`);
        break;
      case 'ANDD':
        out.push(`ANDD  ${at}  ACPI device ${s.deviceNumber}  ${printable(s.objectName)}`);
        break;
      case 'SATC':
        out.push(`SATC  ${at}  segment ${s.segment}  flags 0x${hex2(s.flags)}${s.atcRequired ? ' ATC_REQUIRED' : ''}`);
        break;
      case 'SIDP':
        out.push(`SIDP  ${at}  segment ${s.segment}`);
        break;
      case 'unknown':
        out.push(`type ${s.typeCode} ${at}  length ${s.length} (not in the VT-d specification this tool knows)`);
        break;
    }
    if ('scopes' in s) for (const sc of s.scopes) out.push(scopeLine(sc));
  }
  return out.join('\n') + '\n';
}

/** IVinfo (AMD IOMMU spec, IVRS header). */
function ivInfoText(v: number): string {
  const parts = [`VA ${(v >> 15) & 0x7f} bits`, `PA ${(v >> 8) & 0x7f} bits`];
  const gva = (v >> 5) & 7;
  if (gva) parts.push(`GVA ${gva === 2 ? '48' : `code ${gva}`}`);
  if (v & 1) parts.push('EFR supported');
  if (v & 2) parts.push('DMA guard opt-in');
  return parts.join(', ');
}

function entryLine(e: IvhdEntry): string {
  const name = (e.type === 0x48 ? `Special ${SPECIAL_VARIETY[e.variety ?? 0] ?? `variety ${e.variety}`}` : ENTRY_NAMES[e.type] ?? `type 0x${hex2(e.type)}`).padEnd(22);
  let extra = '';
  if (e.sourceDeviceId !== undefined) extra += `  alias of ${rid(e.sourceDeviceId)}`;
  if (e.handle !== undefined) extra += `  handle ${e.handle}`;
  if (e.extendedData !== undefined) extra += `  extended 0x${e.extendedData.toString(16)}`;
  if (e.hid !== undefined) extra += `  HID ${printable(e.hid) || '-'}${e.cid ? ` CID ${printable(e.cid)}` : ''}${e.uid ? ` UID ${printable(e.uid)}` : ''}`;
  return `        ${name} ${rid(e.deviceId)}  DTE 0x${hex2(e.dataSetting)}${extra}`;
}

export function renderIvrs(d: Ivrs, bytes: number): string {
  const out: string[] = [];
  out.push(`IVRS  ${d.oemId}/${d.oemTableId} rev ${d.oemRevision}, ${bytes} bytes, checksum ${d.checksumOk ? 'ok' : 'BAD'}`);
  out.push(`      IVinfo 0x${d.ivInfo.toString(16).padStart(8, '0')}: ${ivInfoText(d.ivInfo)}`);
  for (const b of d.blocks) {
    const at = `@0x${b.offset.toString(16).padStart(3, '0')}`;
    if (b.kind === 'IVHD') {
      out.push(`IVHD  type 0x${hex2(b.type)} ${at}  IOMMU ${rid(b.deviceId)}  segment ${b.segment}  base ${hexn(b.baseAddress)}  capability 0x${hex2(b.capabilityOffset)}  flags 0x${hex2(b.flags)}`);
      for (const e of b.entries) out.push(entryLine(e));
    } else if (b.kind === 'IVMD') {
      const who = b.type === 0x20 ? 'all devices' : b.type === 0x21 ? `device ${rid(b.deviceId)}` : `devices ${rid(b.deviceId)}-${rid(b.auxData)}`;
      const kinds = [b.flags & 1 && 'unity', b.flags & 2 && 'read', b.flags & 4 && 'write', b.flags & 8 && 'exclusion range'].filter(Boolean).join(' ');
      const end = b.start + b.length - 1n;
      out.push(`IVMD  type 0x${hex2(b.type)} ${at}  ${who}  ${hexn(b.start)}-${hexn(end < b.start ? b.start : end)}  ${b.length === 0n ? '0 B' : rangeSize(b.start, end)}  flags 0x${hex2(b.flags)}${kinds ? ' ' + kinds : ''}`);
    } else {
      out.push(`type 0x${hex2(b.typeCode)} ${at}  length ${b.blockLength} (block type unknown to this tool)`);
    }
  }
  return out.join('\n') + '\n';
}

function addr(s: { segment: number | null; bus: number | null; device: number | null; function: number | null }): string {
  return s.bus === null ? 'no bus address' : bdf(s.segment!, s.bus, s.device!, s.function!);
}

function structureLine(s: SmbiosStructure): string[] {
  const h = `0x${s.handle.toString(16).toUpperCase().padStart(4, '0')}`;
  switch (s.type) {
    case 1:
      if ('productName' in s) return [`${h}  system  ${printable(s.manufacturer)} ${printable(s.productName)}${s.uuid ? `  UUID ${s.uuid}` : ''}`];
      break;
    case 9:
      if ('designation' in s) {
        const lanes = s.dataBusWidth ? `, ${s.dataBusWidth.replace(/^\d+x or /, '')}` : '';
        return [`${h}  slot    ${printable(s.designation)}  [${s.slotType ?? '?'}${lanes}]  ${s.currentUsage ?? '?'}${s.id !== null ? `  ID ${s.id}` : ''}  ${addr(s)}`];
      }
      break;
    case 41:
      if ('referenceDesignation' in s) return [`${h}  onboard ${printable(s.referenceDesignation)}  [${s.deviceType ?? '?'}${s.enabled === false ? ', disabled' : ''}]  ${addr(s)}`];
      break;
    case 203:
      if ('structuredName' in s) {
        const ids = s.vendorId !== null ? `  ${s.vendorId.toString(16).padStart(4, '0')}:${(s.deviceId ?? 0).toString(16).padStart(4, '0')}` : '  (empty)';
        return [`${h}  HPE     ${printable(s.structuredName)}  ${printable(s.deviceName)}  [${s.deviceType}, ${s.deviceLocation}]${ids}  ${addr(s)}${s.assocDevice !== null ? `  record 0x${s.assocDevice.toString(16).toUpperCase().padStart(4, '0')}` : ''}`];
      }
      break;
    case 209:
      if ('nics' in s) return s.nics.map((n) => `${h}  HPE NIC ${n.state === 'present' ? `${hex2(n.bus)}:${hex2(n.device)}.${n.function}  MAC ${n.mac}` : n.state}`);
      break;
    case 233:
      if ('mac' in s) return [`${h}  HPE NIC port ${s.portNumber ?? '?'}  ${addr(s)}  MAC ${s.mac ?? '?'}`];
      break;
    case 216:
      if ('firmwareType' in s) return [`${h}  HPE firmware ${printable(s.firmwareName)} ${printable(s.firmwareVersion)}`];
      break;
  }
  return [`${h}  type ${s.type}  ${s.name}, ${s.length} bytes`];
}

/** The types the summary lists (the rest are counted): system, slots, onboard devices, HPE's records. */
const LISTED_TYPES = new Set([1, 9, 41, 203, 209, 233]);

export function renderSmbios(s: Smbios, onlyType: number | null): string {
  const out: string[] = [];
  const what = { sysfs: 'sysfs', dump: 'dmidecode --dump-bin file', rsmb: 'Windows RSMB blob', table: 'bare structure table', text: 'dmidecode text' }[s.source];
  out.push(`SMBIOS ${s.version ?? '(version unknown)'} from a ${what}, ${s.structures.length} structures`);
  if (s.system) out.push(`System: ${printable(s.system.manufacturer)} ${printable(s.system.productName)}`);
  const list = onlyType === null ? s.structures.filter((x) => LISTED_TYPES.has(x.type) && !('strings' in x)) : s.structures.filter((x) => x.type === onlyType);
  for (const x of list) out.push(...structureLine(x));
  if (onlyType === null) out.push(`(${s.structures.length - list.length} other structures; --type N shows one type, --json shows all)`);
  return out.join('\n') + '\n';
}
