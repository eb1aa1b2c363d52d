/**
 * Enumerated values of DSP0134 (SMBIOS) and of HPE's OEM records, as the specs name them.
 * Unknown codes are shown as such, never guessed.
 */

/** §7.10.1 System Slot Type. */
export const SLOT_TYPES: Record<number, string> = {
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: 'ISA',
  0x04: 'MCA',
  0x05: 'EISA',
  0x06: 'PCI',
  0x07: 'PC Card (PCMCIA)',
  0x08: 'VL-VESA',
  0x09: 'Proprietary',
  0x0a: 'Processor Card Slot',
  0x0b: 'Proprietary Memory Card Slot',
  0x0c: 'I/O Riser Card Slot',
  0x0d: 'NuBus',
  0x0e: 'PCI - 66MHz Capable',
  0x0f: 'AGP',
  0x10: 'AGP 2X',
  0x11: 'AGP 4X',
  0x12: 'PCI-X',
  0x13: 'AGP 8X',
  0x14: 'M.2 Socket 1-DP (Mechanical Key A)',
  0x15: 'M.2 Socket 1-SD (Mechanical Key E)',
  0x16: 'M.2 Socket 2 (Mechanical Key B)',
  0x17: 'M.2 Socket 3 (Mechanical Key M)',
  0x18: 'MXM Type I',
  0x19: 'MXM Type II',
  0x1a: 'MXM Type III (standard connector)',
  0x1b: 'MXM Type III (HE connector)',
  0x1c: 'MXM Type IV',
  0x1d: 'MXM 3.0 Type A',
  0x1e: 'MXM 3.0 Type B',
  0x1f: 'PCI Express Gen 2 SFF-8639 (U.2)',
  0x20: 'PCI Express Gen 3 SFF-8639 (U.2)',
  0x21: 'PCI Express Mini 52-pin with bottom-side keep-outs',
  0x22: 'PCI Express Mini 52-pin without bottom-side keep-outs',
  0x23: 'PCI Express Mini 76-pin',
  0x24: 'PCI Express Gen 4 SFF-8639 (U.2)',
  0x25: 'PCI Express Gen 5 SFF-8639 (U.2)',
  0x26: 'OCP NIC 3.0 Small Form Factor (SFF)',
  0x27: 'OCP NIC 3.0 Large Form Factor (LFF)',
  0x28: 'OCP NIC Prior to 3.0',
  0x30: 'CXL Flexbus 1.0',
  0xa0: 'PC-98/C20',
  0xa1: 'PC-98/C24',
  0xa2: 'PC-98/E',
  0xa3: 'PC-98/Local Bus',
  0xa4: 'PC-98/Card',
  0xa5: 'PCI Express',
  0xa6: 'PCI Express x1',
  0xa7: 'PCI Express x2',
  0xa8: 'PCI Express x4',
  0xa9: 'PCI Express x8',
  0xaa: 'PCI Express x16',
  0xab: 'PCI Express Gen 2',
  0xac: 'PCI Express Gen 2 x1',
  0xad: 'PCI Express Gen 2 x2',
  0xae: 'PCI Express Gen 2 x4',
  0xaf: 'PCI Express Gen 2 x8',
  0xb0: 'PCI Express Gen 2 x16',
  0xb1: 'PCI Express Gen 3',
  0xb2: 'PCI Express Gen 3 x1',
  0xb3: 'PCI Express Gen 3 x2',
  0xb4: 'PCI Express Gen 3 x4',
  0xb5: 'PCI Express Gen 3 x8',
  0xb6: 'PCI Express Gen 3 x16',
  0xb8: 'PCI Express Gen 4',
  0xb9: 'PCI Express Gen 4 x1',
  0xba: 'PCI Express Gen 4 x2',
  0xbb: 'PCI Express Gen 4 x4',
  0xbc: 'PCI Express Gen 4 x8',
  0xbd: 'PCI Express Gen 4 x16',
  0xbe: 'PCI Express Gen 5',
  0xbf: 'PCI Express Gen 5 x1',
  0xc0: 'PCI Express Gen 5 x2',
  0xc1: 'PCI Express Gen 5 x4',
  0xc2: 'PCI Express Gen 5 x8',
  0xc3: 'PCI Express Gen 5 x16',
  0xc4: 'PCI Express Gen 6 and Beyond',
  0xc5: 'Enterprise and Datacenter 1U E1 Form Factor Slot',
  0xc6: 'Enterprise and Datacenter 3" E3 Form Factor Slot',
};

/** §7.10.2 Slot Data Bus Width. */
export const SLOT_WIDTHS: Record<number, string> = {
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: '8 bit',
  0x04: '16 bit',
  0x05: '32 bit',
  0x06: '64 bit',
  0x07: '128 bit',
  0x08: '1x or x1',
  0x09: '2x or x2',
  0x0a: '4x or x4',
  0x0b: '8x or x8',
  0x0c: '12x or x12',
  0x0d: '16x or x16',
  0x0e: '32x or x32',
};

/** The short lane-count form ("x8") of a width name, as dmidecode before 3.6 prefixed it to the slot type. */
export function shortWidth(name: string): string {
  const m = /^\d+x or (x\d+)$/.exec(name);
  return m ? m[1]! : name.replace(' bit', '-bit');
}

/** §7.10.3 Current Usage. */
export const SLOT_USAGE: Record<number, string> = {
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: 'Available',
  0x04: 'In use',
  0x05: 'Unavailable',
};

/** §7.10.4 Slot Length. */
export const SLOT_LENGTH: Record<number, string> = {
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: 'Short',
  0x04: 'Long',
  0x05: '2.5" drive form factor',
  0x06: '3.5" drive form factor',
};

/** §7.10.6 / §7.10.7 Slot Characteristics 1 and 2, one name per bit. */
export const SLOT_CHARACTERISTICS_1 = ['Unknown', '5.0 V', '3.3 V', 'Shared', 'PC Card 16', 'CardBus', 'Zoom Video', 'Modem Ring Resume'];
export const SLOT_CHARACTERISTICS_2 = ['PME', 'Hot-plug', 'SMBus', 'Bifurcation', 'Async/surprise removal', 'Flexbus CXL 1.0', 'Flexbus CXL 2.0', 'Flexbus CXL 3.0'];

/** §7.42.2 Onboard Device Types (low 7 bits; bit 7 is "enabled"). */
export const ONBOARD_TYPES: Record<number, string> = {
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: 'Video',
  0x04: 'SCSI Controller',
  0x05: 'Ethernet',
  0x06: 'Token Ring',
  0x07: 'Sound',
  0x08: 'PATA Controller',
  0x09: 'SATA Controller',
  0x0a: 'SAS Controller',
  0x0b: 'Wireless LAN',
  0x0c: 'Bluetooth',
  0x0d: 'WWAN',
  0x0e: 'eMMC',
  0x0f: 'NVMe Controller',
  0x10: 'UFS Controller',
};

/** §7.2.2 System wake-up type. */
export const WAKE_UP: Record<number, string> = {
  0x00: 'Reserved',
  0x01: 'Other',
  0x02: 'Unknown',
  0x03: 'APM Timer',
  0x04: 'Modem Ring',
  0x05: 'LAN Remote',
  0x06: 'Power Switch',
  0x07: 'PCI PME#',
  0x08: 'AC Power Restored',
};

/** HPE type 203 Device Type. */
export const HPE_DEVICE_TYPES: Record<number, string> = {
  0x00: 'Unknown',
  0x03: 'Flexible LOM',
  0x04: 'Embedded LOM',
  0x05: 'NIC in a Slot',
  0x06: 'Storage Controller',
  0x07: 'Smart Array Storage Controller',
  0x08: 'USB Hard Disk',
  0x09: 'Other PCI Device',
  0x0a: 'RAM Disk',
  0x0b: 'Firmware Volume',
  0x0c: 'UEFI Shell',
  0x0d: 'Generic UEFI USB Boot Entry',
  0x0e: 'Dynamic Smart Array Controller',
  0x0f: 'File',
  0x10: 'NVME Hard Drive',
  0x11: 'NVDIMM',
};

/** HPE type 203 Device Location. */
export const HPE_DEVICE_LOCATIONS: Record<number, string> = {
  0x00: 'Unknown',
  0x01: 'Embedded',
  0x02: 'iLO Virtual Media',
  0x03: 'Front USB Port',
  0x04: 'Rear USB Port',
  0x05: 'Internal USB',
  0x06: 'Internal SD Card',
  0x07: 'Internal Virtual USB (Embedded NAND)',
  0x08: 'Embedded SATA Port',
  0x09: 'Embedded Smart Array',
  0x0a: 'PCI Slot',
  0x0b: 'RAM Memory',
  0x0c: 'USB',
  0x0d: 'Dynamic Smart Array Controller',
  0x0e: 'URL',
  0x0f: 'NVMe Drive Bay',
  0x10: 'NVDIMM Processor',
  0x11: 'NVDIMM Board',
  0x12: 'NVMe Riser',
  0x13: 'NVDIMM Name Space',
  0x14: 'VROC SATA',
  0x15: 'VROC NVMe',
};

export function nameOf(table: Record<number, string>, code: number): string {
  return table[code] ?? `Unknown (0x${code.toString(16).padStart(2, '0')})`;
}
