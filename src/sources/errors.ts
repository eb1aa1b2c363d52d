/**
 * Why an input could not be read. Each kind maps to one documented exit status
 * (see cli/exit.ts), so scripts can tell "no such table on this host" from
 * "run me as root" from "that file does not exist".
 */
export type SourceErrorKind =
  /** The host's firmware does not expose this table: a fact about the machine. */
  | 'absent'
  /** The file or table exists but we may not read it (not root). */
  | 'permission'
  /** A file the user named does not exist. */
  | 'not-found'
  | 'not-a-file'
  | 'too-large'
  | 'usage'
  | 'io';

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly kind: SourceErrorKind,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A failure with the file it concerns, so the message can name it. Lives here (not in the
 * CLI) because the readers raise it; the CLI maps it to a line and an exit status.
 */
export class InputFailure extends Error {
  constructor(
    readonly file: string,
    readonly inner: unknown,
  ) {
    super(String(inner));
  }
}
