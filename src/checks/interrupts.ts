/** How the function interrupts: INTx only is refused by Hyper-V and costly for VFIO. */
import type { Device } from '../host/model.js';
import { finding, type Finding } from './finding.js';

export function checkInterrupts(d: Device): Finding[] {
  if (d.isBridge || d.isHostBridge || d.config.capabilities === undefined) return [];
  const c = d.config;
  if (c.msi === null && c.msix === null && c.interruptPin > 0) {
    return [finding('INTX_ONLY', d.address, 'Only line-based interrupts (INTx; no MSI or MSI-X capability): Hyper-V refuses it ("All of the interrupts are line-based, no assignment can work."); VFIO must mask a possibly shared line on every interrupt.', [`interrupt pin ${String.fromCharCode(64 + c.interruptPin)}; no MSI, no MSI-X`])];
  }
  return [];
}
