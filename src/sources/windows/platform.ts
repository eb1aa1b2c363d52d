/**
 * Running on a Windows host: how the probe is started, where HPE's conrep.exe and its driver
 * live, and where state is kept. Pure (environment and a directory lister are passed in), so
 * the argument building and the search order are unit-tested away from Windows. Nothing here
 * has yet been run on a real Windows Server (README, "Windows").
 */
import { join } from 'node:path';

export type Env = Record<string, string | undefined>;

/** Test-only seam: the platform to act as (README "Testing the write path"); never a user option. */
export function isWindowsPlatform(env: Env = process.env, platform: string = process.platform): boolean {
  return (env.ASSIGNABLE_TEST_PLATFORM ?? platform) === 'win32';
}

/**
 * The probe's command line (docs/windows-probe.md "Invocation"): Windows PowerShell 5.1, present
 * on every Server 2016+, or PowerShell 7 with --pwsh. A script file, not -EncodedCommand: the
 * admin can read exactly what ran.
 */
export function probeCommand(o: { pwsh: boolean; script: string; outFile: string; env?: Env }): { command: string; args: string[] } {
  const env = o.env ?? process.env;
  // Test-only: a stand-in for powershell.exe, run with the same arguments.
  const command = env.ASSIGNABLE_TEST_POWERSHELL ?? (o.pwsh ? 'pwsh.exe' : 'powershell.exe');
  return { command, args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', o.script, '-OutFile', o.outFile] };
}

/** %ProgramData%\assignable: backups, the pending record, history, the lock. */
export function windowsStateDir(env: Env = process.env): string {
  return join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'assignable');
}

/** HPE BIOS cmdlets install conrep.exe here (docs: hpe-rmrr.md §1, Silvenga); the Scripting Toolkit next. */
const MODULE_DIRS = [
  ['Hewlett Packard Enterprise', 'PowerShell', 'Modules', 'HPEBIOSCmdlets'],
  ['WindowsPowerShell', 'Modules', 'HPEBIOSCmdlets'],
  ['Hewlett-Packard', 'PowerShell', 'Modules', 'HPBIOSCmdlets'],
];
const CONFIG_DATA = ['Tools', 'ConfigurationData'];
const STK_DIRS = [
  ['Hewlett Packard Enterprise', 'Scripting Toolkit', 'tools'],
  ['HPE', 'Scripting Toolkit', 'tools'],
  ['HP', 'Scripting Toolkit', 'tools'],
];

/**
 * Where conrep.exe may be, in the order tried: the HPE BIOS cmdlets' Tools\ConfigurationData
 * (directly, or under a module version folder), the Scripting Toolkit's tools folder, then PATH.
 * `list(dir)` names the entries of a directory ([] when it does not exist).
 */
export function conrepCandidates(env: Env, list: (dir: string) => string[]): string[] {
  const roots = [...new Set([env.ProgramFiles, env.ProgramW6432, env['ProgramFiles(x86)']].filter((x): x is string => !!x))];
  const out: string[] = [];
  for (const r of roots) {
    for (const m of MODULE_DIRS) {
      const base = join(r, ...m);
      out.push(join(base, ...CONFIG_DATA, 'conrep.exe'));
      // PowerShellGet puts each module version in its own folder: newest first.
      const versions = list(base).filter((v) => /^\d+(\.\d+)*$/.test(v)).sort((a, b) => compareVersions(b, a));
      for (const v of versions) out.push(join(base, v, ...CONFIG_DATA, 'conrep.exe'));
    }
    for (const s of STK_DIRS) out.push(join(r, ...s, 'conrep.exe'));
  }
  for (const dir of (env.PATH ?? env.Path ?? '').split(';').filter(Boolean)) out.push(join(dir, 'conrep.exe'));
  return out;
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** conrep.exe needs HPE's hpsstkio.sys driver in System32\drivers; the cmdlets ship it next to conrep.exe. */
export function hpsstkioPaths(conrepDir: string, env: Env = process.env): { source: string; target: string } {
  return {
    source: join(conrepDir, 'winpe50', 'hpsstkio', 'hpsstkio.sys'),
    target: join(env.SystemRoot ?? env.windir ?? env.WINDIR ?? 'C:\\Windows', 'System32', 'drivers', 'hpsstkio.sys'),
  };
}
