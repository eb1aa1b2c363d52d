/** PCI class names (PCI Code and ID Assignment Specification), base class and sub-class. */
const BASE: Record<number, string> = {
  0x00: 'Unclassified device',
  0x01: 'Mass storage controller',
  0x02: 'Network controller',
  0x03: 'Display controller',
  0x04: 'Multimedia controller',
  0x05: 'Memory controller',
  0x06: 'Bridge',
  0x07: 'Communication controller',
  0x08: 'Generic system peripheral',
  0x09: 'Input device controller',
  0x0a: 'Docking station',
  0x0b: 'Processor',
  0x0c: 'Serial bus controller',
  0x0d: 'Wireless controller',
  0x0e: 'Intelligent controller',
  0x0f: 'Satellite communications controller',
  0x10: 'Encryption controller',
  0x11: 'Signal processing controller',
  0x12: 'Processing accelerators',
  0x13: 'Non-Essential Instrumentation',
  0x40: 'Coprocessor',
  0xff: 'Unassigned class',
};
const SUB: Record<number, string> = {
  0x0100: 'SCSI storage controller',
  0x0101: 'IDE interface',
  0x0104: 'RAID bus controller',
  0x0105: 'ATA controller',
  0x0106: 'SATA controller',
  0x0107: 'Serial Attached SCSI controller',
  0x0108: 'Non-Volatile memory controller',
  0x0200: 'Ethernet controller',
  0x0280: 'Network controller',
  0x0300: 'VGA compatible controller',
  0x0301: 'XGA compatible controller',
  0x0302: '3D controller',
  0x0380: 'Display controller',
  0x0401: 'Multimedia audio controller',
  0x0403: 'Audio device',
  0x0500: 'RAM memory',
  0x0580: 'Memory controller',
  0x0600: 'Host bridge',
  0x0601: 'ISA bridge',
  0x0604: 'PCI bridge',
  0x0607: 'CardBus bridge',
  0x0680: 'Bridge',
  0x0800: 'PIC',
  0x0805: 'SD Host controller',
  0x0806: 'IOMMU',
  0x0880: 'System peripheral',
  0x0c03: 'USB controller',
  0x0c04: 'Fibre Channel',
  0x0c05: 'SMBus',
  0x0c06: 'InfiniBand',
  0x1101: 'Performance counters',
  0x1180: 'Signal processing controller',
  0x1200: 'Processing accelerators',
};

export function className(classCode: number): string {
  const baseSub = classCode >> 8;
  return SUB[baseSub] ?? BASE[baseSub >> 8] ?? `Class ${baseSub.toString(16).padStart(4, '0')}`;
}

/** A bridge to a secondary PCI bus (type 1 header): PCI-to-PCI and CardBus bridges. */
export function isPciBridgeClass(classCode: number): boolean {
  const bs = classCode >> 8;
  return bs === 0x0604 || bs === 0x0609 || bs === 0x0607;
}
