/** Files shipped in the package beside the code (windows/assignable-probe.ps1), wherever the code runs from. */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set to true by the bundler (scripts/bundle.mjs). */
declare const ASSIGNABLE_BUNDLED: boolean | undefined;

/**
 * `rel` from the package root: the one-file build is <package>/dist/assignable.mjs (the script node
 * runs, through npm's bin link); the tsc build and the sources are <package>/{dist,src}/cli/.
 */
export function packageFile(rel: string): string {
  if (typeof ASSIGNABLE_BUNDLED !== 'undefined' && ASSIGNABLE_BUNDLED) return join(dirname(realpathSync(process.argv[1]!)), '..', rel);
  return fileURLToPath(new URL(`../../${rel}`, import.meta.url));
}
