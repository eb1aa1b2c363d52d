/** `assignable collect`: write a capture of this host for `survey --capture` (here or elsewhere). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseConrepSettings, writeConrepSettings } from '../remedies/hpe-rmrds/settings.js';
import { collect, CONREP_SAVE_FILE } from '../sources/collect.js';
import { SourceError } from '../sources/errors.js';
import { readInput, realFs, sourceErrorFrom, type Fs } from '../sources/fs.js';
import { writeTar } from '../sources/tar.js';
import { VERSION } from '../version.js';
import { EXIT, type ExitCode } from './exit.js';
import type { Io } from './run.js';

export interface CollectCliOptions {
  output?: string;
  redact?: boolean;
  root?: string;
  lspci?: boolean;
  /** A conrep settings save (`conrep -s -x conrep_rmrds.xml -f FILE`) to keep in the capture. */
  conrepSave?: string;
}

/** A conrep save is a few KiB; a full one of a Gen10 a few hundred. */
const CONREP_SAVE_MAX = 4 * 1024 * 1024;
const RMRDS_SECTION = /^RMRDS_Slot\d+$/;

/**
 * The save, checked to be a conrep settings file (one-line error naming it otherwise). With
 * --redact only its RMRDS_SlotN sections are kept: a full save names the server and its
 * network (server name, iLO and NIC settings), the RMRDS ones say only how slots are set.
 */
function conrepSave(path: string, redact: boolean, fs: Fs, notes: string[]): Uint8Array {
  const bytes = readInput(path, 'conrep save', fs, CONREP_SAVE_MAX);
  let s;
  try {
    s = parseConrepSettings(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new SourceError('usage', path, `--conrep-save ${path}: not a conrep settings file (${(e as Error).message})`);
  }
  const rmrds = s.sections.filter((x) => RMRDS_SECTION.test(x.name));
  if (rmrds.length === 0) notes.push(`${CONREP_SAVE_FILE}: ${path} has no RMRDS_SlotN section (saved without HPE's conrep_rmrds.xml schema?): fleet shows no slot setting from it`);
  if (!redact) return bytes;
  return new TextEncoder().encode(writeConrepSettings({ ...s, sections: rmrds }));
}
/** lspci's own decode, for people reading the capture; bounded so it can never hang. */
function runLspci(): string | undefined {
  const r = spawnSync('lspci', ['-nnvvv'], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return r.status === 0 && r.stdout ? r.stdout : undefined;
}

export function runCollect(io: Io, o: CollectCliOptions, fs: Fs = realFs, now = new Date()): ExitCode {
  const root = o.root ?? '/';
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const output = o.output ?? `assignable-capture-${stamp}.tar.gz`;
  const saveNotes: string[] = [];
  const save = o.conrepSave !== undefined ? conrepSave(o.conrepSave, o.redact ?? false, fs, saveNotes) : undefined;
  const lspciText = o.lspci === false || root !== '/' ? undefined : runLspci();
  const { entries, notes, manifest } = collect(root, fs, { redact: o.redact ?? false, toolVersion: VERSION, created: now.toISOString(), ...(lspciText ? { lspciText } : {}), ...(save ? { conrepSave: save } : {}) });
  if (o.redact && !manifest.redacted) {
    // A capture asked to be redacted is made to be shared: never write one that is not.
    for (const n of notes) io.err(`assignable: note: ${n}\n`);
    io.err('assignable: collect --redact: the result still holds identifying text; nothing written\n');
    return EXIT.BLOCKED;
  }
  const gz = gzipSync(writeTar(entries, Math.floor(now.getTime() / 1000)));
  if (output === '-') {
    if (!io.outBytes) throw new Error('binary output is not available');
    io.outBytes(gz);
  } else {
    try {
      writeFileSync(output, gz);
    } catch (e) {
      throw sourceErrorFrom(e, output, 'collect');
    }
    const files = entries.filter((e) => e.type === 'file').length;
    io.err(`assignable: wrote ${output} (${files} files, ${gz.length} bytes${o.redact ? ', redacted' : ''}). Analyse it anywhere with: assignable survey --capture ${output}\n`);
  }
  for (const n of [...notes, ...saveNotes]) io.err(`assignable: note: ${n}\n`);
  if (!lspciText && root === '/' && o.lspci !== false) io.err('assignable: note: lspci not available, the capture has no lspci-nnvvv.txt (the survey does not need it)\n');
  return EXIT.OK;
}
