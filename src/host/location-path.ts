/**
 * The Windows location path, the handle `Dismount-VMHostAssignableDevice -LocationPath` takes
 * (../shared/docs/windows-dda.md §3): `PCIROOT(<root bus, upper-case hex, no padding>)`, then
 * `#PCI(<device %02X><function %02X>)` for every function from the root bus down to the device,
 * inclusive. Bus numbers below the root never appear. The path carries no PCI segment, and
 * devices behind Intel VMD do not follow the rule: both give null with the reason.
 */
import type { PciAddress } from '../firmware/pci/lspci-text.js';

export interface LocationPathResult {
  path: string | null;
  reason: string | null;
}

/** Linux numbers VMD's own PCI domains from 0x10000 (drivers/pci/controller/vmd.c). */
const VMD_DOMAIN_BASE = 0x10000;

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** `chain`: the functions from the one on the root bus down to the device, root first. */
export function locationPathOf(chain: PciAddress[]): LocationPathResult {
  if (chain.length === 0) return { path: null, reason: 'no function given' };
  const seg = chain[0]!.segment;
  if (seg >= VMD_DOMAIN_BASE) return { path: null, reason: `behind Intel VMD (PCI domain ${seg.toString(16)}): Windows location paths do not follow the bus rule there` };
  if (chain.some((a) => a.segment !== seg)) return { path: null, reason: 'the path crosses PCI segments' };
  if (seg !== 0) return { path: null, reason: `PCI segment ${seg}: a location path has no segment, so on a multi-segment host it is ambiguous` };
  const root = `PCIROOT(${chain[0]!.bus.toString(16).toUpperCase()})`;
  return { path: root + chain.map((a) => `#PCI(${hex2(a.device)}${hex2(a.function)})`).join(''), reason: null };
}

export interface ParsedLocationPath {
  rootBus: number;
  hops: Array<{ device: number; function: number }>;
}

/** `PCIROOT(40)#PCI(0200)#PCI(0000)` → root bus and hops; a non-PCI tail (`#SCSI(…)`) is ignored; null if not a PCI path. */
export function parseLocationPath(text: string): ParsedLocationPath | null {
  const t = text.trim().toUpperCase();
  const root = /^PCIROOT\(([0-9A-F]{1,4})\)/.exec(t);
  if (!root) return null;
  const hops: ParsedLocationPath['hops'] = [];
  let rest = t.slice(root[0].length);
  for (;;) {
    const m = /^#PCI\(([0-9A-F]{2})([0-9A-F]{2})\)/.exec(rest);
    if (!m) break;
    hops.push({ device: parseInt(m[1]!, 16), function: parseInt(m[2]!, 16) });
    rest = rest.slice(m[0].length);
  }
  if (hops.length === 0) return null;
  return { rootBus: parseInt(root[1]!, 16), hops };
}

/** The PCI part of a location path (what the DDA cmdlets take for a PCI function), upper-cased. */
export function pciPart(text: string): string | null {
  const p = parseLocationPath(text);
  if (!p) return null;
  return `PCIROOT(${p.rootBus.toString(16).toUpperCase()})` + p.hops.map((h) => `#PCI(${hex2(h.device)}${hex2(h.function)})`).join('');
}
