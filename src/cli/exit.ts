/**
 * Exit statuses — a public interface, documented in README.md. Stable: scripts depend on them.
 */
export const EXIT = {
  /** Success; for survey/explain: every requested device is assignable (or has warnings only). */
  OK: 0,
  /** survey/explain/fix: at least one requested device is blocked. */
  BLOCKED: 1,
  /** Usage error or bad input: unknown option, malformed or truncated file, wrong table. */
  INPUT: 2,
  /** Environment: cannot read what is needed (permission denied / not root, file missing, I/O error). */
  ENVIRONMENT: 3,
  /** The host's firmware does not provide what was asked for (no DMAR, no IVRS, no SMBIOS). */
  ABSENT: 4,
  /** fix --apply/--rollback failed; the firmware settings (or boot files) are unchanged or were restored and read back. */
  APPLY_FAILED: 5,
  /** fix failed AND restoring failed: the state is unknown; the message says what to check by hand. */
  APPLY_UNKNOWN: 6,
  /** A bug in assignable: the message says so; ASSIGNABLE_DEBUG=1 prints the stack. */
  INTERNAL: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
