/** `--capture win.json`: a Windows probe capture, told from a Linux capture by its first bytes and schema. */
import type { HostFacts } from '../../host/model.js';
import { InputFailure } from '../errors.js';
import { readInput, realFs, type Fs } from '../fs.js';
import { bad, decodeProbeText, type Json } from './json.js';
import { windowsFactsFromProbe } from './probe.js';
import { surveyDdaFacts } from './surveydda.js';

export { PROBE_SCHEMA, windowsFactsFromProbe } from './probe.js';

/** The biggest host has a few hundred functions of about 3 KiB each, plus firmware tables. */
const MAX_PROBE_BYTES = 32 * 1024 * 1024;

/** JSON text (after an optional BOM) rather than gzip or tar. */
export function looksLikeJson(bytes: Uint8Array): boolean {
  const head = decodeProbeText(bytes.subarray(0, 64)).replace(/^\uFEFF/, '').trimStart();
  return head.startsWith('{');
}

export function parseProbeBytes(bytes: Uint8Array, file: string): HostFacts {
  let doc: Json;
  try {
    doc = JSON.parse(decodeProbeText(bytes)) as Json;
  } catch (e) {
    throw new InputFailure(file, bad('(document)', `not JSON: ${(e as Error).message}`));
  }
  try {
    return windowsFactsFromProbe(doc, file);
  } catch (e) {
    throw new InputFailure(file, e);
  }
}

/** null when the file is not JSON (then it is a Linux capture for the caller to read). */
export function readWindowsCaptureIfJson(path: string, fs: Fs = realFs): HostFacts | null {
  let st;
  try {
    st = fs.statSync(path);
  } catch {
    return null;
  }
  if (st.isDirectory()) return null;
  const bytes = readInput(path, 'capture', fs, MAX_PROBE_BYTES);
  if (!looksLikeJson(bytes)) return null;
  return parseProbeBytes(bytes, path);
}

/** A SurveyDDA paste is a few KiB; a forum thread around it stays far below this. */
const MAX_SURVEYDDA_BYTES = 4 * 1024 * 1024;

export function readSurveyDda(path: string, fs: Fs = realFs): HostFacts {
  const text = decodeProbeText(readInput(path, 'SurveyDDA output', fs, MAX_SURVEYDDA_BYTES));
  try {
    return surveyDdaFacts(text, path);
  } catch (e) {
    throw new InputFailure(path, e);
  }
}
