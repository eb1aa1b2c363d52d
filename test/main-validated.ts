/**
 * The CLI's `main`, for tests: the same call, and every JSON document it prints is checked
 * against its schema in docs/schema (test/json-schema.ts) — so every `--json` output of the
 * suite is validated, whichever test file ran it.
 */
import { main as realMain } from '../src/cli/main.js';
import type { Io } from '../src/cli/run.js';
import { validatedJson } from './json-schema.js';

export async function main(argv: string[], io?: Io): ReturnType<typeof realMain> {
  if (!io) return realMain(argv);
  let out = '';
  const code = await realMain(argv, { ...io, out: (s: string) => { out += s; io.out(s); } });
  validatedJson({ out });
  return code;
}
