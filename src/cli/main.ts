#!/usr/bin/env node
/** The `assignable` command: wires commands to the library; nothing else. */
import { Command, CommanderError } from 'commander';
import { EXIT, type ExitCode } from './exit.js';
import { guarded, stdio, type Io } from './run.js';
import { runDmar, runIvrs, runSmbios, type FirmwareOptions } from './firmware-commands.js';
import { VERSION } from '../version.js';

export async function main(argv: string[], io: Io = stdio): Promise<ExitCode> {
  let code: ExitCode = EXIT.OK;
  const program = new Command();
  program
    .name('assignable')
    .description('Can each PCI device of this server be passed through to a VM, why not, and how to fix it.')
    .version(VERSION, '-V, --version')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  const rootOption = ['--root <dir>', 'read the live host under this directory instead of / (a copied sysfs tree)', '/'] as const;

  program
    .command('dmar')
    .description('decode the ACPI DMAR table (Intel VT-d): remapping units, RMRRs and their device scopes')
    .argument('[file]', 'raw table (sysfs, acpixtract, acpidump -b) or acpidump text; "-" reads stdin; default: this host')
    .option('--json', 'machine-readable output (docs/json.md)')
    .option('--fields', 'every field with its offset, in the layout of iasl -d')
    .option(...rootOption)
    .action(async (file: string | undefined, o: FirmwareOptions) => {
      code = await guarded(io, () => runDmar(io, file, o));
    });

  program
    .command('ivrs')
    .description('decode the ACPI IVRS table (AMD-Vi): IOMMUs, device entries and IVMD memory ranges')
    .argument('[file]', 'raw table or acpidump text; "-" reads stdin; default: this host')
    .option('--json', 'machine-readable output (docs/json.md)')
    .option('--fields', 'every field with its offset, in the layout of iasl -d')
    .option(...rootOption)
    .action(async (file: string | undefined, o: FirmwareOptions) => {
      code = await guarded(io, () => runIvrs(io, file, o));
    });

  program
    .command('smbios')
    .description('decode SMBIOS: system, slots (type 9), onboard devices (41), HPE device correlation (203)')
    .argument('[file]', 'dmidecode --dump-bin file, dmidecode text, Windows RSMB blob or bare table; default: this host')
    .option('-t, --type <n>', 'only structures of this type')
    .option('--json', 'machine-readable output (docs/json.md)')
    .option(...rootOption)
    .action(async (file: string | undefined, o: FirmwareOptions) => {
      code = await guarded(io, () => runSmbios(io, file, o));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.INPUT;
    }
    throw e;
  }
  return code;
}

// Run when executed as the `assignable` binary (not when imported by tests).
const invokedDirectly = process.argv[1] !== undefined && /(?:^|[\\/])(?:main\.[jt]s|assignable)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c;
    },
    (e: unknown) => {
      process.stderr.write(`assignable: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT.INTERNAL;
    },
  );
}
