/**
 * Turns every failure into one line on stderr and a documented exit status.
 * Nothing below the CLI prints or exits; nothing here decodes.
 */
import { fstatSync, writeSync } from 'node:fs';
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

/**
 * Standard output and error, written straight to their descriptors: what a command prints is
 * out before it exits, and no stream is set up at start (process.stdout and process.stderr load
 * Node's stream and socket machinery: a few ms of every run). A reader that goes away
 * (`… | head -1`) ends the writing quietly — EPIPE is how a pipe says "enough", as coreutils
 * treat it: no stack trace, and the exit status stays the command's own. Any other write error
 * of standard output (a full disk, EIO) is one line on stderr and exit 3. A descriptor a parent
 * left non-blocking may say EAGAIN when full: the rest then goes through Node's stream, which
 * waits for the reader.
 */
let outputLost = false;

/** The status to exit with: the command's own, unless its output could not be written (3). */
export function exitStatus(code: ExitCode): ExitCode {
  return outputLost ? EXIT.ENVIRONMENT : code;
}

function descriptorWriter(fd: 1 | 2): { write(chunk: string | Uint8Array): void } {
  let closed = false;
  let streamed = false;
  const fail = (e: NodeJS.ErrnoException) => {
    // Any later write error means the same: the reader is gone or the stream is broken.
    closed = true;
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED' && fd === 1) {
      stdio.err(`assignable: standard output: ${e.message}\n`);
      outputLost = true;
      process.exitCode = EXIT.ENVIRONMENT;
    }
  };
  const viaStream = (chunk: Uint8Array) => {
    const stream = fd === 1 ? process.stdout : process.stderr;
    if (!streamed) stream.on('error', fail);
    streamed = true;
    if (closed || stream.destroyed) return;
    try {
      stream.write(chunk);
    } catch {
      closed = true;
    }
  };
  return {
    write(chunk) {
      if (closed) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      // Once the stream has part of the output, the rest follows it, in order.
      if (streamed) return viaStream(bytes);
      let done = 0;
      try {
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') viaStream(bytes.subarray(done));
        else fail(e as NodeJS.ErrnoException);
      }
    },
  };
}

/** Linux's memory character devices (/dev/null, /dev/zero, /dev/full…): never a terminal. */
const MEM_DEVICES_MAJOR = 1;

/**
 * Whether a descriptor is a terminal, for colour and progress lines: a character device other
 * than /dev/null and its kin. node:tty's isatty would answer exactly, but loading it loads
 * Node's sockets and streams (the cost the direct writes above avoid).
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && ((st.rdev >> 8) & 0xfff) !== MEM_DEVICES_MAJOR;
  } catch {
    return false;
  }
}

const safeOut = descriptorWriter(1);
const safeErr = descriptorWriter(2);

export const stdio: Io = {
  out: (t) => safeOut.write(t),
  err: (t) => safeErr.write(t),
  outBytes: (d) => safeOut.write(d),
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
