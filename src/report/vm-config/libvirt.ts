/**
 * libvirt domain XML: one <hostdev mode='subsystem' type='pci' managed='yes'> per function
 * (formatdomain "Host device assignment"), <rom bar='off'/> where the ROM is not wanted, and
 * for large BARs the pcie-root controller's <pcihole64> and OVMF's fw_cfg through the QEMU
 * namespace.
 */
import type { PciAddress } from '../../host/model.js';
import { mib, type VmPlan } from './plan.js';
import type { Rendered } from './render.js';

/** The namespace the <qemu:commandline> element needs on <domain>. */
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

const h = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;

function address(a: PciAddress): string {
  return `<address domain='${h(a.segment, 4)}' bus='${h(a.bus, 2)}' slot='${h(a.device, 2)}' function='${h(a.function, 1)}'/>`;
}

export function renderLibvirt(p: VmPlan, vm: string): Rendered {
  const notes: string[] = [];
  const hostdevs = p.entries.flatMap((e) =>
    e.functions.flatMap((f) => [
      `<hostdev mode='subsystem' type='pci' managed='yes'>`,
      `  <source>`,
      `    ${address(f.device.pci)}`,
      `  </source>`,
      ...(f.romOff !== null ? [`  <rom bar='off'/>`] : []),
      `</hostdev>`,
    ]),
  );
  const sections = [{ title: `devices (virsh edit ${vm}: inside <devices>)`, lines: hostdevs }];
  if (p.mmio.window64 !== null) {
    const w = p.mmio.window64;
    sections.push({ title: 'the q35 root controller (replace the existing pcie-root one)', lines: [`<controller type='pci' index='0' model='pcie-root'>`, `  <pcihole64 unit='KiB'>${w / 1024n}</pcihole64>`, `</controller>`] });
    sections.push({ title: `OVMF's 64-bit aperture (needs xmlns:qemu='${QEMU_NS}' on <domain>)`, lines: [`<qemu:commandline>`, `  <qemu:arg value='-fw_cfg'/>`, `  <qemu:arg value='name=opt/ovmf/X-PciMmio64Mb,string=${mib(w)}'/>`, `</qemu:commandline>`] });
  }
  if (p.entries.some((e) => e.functions.length > 1)) {
    notes.push('libvirt gives each <hostdev> its own slot in the VM unless you add a guest <address> with multifunction=\'on\' on function 0 and the same bus and slot on the others; most drivers work either way');
  }
  if (p.entries.some((e) => e.functions.some((f) => f.pcie))) notes.push('a PCI Express device is best given to a q35 VM (<type machine=\'q35\'>): it then sits on a pcie-root-port');
  const off = p.entries.flatMap((e) => e.functions).find((f) => f.romOff !== null);
  if (off) notes.push(`<rom bar='off'/>: ${off.romOff}`);
  notes.push("managed='yes': libvirt detaches it from its host driver to vfio-pci when the VM starts, and gives it back after");
  return { sections, notes };
}
