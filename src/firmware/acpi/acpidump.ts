import { hexDigitValue } from '../bytes.js';
import { DecodeError } from '../errors.js';
import { checkLineLengths, describeText, isTextInput, normaliseLineEnds } from '../text.js';

/**
 * Text forms of ACPI tables that users paste:
 *  - `acpidump` output (ACPICA, Linux and Windows):   `DMAR @ 0x00000000bf7c2000` followed by
 *    hex lines `    0000: 44 4D 41 52 ...  DMAR....`
 *  - `iasl -d` reports, whose every table ends in `Raw Table Data: Length 1286 (0x506)` and the
 *    same kind of hex lines with a `// ascii` column.
 * Each block becomes one table's bytes; the signature is read from the bytes themselves.
 */
export interface TextTable {
  /** Signature from the first four bytes (what acpixtract uses), or from the block header. */
  signature: string;
  /** Physical address from an acpidump `@ 0x…` header, when given. */
  address?: bigint;
  /** 1-based line number where the block starts, for messages. */
  line: number;
  bytes: Uint8Array;
}

const ACPIDUMP_HEADER = /^\s*([A-Za-z0-9_!. ]{4}) @ 0x([0-9A-Fa-f]+)\s*$/;
const RAW_DATA_HEADER = /^\s*Raw Table Data: Length (\d+)/;
const HEX_LINE = /^\s*([0-9A-Fa-f]{4,8}):((?: [0-9A-Fa-f]{2}){1,16})(?:\s|$)/;

const LABEL = 'acpidump text';


/** A table's bytes as its hex lines are read: doubled as needed, so no byte is copied twice over. */
class ByteSink {
  private buf = new Uint8Array(4096);
  length = 0;
  push(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function parseAcpidumpText(text: string): TextTable[] {
  const tables: TextTable[] = [];
  let cur: { sigHint: string; address?: bigint; line: number; chunks: ByteSink; expected?: number } | null = null;

  const finish = () => {
    if (cur && cur.chunks.length > 0) {
      const bytes = cur.chunks.bytes();
      const fromBytes = bytes.length >= 4 ? String.fromCharCode(...bytes.subarray(0, 4)) : cur.sigHint;
      const t: TextTable = { signature: fromBytes, line: cur.line, bytes };
      if (cur.address !== undefined) t.address = cur.address;
      tables.push(t);
    }
    cur = null;
  };

  const norm = normaliseLineEnds(text);
  checkLineLengths(norm, LABEL);
  const lines = norm.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    // A dump is mostly hex lines, so that pattern runs first: no line matches two of the three
    // (a hex line has its ":" where a header has " @ 0x" or "Raw"). The headers are looked
    // for only where their fixed text is.
    let m = HEX_LINE.exec(line);
    if (!m) {
      m = line.includes(' @ 0x') ? ACPIDUMP_HEADER.exec(line) : null;
      if (m) {
        finish();
        cur = { sigHint: m[1]!, address: BigInt('0x' + m[2]!), line: lineNo, chunks: new ByteSink() };
        continue;
      }
      m = line.includes('Raw Table Data') ? RAW_DATA_HEADER.exec(line) : null;
      if (m) {
        finish();
        cur = { sigHint: '????', line: lineNo, chunks: new ByteSink(), expected: Number(m[1]) };
        continue;
      }
    } else if (cur) {
      const offset = parseInt(m[1]!, 16);
      if (offset !== cur.chunks.length) {
        // A gap or overlap means a damaged paste; guessing would shift every later field.
        throw new DecodeError(
          LABEL,
          lineNo,
          'hex offset',
          `line offset 0x${offset.toString(16)} does not follow the previous data (expected 0x${cur.chunks.length.toString(16)})`,
          'line',
        );
      }
      // " xx xx …": the pattern matched exactly that, so each byte's digits are at 1 and 2 of three.
      const hex = m[2]!;
      for (let k = 1; k < hex.length; k += 3) cur.chunks.push((hexDigitValue(hex.charCodeAt(k)) << 4) | hexDigitValue(hex.charCodeAt(k + 1)));
      continue;
    }
    // Anything else (blank lines, disassembly, headings) ends nothing: acpidump puts a
    // blank line after each table, iasl puts its decode before the raw data.
    if (cur && cur.chunks.length > 0 && line.trim() === '') finish();
  }
  finish();
  return tables;
}

/**
 * A whole acpidump (or iasl) text file: at least one table, else the file is not one —
 * refused with what it looks like, never read as "a dump without DMAR/IVRS".
 */
export function parseAcpidumpFile(text: string): TextTable[] {
  const tables = parseAcpidumpText(text);
  if (tables.length === 0) {
    throw new DecodeError(LABEL, 1, 'table', `text without any hex dump of an ACPI table: ${describeText(normaliseLineEnds(text))} (expected acpidump output or a raw table)`, 'line');
  }
  return tables;
}

/**
 * Heuristic: a text dump is printable text with line breaks (UTF-16 too); a binary table
 * has NULs early on.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  return isTextInput(bytes);
}
