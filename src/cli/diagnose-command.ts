/** `diagnose [FILE|-]`: the passthrough errors in a pasted log, explained; with a host, joined to its devices. */
import { runSurvey } from '../checks/index.js';
import { diagnose } from '../checks/diagnose/index.js';
import { diagnosisJson, DIAGNOSE_SCHEMA, renderDiagnosis } from '../report/diagnose.js';
import { toJson } from '../report/json.js';
import { readInput, realFs, type Fs } from '../sources/fs.js';
import { SourceError } from '../sources/errors.js';
import { EXIT, type ExitCode } from './exit.js';
import { loadHost, type HostSourceOptions } from './host-commands.js';
import { UsageError, type Io } from './run.js';

export interface DiagnoseOptions extends HostSourceOptions {
  json?: boolean;
}

/** A pasted log, a journal export, a task log: megabytes at most; 16 MiB is not a paste. */
export const DIAGNOSE_MAX_BYTES = 16 * 1024 * 1024;

/** Logs may quote a stray byte; one in twenty undecodable or control characters is not a log. */
const GARBAGE_RATIO = 20;

const HOST_KEYS: Array<keyof HostSourceOptions> = ['root', 'capture', 'surveydda', 'pwsh', 'lspci', 'acpidump', 'dmar', 'ivrs', 'dmidecode', 'cmdline', 'kernel', 'dmesg'];

/**
 * Log text: UTF-8 (BOM or not), or UTF-16LE with a BOM (what `>` writes in Windows PowerShell
 * 5.1, where SurveyDDA and cmdlet errors come from). A NUL byte in what remains is binary data.
 */
export function decodeLogText(bytes: Uint8Array, file: string): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) text = new TextDecoder().decode(bytes.subarray(3));
  else {
    const nul = bytes.indexOf(0);
    if (nul >= 0) throw new SourceError('usage', file, `diagnose: ${file === '-' ? 'standard input' : file}: offset ${nul}: a NUL byte — binary data, not log text (give the text of dmesg, journalctl, a QEMU/Proxmox task log, a libvirt error or SurveyDDA's output)`);
    text = new TextDecoder().decode(bytes);
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new SourceError('usage', file, `diagnose: ${file === '-' ? 'standard input' : file}: character ${nul}: a NUL — binary data, not log text`);
  // Garbage without NULs (compressed or random bytes): undecodable or control characters
  // beyond what logs carry (tab, form feed, ANSI escape) in more than 1 of every GARBAGE_RATIO.
  let bad = 0;
  let first = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfffd || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) || c === 0x7f) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad * GARBAGE_RATIO > text.length) throw new SourceError('usage', file, `diagnose: ${file === '-' ? 'standard input' : file}: character ${first}: ${bad} of ${text.length} characters are not text — binary or compressed data, not a log`);
  return text;
}

export function runDiagnose(io: Io, file: string | undefined, o: DiagnoseOptions, fs: Fs = realFs): ExitCode {
  const input = file ?? '-';
  const hostGiven = HOST_KEYS.filter((k) => o[k] !== undefined);
  if (input === '-' && hostGiven.some((k) => o[k] === '-' && k !== 'cmdline' && k !== 'kernel')) throw new UsageError('diagnose reads the log from standard input; name a file for the host data');
  const text = decodeLogText(readInput(input, 'diagnose', fs, DIAGNOSE_MAX_BYTES), input);
  // With any host source the named devices are joined to that host's data; --root alone too.
  const sv = hostGiven.length > 0 ? runSurvey(loadHost(o, fs)) : null;
  const dx = diagnose(text, sv);
  const source = input === '-' ? 'standard input' : input;
  if (o.json) io.out(toJson(DIAGNOSE_SCHEMA, diagnosisJson(dx, source, sv !== null)) + '\n');
  else io.out(renderDiagnosis(dx, source, sv !== null));
  return dx.errors.length > 0 ? EXIT.BLOCKED : EXIT.OK;
}
