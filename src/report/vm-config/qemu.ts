/**
 * QEMU command line: -device vfio-pci,host=… per function, behind one pcie-root-port per PCI
 * device on q35 (functions of one device keep their function numbers, function 0 with
 * multifunction=on), x-vga=on for a VGA controller, and for large BARs the q35 host's
 * pci-hole64-size and OVMF's X-PciMmio64Mb.
 */
import { mib, qemuSize, type VmPlan } from './plan.js';
import type { Rendered } from './render.js';

export function renderQemu(p: VmPlan): Rendered {
  const notes: string[] = [];
  const lines: string[] = [];
  const q35 = p.entries.some((e) => e.functions[0]!.pcie);
  if (q35) lines.push('-machine q35');
  if (p.entries.some((e) => e.functions.some((f) => f.vga))) lines.push('-vga none');
  p.entries.forEach((e, i) => {
    const port = `vfio-rp${i}`;
    const onPort = e.functions[0]!.pcie === true;
    if (onPort) lines.push(`-device pcie-root-port,id=${port},chassis=${i + 1},slot=${i + 1}`);
    const multi = e.functions.length > 1;
    for (const f of e.functions) {
      const o = [`host=${f.address}`];
      if (onPort) o.push(`bus=${port}`);
      if (multi) o.push(`addr=00.${f.device.pci.function}`);
      if (multi && f === e.functions[0]) o.push('multifunction=on');
      if (f.vga) o.push('x-vga=on');
      if (f.romOff !== null) o.push('rombar=0');
      lines.push(`-device vfio-pci,${o.join(',')}`);
    }
  });
  if (p.mmio.window64 !== null) {
    const w = p.mmio.window64;
    lines.push(`-global q35-pcihost.pci-hole64-size=${qemuSize(w)}`);
    lines.push(`-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=${mib(w)}`);
    notes.push(`64-bit BARs take ${qemuSize(p.mmio.bars64)} aligned: the 64-bit window is ${qemuSize(w)} (twice that, a power of two, at least QEMU's 32G default); X-PciMmio64Mb is read by OVMF (UEFI) only`);
  }
  const unsure = p.entries.filter((e) => e.functions[0]!.pcie === null).map((e) => e.host);
  if (unsure.length) notes.push(`whether ${unsure.join(', ')} is PCI Express is unknown (its capabilities were not read): if it is, give it to a q35 VM on a PCI Express port (${p.target === 'proxmox' ? 'pcie=1' : 'a pcie-root-port'})`);
  if (p.entries.some((e) => e.functions.some((f) => f.vga))) notes.push('x-vga=on needs -vga none and a VGA controller as the VM\'s primary display');
  const off = p.entries.flatMap((e) => e.functions).find((f) => f.romOff !== null);
  if (off) notes.push(`rombar=0: ${off.romOff}`);
  notes.push('bind every listed function to vfio-pci first (`assignable bind`, or driver_override)');
  return { sections: [{ title: 'qemu-system-x86_64 arguments', lines }], notes };
}
