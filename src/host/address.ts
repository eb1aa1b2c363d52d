/** PCI addresses: "0000:06:00.0" everywhere in the model and the JSON. */
import type { PciAddress } from '../firmware/pci/lspci-text.js';

const h2 = (n: number) => n.toString(16).padStart(2, '0');
/** Four lower-case hex digits, as lspci -n and pci.ids write a segment, vendor or device id. */
export const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** "vvvv:dddd", as lspci -nn, vfio-pci's ids= and Proxmox's mappings write a function's ids. */
export const vendorDevice = (c: { vendorId: number; deviceId: number }) => `${hex4(c.vendorId)}:${hex4(c.deviceId)}`;

export function formatAddress(a: PciAddress): string {
  return `${hex4(a.segment)}:${h2(a.bus)}:${h2(a.device)}.${a.function}`;
}

export function makeAddress(segment: number, bus: number, device: number, fn: number): string {
  return formatAddress({ segment, bus, device, function: fn });
}

/** "0000:06:00.0" or "06:00.0" (segment 0) → address; null if not an address. */
export function parseAddress(text: string): PciAddress | null {
  const m = /^(?:([0-9a-fA-F]{4,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(text.trim());
  if (!m) return null;
  return { segment: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2]!, 16), device: parseInt(m[3]!, 16), function: Number(m[4]) };
}

/** The "bus:dev" part, which names a slot or a multi-function device. */
export function deviceKey(a: PciAddress): string {
  return `${hex4(a.segment)}:${h2(a.bus)}:${h2(a.device)}`;
}
