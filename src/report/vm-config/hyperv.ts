/**
 * Hyper-V Discrete Device Assignment: the procedure `explain --target dda` prints (ddaSteps,
 * windows-dda.md §4) for every function that goes along, with the VM's MMIO set once for
 * all of them (Set-VM takes the VM's total, not one device's).
 */
import { DEFAULT_HIGH_MMIO_MB, DEFAULT_LOW_MMIO_MB, isWindowsDevice, windowsMmio } from '../../checks/dda.js';
import { mmioNeed } from '../../checks/mmio.js';
import { ddaSteps } from '../survey.js';
import { barSizesKnown, type VmPlan } from './plan.js';
import type { Rendered } from './render.js';

const MIB = 1n << 20n;

export function renderHyperv(p: VmPlan, vm: string): Rendered {
  const fns = p.entries.flatMap((e) => e.functions);
  let low = 0n;
  let high = 0n;
  let known = false;
  for (const f of fns) {
    // Windows' allocated ranges when it gave them, else the BAR sizes.
    const m = isWindowsDevice(f.device) ? windowsMmio(f.device) : barSizesKnown(f.device) ? mmioNeed(f.device) : null;
    if (!m) continue;
    known = true;
    low += m.low;
    high += m.high;
  }
  const total = known ? { lowMb: (low + MIB - 1n) / MIB + DEFAULT_LOW_MMIO_MB, highMb: (high + MIB - 1n) / MIB + DEFAULT_HIGH_MMIO_MB } : null;
  const lines = fns.flatMap((f, i) => {
    const steps = ddaSteps(f.report, vm, total);
    if (i === 0) return steps;
    // The VM settings once, with the first function; each function's instance in its own
    // variable, so the undo lines of an earlier one still name that one.
    return steps.filter((l) => !l.startsWith('Set-VM ')).map((l) => l.replace(/\$id\b/g, `$id${i + 1}`));
  });
  const notes: string[] = [];
  const unknown = fns.filter((f) => !(isWindowsDevice(f.device) ? f.device.windows?.memoryRanges?.length : barSizesKnown(f.device))).map((f) => f.address);
  if (total && unknown.length) notes.push(`the MMIO of ${unknown.join(', ')} is unknown: the sizes below leave it out`);
  if (!total) notes.push('the BAR sizes are unknown: set -LowMemoryMappedIoSpace/-HighMemoryMappedIoSpace from the device\'s resources');
  else notes.push(`MMIO: ${total.lowMb} MB below 4 GiB and ${total.highMb} MB above, for ${fns.length === 1 ? 'the device' : `all ${fns.length} functions`} plus Hyper-V's default headroom`);
  if (fns.length > 1) notes.push('every function is dismounted and assigned by its own location path');
  return { sections: [{ title: 'PowerShell, elevated, on the Hyper-V host (the VM off)', lines }], notes };
}
