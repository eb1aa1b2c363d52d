/** What the function is: host bridge, bridge/port, conventional PCI, legacy or integrated endpoint. */
import type { Device } from '../host/model.js';
import { finding, type Finding } from './finding.js';

export function checkType(d: Device): Finding[] {
  if (d.isHostBridge) return [finding('HOST_BRIDGE', d.address, 'The host bridge: part of the CPU/chipset, never passed through.')];
  if (d.isBridge) return [finding('BRIDGE', d.address, 'A PCI bridge or PCI Express port: it stays with the host; the devices behind it are what can be passed through.')];
  const c = d.config;
  // Windows publishes no config space: its DeviceType decides, in checkDda.
  if (d.configSource === 'windows-pnp' || d.configSource === 'surveydda') return [];
  if (c.capabilities === undefined) {
    // Say where the gap comes from: a non-root sysfs read, lspci without root, or a paste with no config space at all.
    if (d.configSource === 'bytes') return [finding('CAPABILITIES_UNKNOWN', d.address, 'Only the first 64 bytes of its configuration space were readable: MSI, reset and PCIe capabilities are unknown.', ['config space: 64 bytes (run as root, or capture lspci -vvv as root)'])];
    return [finding('CAPABILITIES_UNKNOWN', d.address, 'The lspci text gives no capability list for it (lspci run without root, or a listing such as lspci -mm or an IOMMU group list): MSI, reset and PCIe capabilities are unknown.', ['capabilities: not in the input (paste lspci -nnvvv run as root)'])];
  }
  if (c.pcie === null) {
    return [finding('CONVENTIONAL_PCI', d.address, 'A conventional PCI function (no PCI Express capability): Hyper-V refuses it ("Old-style PCI device, switch port, etc.  Not assignable."); under VFIO it shares a group with everything behind the same PCIe-to-PCI bridge.')];
  }
  const pt = c.pcie?.portType;
  if (pt === 1) {
    if (d.classCode >> 16 === 0x03) return [finding('LEGACY_GRAPHICS_ENDPOINT', d.address, 'A PCI Express legacy endpoint (graphics): Hyper-V allows it ("Legacy Express Endpoint -- graphics controller.").')];
    return [finding('LEGACY_ENDPOINT', d.address, 'A PCI Express legacy endpoint: Hyper-V refuses it ("Legacy, non-VGA PCI device.  Not assignable.").')];
  }
  if (pt === 9) return [finding('INTEGRATED_ENDPOINT', d.address, 'A root-complex integrated endpoint (part of the chipset or CPU): Hyper-V calls it "Embedded Endpoint -- less secure."')];
  return [];
}
