/**
 * Where everything the program prints goes, with no heavy import: the launcher answers
 * `--version` through it before anything else is loaded, and run.ts gives it to the commands.
 */
import { fstatSync, writeSync } from 'node:fs';
import { EXIT, type ExitCode } from './exit.js';

let outputLost = false;

/** The status to exit with: the command's own, unless its output could not be written (3). */
export function exitStatus(code: ExitCode): ExitCode {
  return outputLost ? EXIT.ENVIRONMENT : code;
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
function descriptorWriter(fd: 1 | 2): { write(chunk: string | Uint8Array): void } {
  let closed = false;
  let streamed = false;
  const fail = (e: NodeJS.ErrnoException) => {
    // Any later write error means the same: the reader is gone or the stream is broken.
    closed = true;
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED' && fd === 1) {
      standardError.write(`assignable: standard output: ${e.message}\n`);
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

/** Standard output and standard error, as the commands (run.ts) and `--version` write them. */
export const standardOutput = descriptorWriter(1);
export const standardError = descriptorWriter(2);
