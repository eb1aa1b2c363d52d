/** ACS Capability/Control bits (PCIe Base §7.7.11) and the set Linux requires for isolation. */
export const ACS_SV = 0x01; // Source Validation
export const ACS_TB = 0x02; // Translation Blocking
export const ACS_RR = 0x04; // P2P Request Redirect
export const ACS_CR = 0x08; // P2P Completion Redirect
export const ACS_UF = 0x10; // Upstream Forwarding
export const ACS_EC = 0x20; // P2P Egress Control
export const ACS_DT = 0x40; // Direct Translated P2P

/** drivers/iommu/iommu.c REQ_ACS_FLAGS: what pci_device_group asks of every hop. */
export const REQ_ACS_FLAGS = ACS_SV | ACS_RR | ACS_CR | ACS_UF;

/** lspci's short names, in bit order. */
const NAMES: Array<[number, string]> = [
  [ACS_SV, 'SrcValid'],
  [ACS_TB, 'TransBlk'],
  [ACS_RR, 'ReqRedir'],
  [ACS_CR, 'CmpltRedir'],
  [ACS_UF, 'UpstreamFwd'],
  [ACS_EC, 'EgressCtrl'],
  [ACS_DT, 'DirectTrans'],
];

export function acsNames(bits: number): string[] {
  return NAMES.filter(([b]) => (bits & b) !== 0).map(([, n]) => n);
}
