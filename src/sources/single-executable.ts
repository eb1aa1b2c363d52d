/**
 * Whether this process is the single executable (`npm run sea`), and the files embedded in it.
 * There, process.execPath is the program itself: it takes no `-e` and no script path, so what
 * other builds start as `node -e CODE` or `new Worker(script)` must go through the program's own
 * entry, or through the build embedded as an asset (scripts/sea.mjs adds it).
 *
 * node:sea is reached through process.getBuiltinModule (Node 20.16): a static import would fail
 * to load on the Node 18 the bundle also runs on, which is never a single executable.
 */
export interface SingleExecutable {
  /** An embedded file's text (sea-config.json "assets"). */
  getAsset(key: string, encoding: 'utf8'): string;
}

/** The one-file build, embedded under this name: what `fleet --jobs N` runs in its worker threads. */
export const BUILD_ASSET = 'assignable-cli.cjs';

/** The Windows probe (windows/assignable-probe.ps1), embedded under its path in the package: what `windows-probe` prints. */
export const PROBE_ASSET = 'windows/assignable-probe.ps1';

let known: SingleExecutable | null | undefined;

/** node:sea when this process is a single executable, else null. */
export function singleExecutable(): SingleExecutable | null {
  if (known === undefined) {
    const load = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = load?.call(process, 'node:sea') as (SingleExecutable & { isSea(): boolean }) | undefined;
    known = sea?.isSea() ? sea : null;
  }
  return known;
}
