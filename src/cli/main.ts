#!/usr/bin/env node
/** The `assignable` command: wires commands to the library; nothing else. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { EXIT, type ExitCode } from './exit.js';
import { exitStatus, guarded, isTerminal, stdio, UsageError, type Io } from './run.js';
// Each command's module is imported when that command runs (below), not at start-up: a
// survey does not pay for the DMAR renderers, and nothing but conrep/fix loads the XML parser.
import type { FirmwareOptions } from './firmware-commands.js';
import type { SurveyOptions } from './host-commands.js';
import type { CollectCliOptions } from './collect-command.js';
import type { FixOptions } from './fix-command.js';
import type { FleetOptions } from './fleet-command.js';
import type { LintOptions } from './lint-command.js';
import type { DiagnoseOptions } from './diagnose-command.js';
import type { VmConfigCliOptions } from './vm-config-command.js';
import type { BindOptions } from './bind-command.js';
import { VERSION } from '../version.js';

/** Command modules, loaded on first use. */
const firmwareCommands = () => import('./firmware-commands.js');
const hostCommands = () => import('./host-commands.js');
const collectCommand = () => import('./collect-command.js');
const fixCommand = () => import('./fix-command.js');
const conrepCommand = () => import('./conrep-command.js');
const windowsProbeCommand = () => import('./windows-probe-command.js');
const fleetCommand = () => import('./fleet-command.js');
const lintCommand = () => import('./lint-command.js');
const diagnoseCommand = () => import('./diagnose-command.js');
const vmConfigCommand = () => import('./vm-config-command.js');
const bindCommand = () => import('./bind-command.js');

/**
 * `dmar`/`ivrs` on several files in one process (as `iasl -d a b c`): each under a "==> FILE <=="
 * line, as head(1) does; the exit status is the highest of theirs. One file (or none: this host)
 * prints exactly what it always did.
 */
async function eachFile(io: Io, files: string[], o: FirmwareOptions, run: (file: string | undefined) => Promise<ExitCode>): Promise<ExitCode> {
  if (files.length <= 1) return guarded(io, () => run(files[0]));
  if (o.json) return guarded(io, () => Promise.reject(new UsageError('--json takes one file (one JSON document); run once per file')));
  let worst: ExitCode = EXIT.OK;
  for (const [i, file] of files.entries()) {
    io.out(`${i === 0 ? '' : '\n'}==> ${file} <==\n`);
    const c = await guarded(io, () => run(file));
    if (c > worst) worst = c;
  }
  return worst;
}

/** The commands, in the order `--help` lists them. */
export const COMMANDS = ['dmar', 'ivrs', 'smbios', 'survey', 'explain', 'slots', 'fix', 'conrep', 'collect', 'windows-probe', 'fleet', 'lint', 'diagnose', 'vm-config', 'bind'] as const;

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

  /**
   * Only the command asked for is defined (commander builds every option object of every command
   * it is given, a few ms of each start); with no known command first — help, a typo, no
   * command — all of them are, for the listing and commander's suggestions.
   */
  const named = COMMANDS.includes(argv[0] as (typeof COMMANDS)[number]) ? argv[0] : undefined;
  const wanted = (name: (typeof COMMANDS)[number]) => named === undefined || named === name;

  const rootOption = ['--root <dir>', 'read the live host under this directory instead of / (a copied sysfs tree)', '/'] as const;

  /** Where the host comes from: this machine (default), a capture, or loose files users paste. */
  const hostSource = (c: Command) =>
    c
      .option('--root <dir>', 'read a live Linux host under this directory instead of /')
      .option('--capture <file|dir>', 'a capture written by `assignable collect` (.tar.gz or unpacked), or a Windows probe capture (win.json)')
      .option('--surveydda <file>', 'the text SurveyDDA.ps1 printed on a Hyper-V host (either revision; PowerShell 5.1 or 7)')
      .option('--pwsh', 'on Windows: run the probe with PowerShell 7 (pwsh.exe) instead of Windows PowerShell 5.1')
      .option('--lspci <file>', 'lspci -nnvvv output (with or without -D, -k, -xxx/-xxxx hex), lspci -mm -nn, or an IOMMU group listing (Arch wiki script, ls-iommu); "-" or <(…) reads a pipe')
      .option('--acpidump <file>', 'acpidump output (DMAR and IVRS are taken from it)')
      .option('--dmar <file>', 'the DMAR table (raw or acpidump text)')
      .option('--ivrs <file>', 'the IVRS table (raw or acpidump text)')
      .option('--dmidecode <file>', 'dmidecode output, or a dmidecode --dump-bin file')
      .option('--cmdline <text>', 'the kernel command line (/proc/cmdline)')
      .option('--kernel <release>', 'the kernel release (uname -r), e.g. 6.8.12-4-pve')
      .option('--dmesg <file>', 'the kernel log (its "Linux version" and "Command line" lines are used too)')
      .option('--pci-ids <file>', 'pci.ids for device names (default: the system\'s)');

  if (wanted('dmar')) {
    program
      .command('dmar')
      .description('decode the ACPI DMAR table (Intel VT-d): remapping units, RMRRs and their device scopes')
      .argument('[files...]', 'raw table (sysfs, acpixtract, acpidump -b) or acpidump text; "-" reads stdin; default: this host; several are decoded one after another, each under a "==> FILE <==" line')
      .option('--json', 'machine-readable output (docs/json.md)')
      .option('--fields', 'every field with its offset, in the layout of iasl -d')
      .option(...rootOption)
      .action(async (files: string[], o: FirmwareOptions) => {
        code = await eachFile(io, files, o, async (file) => (await firmwareCommands()).runDmar(io, file, o));
      });
  }

  if (wanted('ivrs')) {
    program
      .command('ivrs')
      .description('decode the ACPI IVRS table (AMD-Vi): IOMMUs, device entries and IVMD memory ranges')
      .argument('[files...]', 'raw table or acpidump text; "-" reads stdin; default: this host; several are decoded one after another, each under a "==> FILE <==" line')
      .option('--json', 'machine-readable output (docs/json.md)')
      .option('--fields', 'every field with its offset, in the layout of iasl -d')
      .option(...rootOption)
      .action(async (files: string[], o: FirmwareOptions) => {
        code = await eachFile(io, files, o, async (file) => (await firmwareCommands()).runIvrs(io, file, o));
      });
  }

  if (wanted('smbios')) {
    program
      .command('smbios')
      .description('decode SMBIOS: system, slots (type 9), onboard devices (41), HPE device correlation (203)')
      .argument('[file]', 'dmidecode --dump-bin file, dmidecode text, Windows RSMB blob or bare table; default: this host')
      .option('-t, --type <n>', 'only structures of this type')
      .option('--json', 'machine-readable output (docs/json.md)')
      .option(...rootOption)
      .action(async (file: string | undefined, o: FirmwareOptions) => {
        code = await guarded(io, async () => (await firmwareCommands()).runSmbios(io, file, o));
      });
  }

  if (wanted('survey')) {
    hostSource(
      program
        .command('survey')
        .description('for every PCI device: can it be passed through (vfio, dda, esxi), and if not, why')
        .option('--target <t>', 'vfio (KVM, Proxmox, libvirt), dda (Hyper-V) or esxi', 'vfio')
        .option('--all', 'also list bridges and chipset internals (they never make the exit status 1)')
        .option('--device <d>', 'only this device: an address, slotN or part of a name (exit 1 if it is blocked)')
        .option('--class <c>', 'only this PCI class: hex (03, 0300) or gpu, nic, storage, nvme, usb, audio…')
        .option('--groups', 'one block per IOMMU group: the kernel\'s, or predicted from config space when the capture has none')
        .option('--json', 'machine-readable output (docs/json.md)')
        .option('--format <f>', 'text (default), json (= --json), html (one self-contained page) or markdown (a forum post)')
        .option('--no-color', 'no colour even on a terminal'),
    ).action(async (o: SurveyOptions) => {
      code = await guarded(io, async () => (await hostCommands()).runSurveyCommand(io, o));
    });
  }

  if (wanted('explain')) {
    hostSource(
      program
        .command('explain')
        .description('every finding for a device, with its evidence and a ranked fix ladder')
        .argument('<device>', 'an address (0000:06:00.0, 06:00.0), a slot (slot2), a Windows location path (PCIROOT(0)#PCI(0300)#PCI(0000)) or part of a name')
        .option('--target <t>', 'the target whose verdict sets the exit status; dda also prints the Hyper-V DDA procedure', 'vfio')
        .option('--vm <name>', 'with --target dda: the Hyper-V VM the procedure assigns the device to')
        .option('--json', 'machine-readable output')
        .option('--no-color', 'no colour even on a terminal'),
    ).action(async (device: string, o: SurveyOptions) => {
      code = await guarded(io, async () => (await hostCommands()).runExplain(io, device, o));
    });
  }

  if (wanted('slots')) {
    hostSource(
      program
        .command('slots')
        .description('physical slots, the devices in them, SMBIOS designations and HPE RMRDS_SlotN; embedded devices')
        .option('--json', 'machine-readable output'),
    ).action(async (o: SurveyOptions) => {
      code = await guarded(io, async () => (await hostCommands()).runSlots(io, o));
    });
  }

  if (wanted('fix')) {
    hostSource(
      program
        .command('fix')
        .description('plan the fix for a device blocked by an RMRR (HPE RMRDS slot switch, or the kernel\'s relax_rmrr); --apply does it')
        .argument('[device]', 'an address, a slot (slot2) or part of a name')
        .option('--apply', 'make the change on this host, as root: record the intent, back up, write, read back (nothing is written without it)')
        .option('--force', 'apply the HPE RMRDS change on a generation HPE does not document it for')
        .option('--verify', 'after the reboot: is the device out of the RMRR now? (before/after; writes nothing — with --apply, closes the record or settles an interrupted change)')
        .option('--rollback [backup]', 'restore the last (or this) backup to what it was taken from, then read back (with --apply; as root, on that host)')
        .option('--method <m>', 'rmrds (HPE firmware, the default when possible) or relax-rmrr (kernel)')
        .option('--conrep <path>', 'the conrep program (default: conrep, hp-conrep, /opt/hp/hp-scripting-tools/bin/conrep)')
        .option('--schema <file>', 'HPE\'s conrep_rmrds.xml (default: /opt/hp/hp-scripting-tools/etc/conrep_rmrds.xml, else built-in definitions)')
        .option('--state-dir <dir>', 'backups, pending state and lock (default /var/lib/assignable, or ASSIGNABLE_STATE_DIR)')
        .option('--json', 'the plan as JSON'),
    ).action(async (device: string | undefined, o: FixOptions) => {
      code = await guarded(io, async () => (await fixCommand()).runFix(io, device, o));
    });
  }

  if (wanted('conrep')) {
    const conrep = program.command('conrep').description('read, check and decode HPE conrep schema and settings files');
    conrep
      .command('lint')
      .description('check a settings file against the RMRDS definitions or a schema: unknown sections, values not allowed, platform mismatch, duplicates')
      .argument('<file>', 'a conrep settings file (conrep -s output or a file to load)')
      .option('--schema <file>', 'the conrep schema (default: built-in RMRDS definitions)')
      .action(async (file: string, o: { schema?: string }) => {
        code = await guarded(io, async () => (await conrepCommand()).runConrepLint(io, file, o));
      });
    conrep
      .command('diff')
      .description('the sections and header attributes two settings files differ in (exit 1 when they differ)')
      .argument('<a>', 'a conrep settings file')
      .argument('<b>', 'another one')
      .action(async (a: string, b: string) => {
        code = await guarded(io, async () => (await conrepCommand()).runConrepDiff(io, a, b));
      });
    conrep
      .command('decode')
      .description('an NVRAM/CMOS/EV image (JSON) to settings as conrep -s saves them; with --settings, the settings written into the image')
      .argument('<image>', 'JSON { platform, nvram, cmos, ev } (hex)')
      .option('--schema <file>', 'the conrep schema (default: built-in RMRDS definitions)')
      .option('--settings <file>', 'write these settings into the image instead')
      .option('-o, --output <file>', 'write the result here')
      .action(async (image: string, o: { schema?: string; settings?: string; output?: string }) => {
        code = await guarded(io, async () => (await conrepCommand()).runConrepDecode(io, image, o));
      });
  }

  if (wanted('collect')) {
    program
      .command('collect')
      .description('write a capture of this host (sysfs extract, ACPI and SMBIOS tables, lspci) for survey --capture')
      .option('-o, --output <file>', 'where to write the .tar.gz ("-" for standard output)')
      .option('--redact', 'blank serial numbers, UUIDs, asset tags and MAC addresses')
      .option('--root <dir>', 'collect from a host tree under this directory instead of /')
      .option('--no-lspci', 'do not run lspci')
      .option('--conrep-save <file>', 'an HPE conrep settings save (conrep -s -x conrep_rmrds.xml -f FILE) to keep as conrep.xml, for fleet\'s RMRDS view')
      .action(async (o: CollectCliOptions) => {
        code = await guarded(io, async () => (await collectCommand()).runCollect(io, o));
      });
  }

  if (wanted('windows-probe')) {
    program
      .command('windows-probe')
      .description('print the read-only PowerShell probe for a Windows Hyper-V host; its JSON output is read by --capture')
      .action(async () => {
        code = await guarded(io, async () => (await windowsProbeCommand()).runWindowsProbe(io));
      });
  }

  if (wanted('fleet')) {
    program
      .command('fleet')
      .description('many hosts, one summary: captures (.tar.gz or directories) and survey --json documents, given as files, directories or archives')
      .argument('<inputs...>', 'captures, survey JSON documents, directories (walked) or tar archives of them')
      .option('--format <f>', 'text, json (assignable/fleet/v1), html or prom (Prometheus textfile collector)', 'text')
      .option('--json', 'the same as --format json')
      .option('-o, --output <file>', 'write here, atomically (a temp file in the same directory, then renamed)')
      .option('--target <t>', 'vfio, dda or esxi: the target of the blockers and of --device/--slot', 'vfio')
      .option('--device <d>', 'the hosts where this device is assignable: vendor:device ids (10de:1db6), an address or part of a name')
      .option('--slot <n>', 'the hosts where the device in this physical slot is assignable')
      .option('--jobs <n>', 'worker threads (default: 2 from 200 captures on, else 1)')
      .option('--pci-ids <file>', 'pci.ids for device names (default: the system\'s)')
      .action(async (inputs: string[], o: FleetOptions) => {
        code = await guarded(io, async () => (await fleetCommand()).runFleet(io, inputs, o, io === stdio && isTerminal(2)));
      });
  }

  if (wanted('lint')) {
    program
      .command('lint')
      .description('stale and conflicting passthrough configuration (/etc/modules, modprobe.d, GRUB, /etc/kernel/cmdline), each with file:line and the fix')
      .option('--root <dir>', 'lint the host tree under this directory instead of / (with or without its sysfs)')
      .option('--capture <file|dir>', 'a capture written by `assignable collect`')
      .option('--kernel <release>', 'the kernel release (uname -r) when the tree does not hold it (a copied /etc)')
      .option('--json', 'machine-readable output (docs/json.md)')
      .action(async (o: LintOptions) => {
        code = await guarded(io, async () => (await lintCommand()).runLint(io, o));
      });
  }

  if (wanted('diagnose')) {
    hostSource(
      program
        .command('diagnose')
        .description('the passthrough errors in a pasted log (dmesg, journal, QEMU/Proxmox task log, libvirt, SurveyDDA): each with its finding code and fixes; with host data (--capture…), joined to that host\'s devices')
        .argument('[file]', 'the log text; "-" or nothing reads standard input')
        .option('--json', 'machine-readable output (docs/json.md)'),
    ).action(async (file: string | undefined, o: DiagnoseOptions) => {
      code = await guarded(io, async () => (await diagnoseCommand()).runDiagnose(io, file, o));
    });
  }

  if (wanted('vm-config')) {
    hostSource(
      program
        .command('vm-config')
        .description('the VM configuration for a device and every function that must go with it: Proxmox qm/mapping, libvirt <hostdev>, QEMU -device, Hyper-V DDA')
        .argument('<device>', 'an address (0000:06:00.0, 06:00), a slot (slot2) or part of a name')
        .option('--for <target>', 'proxmox, libvirt, qemu or hyperv')
        .option('--vm <id|name>', 'the Proxmox VMID, libvirt domain or Hyper-V VM name (default: a placeholder)')
        .option('--node <name>', 'with --for proxmox: the cluster node of the resource mapping (default: NODE)')
        .option('--force', 'print the configuration even when the device is blocked (marked as such; exit 0)')
        .option('--json', 'machine-readable output (docs/json.md)'),
    ).action(async (device: string, o: VmConfigCliOptions) => {
      code = await guarded(io, async () => (await vmConfigCommand()).runVmConfig(io, device, o));
    });
  }

  if (wanted('bind')) {
    hostSource(
      program
        .command('bind')
        .description('hand a device and every function that must go with it to vfio-pci: plan by default; --apply binds now, --persistent at every boot, --unbind undoes')
        .argument('<device>', 'an address, a slot (slot2) or part of a name')
        .option('--apply', 'make the change on this host, as root: record the intent, write, read back, roll back on failure (nothing is written without it)')
        .option('--persistent', `the boot-time files instead of sysfs: /etc/modprobe.d/assignable-vfio.conf (options vfio-pci ids=, softdep) or a udev rule when an ID is shared with a host device, then the initramfs rebuilt`)
        .option('--unbind', 'undo: back to the recorded original driver (with --persistent: remove the entries from the boot-time files)')
        .option('--state-dir <dir>', 'records, backups and lock (default /var/lib/assignable, or ASSIGNABLE_STATE_DIR)')
        .option('--json', 'the plan as JSON (docs/json.md)'),
    ).action(async (device: string, o: BindOptions) => {
      code = await guarded(io, async () => (await bindCommand()).runBind(io, device, o));
    });
  }

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

/** Run as the `assignable` program: this process's arguments, its exit status. */
export function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  return main(argv).then(
    (c) => {
      process.exitCode = exitStatus(c);
    },
    (e: unknown) => {
      stdio.err(`assignable: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT.INTERNAL;
    },
  );
}

/** Set to true by the bundler (scripts/bundle.mjs): the bundle's entry (bin.ts) runs main itself. */
declare const ASSIGNABLE_BUNDLED: boolean | undefined;

/** This module is the script node was started with (any name, through links): dist/cli/main.js, src/cli/main.ts. */
function isEntryScript(): boolean {
  if (typeof ASSIGNABLE_BUNDLED !== 'undefined' && ASSIGNABLE_BUNDLED) return false;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Not when imported (tests, bin.ts) or bundled: bin.ts is then the entry.
if (isEntryScript()) void run();
