/**
 * Reads ACPICA `iasl -d` data-table disassembly (.dsl) as an independent oracle.
 * It knows nothing of our decoder: it only turns lines such as
 *   [0F0h 0240 008h]                Base Address : 000000007DFFD000
 * into { offset, size, name, value } records, in file order. Bit-field sub-lines
 * ("decoded below") are attached to the preceding field.
 */
export interface DslField {
  offset: number;
  size: number;
  name: string;
  /** Text after " : ", e.g. `000000007DFFD000`, `"HP    "`, `0001 [Reserved Memory Region]`. */
  value: string;
  bits: Record<string, string>;
  line: number;
}

// iasl 2025: [0F0h 0240 008h]; iasl 2015 (inside linuxhw reports): [000h 0000   4]
const FIELD = /^\[([0-9A-F]+)h ([0-9]+) +([0-9A-F]+h|[0-9]+)\]\s*(.+?) : (.*)$/;
const BIT = /^\s{10,}(\S.*?) : (.*)$/;

export function parseDsl(text: string): DslField[] {
  const out: DslField[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('Raw Table Data')) break;
    const m = FIELD.exec(line);
    if (m) {
      const sizeTok = m[3]!;
      const size = sizeTok.endsWith('h') ? parseInt(sizeTok.slice(0, -1), 16) : parseInt(sizeTok, 10);
      const offset = parseInt(m[1]!, 16);
      if (offset !== parseInt(m[2]!, 10)) throw new Error(`dsl line ${i + 1}: hex and decimal offsets disagree`);
      out.push({ offset, size, name: m[4]!.trim(), value: m[5]!.trim(), bits: {}, line: i + 1 });
      continue;
    }
    const b = BIT.exec(line);
    if (b && out.length > 0) out[out.length - 1]!.bits[b[1]!.trim()] = b[2]!.trim();
  }
  return out;
}

/** `000000007DFFD000` → 0x7dffd000n; `0001 [Reserved Memory Region]` → 1n. */
export function dslInt(value: string): bigint {
  const tok = value.split(/\s+/)[0]!;
  if (!/^[0-9A-Fa-f]+$/.test(tok)) throw new Error(`not a hex value: ${value}`);
  return BigInt('0x' + tok);
}

export function dslNum(value: string): number {
  return Number(dslInt(value));
}

/** `"HP    "` → `HP    ` (quotes removed, spaces kept). */
export function dslString(value: string): string {
  const m = /^"(.*)"/.exec(value);
  if (!m) throw new Error(`not a quoted string: ${value}`);
  return m[1]!;
}
