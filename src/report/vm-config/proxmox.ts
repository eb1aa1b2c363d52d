/**
 * Proxmox VE: `qm set` with hostpciN (qemu-server's hostpci format: host or mapping, pcie,
 * x-vga, rombar), and the cluster resource mapping (/cluster/mapping/pci: node, path, id,
 * subsystem-id, iommugroup; a path without the function maps the whole device).
 */
import { mib, qemuSize, type PlanEntry, type VmPlan } from './plan.js';
import type { Rendered } from './render.js';

/** Options of one hostpci entry after the host or mapping key. */
function options(e: PlanEntry): string[] {
  const f = e.functions[0]!;
  const o: string[] = [];
  // pcie=1 puts it on a PCI Express port of the VM; qemu-server allows it on q35 only.
  if (f.pcie) o.push('pcie=1');
  if (e.functions.some((x) => x.vga)) o.push('x-vga=1');
  if (e.functions.every((x) => x.romOff !== null)) o.push('rombar=0');
  return o;
}

/**
 * A mapping ID (pve-configid: a letter, then letters, digits, - and _) named for the device
 * model; two of the same model in the group are told apart by bus and device.
 */
export function mappingId(e: PlanEntry, all: PlanEntry[]): string {
  const f = e.functions[0]!;
  const base = `pci-${f.ids.replace(':', '-')}`;
  if (all.filter((x) => x.functions[0]!.ids === f.ids).length === 1) return base;
  const a = f.device.pci;
  return `${base}-${a.bus.toString(16).padStart(2, '0')}-${a.device.toString(16).padStart(2, '0')}`;
}

export function renderProxmox(p: VmPlan, vmid: string, node: string): Rendered {
  const notes: string[] = [];
  const q35 = p.entries.some((e) => e.functions[0]!.pcie);
  const pre = q35 ? [`qm set ${vmid} -machine q35`] : [];
  const direct = p.entries.map((e, i) => `-hostpci${i} ${[e.host, ...options(e)].join(',')}`);
  const mapped = p.entries.map((e, i) => `-hostpci${i} ${[`mapping=${mappingId(e, p.entries)}`, ...options(e)].join(',')}`);
  const mappings = p.entries.map((e) => {
    const f = e.functions[0]!;
    const map = [`node=${node}`, `path=${e.host}`, `id=${f.ids}`];
    if (f.subsystemIds) map.push(`subsystem-id=${f.subsystemIds}`);
    // Only the kernel's group number is a fact to check against; a predicted one is not.
    if (p.group?.basis === 'kernel' && f.device.iommuGroup !== undefined && f.device.iommuGroup !== null) map.push(`iommugroup=${f.device.iommuGroup}`);
    return `pvesh create /cluster/mapping/pci --id ${mappingId(e, p.entries)} --map ${map.join(',')}`;
  });
  const extra: string[] = [];
  if (p.mmio.window64 !== null) {
    const w = p.mmio.window64;
    extra.push(`qm set ${vmid} -args '-global q35-pcihost.pci-hole64-size=${qemuSize(w)} -fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=${mib(w)}'`);
    notes.push('-args replaces any args the VM already has: merge them by hand');
  }
  const unsure = p.entries.filter((e) => e.functions[0]!.pcie === null).map((e) => e.host);
  if (unsure.length) notes.push(`whether ${unsure.join(', ')} is PCI Express is unknown (its capabilities were not read): if it is, give it to a q35 VM on a PCI Express port (${p.target === 'proxmox' ? 'pcie=1' : 'a pcie-root-port'})`);
  if (q35) notes.push('pcie=1 needs the q35 machine type (the first line sets it)');
  if (p.entries.some((e) => e.allFunctions)) notes.push(`a host address without the function (${p.entries.find((e) => e.allFunctions)!.host}) is Proxmox's "All Functions": every function of that device goes to the VM`);
  if (p.entries.some((e) => e.functions.some((f) => f.vga))) notes.push('x-vga=1 makes it the VM\'s primary GPU (set the VM\'s display to none once its driver is in)');
  // Proxmox sets rombar per entry: only where every function of it can do without its ROM.
  const off = p.entries.find((e) => e.functions.every((f) => f.romOff !== null));
  if (off) notes.push(`rombar=0: ${off.functions[0]!.romOff}`);
  if (p.entries.length > 1) notes.push('its IOMMU group holds other devices: they go to the same VM (or stay unbound from host drivers)');
  notes.push(`hostpci0 is the first index: if the VM already has hostpci entries, use free indexes (qm config ${vmid})`);
  if (node === 'NODE') notes.push('mapping: NODE is the cluster node\'s name (--node); add one --map per node that has the device');
  return {
    sections: [
      { title: 'this node', lines: [...pre, `qm set ${vmid} ${direct.join(' ')}`, ...extra] },
      { title: 'cluster resource mapping', lines: [...mappings, ...pre, `qm set ${vmid} ${mapped.join(' ')}`] },
    ],
    notes,
  };
}
