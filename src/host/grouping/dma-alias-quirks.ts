/**
 * The kernel's DMA-alias quirks (drivers/pci/quirks.c, header fixups): devices that issue DMA with
 * another function's requester ID, so the IOMMU cannot tell them apart and they share a group.
 * Aliases are devfns on the device's own bus (pci_add_dma_alias). Data from the team's reading
 * of 5.4.301–6.12.19 (iommu-groups §9).
 */
import { idIn, type IdSet } from './acs-quirks.js';

export type AliasRule =
  /** quirk_dma_func0_alias: function 0 of the same slot. */
  | { kind: 'function'; fn: number }
  /** quirk_fixed_dma_alias / quirk_mic_x200_dma_alias: fixed devfns (slot, function). */
  | { kind: 'devfns'; devfns: ReadonlyArray<readonly [number, number]> }
  /** quirk_pex_vca_alias: functions 0–4 of every slot. */
  | { kind: 'every-slot'; functions: number }
  /** quirk_plx_ntb_dma_alias: all 256 devfns of its bus. */
  | { kind: 'whole-bus' }
  /** quirk_switchtec_ntb_dma_alias: proxy IDs from the NTB's MMIO tables, not in config space. */
  | { kind: 'mmio-unknown' }
  /** quirk_bridge_cavm_thrx2_pcie_root: PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT, the alias walk stops here. */
  | { kind: 'xlate-root' };

export interface AliasQuirkRow {
  name: string;
  vendor: number;
  devices: IdSet;
  /** Only with this subsystem (vendor, device). */
  subsystem?: readonly [number, number];
  /** Only for this class (base << 8 | sub). */
  classBaseSub?: number;
  rule: AliasRule;
  label: string;
}

const r = (a: number, b: number) => [a, b] as const;

/** Microsemi Switchtec NTB IDs (the 5.4.301 tree has only the 85xx ones). */
const SWITCHTEC: number[] = [];
for (let n = 3; n <= 7; n++) for (let m = 1; m <= 6; m++) SWITCHTEC.push(0x8500 + n * 0x10 + m);
for (let n = 0; n <= 5; n++) {
  const lows = n <= 2 ? [0x00, 0x84, 0x68, 0x52, 0x36, 0x28] : [0x52, 0x36, 0x28];
  for (const l of lows) SWITCHTEC.push(0x4000 + n * 0x100 + l);
  for (const l of [0x00, 0x84, 0x68, 0x52, 0x36, 0x28]) SWITCHTEC.push(0x5000 + n * 0x100 + l);
}

export const DMA_ALIAS_QUIRKS: readonly AliasQuirkRow[] = [
  { name: 'quirk_dma_func0_alias', vendor: 0x1180, devices: [0xe832, 0xe476], rule: { kind: 'function', fn: 0 }, label: 'Ricoh card readers' },
  { name: 'quirk_dma_func0_alias', vendor: 0x6766, devices: [0x3d40, 0x3d41], rule: { kind: 'function', fn: 0 }, label: 'Glenfly' },
  {
    name: 'quirk_dma_func1_alias', vendor: 0x1b4b, rule: { kind: 'function', fn: 1 }, label: 'Marvell SATA',
    devices: [0x9120, 0x9123, 0x9125, 0x9128, 0x9130, 0x9170, 0x9172, 0x917a, 0x9182, 0x9183, 0x91a0, 0x9215, 0x9220, 0x9230, 0x9235],
  },
  { name: 'quirk_dma_func1_alias', vendor: 0x1103, devices: [0x0642, 0x0645], rule: { kind: 'function', fn: 1 }, label: 'HighPoint (TTI)' },
  { name: 'quirk_dma_func1_alias', vendor: 0x197b, devices: [0x2392], rule: { kind: 'function', fn: 1 }, label: 'JMicron JMB388' },
  { name: 'quirk_dma_func1_alias', vendor: 0x1c28, devices: [0x0122], rule: { kind: 'function', fn: 1 }, label: 'Lite-On/Plextor' },
  { name: 'quirk_fixed_dma_alias', vendor: 0x9005, devices: [0x0285], subsystem: [0x9005, 0x02bb], rule: { kind: 'devfns', devfns: [[1, 0]] }, label: 'Adaptec 3405' },
  { name: 'quirk_fixed_dma_alias', vendor: 0x9005, devices: [0x0285], subsystem: [0x9005, 0x02bc], rule: { kind: 'devfns', devfns: [[1, 0]] }, label: 'Adaptec 3805' },
  { name: 'quirk_mic_x200_dma_alias', vendor: 0x8086, devices: [0x2260, 0x2264], rule: { kind: 'devfns', devfns: [[0x10, 0], [0x11, 0], [0x12, 3]] }, label: 'Intel MIC x200' },
  { name: 'quirk_pex_vca_alias', vendor: 0x8086, devices: [0x2954, 0x2955, 0x2956, 0x2958, 0x2959, 0x295a], rule: { kind: 'every-slot', functions: 5 }, label: 'Intel VCA' },
  { name: 'quirk_switchtec_ntb_dma_alias', vendor: 0x11f8, devices: SWITCHTEC, classBaseSub: 0x0680, rule: { kind: 'mmio-unknown' }, label: 'Microsemi Switchtec NTB' },
  { name: 'quirk_switchtec_ntb_dma_alias', vendor: 0x1055, devices: [r(0x1001, 0x1006)], classBaseSub: 0x0680, rule: { kind: 'mmio-unknown' }, label: 'EFAR Switchtec NTB' },
  { name: 'quirk_plx_ntb_dma_alias', vendor: 0x10b5, devices: [0x87b0, 0x87b1], rule: { kind: 'whole-bus' }, label: 'PLX NTB' },
  { name: 'quirk_bridge_cavm_thrx2_pcie_root', vendor: 0x14e4, devices: [0x9000, 0x9084], rule: { kind: 'xlate-root' }, label: 'Broadcom Vulcan / Cavium ThunderX2 root' },
];

export function aliasQuirkFor(vendor: number, device: number, subsystem: readonly [number | null, number | null], classCode: number): AliasQuirkRow | undefined {
  return DMA_ALIAS_QUIRKS.find(
    (q) =>
      q.vendor === vendor &&
      idIn(q.devices, device) &&
      (!q.subsystem || (q.subsystem[0] === subsystem[0] && q.subsystem[1] === subsystem[1])) &&
      (q.classBaseSub === undefined || classCode >> 8 === q.classBaseSub),
  );
}
