/**
 * The IVHD device entries as the AMD IOMMU driver reads them (drivers/iommu/amd/init.c
 * init_iommu_from_acpi): only the highest IVHD type present (the others repeat the same devices),
 * ranges expanded, each requester ID with its alias when an Alias entry gives one.
 */
import type { Ivrs } from '../../firmware/acpi/ivrs.js';

/** IVHD device entry types (AMD IOMMU specification, IVHD device entries). */
const IVHD_ALL = 0x01;
const IVHD_SELECT = 0x02;
const IVHD_RANGE_START = 0x03;
const IVHD_RANGE_END = 0x04;
const IVHD_ALIAS_SELECT = 0x42;
const IVHD_ALIAS_RANGE = 0x43;
const IVHD_EXT_SELECT = 0x46;
const IVHD_EXT_RANGE = 0x47;
const IVHD_SPECIAL = 0x48;

export interface IvhdDevices {
  /** Segments with a Select All entry. */
  allSegments: Set<number>;
  /** "segment:requesterId" of every device an entry names. */
  devices: Set<string>;
  /** "segment:requesterId" → the requester ID it is aliased to. */
  aliases: Map<string, number>;
}

/**
 * One expansion per table: the slot and override simulations form dozens of groupings of the
 * same host, and a range entry can name 65,536 requester IDs. The result is only read.
 */
const expanded = new WeakMap<Ivrs, IvhdDevices>();

export function ivhdDevices(ivrs: Ivrs | null | undefined): IvhdDevices {
  if (!ivrs) return { allSegments: new Set(), devices: new Set(), aliases: new Map() };
  let out = expanded.get(ivrs);
  if (!out) {
    out = expand(ivrs);
    expanded.set(ivrs, out);
  }
  return out;
}

function expand(ivrs: Ivrs): IvhdDevices {
  const out: IvhdDevices = { allSegments: new Set(), devices: new Set(), aliases: new Map() };
  const ivhds = ivrs.blocks.filter((b) => b.kind === 'IVHD');
  const top = Math.max(...ivhds.map((b) => b.type), 0);
  for (const b of ivhds) {
    if (b.type !== top) continue;
    const name = (id: number, alias?: number) => {
      out.devices.add(`${b.segment}:${id}`);
      if (alias !== undefined) out.aliases.set(`${b.segment}:${id}`, alias);
    };
    let range: { start: number; alias?: number } | null = null;
    for (const e of b.entries) {
      if (e.type === IVHD_ALL) out.allSegments.add(b.segment);
      else if (e.type === IVHD_SELECT || e.type === IVHD_EXT_SELECT || e.type === IVHD_SPECIAL) {
        name(e.deviceId);
        range = null;
      } else if (e.type === IVHD_ALIAS_SELECT) {
        name(e.deviceId, e.sourceDeviceId);
        range = null;
      } else if (e.type === IVHD_RANGE_START || e.type === IVHD_EXT_RANGE) range = { start: e.deviceId };
      else if (e.type === IVHD_ALIAS_RANGE) range = { start: e.deviceId, alias: e.sourceDeviceId };
      else if (e.type === IVHD_RANGE_END && range) {
        for (let id = range.start; id <= e.deviceId; id++) name(id, range.alias);
        range = null;
      }
    }
  }
  return out;
}
