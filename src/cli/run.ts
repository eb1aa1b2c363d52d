/**
 * Turns every failure into one line on stderr and a documented exit status.
 * Nothing below the CLI prints or exits; nothing here decodes.
 */
import { DecodeError } from '../firmware/errors.js';
import { InputFailure, SourceError } from '../sources/errors.js';
import { EXIT, type ExitCode } from './exit.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Defined with the readers that raise it; re-exported for the commands. */
export { InputFailure };

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Binary output (collect -o -). */
  outBytes?(data: Uint8Array): void;
  isTTY?: boolean;
}

export const stdio: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  outBytes: (d) => process.stdout.write(d),
  isTTY: process.stdout.isTTY === true,
};

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function exitCodeFor(e: unknown): { code: ExitCode; message: string } {
  let file: string | null = null;
  if (e instanceof InputFailure) {
    file = e.file;
    e = e.inner;
  }
  const prefix = file ? `${file}: ` : '';
  if (e instanceof DecodeError) return { code: EXIT.INPUT, message: `${prefix}${e.message}` };
  if (e instanceof UsageError) return { code: EXIT.INPUT, message: e.message };
  if (e instanceof SourceError) {
    switch (e.kind) {
      case 'absent':
        return { code: EXIT.ABSENT, message: e.message };
      case 'usage':
      case 'not-a-file':
      case 'too-large':
        return { code: EXIT.INPUT, message: e.message };
      default:
        return { code: EXIT.ENVIRONMENT, message: e.message };
    }
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { code: EXIT.INTERNAL, message: `internal error: ${msg} (this is a bug in assignable; ASSIGNABLE_DEBUG=1 shows where)` };
}

/** Run a command body; map anything thrown to a line and an exit status. */
export async function guarded(io: Io, body: () => Promise<ExitCode> | ExitCode): Promise<ExitCode> {
  try {
    return await body();
  } catch (e) {
    const { code, message } = exitCodeFor(e);
    io.err(`assignable: ${oneLine(message)}\n`);
    if (process.env.ASSIGNABLE_DEBUG && e instanceof Error && e.stack) io.err(e.stack + '\n');
    return code;
  }
}
