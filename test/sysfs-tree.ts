/**
 * Test helper: a directory laid out like a live Linux host's sysfs/procfs, built from a real
 * pciutils dump (`lspci -vvvxxxx`): config space bytes, ids, resources and driver links per
 * function, sysfs device paths nested by the bridges' bus numbers.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLspci } from '../src/firmware/pci/lspci-text.js';

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

export interface TreeOptions {
  kernel: string;
  cmdline: string;
}

export function sysfsTreeFromDump(dumpText: string, o: TreeOptions): string {
  const root = mkdtempSync(join(tmpdir(), 'assignable-sysfs-'));
  const fns = parseLspci(dumpText).functions;
  const addr = (f: (typeof fns)[number]) => `${hex(f.address.segment, 4)}:${hex(f.address.bus, 2)}:${hex(f.address.device, 2)}.${f.address.function}`;
  // Parent = the bridge whose secondary bus this function is on (read from the config bytes).
  const secondary = new Map<string, string>();
  for (const f of fns) {
    const c = f.config!;
    if ((c[0x0e]! & 0x7f) === 1) secondary.set(`${f.address.segment}:${c[0x19]}`, addr(f));
  }
  const chain = (f: (typeof fns)[number]): string[] => {
    const out: string[] = [];
    let bus = f.address.bus;
    for (let guard = 0; guard < 32; guard++) {
      const p = secondary.get(`${f.address.segment}:${bus}`);
      if (!p) break;
      out.unshift(p);
      bus = parseInt(p.slice(5, 7), 16);
    }
    return out;
  };
  mkdirSync(join(root, 'sys/bus/pci/devices'), { recursive: true });
  for (const f of fns) {
    const a = addr(f);
    const real = join('sys/devices', `pci${hex(f.address.segment, 4)}:${hex(parseInt((chain(f)[0] ?? a).slice(5, 7), 16), 2)}`, ...chain(f), a);
    const dir = join(root, real);
    mkdirSync(dir, { recursive: true });
    const c = f.config!;
    writeFileSync(join(dir, 'config'), c);
    writeFileSync(join(dir, 'vendor'), `0x${hex(c[0]! | (c[1]! << 8), 4)}\n`);
    writeFileSync(join(dir, 'device'), `0x${hex(c[2]! | (c[3]! << 8), 4)}\n`);
    writeFileSync(join(dir, 'class'), `0x${hex(c[9]! | (c[10]! << 8) | (c[11]! << 16), 6)}\n`);
    // Kernels before 5.15 have `reset` without `reset_method`.
    writeFileSync(join(dir, 'reset'), '');
    const lines: string[] = [];
    for (let i = 0; i < 13; i++) {
      const r = f.regions.find((x) => x.index === i && x.address !== null && x.size !== null);
      if (!r) lines.push('0x0000000000000000 0x0000000000000000 0x0000000000000000');
      else {
        const flags = (r.kind === 'io' ? 0x100 : 0x200) | (r.is64 ? 0x100000 : 0) | (r.prefetchable ? 0x2000 : 0);
        lines.push(`0x${hex(Number(r.address!), 16)} 0x${hex(Number(r.address! + r.size! - 1n), 16)} 0x${hex(flags, 16)}`);
      }
    }
    writeFileSync(join(dir, 'resource'), lines.join('\n') + '\n');
    if (f.driver) symlinkSync(`../../../bus/pci/drivers/${f.driver}`, join(dir, 'driver'));
    const depth = 'sys/bus/pci/devices'.split('/').length;
    symlinkSync(join(...Array(depth).fill('..'), real), join(root, 'sys/bus/pci/devices', a));
    if (f.physicalSlot) {
      mkdirSync(join(root, 'sys/bus/pci/slots', f.physicalSlot), { recursive: true });
      writeFileSync(join(root, 'sys/bus/pci/slots', f.physicalSlot, 'address'), `${a.slice(0, 10)}\n`);
    }
  }
  mkdirSync(join(root, 'proc/sys/kernel'), { recursive: true });
  writeFileSync(join(root, 'proc/sys/kernel/osrelease'), o.kernel + '\n');
  writeFileSync(join(root, 'proc/cmdline'), o.cmdline + '\n');
  return root;
}
