/** `vm-config`: the plan (plan.ts) rendered for one target, as text to paste or as JSON. */
import type { DeviceReport, Survey } from '../../checks/index.js';
import { renderHyperv } from './hyperv.js';
import { renderLibvirt } from './libvirt.js';
import { vmPlan, type VmPlan, type VmTarget } from './plan.js';
import { renderProxmox } from './proxmox.js';
import { renderQemu } from './qemu.js';
import type { Rendered } from './render.js';

export { VM_TARGETS, VERDICT_TARGET, vmPlan, window64For, qemuSize, nextPow2, QEMU_Q35_HOLE64_DEFAULT, LARGE_BARS, type VmPlan, type VmTarget } from './plan.js';
export type { Rendered, Section } from './render.js';

export const VM_CONFIG_SCHEMA = 'assignable/vm-config/v1';

export interface VmConfigOptions {
  /** Proxmox VMID, libvirt domain or Hyper-V VM name; a placeholder when not given. */
  vm?: string;
  /** Proxmox cluster node for the resource mapping. */
  node?: string;
  force?: boolean;
}

export function renderTarget(p: VmPlan, o: VmConfigOptions): Rendered {
  switch (p.target) {
    case 'proxmox':
      return renderProxmox(p, o.vm ?? 'VMID', o.node ?? 'NODE');
    case 'libvirt':
      return renderLibvirt(p, o.vm ?? 'DOMAIN');
    case 'qemu':
      return renderQemu(p);
    case 'hyperv':
      return renderHyperv(p, o.vm ?? '<vm>');
  }
}

export interface VmConfig {
  plan: VmPlan;
  /** null when refused. */
  rendered: Rendered | null;
}

export function vmConfig(sv: Survey, r: DeviceReport, target: VmTarget, o: VmConfigOptions): VmConfig {
  const plan = vmPlan(sv, r, target, o.force === true);
  return { plan, rendered: plan.status === 'refused' ? null : renderTarget(plan, o) };
}

/** Comments in the target's own syntax, so the whole output can be pasted. */
function commenter(t: VmTarget): (s: string) => string {
  // A name with a line break would end the comment and paste as a command.
  const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');
  return t === 'libvirt' ? (s) => `<!-- ${clean(s).replace(/--/g, '- -').replace(/-$/, '- ')} -->` : (s) => `# ${clean(s)}`;
}

/** The refusal: the blocking findings and where to read more; for standard error. */
export function renderRefusal(c: VmConfig): string {
  const p = c.plan;
  const lines = [`${p.device.device.address} is blocked for ${p.verdictTarget} (${p.target}): no VM configuration printed.`];
  for (const b of p.blockers) lines.push(`  ${b.code}${b.device && b.device !== p.device.device.address ? ` (${b.device})` : ''}: ${b.message}`);
  lines.push(`Why and how to fix it: assignable explain ${p.device.device.address}${p.verdictTarget === 'dda' ? ' --target dda' : ''}; --force prints the configuration anyway.`);
  return lines.join('\n') + '\n';
}

export function renderVmConfig(c: VmConfig): string {
  const p = c.plan;
  const r = c.rendered!;
  const k = commenter(p.target);
  const fns = p.entries.flatMap((e) => e.functions);
  const out: string[] = [];
  out.push(k(`${p.target} configuration for ${p.device.device.address} ${p.device.device.name}`));
  out.push(k(`${p.verdictTarget}: ${p.device.verdicts[p.verdictTarget].status}${p.device.verdicts[p.verdictTarget].reasons.length ? ` (${p.device.verdicts[p.verdictTarget].reasons.join(', ')})` : ''}`));
  if (p.status === 'forced') out.push(k(`BLOCKED (${[...new Set(p.blockers.map((b) => b.code))].join(', ')}); printed anyway (the force option): the VM will not start until that is fixed (assignable explain ${p.device.device.address})`));
  out.push(k(`functions: ${fns.map((f) => f.address).join(', ')}${p.group ? ` (${p.group.name}${p.group.basis === 'predicted' ? ', predicted' : ''}, bridges stay with the host)` : ''}`));
  for (const s of r.sections) {
    out.push('', k(`${s.title}:`), ...s.lines);
  }
  const notes = [...p.notes, ...r.notes];
  if (notes.length) out.push('', ...notes.map((n) => k(`note: ${n}`)));
  return out.join('\n') + '\n';
}

/** The JSON document (docs/json.md, docs/schema/vm-config-v1.schema.json). */
export function vmConfigJson(c: VmConfig): object {
  const p = c.plan;
  return {
    target: p.target,
    verdictTarget: p.verdictTarget,
    device: p.device.device.address,
    verdict: p.device.verdicts[p.verdictTarget],
    status: p.status,
    blockers: p.blockers,
    group: p.group,
    entries: p.entries.map((e) => ({
      host: e.host,
      allFunctions: e.allFunctions,
      functions: e.functions.map((f) => ({ address: f.address, name: f.name, ids: f.ids, subsystemIds: f.subsystemIds, classCode: f.classCode.toString(16).padStart(6, '0'), pcie: f.pcie, vga: f.vga, romOff: f.romOff })),
    })),
    mmio: { bars32: p.mmio.bars32, bars64: p.mmio.bars64, window64: p.mmio.window64, barsUnknown: p.mmio.unknown },
    sections: c.rendered?.sections ?? [],
    notes: [...p.notes, ...(c.rendered?.notes ?? [])],
  };
}
