/** `assignable windows-probe`: prints the PowerShell probe shipped with the package, to read before running it. */
import { readFile } from 'node:fs/promises';
import { SourceError } from '../sources/errors.js';
import { EXIT, type ExitCode } from './exit.js';
import type { Io } from './run.js';
import { packageFile } from './package-file.js';
import { PROBE_ASSET, singleExecutable } from '../sources/single-executable.js';

/** windows/ sits at the package root: two levels above dist/cli (and above src/cli when run from source). */
export const WINDOWS_PROBE_PATH = packageFile('windows/assignable-probe.ps1');

export async function runWindowsProbe(io: Io): Promise<ExitCode> {
  let text: string;
  try {
    // The single executable carries the probe (a copy of it alone is all a host may have).
    const sea = singleExecutable();
    text = sea ? sea.getAsset(PROBE_ASSET, 'utf8') : await readFile(WINDOWS_PROBE_PATH, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new SourceError('io', WINDOWS_PROBE_PATH, `${WINDOWS_PROBE_PATH}: cannot read the probe shipped with assignable (${why})`);
  }
  io.out(text);
  return EXIT.OK;
}
