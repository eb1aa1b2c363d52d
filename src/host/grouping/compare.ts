/**
 * The kernel's groups against the prediction. A disagreement means the kernel knows something
 * config space does not show: a quirk we lack, a firmware or kernel difference, or an override.
 */
import type { Grouping } from './engine.js';

export interface GroupDisagreement {
  /** The kernel's group (members present in the capture). */
  kernel: { id: number; members: string[] };
  /** The predicted groups those members fall into. */
  predicted: string[][];
  /** finer: the kernel split what we predict together; coarser: the kernel merged what we predict apart. */
  kind: 'finer' | 'coarser' | 'different';
  likely: string;
}

export function compareGroups(
  kernel: Map<number, { devices: string[] }>,
  predicted: Grouping,
  context: { cmdline: string | undefined; kernelRelease: string | undefined },
): GroupDisagreement[] {
  const labelOf = new Map<string, string>();
  for (const g of predicted.groups) for (const m of g.members) labelOf.set(m, g.label);
  const byLabel = new Map(predicted.groups.map((g) => [g.label, g]));
  const out: GroupDisagreement[] = [];
  const override = /(?:^|\s)pcie_acs_override=/.test(context.cmdline ?? '');
  const redir = /(?:^|\s)pci=\S*(?:disable_acs_redir|config_acs)=/.test(context.cmdline ?? '');
  for (const [id, g] of kernel) {
    const members = g.devices.filter((a) => labelOf.has(a)).sort();
    if (members.length === 0) continue;
    const labels = [...new Set(members.map((a) => labelOf.get(a)!))];
    const predictedSets = labels.map((l) => byLabel.get(l)!.members);
    const same = labels.length === 1 && predictedSets[0]!.length === members.length;
    if (same) continue;
    const spills = predictedSets.some((s) => s.some((m) => !members.includes(m)));
    const kind: GroupDisagreement['kind'] = labels.length === 1 ? 'finer' : spills ? 'different' : 'coarser';
    const finer = kind === 'finer';
    let likely: string;
    if (finer && override) likely = 'pcie_acs_override is on the command line: the override split what the hardware does not isolate';
    else if (finer) likely = 'the kernel isolates more than config space shows: a device quirk we lack, or an ACS override patch at work';
    else if (redir) likely = 'pci=disable_acs_redir/config_acs on the command line turned ACS off on a port';
    else likely = `the kernel isolates less than config space promises: ${context.kernelRelease ? `Linux ${context.kernelRelease} may predate a quirk, or` : ''} the firmware left ACS or the PCH's RCBA off, or the IOMMU did not request ACS`;
    out.push({ kernel: { id, members }, predicted: predictedSets.map((s) => [...s]), kind, likely });
  }
  return out;
}
