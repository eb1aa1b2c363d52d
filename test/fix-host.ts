/**
 * Test helper: an HPE ProLiant host with a card in PCIe slot 2 that an RMRR names, assembled
 * from real parts, plus a simulated conrep NVRAM for it.
 *
 * What is assembled, and from what:
 *  - PCI functions, config space and topology: the ASUS P6T6 tree of pciutils' tests
 *    (real bytes), mirrored as sysfs; its LSI SAS2008 HBA at 04:00.0 plays the card.
 *  - The slot: a kernel slot object "2" at 0000:04:00 (what pciehp/ACPI create for a slot).
 *  - DMAR: the real DL380e Gen8 table's header and DRHDs, plus one RMRR (the 8 KiB
 *    0x7df83000 range of that table's own RMRRs) naming 00:03.0 / 00.0 / 00.0 / 00.0,
 *    the card's path — as HPE Gen8 firmware names slot devices until RMRDS excludes them.
 *  - SMBIOS: a type 1 record "HP" / the product given, and End-of-Table.
 *  - The simulated NVRAM: all RMRDS slots included, the platform of the product.
 * "Rebooting" regenerates the DMAR from the simulated NVRAM: an excluded slot 2 drops its RMRR.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAcpiTable } from '../src/firmware/acpi/table.js';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { fixtureBytes, fixtureText, ROOT } from './helpers.js';
import { validatedJson } from './json-schema.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { main } from '../src/cli/main.js';
import { sharedBundle } from './cli-bin.js';

export const CARD = '0000:04:00.0';

function checksum(b: Uint8Array, at: number): void {
  b[at] = 0;
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  b[at] = (0x100 - s) & 0xff;
}

/** DL380e's DMAR header and DRHDs, with (or without) an RMRR naming a card by its path. */
export function assembledDmar(withCardRmrr: boolean, path: number[][] = [[3, 0], [0, 0], [0, 0], [0, 0]]): Uint8Array {
  const real = fixtureBytes('dmar', 'hp-proliant-dl380e-gen8-cb0557.dat');
  const d = decodeDmarTable(parseAcpiTable(real, 'DMAR'));
  const drhds = d.structures.filter((s) => s.type === 'DRHD');
  const parts: number[] = [...real.subarray(0, 48)];
  for (const s of drhds) parts.push(...real.subarray(s.offset, s.offset + s.length));
  if (withCardRmrr) {
    const scope = [1, 6 + 2 * path.length, 0, 0, 0, 0, ...path.flat()];
    const len = 24 + scope.length;
    const base = 0x7df83000n;
    const limit = 0x7df84fffn;
    const rmrr = [1, 0, len, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8; i++) rmrr.push(Number((base >> BigInt(8 * i)) & 0xffn));
    for (let i = 0; i < 8; i++) rmrr.push(Number((limit >> BigInt(8 * i)) & 0xffn));
    parts.push(...rmrr, ...scope);
  }
  const b = Uint8Array.from(parts);
  new DataView(b.buffer).setUint32(4, b.length, true);
  checksum(b, 9);
  return b;
}

/** A minimal SMBIOS 3.0 table: type 1 (manufacturer, product) and type 127. */
export function smbiosFor(manufacturer: string, product: string): { entryPoint: Uint8Array; table: Uint8Array } {
  const t1 = [1, 0x1b, 0x01, 0x00, 1, 2, 0, 0, ...new Array(16).fill(0), 6, 0, 0];
  const strings = [...Buffer.from(`${manufacturer}\0${product}\0\0`, 'latin1')];
  const table = Uint8Array.from([...t1, ...strings, 127, 4, 0x02, 0x00, 0, 0]);
  const ep = new Uint8Array(0x18);
  ep.set(Buffer.from('_SM3_'), 0);
  ep[6] = 0x18;
  ep[7] = 3;
  ep[8] = 0;
  ep[10] = 1;
  new DataView(ep.buffer).setUint32(12, table.length, true);
  checksum(ep, 5);
  return { entryPoint: ep, table };
}

export interface HpeHost {
  root: string;
  image: string;
  stateDir: string;
  log: string;
}

/**
 * `storage: true` keeps the card what it is (an LSI SAS2008 HBA, class 0107); by default its
 * class code is re-declared 0200 (Ethernet), the kind of card HPE's slot switch is reported for.
 */
export function hpeHost(dir: string, o: { product?: string; kernel?: string; manufacturer?: string; storage?: boolean } = {}): HpeHost {
  const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: o.kernel ?? '5.15.0-91-generic', cmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on' });
  if (!o.storage) {
    const dev = join(root, 'sys/bus/pci/devices', CARD);
    const config = readFileSync(join(dev, 'config'));
    config[9] = 0x00; // prog-if
    config[10] = 0x00; // subclass: Ethernet
    config[11] = 0x02; // base class: network
    writeFileSync(join(dev, 'config'), config);
    writeFileSync(join(dev, 'class'), '0x020000\n');
  }
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  mkdirSync(join(root, 'sys/bus/pci/slots/2'), { recursive: true });
  writeFileSync(join(root, 'sys/bus/pci/slots/2/address'), '0000:04:00\n');
  mkdirSync(join(root, 'sys/firmware/acpi/tables'), { recursive: true });
  writeFileSync(join(root, 'sys/firmware/acpi/tables/DMAR'), assembledDmar(true));
  const s = smbiosFor(o.manufacturer ?? 'HP', o.product ?? 'ProLiant DL360e Gen8');
  mkdirSync(join(root, 'sys/firmware/dmi/tables'), { recursive: true });
  writeFileSync(join(root, 'sys/firmware/dmi/tables/smbios_entry_point'), s.entryPoint);
  writeFileSync(join(root, 'sys/firmware/dmi/tables/DMI'), s.table);
  mkdirSync(join(root, 'proc/sys/kernel/random'), { recursive: true });
  writeFileSync(join(root, 'proc/sys/kernel/random/boot_id'), '11111111-2222-3333-4444-555555555555\n');
  const image = join(dir, 'nvram.json');
  const product = o.product ?? 'ProLiant DL360e Gen8';
  writeFileSync(image, JSON.stringify({ platform: { platform: product, family: 'P73', romDate: '08/02/2014', procMan: 'Intel' }, nvram: '00'.repeat(4096), cmos: '00'.repeat(256), ev: {} }));
  return { root, image, stateDir: join(dir, 'state'), log: join(dir, 'conrep.log') };
}

/** The firmware at boot: slot 2 excluded in NVRAM (bit 1 of 0x26A) drops the card's RMRR. */
export function reboot(h: HpeHost): void {
  const excluded = (nvramByte(h, 0x26a) & 0x02) !== 0;
  writeFileSync(join(h.root, 'sys/firmware/acpi/tables/DMAR'), assembledDmar(!excluded));
  writeFileSync(join(h.root, 'proc/sys/kernel/random/boot_id'), '99999999-8888-7777-6666-555555555555\n');
}

/** A byte of the simulated NVRAM, read from the image file's hex here, not by the codec under test. */
export function nvramByte(h: HpeHost, address: number): number {
  const nvram = (JSON.parse(readFileSync(h.image, 'utf8')) as { nvram: string }).nvram;
  return parseInt(nvram.slice(2 * address, 2 * address + 2), 16);
}

let simBundle: string | null = null;

/**
 * The conrep simulator (test/sim/conrep-sim.ts) bundled from the sources as they are, once per
 * content for all the test files of a run (test/cli-bin.ts): passed as CONREP_SIM_BUNDLE,
 * test/sim/conrep runs it without checking at every call whether its own shared bundle is older
 * than a source (a `find` and four more programs).
 */
export function conrepSimBundle(): string {
  simBundle ??= sharedBundle('conrep-sim', { entryPoints: ['test/sim/conrep-sim.ts'], minifyWhitespace: true }, ['test/sim/conrep-sim.ts', 'src', 'package.json', 'package-lock.json', 'tsconfig.json']);
  return simBundle;
}

/** Sets environment variables (the tests' seams) and returns what puts the old values back. */
export function setEnv(env: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** The CLI in this process, with environment variables set for the call only (the fix tests' seams). */
export async function runWithEnv(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const restore = setEnv(env);
  let out = '';
  let err = '';
  try {
    const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
    return validatedJson({ code, out, err });
  } finally {
    restore();
  }
}
