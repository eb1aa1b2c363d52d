/**
 * Text as users paste it: saved by a Windows editor (UTF-16, CRLF), by an old Mac tool
 * (CR only), copied out of a forum code block. Pure: bytes in, one normalised string out,
 * so every text reader sees LF-separated lines of bounded length.
 */
import { isAscii } from 'node:buffer';
import { DecodeError } from './errors.js';

/** A real lspci, dmidecode or acpidump line is well under 1 KB; past this it is not one of theirs. */
export const MAX_LINE_CHARS = 4096;

const BOM_UTF8 = [0xef, 0xbb, 0xbf];
const BOM_UTF16LE = [0xff, 0xfe];
const BOM_UTF16BE = [0xfe, 0xff];

const startsWith = (b: Uint8Array, sig: number[]) => sig.every((v, i) => b[i] === v);

/**
 * UTF-16 without a byte order mark: ASCII text then has a NUL in every other byte. Which
 * half holds the NULs tells the byte order. Judged on the first bytes only.
 */
function bomlessUtf16(b: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  const n = Math.min(b.length, 512) & ~1;
  if (n < 4) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (b[i] === 0) evenNul++;
    if (b[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul >= pairs * 0.9 && evenNul === 0) return 'utf-16le';
  if (evenNul >= pairs * 0.9 && oddNul === 0) return 'utf-16be';
  return null;
}

/** How much of a file decides whether it is text. */
const TEXT_SNIFF_BYTES = 4096;
/** Control characters text never holds (tab, LF, FF and CR it may): a byte of these means a binary file. */
const NOT_TEXT = /[\x00-\x08\x0b\x0e-\x1f\x7f]/;

/** The encoding a text file was saved in, or null when the bytes are not text we read. */
export function textEncodingOf(b: Uint8Array): 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'latin1' | null {
  if (startsWith(b, BOM_UTF8)) return 'utf-8-bom';
  if (startsWith(b, BOM_UTF16LE)) return 'utf-16le';
  if (startsWith(b, BOM_UTF16BE)) return 'utf-16be';
  const u16 = bomlessUtf16(b);
  if (u16) return u16;
  const n = Math.min(b.length, TEXT_SNIFF_BYTES);
  if (n === 0) return null;
  // One native scan instead of a loop the interpreter runs 4096 times per file read.
  return NOT_TEXT.test(Buffer.from(b.buffer, b.byteOffset, n).toString('latin1')) ? null : 'latin1';
}

/** Whether these bytes are a text file (of any encoding we read) rather than a binary table. */
export function isTextInput(b: Uint8Array): boolean {
  return textEncodingOf(b) !== null;
}

/**
 * Decode a pasted text file: UTF-16 (either order, BOM or not) and a UTF-8 BOM are honoured;
 * anything else is read byte for byte (latin1), as the parsers always did. Line ends become
 * LF whether they were CRLF or CR alone.
 */
export function decodeTextInput(b: Uint8Array): string {
  const enc = textEncodingOf(b);
  let s: string;
  if (enc === 'utf-8-bom') s = new TextDecoder('utf-8').decode(b.subarray(3));
  else if (enc === 'utf-16le' || enc === 'utf-16be') s = new TextDecoder(enc).decode(b.subarray(startsWith(b, BOM_UTF16LE) || startsWith(b, BOM_UTF16BE) ? 2 : 0));
  // ASCII reads the same either way; Buffer's latin1 is many times faster on a 100 MB lspci -xxxx dump.
  else if (isAscii(b)) s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  else s = new TextDecoder('latin1').decode(b);
  return normaliseLineEnds(s);
}

/** CRLF and lone CR → LF. */
export function normaliseLineEnds(s: string): string {
  return s.indexOf('\r') < 0 ? s : s.replace(/\r\n?/g, '\n');
}

/**
 * Refuse lines longer than any real capture has. Parsers then work on bounded lines, so no
 * regular expression sees more than MAX_LINE_CHARS at once.
 */
export function checkLineLengths(text: string, label: string, max: number = MAX_LINE_CHARS): void {
  let start = 0;
  let line = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > max) {
      throw new DecodeError(label, line, 'line length', `${end - start} characters on one line; real ${label} lines are under 1 KB (is this the right file?)`, 'line');
    }
    start = end + 1;
    line++;
  }
}

/** Characters a paste puts before every line: code-block indent, "> " quotes, "#" comments. */
const isQuoteChar = (c: number) => c === 0x20 || c === 0x3e || c === 0x23;

/**
 * Remove what a forum code block, an e-mail quote or a commented-out copy added to every
 * line: the longest prefix of spaces, ">" and "#" common to all non-blank lines. Tabs are
 * never cut (lspci and dmidecode indent with them).
 */
export function dedent(text: string): string {
  // Most files have no common prefix: the first non-blank line says so without splitting the whole text.
  const firstNonBlank = /\S/.exec(text);
  if (!firstNonBlank || !isQuoteChar(text.charCodeAt(text.lastIndexOf('\n', firstNonBlank.index) + 1))) return text;
  const lines = text.split('\n');
  let prefix: string | null = null;
  for (const l of lines) {
    if (l.trim() === '') continue;
    let n = 0;
    const max = prefix === null ? l.length : Math.min(prefix.length, l.length);
    while (n < max && isQuoteChar(l.charCodeAt(n)) && (prefix === null || l.charCodeAt(n) === prefix.charCodeAt(n))) n++;
    prefix = l.slice(0, n);
    if (n === 0) return text;
  }
  if (!prefix) return text;
  const cut = prefix.length;
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(cut))).join('\n');
}

/** First non-blank lines, for describing a file; bounded work whatever the file holds. */
function firstLines(text: string, count: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (out.length < count && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const l = text.slice(start, Math.min(end, start + 200));
    if (l.trim() !== '') out.push(l);
    start = end + 1;
  }
  return out;
}

/**
 * What a text file looks like, in a few words, for the message that refuses it as the
 * wrong kind ("it looks like Markdown text"). Only the first lines are looked at.
 */
export function describeText(text: string): string {
  if (text.trim() === '') return 'it is empty';
  if (/[\x00-\x08\x0e-\x1f\x7f]/.test(text.slice(0, 512))) return 'it looks like binary data, not text';
  const head = firstLines(text, 40);
  const first = head[0]!.trim();
  const any = (re: RegExp) => head.some((l) => re.test(l));
  if (first.startsWith('<?xml') || /^<[A-Za-z!]/.test(first)) return 'it looks like XML or HTML';
  if (/^[{[]/.test(first)) return 'it looks like JSON';
  if (any(/^#{1,6} \S/) || any(/^```/) || any(/^\s*[-*] \[[ x]\]/)) return 'it looks like Markdown text';
  if (any(/^Handle 0x[0-9A-Fa-f]{4}, DMI type/)) return 'it looks like dmidecode output';
  if (any(/^\s*[A-Z0-9_]{4} @ 0x[0-9A-Fa-f]+\s*$/)) return 'it looks like acpidump output';
  if (any(/^\s*IOMMU Group +\d+/)) return 'it looks like an IOMMU group listing';
  if (any(/^[-+\\|]-?\[[0-9a-f]{4}:[0-9a-f]{2}\]/)) return 'it looks like lspci -t (tree) output';
  if (any(/^(?:[0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /)) return 'it looks like lspci output';
  if (any(/^\[\s*\d+\.\d+\] /)) return 'it looks like a kernel log (dmesg)';
  if (any(/^#!/)) return 'it looks like a script';
  return `it holds ${head.length < 40 ? head.length : 'many'} line(s) of other text, starting "${first.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}"`;
}
