/**
 * Every command, on the examples and the corpus: what the one-file builds (test/bundle.test.ts)
 * and the single executable (test/release.test.ts) must print exactly as the source build does.
 */
import { join } from 'node:path';
import { ROOT, fixture, fixtureFiles } from './helpers.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
export const SOURCES = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];

/** Every command, on the examples and the corpus: decoders, the host commands, conrep, and refusals. */
export function commands(tree: string): string[][] {
  const ivrs = fixtureFiles('ivrs', '.dat')[0]!;
  const rawSmbios = fixtureFiles('smbios/raw', '.dump')[0]!;
  const conrep = (f: string) => fixture('conrep', f);
  return [
    ['--version'],
    ['-V'],
    ['--version', 'survey'],
    ['--help'],
    ['survey', '--help'],
    ['dmar', join(EX, 'DMAR.dat')],
    ['dmar', '--json', join(EX, 'DMAR.dat')],
    ['dmar', '--fields', join(EX, 'DMAR.dat')],
    ['ivrs', fixture('ivrs', ivrs)],
    ['ivrs', '--json', fixture('ivrs', ivrs)],
    ['smbios', join(EX, 'dmidecode.txt')],
    ['smbios', '--json', fixture('smbios/raw', rawSmbios)],
    ['smbios', '-t', '9', fixture('smbios/raw', rawSmbios)],
    ['survey', ...SOURCES],
    ['survey', '--all', ...SOURCES],
    ['survey', '--json', ...SOURCES],
    ['survey', '--target', 'dda', ...SOURCES],
    ['survey', '--root', tree],
    ['survey', '--json', '--root', tree],
    ['explain', '0000:05:00.0', ...SOURCES],
    ['explain', '--json', '0000:02:00.0', ...SOURCES],
    ['slots', ...SOURCES],
    ['slots', '--json', '--root', tree],
    ['fix', '0000:05:00.0', ...SOURCES],
    ['fix', '--json', '0000:05:00.0', ...SOURCES],
    ['conrep', 'lint', conrep('busterswt-verify.clean.dat')],
    ['conrep', 'diff', conrep('busterswt-verify.clean.dat'), conrep('busterswt_busterswt.github.io___posts_2018-08-06-proliant-intel-dpdk.markdown__exclude.dat')],
    ['conrep', 'lint', '--schema', conrep('mazad01_docker-conrep__data__conrep_5.48.xml'), conrep('mazad01_docker-conrep__data__hyperthreading_disable.dat')],
    ['vm-config', '0000:02:00.0', '--for', 'libvirt', '--force', ...SOURCES],
    // Refusals: the documented statuses and their one line.
    ['vm-config', '0000:02:00.0', '--for', 'proxmox', ...SOURCES],
    ['dmar', join(ROOT, 'README.md')],
    // Worker threads started on the one file itself (windows-probe, a file shipped beside the
    // code, is run from the installed package in test/package.test.ts).
    ['fleet', '--jobs', '2', fixture('captures')],
    ['survey', '--groups', ...SOURCES],
    ['survey', '--lspci', join(ROOT, 'no-such-file')],
    ['survey', '--no-such-option'],
    ['no-such-command'],
  ];
}
