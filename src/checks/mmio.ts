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
  if (m.high > 32n * (1n << 30n)) {
    fixes.push({ rank: 2, title: 'QEMU / libvirt', risk: 'none', detail: 'Large 64-bit BARs need a 64-bit PCI hole at least this big.', commands: [`-global q35-pcihost.pci-hole64-size=${byteSize(m.high * 2n).replace(' ', '').replace('iB', '')}`, `<pcihole64 unit='KiB'>${(m.high * 2n) / 1024n}</pcihole64>`] });
  }
  return [finding('MMIO', d.address, `Needs ${byteSize(m.low)} of 32-bit and ${byteSize(m.high)} of 64-bit MMIO in the VM.`, ev, fixes)];
}
