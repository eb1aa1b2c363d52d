/**
 * Test helper: a directory laid out like a live Linux host's sysfs/procfs, built from a real
 * pciutils dump (`lspci -xxxx`, optionally with -v lines): config space bytes, ids, resources
 * and driver links per function, sysfs device paths nested by the bridges' bus numbers.
 *
 * The dump is read here by a few lines of its own — never by the production lspci parser,
 * so a survey of this tree is not our parser's reading fed back to itself.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

export interface TreeOptions {
  kernel: string;
  cmdline: string;
}

/** PCI 3.0 type 0/1 header offsets this helper reads. */
const HEADER_TYPE = 0x0e;
const HEADER_TYPE_LAYOUT = 0x7f;
const SECONDARY_BUS = 0x19;
const BAR0 = 0x10;
const BAR_IO = 0x1;
const BAR_MEM_TYPE_64 = 0x4;
const BAR_PREFETCH = 0x8;
/** sysfs `resource` flags (include/linux/ioport.h). */
const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;
const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

interface DumpFunction {
  segment: number;
  bus: number;
  device: number;
  fn: number;
  config: Uint8Array;
  regions: Map<number, { address: bigint; size: bigint }>;
  driver: string | null;
  slot: string | null;
}

/** `[dddd:]bb:dd.f …` headers, each followed by `xx: b0 … b15` hex lines and -v lines. */
function readDump(text: string): DumpFunction[] {
  const out: DumpFunction[] = [];
  let cur: { f: DumpFunction; bytes: number[] } | null = null;
  const close = () => {
    if (cur) out.push({ ...cur.f, config: Uint8Array.from(cur.bytes, (b) => b ?? 0) });
  };
  for (const line of text.split('\n')) {
    const head = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) /.exec(line);
    if (head) {
      close();
      const f: DumpFunction = { segment: parseInt(head[1] ?? '0', 16), bus: parseInt(head[2]!, 16), device: parseInt(head[3]!, 16), fn: Number(head[4]), config: new Uint8Array(0), regions: new Map(), driver: null, slot: null };
      cur = { f, bytes: [] };
      continue;
    }
    if (!cur) continue;
    const row = /^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ){15}[0-9a-f]{2})\s*$/.exec(line);
    if (row) {
      const at = parseInt(row[1]!, 16);
      row[2]!.split(' ').forEach((b, i) => (cur!.bytes[at + i] = parseInt(b, 16)));
      continue;
    }
    const region = /^\s+Region (\d): (?:Memory at|I\/O ports at) ([0-9a-f]+) .*\[size=(\d+)([KMGT]?)\]/.exec(line);
    if (region) cur.f.regions.set(Number(region[1]), { address: BigInt('0x' + region[2]), size: BigInt(region[3]!) * UNITS[region[4]!]! });
    const driver = /^\s+Kernel driver in use: (\S+)/.exec(line);
    if (driver) cur.f.driver = driver[1]!;
    const slot = /^\s+Physical Slot: (\S+)/.exec(line);
    if (slot) cur.f.slot = slot[1]!;
  }
  close();
  return out;
}

/**
 * Each dump text read once per test process: tests that build a fresh host per case (hundreds in
 * the fix path's fault tests) spent a tenth of a second of CPU on each reading. Only read below.
 */
const readDumps = new Map<string, readonly DumpFunction[]>();
function readOnce(text: string): readonly DumpFunction[] {
  let fns = readDumps.get(text);
  if (!fns) readDumps.set(text, (fns = readDump(text)));
  return fns;
}

export function sysfsTreeFromDump(dumpText: string, o: TreeOptions): string {
  const root = mkdtempSync(join(tmpdir(), 'assignable-sysfs-'));
  const fns = readOnce(dumpText);
  const addr = (f: DumpFunction) => `${hex(f.segment, 4)}:${hex(f.bus, 2)}:${hex(f.device, 2)}.${f.fn}`;
  // Parent = the bridge whose secondary bus this function is on (read from the config bytes).
  const secondary = new Map<string, string>();
  for (const f of fns) if ((f.config[HEADER_TYPE]! & HEADER_TYPE_LAYOUT) === 1) secondary.set(`${f.segment}:${f.config[SECONDARY_BUS]}`, addr(f));
  const chain = (f: DumpFunction): string[] => {
    const out: string[] = [];
    let bus = f.bus;
    for (let guard = 0; guard < 32; guard++) {
      const p = secondary.get(`${f.segment}:${bus}`);
      if (!p) break;
      out.unshift(p);
      bus = parseInt(p.slice(5, 7), 16);
    }
    return out;
  };
  const u16 = (c: Uint8Array, at: number) => c[at]! | (c[at + 1]! << 8);
  mkdirSync(join(root, 'sys/bus/pci/devices'), { recursive: true });
  for (const f of fns) {
    const a = addr(f);
    const c = f.config;
    const real = join('sys/devices', `pci${hex(f.segment, 4)}:${hex(parseInt((chain(f)[0] ?? a).slice(5, 7), 16), 2)}`, ...chain(f), a);
    const dir = join(root, real);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config'), c);
    writeFileSync(join(dir, 'vendor'), `0x${hex(u16(c, 0), 4)}\n`);
    writeFileSync(join(dir, 'device'), `0x${hex(u16(c, 2), 4)}\n`);
    writeFileSync(join(dir, 'class'), `0x${hex(c[9]! | (c[10]! << 8) | (c[11]! << 16), 6)}\n`);
    // Kernels before 5.15 have `reset` without `reset_method`.
    writeFileSync(join(dir, 'reset'), '');
    const lines: string[] = [];
    for (let i = 0; i < 13; i++) {
      const r = f.regions.get(i);
      if (!r || i > 5) lines.push('0x0000000000000000 0x0000000000000000 0x0000000000000000');
      else {
        // Kind, width and prefetchability from the BAR's own low bits.
        const bar = c[BAR0 + 4 * i]!;
        const flags = bar & BAR_IO ? IORESOURCE_IO : IORESOURCE_MEM | (bar & BAR_MEM_TYPE_64 ? IORESOURCE_MEM_64 : 0) | (bar & BAR_PREFETCH ? IORESOURCE_PREFETCH : 0);
        lines.push(`0x${hex(Number(r.address), 16)} 0x${hex(Number(r.address + r.size - 1n), 16)} 0x${hex(flags, 16)}`);
      }
    }
    writeFileSync(join(dir, 'resource'), lines.join('\n') + '\n');
    if (f.driver) symlinkSync(`../../../bus/pci/drivers/${f.driver}`, join(dir, 'driver'));
    const depth = 'sys/bus/pci/devices'.split('/').length;
    symlinkSync(join(...Array(depth).fill('..'), real), join(root, 'sys/bus/pci/devices', a));
    if (f.slot) {
      mkdirSync(join(root, 'sys/bus/pci/slots', f.slot), { recursive: true });
      writeFileSync(join(root, 'sys/bus/pci/slots', f.slot, 'address'), `${a.slice(0, 10)}\n`);
    }
  }
  mkdirSync(join(root, 'proc/sys/kernel'), { recursive: true });
  writeFileSync(join(root, 'proc/sys/kernel/osrelease'), o.kernel + '\n');
  writeFileSync(join(root, 'proc/cmdline'), o.cmdline + '\n');
  return root;
}
