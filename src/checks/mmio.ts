/** MMIO a VM must provide, split low (32-bit BARs) and high (64-bit BARs), as Set-VM and QEMU values. */
import { byteSize } from '../firmware/format.js';
import type { Device } from '../host/model.js';
import { finding, type Finding } from './finding.js';

/**
 * MMIO a VM must provide: 32-bit BARs below 4 GiB, 64-bit BARs above. Each BAR is
 * naturally aligned, so sizes are summed after rounding to their own power of two.
 */
export function mmioNeed(d: Device): { low: bigint; high: bigint } | null {
  if (!d.bars) return null;
  let low = 0n;
  let high = 0n;
  for (const b of d.bars) {
    if (b.kind !== 'memory' || b.size === 0n) continue;
    let p = 1n;
    while (p < b.size) p <<= 1n;
    if (b.is64) high += p;
    else low += p;
  }
  return { low, high };
}

const MIB = 1n << 20n;
const ceilMiB = (n: bigint) => (n + MIB - 1n) / MIB;

/** QEMU's q35 default 64-bit PCI hole (Q35_PCI_HOST_HOLE64_SIZE_DEFAULT, hw/pci-host/q35.c): 32 GiB. */
export const QEMU_Q35_HOLE64_DEFAULT = 1n << 35n;
/** 64-bit BARs from this total on are "large": vm-config then gives the window explicitly. */
export const LARGE_BARS = 1n << 30n;

export function nextPow2(n: bigint): bigint {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
}

/**
 * The 64-bit window for BARs taking `bars64` (aligned): twice that (room for the VM's own
 * devices and the root ports' alignment), rounded up to a power of two, never below QEMU's
 * default — never a fraction: OVMF's X-PciMmio64Mb takes whole MiB and aligns the aperture
 * to its size. null below LARGE_BARS.
 */
export function window64For(bars64: bigint): bigint | null {
  if (bars64 < LARGE_BARS) return null;
  const w = nextPow2(bars64 * 2n);
  return w < QEMU_Q35_HOLE64_DEFAULT ? QEMU_Q35_HOLE64_DEFAULT : w;
}

/** "32G", "512M", "1T": the largest binary unit that divides it, as QEMU's size options take them. */
export function qemuSize(n: bigint): string {
  for (const [unit, shift] of [['T', 40n], ['G', 30n], ['M', 20n], ['K', 10n]] as const) {
    if (n % (1n << shift) === 0n) return `${n >> shift}${unit}`;
  }
  return String(n);
}

export function checkMmio(d: Device): Finding[] {
  if (d.isBridge || d.isHostBridge) return [];
  const m = mmioNeed(d);
  if (!m || (m.low === 0n && m.high === 0n)) return [];
  // Hyper-V's defaults (128 MiB low, 512 MiB high) stay as headroom, as Microsoft advises.
  const lowMb = ceilMiB(m.low) + 128n;
  const highMb = ceilMiB(m.high) + 512n;
  const ev = [`32-bit BARs: ${byteSize(m.low)}; 64-bit BARs: ${byteSize(m.high)}`];
  const fixes = [
    { rank: 1, title: 'Hyper-V', risk: 'none' as const, detail: 'MMIO for this device plus the default headroom.', commands: [`Set-VM -VMName <vm> -LowMemoryMappedIoSpace ${lowMb}Mb -HighMemoryMappedIoSpace ${highMb}Mb`] },
  ];
  const w = window64For(m.high);
  if (w !== null && w > QEMU_Q35_HOLE64_DEFAULT) {
    // Whole power-of-two sizes: "64.03G" is not a size QEMU or OVMF take.
    fixes.push({ rank: 2, title: 'QEMU / libvirt', risk: 'none', detail: 'Large 64-bit BARs need a 64-bit PCI hole at least this big (`assignable vm-config` prints it for the target).', commands: [`-global q35-pcihost.pci-hole64-size=${qemuSize(w)}`, `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=${w / MIB}`, `<pcihole64 unit='KiB'>${w / 1024n}</pcihole64>`] });
  }
  return [finding('MMIO', d.address, `Needs ${byteSize(m.low)} of 32-bit and ${byteSize(m.high)} of 64-bit MMIO in the VM.`, ev, fixes)];
}
