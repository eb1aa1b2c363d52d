/**
 * Escaping for the HTML report. Device names, SMBIOS strings and lspci text are hostile
 * input: everything from the input goes through `esc` (text and attribute values alike) or,
 * inside the embedded JSON, through `scriptJson`.
 */
import { printable } from '../format.js';

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or a quoted attribute value; control characters shown as "." as the text report does. */
export function esc(s: string | number | null | undefined): string {
  return printable(s === null || s === undefined ? s : String(s)).replace(/[&<>"']/g, (c) => ENTITY[c]!);
}

/** Multi-line text (a <textarea>, a <pre>): each line escaped, the line breaks kept. */
export function escLines(s: string): string {
  return s.split('\n').map(esc).join('\n');
}

/**
 * JSON inside <script type="application/json">: the HTML parser ends the element at the first
 * "</script" whatever the quoting, and "<!--" changes its state; escaping every "<" (and ">", "&",
 * and the JavaScript line separators) as \uXXXX keeps the text the same JSON value.
 */
export function scriptJson(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** A fragment id for a PCI address: "0000:06:00.0" → "dev-0000-06-00-0". */
export function deviceId(address: string): string {
  return 'dev-' + address.replace(/[^0-9a-zA-Z]/g, '-');
}

/** Cut a string for a one-line label (the full text stays in the device's details). */
export function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
