/**
 * The recognizer: log text in, the known passthrough errors in it out. Pure.
 *
 * Lines may carry dmesg timestamps, journal or syslog prefixes ("Jan 09 10:03:12 host kernel:"),
 * QEMU's ISO time, or arrive wrapped by libvirt with "\n" escaped: patterns match anywhere in a
 * line, and device addresses are taken only where no timestamp can look like one.
 */
import { MESSAGES, type KnownMessage } from './messages.js';

export interface Hit {
  message: KnownMessage;
  /** 1-based line numbers where it was seen (the same error for the same device, merged). */
  lines: number[];
  /** The first line as pasted (trimmed, bounded). */
  text: string;
  /** 0000:bb:dd.f, when the line names a PCI function. */
  device: string | null;
  /** A name (SurveyDDA prints the friendly name on the line before). */
  deviceName: string | null;
  group: number | null;
}

export interface Recognized {
  hits: Hit[];
  /** Lines read. */
  lineCount: number;
}

/**
 * A PCI address not inside a timestamp: not preceded by a word character, ':' or '.', not
 * followed by one ("10:03:12.035" and "08:06:48.563Z" are times, not 03:12.0 or 06:48.5).
 */
const BDF = /(?<![\w:.])(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])(?![\w])/i;

export function normalizeAddress(s: string): string | null {
  const m = BDF.exec(s.trim());
  if (!m) return null;
  return `${(m[1] ?? '0000').toLowerCase()}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]}`;
}

/** Longest line kept in the output: a log line, not a dump. */
const MAX_SHOWN = 400;

export function recognize(text: string): Recognized {
  const lines = text.split(/\r?\n/);
  const hits: Hit[] = [];
  const byKey = new Map<string, Hit>();
  let previous: Hit | null = null;
  let lastText = '';
  for (const [i, raw] of lines.entries()) {
    const line = raw.length > 4096 ? raw.slice(0, 4096) : raw;
    const message = MESSAGES.find((m) => m.pattern.test(line));
    if (!message) {
      if (line.trim() !== '') {
        lastText = line.trim();
        previous = null;
      }
      continue;
    }
    // "Please ensure all devices…" after "group N is not viable" is the same error.
    if (message.continuation && previous && previous.message.codes.join() === message.codes.join()) {
      previous.lines.push(i + 1);
      continue;
    }
    const m = message.pattern.exec(line)!;
    const named = m.groups?.dev;
    const device = (named !== undefined ? normalizeAddress(named) : null) ?? normalizeAddress(line);
    const groupText = m.groups?.group ?? m.groups?.group2;
    const group = groupText !== undefined ? Number(groupText) : null;
    const deviceName = message.deviceOnPreviousLine && device === null && lastText !== '' ? lastText.slice(0, 200) : null;
    const key = `${message.id}|${device ?? ''}|${deviceName ?? ''}|${group ?? ''}`;
    const seen = byKey.get(key);
    if (seen) {
      seen.lines.push(i + 1);
      previous = seen;
    } else {
      const hit: Hit = { message, lines: [i + 1], text: line.trim().slice(0, MAX_SHOWN), device, deviceName, group };
      byKey.set(key, hit);
      hits.push(hit);
      previous = hit;
    }
    lastText = line.trim();
  }
  return { hits, lineCount: lines.length - (lines[lines.length - 1] === '' ? 1 : 0) };
}
