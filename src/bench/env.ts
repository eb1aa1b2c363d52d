/**
 * The environment of every process the bench measures. Node acts on some variables at every
 * start, before any script runs: NODE_EXTRA_CA_CERTS makes it parse a certificate bundle (a
 * whole system bundle costs more than Node's own start-up), NODE_OPTIONS can add anything. A
 * host that sets them slows `node -e 0` exactly as much as assignable, which flatters every
 * ratio to `node -e 0` and hurts every ratio to the C tools. Few users' hosts set them, so the
 * bench removes them from both sides and says so; BENCH_KEEP_ENV=1 measures as the caller's
 * environment is.
 */
export const STARTUP_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'] as const;

export interface BenchEnv {
  env: NodeJS.ProcessEnv;
  /** The variables that were set and are removed (none with BENCH_KEEP_ENV=1). */
  removed: string[];
}

export function benchEnv(from: NodeJS.ProcessEnv = process.env): BenchEnv {
  const env = { ...from };
  const removed: string[] = [];
  if (from.BENCH_KEEP_ENV !== '1') {
    for (const k of STARTUP_VARIABLES) {
      if (env[k] === undefined) continue;
      delete env[k];
      removed.push(k);
    }
  }
  return { env, removed };
}

export const BENCH_ENV = benchEnv();
