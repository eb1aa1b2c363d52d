/** Inputs of the HTML report tests (test/html.test.ts, test/html-browser.test.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { ROOT, fixture } from './helpers.js';
import { validatedJson } from './json-schema.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
export const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];
export const P6T6 = ['--lspci', fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt')];

/** A device name and an SMBIOS string an attacker would paste. */
export const HOSTILE = '</script><img src=x onerror="window.__pwned=1"> | `tick` <!-- &amp;';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return validatedJson({ code, out, err });
}

/** The oracle: the addresses lspci itself printed (its "BB:DD.F " lines), not our parser's. */
export function lspciAddresses(file: string): string[] {
  return [...readFileSync(file, 'latin1').matchAll(/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /gm)].map((m) => `0000:${m[1]}`);
}

/** The DL380e inputs with one lspci device name and one SMBIOS onboard designation made hostile. */
export function hostileInputs(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-hostile-'));
  const lspci = readFileSync(join(EX, 'lspci-vvnn.txt'), 'latin1').replace('02:00.0 Ethernet controller [0200]: Intel Corporation I350 Gigabit Network Connection [8086:1521]', `02:00.0 Ethernet controller [0200]: ${HOSTILE} [8086:1521]`);
  const dmi = readFileSync(join(EX, 'dmidecode.txt'), 'latin1').replace('Reference Designation: NIC Port 2', `Reference Designation: ${HOSTILE}`);
  writeFileSync(join(dir, 'lspci.txt'), lspci, 'latin1');
  writeFileSync(join(dir, 'dmidecode.txt'), dmi, 'latin1');
  // An empty pci.ids: names come from the lspci text, not from this machine's database.
  writeFileSync(join(dir, 'pci.ids'), '');
  return ['--pci-ids', join(dir, 'pci.ids'), '--lspci', join(dir, 'lspci.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(dir, 'dmidecode.txt')];
}

export async function htmlOf(args: string[], target = 'vfio'): Promise<string> {
  const r = await run('survey', '--format', 'html', '--target', target, ...args);
  assert.ok(r.code === EXIT.OK || r.code === EXIT.BLOCKED, `exit ${r.code}: ${r.err}`);
  assert.equal(r.err, '');
  return r.out;
}

