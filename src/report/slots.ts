/**
 * `assignable slots`: physical slots ↔ PCI functions ↔ SMBIOS designation ↔ HPE RMRDS_SlotN,
 * with the embedded devices that have no slot. Empty slots are listed from SMBIOS type 9 and
 * the kernel's slot objects, so a user can see which slot a card would go into.
 */
import type { Host } from '../host/model.js';
import { makeAddress } from '../host/address.js';
import { printable } from './format.js';
import { whereAlone, type SlotAlone } from '../host/grouping/alone.js';

export interface SlotRow {
  physical: number | null;
  designation: string | null;
  smbiosBusAddress: string | null;
  port: string | null;
  usage: string | null;
  functions: Array<{ address: string; name: string }>;
  hpeRmrdsSlot: string | null;
  rmrr: boolean;
  /** Would a card here get an IOMMU group of its own (src/host/grouping/alone.ts)? null: slot not simulated. */
  alone: { singleFunction: boolean | 'unknown'; twoFunctions: boolean | 'unknown'; reason: string; sharesWith: string[]; certain: boolean; rmrr: string; usable: boolean | 'unknown' } | null;
}

export interface SlotsView {
  slots: SlotRow[];
  embedded: Array<{ address: string; name: string; designation: string | null; rmrr: boolean }>;
  unknown: Array<{ address: string; name: string }>;
}

export function slotsView(host: Host): SlotsView {
  const rows = new Map<string, SlotRow>();
  const hpe = host.system?.isHpeProliant ?? false;
  const key = (n: number | null, des: string | null) => (n !== null ? `n${n}` : `d${des}`);
  for (const s of host.smbios?.slots ?? []) {
    const n = s.id !== null && s.id > 0 ? s.id : Number(/(\d+)/.exec(s.designation ?? '')?.[1] ?? NaN);
    const physical = Number.isNaN(n) ? null : n;
    const bus = s.bus !== null ? makeAddress(s.segment!, s.bus, s.device!, s.function!) : null;
    const port = s.bus !== null ? (host.devices.find((d) => d.config.bridge && d.pci.segment === s.segment && d.config.bridge.secondary === s.bus)?.address ?? null) : null;
    rows.set(key(physical, s.designation), { physical, designation: s.designation, smbiosBusAddress: bus, port, usage: s.currentUsage, functions: [], hpeRmrdsSlot: hpe && physical !== null && physical >= 1 && physical <= 16 ? `RMRDS_Slot${physical}` : null, rmrr: false, alone: null });
  }
  const embedded: SlotsView['embedded'] = [];
  const unknown: SlotsView['unknown'] = [];
  for (const d of host.devices) {
    if (d.isBridge || d.isHostBridge) continue;
    const item = { address: d.address, name: d.name };
    if (d.slot?.embedded) embedded.push({ ...item, designation: d.slot.designation, rmrr: (d.rmrr?.length ?? 0) > 0 });
    else if (d.slot && d.slot.physical !== null) {
      const k = key(d.slot.physical, d.slot.designation);
      if (!rows.has(k)) rows.set(k, { physical: d.slot.physical, designation: d.slot.designation, smbiosBusAddress: null, port: d.slot.port, usage: null, functions: [], hpeRmrdsSlot: d.slot.hpeRmrdsSlot, rmrr: false, alone: null });
      const row = rows.get(k)!;
      row.functions.push(item);
      if (d.rmrr?.length) row.rmrr = true;
    }
  }
  for (const s of host.devices) if (!s.slot && !s.isBridge && !s.isHostBridge && s.parent !== null) unknown.push({ address: s.address, name: s.name });
  // Kernel slot objects name slots SMBIOS may not (or that are empty).
  for (const ks of host.sysfsSlots ?? []) {
    const n = Number(/(\d+)/.exec(ks.name)?.[1] ?? NaN);
    if (Number.isNaN(n) || [...rows.values()].some((r) => r.physical === n)) continue;
    const [seg, bus] = ks.address.split(':').map((x) => parseInt(x, 16));
    const port = host.devices.find((d) => d.config.bridge && d.pci.segment === seg && d.config.bridge.secondary === bus)?.address ?? null;
    rows.set(key(n, null), { physical: n, designation: `kernel slot ${ks.name}`, smbiosBusAddress: null, port, usage: null, functions: [], hpeRmrdsSlot: hpe && n >= 1 && n <= 16 ? `RMRDS_Slot${n}` : null, rmrr: false, alone: null });
  }
  // Where a card would be alone: matched by the slot's port, else by its designation.
  const answers = whereAlone(host);
  for (const r of rows.values()) {
    const a: SlotAlone | undefined = answers.find((x) => (r.port !== null && x.port === r.port) || (x.designation !== null && x.designation === r.designation));
    if (a) r.alone = { singleFunction: a.alone, twoFunctions: a.multiFunctionCard.alone, reason: a.reason, sharesWith: a.sharesWith, certain: a.certain, rmrr: a.rmrr, usable: a.usable };
  }
  return { slots: [...rows.values()].sort((a, b) => (a.physical ?? 999) - (b.physical ?? 999)), embedded, unknown };
}

function aloneLabel(r: SlotRow): string {
  if (!r.alone) return '?';
  const a = r.alone.singleFunction;
  return `${a === true ? 'yes' : a === false ? 'no' : '?'}${r.alone.certain ? '' : '~'}`;
}

export function renderSlots(v: SlotsView, host: Host): string {
  const out: string[] = [];
  const hpe = host.system?.isHpeProliant;
  out.push(`${'SLOT'.padEnd(5)} ${'DESIGNATION'.padEnd(22)} ${'SMBIOS BUS'.padEnd(13)} ${'PORT'.padEnd(13)} ${'ALONE'.padEnd(6)} ${hpe ? 'HPE SETTING'.padEnd(13) + ' ' : ''}FUNCTIONS`);
  for (const r of v.slots) {
    const fns = r.functions.length === 0 ? `(empty${r.usage ? `; SMBIOS: ${r.usage}` : ''})` : r.functions.map((f) => `${f.address} ${printable(f.name)}`).join('; ');
    out.push(`${String(r.physical ?? '?').padEnd(5)} ${printable(r.designation ?? '-').padEnd(22)} ${(r.smbiosBusAddress ?? '-').padEnd(13)} ${(r.port ?? '-').padEnd(13)} ${aloneLabel(r).padEnd(6)} ${hpe ? (r.hpeRmrdsSlot ?? '-').padEnd(13) + ' ' : ''}${fns}${r.rmrr ? '  [in an RMRR]' : ''}`);
  }
  if (v.slots.length === 0) out.push('(no slot information: no SMBIOS type 9 records and no kernel slot objects)');
  else {
    out.push('');
    out.push('ALONE: would a card there get an IOMMU group of its own, as Linux forms groups (yes; no; ? unknown; ~ uncertain). Why, slot by slot:');
    for (const r of v.slots.filter((x) => x.alone)) out.push(`  ${String(r.physical ?? '?').padEnd(3)} ${printable(r.designation ?? '-')}: ${r.alone!.reason}${r.alone!.sharesWith.length ? ` — would share with ${r.alone!.sharesWith.join(' ')}` : ''}${r.alone!.rmrr !== 'none' ? `; RMRR: ${r.alone!.rmrr}` : ''}`);
  }
  if (v.embedded.length > 0) {
    out.push('');
    out.push(`Embedded devices — no slot${hpe ? ', so HPE RMRDS cannot exclude them' : ''}:`);
    for (const e of v.embedded) out.push(`  ${e.address} ${printable(e.name)}${e.designation ? ` (${printable(e.designation)})` : ''}${e.rmrr ? '  [in an RMRR]' : ''}`);
  }
  if (v.unknown.length > 0) {
    out.push('');
    out.push(`Not matched to a slot or an onboard record: ${v.unknown.map((u) => u.address).join(', ')}`);
  }
  return out.join('\n') + '\n';
}
