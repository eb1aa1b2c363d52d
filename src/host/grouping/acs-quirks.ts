/**
 * The kernel's device-specific ACS answers (drivers/pci/quirks.c `pci_dev_acs_enabled[]`), as
 * data, in the kernel's table order: the first row whose vendor and device match and whose rule
 * gives an opinion decides, before any capability is read. Rows, IDs and arrival releases from
 * the team's reading of 5.4.301, 5.10.265, 5.15.215, 6.1.192 and 6.12.19 (docs of the project:
 * iommu-groups §4); the rule bodies are paraphrased in ./acs.ts.
 */
import type { Arrival } from './kernel-version.js';

export type AcsQuirkRule =
  /** pci_quirk_amd_sb_acs: multifunction on a root bus, with an IVRS table → RR and CR granted. */
  | 'amd-sb'
  /** pci_quirk_mf_endpoint_acs: functions of a multi-function endpoint that do not talk to each other. */
  | 'mf-endpoint'
  /** pci_quirk_rciep_acs: a Root Complex integrated Endpoint (PCIe type 9) is isolated. */
  | 'rciep'
  /** pci_quirk_qcom_rp_acs / xgene / brcm / nxp_rp / loongson: isolated, whatever its type. */
  | 'isolated'
  /** pci_quirk_intel_pch_acs: a listed PCH Root Port is isolated only once the enable quirk ran. */
  | 'intel-pch'
  /** pci_quirk_intel_spt_pch_acs: ACS registers laid out as dwords; Control is the dword at +8. */
  | 'intel-spt'
  /** pci_quirk_cavium_acs: ThunderX Root Ports. */
  | 'cavium'
  /** pci_quirk_al_acs: Annapurna Labs Root Ports. */
  | 'amazon-rp'
  /** pci_quirk_zhaoxin_pcie_ports_acs: listed RP/DSP isolated, every other Zhaoxin RP/DSP not. */
  | 'zhaoxin-ports'
  /** pci_quirk_wangxun_nic_acs: listed NICs isolated, every other Wangxun device not. */
  | 'wangxun'
  /** The out-of-tree pcie_acs_override patch (Proxmox VE, linux-zen): its own row, see ./override.ts. */
  | 'pve-override';

/** Device IDs: a list, inclusive ranges, or every device of the vendor. */
export type IdSet = 'any' | ReadonlyArray<number | readonly [number, number]>;

export interface AcsQuirkRow {
  /** The kernel's function name, so a reader can find the row. */
  name: string;
  vendor: number | 'any';
  devices: IdSet;
  rule: AcsQuirkRule;
  /** Which device IDs the rule itself accepts (intel-pch, intel-spt, cavium, zhaoxin, wangxun), by arrival. */
  ruleIds?: ReadonlyArray<{ ids: IdSet; arrival: Arrival }>;
  arrival: Arrival;
  label?: string;
}

const INTEL = 0x8086;
const TREES = 'drivers/pci/quirks.c';

const r = (a: number, b: number) => [a, b] as const;

/** Intel PCH Root Ports the pch quirk knows (pci_quirk_intel_pch_acs_ids[]), by family. */
export const INTEL_PCH_ROOT_PORTS: ReadonlyArray<{ family: string; ids: IdSet }> = [
  { family: 'Ibexpeak (5 series / 3400)', ids: [r(0x3b42, 0x3b51)] },
  { family: 'Cougarpoint (6 series / C200)', ids: [r(0x1c10, 0x1c1f)] },
  { family: 'Pantherpoint (7 series / C216)', ids: [r(0x1e10, 0x1e1f)] },
  { family: 'Lynxpoint-H (8 series / C220)', ids: [r(0x8c10, 0x8c1f)] },
  { family: 'Lynxpoint-LP (8 series mobile)', ids: [r(0x9c10, 0x9c1b)] },
  { family: 'Wildcat Point-LP (9 series mobile)', ids: [r(0x9c90, 0x9c9b)] },
  { family: 'Patsburg (C600/X79)', ids: [0x1d10, 0x1d12, 0x1d14, 0x1d16, 0x1d18, 0x1d1a, 0x1d1c, 0x1d1e] },
  { family: 'Wellsburg (C610/X99)', ids: [r(0x8d10, 0x8d1e)] },
  { family: 'Lynx Point (9 series desktop)', ids: [0x8c90, 0x8c92, 0x8c94, 0x8c96, 0x8c98, 0x8c9a, 0x8c9c, 0x8c9e] },
];

/** Sunrise Point-H, Union Point and 7th/8th-gen mobile Root Ports (pci_quirk_intel_spt_pch_acs_match). */
export const INTEL_SPT_ROOT_PORTS: IdSet = [r(0xa110, 0xa11f), r(0xa167, 0xa16a), r(0xa290, 0xa29f), r(0xa2e7, 0xa2ee), r(0x9d10, 0x9d1b)];

export const ACS_QUIRKS: readonly AcsQuirkRow[] = [
  { name: 'pci_quirk_amd_sb_acs', vendor: 0x1002, devices: [0x4385, 0x439c, 0x4383, 0x439d, 0x4384, 0x4399], rule: 'amd-sb', label: 'AMD SBx00 southbridge functions', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_amd_sb_acs', vendor: 0x1022, devices: [0x780f, 0x7809], rule: 'amd-sb', label: 'AMD FCH PCI bridge / OHCI', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x1924, devices: [0x0903, 0x0923, 0x0a03], rule: 'mf-endpoint', label: 'Solarflare', arrival: { mainline: null, source: TREES } },
  {
    name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, rule: 'mf-endpoint', label: 'Intel 10G/1G NICs',
    devices: [0x10c6, 0x10db, 0x10dd, 0x10e1, 0x10f1, 0x10f7, 0x10f8, 0x10f9, 0x10fa, 0x10fb, 0x10fc, 0x1507, 0x1514, 0x151c, 0x1529, 0x152a, 0x154d, 0x154f, 0x1551, 0x1558],
    arrival: { mainline: null, source: TREES },
  },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x1509, 0x150e, 0x150f, 0x1510, 0x1511, 0x1516, 0x1527], rule: 'mf-endpoint', label: 'Intel 82580', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x10c9, 0x10e6, 0x10e7, 0x10e8, 0x150a, 0x150d, 0x1518, 0x1526], rule: 'mf-endpoint', label: 'Intel 82576', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x10a7, 0x10a9, 0x10d6], rule: 'mf-endpoint', label: 'Intel 82575', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x1521, 0x1522, 0x1523, 0x1524], rule: 'mf-endpoint', label: 'Intel I350', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x105e, 0x105f, 0x1060, 0x10d9], rule: 'mf-endpoint', label: 'Intel 82571 (not the quad-port parts)', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: INTEL, devices: [0x15b7, 0x15b8], rule: 'mf-endpoint', label: 'Intel I219', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_rciep_acs', vendor: INTEL, devices: 'any', rule: 'rciep', label: 'Intel Root Complex integrated Endpoints', arrival: { mainline: [5, 8], backported: [[5, 4]], source: 'commit 3247bd10a450; absent in 5.4.0, present in 5.8.0 and in 5.4.301' } },
  { name: 'pci_quirk_qcom_rp_acs', vendor: 0x17cb, devices: [0x0400, 0x0401], rule: 'isolated', label: 'Qualcomm QDF2xxx Root Ports', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_qcom_rp_acs', vendor: 0x17cb, devices: [0x0115], rule: 'isolated', label: 'Qualcomm SA8775P', arrival: { mainline: [6, 12], backported: [[5, 4], [5, 10], [5, 15], [6, 1], [6, 6]], source: '"PCI: Add ACS quirk for Qualcomm SA8775P", Sep 2024, AUTOSEL back-ports' } },
  { name: 'pci_quirk_qcom_rp_acs', vendor: 0x1dbf, devices: [0x0401], rule: 'isolated', label: 'HXT SD4800', arrival: { mainline: null, source: 'commit 01926f6b321b' } },
  {
    name: 'pci_quirk_intel_pch_acs', vendor: INTEL, devices: 'any', rule: 'intel-pch', label: 'Intel PCH Root Ports',
    arrival: { mainline: null, source: 'list unchanged 5.4.301–6.12.19' },
  },
  { name: 'pci_quirk_intel_spt_pch_acs', vendor: INTEL, devices: 'any', rule: 'intel-spt', label: 'Intel Sunrise/Union Point Root Ports', arrival: { mainline: null, source: 'unchanged 5.4.301–6.12.19' } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x19a2, devices: [0x0710], rule: 'mf-endpoint', label: 'Emulex BE3-R', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x10df, devices: [0x0720], rule: 'mf-endpoint', label: 'Emulex Skyhawk-R', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_cavium_acs', vendor: 0x177d, devices: 'any', rule: 'cavium', label: 'Cavium ThunderX Root Ports', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x177d, devices: [0xa026, 0xa059, 0xa060], rule: 'mf-endpoint', label: 'Cavium', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_xgene_acs', vendor: 0x10e8, devices: [0xe004], rule: 'isolated', label: 'APM X-Gene', arrival: { mainline: null, source: TREES } },
  // The Proxmox VE / linux-zen patch puts its ANY/ANY row here: every row above answers first.
  { name: 'pcie_acs_overrides', vendor: 'any', devices: 'any', rule: 'pve-override', label: 'pcie_acs_override (out-of-tree patch)', arrival: { mainline: [4, 15], source: 'proxmox/pve-kernel patch 0004 "pci: Enable overrides for missing ACS capabilities (4.15)", the same on the pve-kernel-5.4 to master branches' } },
  { name: 'pci_quirk_xgene_acs', vendor: 0x1def, devices: [r(0xe005, 0xe00c)], rule: 'isolated', label: 'Ampere Root Ports', arrival: { mainline: null, source: TREES } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x14e4, devices: [0x16d7], rule: 'mf-endpoint', label: 'Broadcom BCM57414', arrival: { mainline: null, source: 'commit db2f77e2bd99' } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x14e4, devices: [0x1750, 0x1751, 0x1752, 0x1760, 0x1761, 0x1762, 0x1763], rule: 'mf-endpoint', label: 'Broadcom BCM5760X', arrival: { mainline: [6, 11], source: 'Linux 6.11' } },
  { name: 'pci_quirk_brcm_acs', vendor: 0x14e4, devices: [0xd714], rule: 'isolated', label: 'Broadcom iProc PAXB Root Port', arrival: { mainline: null, source: 'commit 46b2c32df7a4' } },
  { name: 'pci_quirk_al_acs', vendor: 0x1c36, devices: [0x0031], rule: 'amazon-rp', label: 'Amazon Annapurna Labs Root Port', arrival: { mainline: null, source: 'commit 76e67e9e0f0f' } },
  { name: 'pci_quirk_mf_endpoint_acs', vendor: 0x1d17, devices: [0x3038, 0x3104, 0x9083], rule: 'mf-endpoint', label: 'Zhaoxin', arrival: { mainline: null, source: 'commit 0325837c51cb' } },
  {
    name: 'pci_quirk_nxp_rp_acs', vendor: 0x1957, rule: 'isolated', label: 'NXP LX2xx0/LX2xx2 Root Ports',
    devices: [r(0x8d80, 0x8d83), r(0x8d88, 0x8d8b), r(0x8d90, 0x8d93), r(0x8d98, 0x8d9b), 0x8da0, 0x8da1, 0x8da8, 0x8da9, 0x8db0, 0x8db1, 0x8db8, 0x8db9],
    arrival: { mainline: [5, 15], source: 'absent in 5.13, present in 5.15' },
  },
  {
    name: 'pci_quirk_zhaoxin_pcie_ports_acs', vendor: 0x1d17, devices: 'any', rule: 'zhaoxin-ports', label: 'Zhaoxin Root/Downstream Ports',
    ruleIds: [
      { ids: [r(0x0710, 0x071e), 0x0721, r(0x0723, 0x0732)], arrival: { mainline: [5, 8], backported: [[5, 4]], source: 'commit 299bd044a6f3; absent in 5.4.0, present in 5.8.0' } },
      { ids: [r(0x0733, 0x0752)], arrival: { mainline: [6, 8], backported: [[5, 10], [5, 15], [6, 1], [6, 6]], source: 'commit e367e3c765f5 "PCI: Add ACS quirk for more Zhaoxin Root Ports"; 5.4.301 still stops at 0732' } },
    ],
    arrival: { mainline: [5, 8], backported: [[5, 4]], source: 'commit 299bd044a6f3; absent in 5.4.0, present in 5.8.0' },
  },
  {
    name: 'pci_quirk_wangxun_nic_acs', vendor: 0x8088, devices: 'any', rule: 'wangxun', label: 'Wangxun NICs',
    ruleIds: [
      { ids: [r(0x0100, 0x010f), 0x1001, 0x2001], arrival: { mainline: [6, 3], source: 'Wangxun ACS quirk, Feb 2023' } },
      { ids: [0x5010, 0x5025, 0x5040, 0x5110, 0x5125, 0x5140], arrival: { mainline: [6, 13], backported: [[6, 12], [6, 1]], source: 'commit aa46a3736afc "Add ACS quirk for Wangxun FF5xxx NICs"' } },
    ],
    arrival: { mainline: [6, 3], source: 'Wangxun ACS quirk, Feb 2023' },
  },
  // Mainline 2025–2026, back-ported to some stable trees; the mainline release is not pinned.
  {
    name: 'pci_quirk_loongson_acs', vendor: 0x0014, devices: [0x3c09, 0x3c19, 0x3c29, 0x7a09, 0x7a19, 0x7a29, 0x7a39, 0x7a49, 0x7a59, 0x7a69], rule: 'isolated', label: 'Loongson Root Ports',
    arrival: { mainline: null, after: [6, 12], backported: [[5, 4], [5, 10], [5, 15], [6, 1], [6, 6], [6, 12]], source: 'commit 1f3303aa92e1 (2025; in 5.4.301, 5.10.265, 5.15.215, 6.1.192; not in 6.12.19)' },
  },
  {
    name: 'pci_quirk_qcom_rp_acs', vendor: 0x17cb, devices: [0x0111, 0x0120], rule: 'isolated', label: 'Qualcomm Hamoa, Glymur',
    arrival: { mainline: null, after: [6, 12], backported: [[5, 10], [5, 15], [6, 1], [6, 6], [6, 12]], source: '"PCI: Add ACS quirk for Qualcomm Hamoa & Glymur", Jan 2026' },
  },
];

/** PCH ACS enable-quirk regressions (iommu-groups §3.3): kernels whose PCH Root Ports lost isolation. */
export const PCH_ENABLE_REGRESSIONS: ReadonlyArray<{ from: readonly [number, number, number]; to: readonly [number, number, number]; what: string; patchKnown: boolean; rcUpTo?: number }> = [
  { from: [5, 9, 0], to: [5, 9, 999], what: 'Linux 5.9 ran the enable quirk only for devices with an ACS capability (fixed by "PCI: Always enable ACS even if no ACS Capability"; the 5.9.y release with the fix is not pinned)', patchKnown: false },
  { from: [6, 11, 0], to: [6, 11, 6], what: 'Linux 6.11.0–6.11.6 returned early for devices without an ACS capability (fixed by f3c3ccc4fe49 in 6.11.7 and 6.12)', patchKnown: true },
  // The same change in the 6.12 release candidates, until the fix (pull pci-v6.12-fixes-2) in rc6.
  { from: [6, 12, 0], to: [6, 12, 0], rcUpTo: 5, what: 'Linux 6.12-rc1 to rc5 returned early for devices without an ACS capability (fixed by f3c3ccc4fe49 before 6.12)', patchKnown: true },
];

export function idIn(set: IdSet, id: number): boolean {
  if (set === 'any') return true;
  return set.some((e) => (typeof e === 'number' ? e === id : id >= e[0] && id <= e[1]));
}
