/**
 * The one error every decoder throws. It names the table (or format), the byte offset
 * and the field, so a user can find the bad byte with a hex editor.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    /** Table or format being decoded: "DMAR", "IVRS", "SMBIOS", "acpidump text", … */
    readonly table: string,
    /** Byte offset from the start of the table (or line number for text formats, see `unit`). */
    readonly offset: number,
    /** Spec field name, e.g. "RMRR.Length" or "Device Scope.Entry Length". */
    readonly field: string,
    readonly detail: string,
    readonly unit: 'byte' | 'line' = 'byte',
  ) {
    // Bad input is normal input: the message names table, offset and field, and a stack of
    // decoder frames adds nothing for the user, while capturing one cost several times the
    // rest of the error (a mutation suite throws tens of thousands). Other errors keep theirs.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        unit === 'byte'
          ? `${table} at offset 0x${offset.toString(16)} (${field}): ${detail}`
          : `${table} line ${offset} (${field}): ${detail}`,
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
