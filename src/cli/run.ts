/**
 * Turns every failure into one line on stderr and a documented exit status.
 * Nothing below the CLI prints or exits; nothing here decodes.
 */
import { DecodeError } from '../firmware/errors.js';
import { InputFailure, SourceError } from '../sources/errors.js';
import { EXIT, type ExitCode } from './exit.js';
import { isTerminal, standardError, standardOutput } from './stdio.js';

/** Defined with the descriptor writers; re-exported for main.ts. */
export { exitStatus, isTerminal } from './stdio.js';

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
  out: (t) => standardOutput.write(t),
  err: (t) => standardError.write(t),
  outBytes: (d) => standardOutput.write(d),
  isTTY: isTerminal(1),
};

/** A message longer than this is cut: it goes to one terminal line, not a dump of the input. */
const MAX_MESSAGE_CHARS = 2000;

/** Flatten a message onto one line. A scan, not a regex: "\s*\n\s*" retries on every blank (quadratic). */
export function oneLine(s: string): string {
  const src = s.length > MAX_MESSAGE_CHARS * 2 ? s.slice(0, MAX_MESSAGE_CHARS * 2) : s;
  let out = '';
  for (const part of src.split('\n')) {
    const t = part.trim();
    if (t === '') continue;
    out += (out === '' ? '' : ' ') + t;
    if (out.length > MAX_MESSAGE_CHARS) break;
  }
  // Bytes quoted from a binary file must not reach the terminal as control sequences.
  out = out.replace(/[\x00-\x1f\x7f]/g, '?');
  return out.length > MAX_MESSAGE_CHARS || src.length < s.length ? out.slice(0, MAX_MESSAGE_CHARS) + ' …' : out;
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
