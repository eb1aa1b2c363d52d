/**
 * `assignable fleet` inputs: find them (files, directories walked recursively, archives) and
 * read each into a FleetHost. One bad input becomes an error entry naming the file and why;
 * it never stops the others. Used by the command and by its worker threads alike.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runSurvey } from '../checks/index.js';
import { buildHost, type NameLookup } from '../host/build.js';
import type { HostFacts } from '../host/model.js';
import { FleetDocumentError, hostFromSurvey, hostFromSurveyJson, type FleetHost, type InputError } from '../report/fleet/index.js';
import { parseConrepSettings } from '../remedies/hpe-rmrds/settings.js';
import { readCapture, unpackCapture, MAX_MEMBERS, MAX_UNPACKED } from '../sources/capture-archive.js';
import { readInput, realFs, sourceErrorFrom, type Fs } from '../sources/fs.js';
import { readLiveHost } from '../sources/live.js';
import { memFs } from '../sources/memfs.js';
import { readTar } from '../sources/tar.js';
import { SourceError } from '../sources/errors.js';
import { EXIT } from './exit.js';
import { exitCodeFor, oneLine } from './run.js';

export type TaskKind = 'survey-json' | 'capture-dir' | 'file';
export interface Task {
  kind: TaskKind;
  path: string;
  id: string;
}

/** A survey JSON document of a 4096-function host is a few MiB; far more is not one. */
const SURVEY_JSON_MAX = 64 * 1024 * 1024;
/** An archive of many inputs (a fetched fleet): bounded, as every read is. */
const FLEET_ARCHIVE_MAX = 1024 * 1024 * 1024;
const FLEET_ARCHIVE_MEMBERS = 4_000_000;
/** Where a conrep save sits in a capture (what `conrep -s -f conrep.dat` writes). */
export const CONREP_SAVE_NAMES = ['conrep.dat', 'conrep.xml'];
const SUFFIXES = ['.survey.json', '.json', '.tar.gz', '.tgz', '.tar'];

/** The host's name in the summary: the path without the suffix that says what it is. */
export function hostId(rel: string): string {
  for (const s of SUFFIXES) if (rel.endsWith(s) && rel.length > s.length) return rel.slice(0, -s.length);
  return rel;
}

const isInputFile = (name: string) => SUFFIXES.some((s) => name.endsWith(s));

const USTAR = 'ustar';
const isTar = (b: Uint8Array) => b.length >= 512 && new TextDecoder('latin1').decode(b.subarray(257, 262)) === USTAR;

/**
 * The inputs behind the paths given: a directory holding sys/bus/pci/devices is one capture,
 * other directories are walked (links to directories are not followed, so a loop cannot
 * be), files with an input suffix are taken; a file named on the command line always is.
 */
export function findInputs(paths: string[]): { tasks: Task[]; errors: InputError[] } {
  const tasks: Task[] = [];
  const errors: InputError[] = [];
  const walk = (dir: string, top: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      errors.push(inputError(dir, e));
      return;
    }
    for (const d of entries) {
      const p = join(dir, d.name);
      if (d.isDirectory()) {
        if (isCaptureDir(p)) tasks.push({ kind: 'capture-dir', path: p, id: relative(top, p) });
        else walk(p, top);
        continue;
      }
      // A link is taken when it leads to a file; a link to a directory is not walked (loops).
      let file = d.isFile();
      if (d.isSymbolicLink()) file = statSync(p, { throwIfNoEntry: false })?.isFile() === true;
      if (file && isInputFile(d.name)) tasks.push({ kind: d.name.endsWith('.json') ? 'survey-json' : 'file', path: p, id: hostId(relative(top, p)) });
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      errors.push(inputError(p, e));
      continue;
    }
    if (st.isDirectory()) {
      if (isCaptureDir(p)) tasks.push({ kind: 'capture-dir', path: p, id: basename(p.replace(/\/+$/, '')) || p });
      else walk(p, p);
    } else tasks.push({ kind: p.endsWith('.json') ? 'survey-json' : 'file', path: p, id: hostId(basename(p)) });
  }
  return { tasks, errors };
}

/** An input that could not be read: its path, one line saying why, and whether it is bad or unreadable. */
export function inputError(path: string, e: unknown): InputError {
  if (e instanceof FleetDocumentError) return { input: path, kind: 'bad-input', message: `${path}: ${e.message}` };
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && !(e instanceof SourceError)) e = sourceErrorFrom(e, path, 'input');
  const { code, message } = exitCodeFor(e);
  const msg = oneLine(message);
  return { input: path, kind: code === EXIT.ENVIRONMENT ? 'unreadable' : 'bad-input', message: msg.includes(path) ? msg : `${path}: ${msg}` };
}

function isCaptureDir(p: string): boolean {
  try {
    return statSync(join(p, 'sys/bus/pci/devices')).isDirectory();
  } catch {
    return false;
  }
}

/** RMRDS_SlotN → value from a conrep save, when the capture holds one. */
function rmrdsFrom(fs: Fs, root: string): Record<string, string> | null {
  for (const n of CONREP_SAVE_NAMES) {
    const p = join(root, n);
    if (!fs.existsSync(p)) continue;
    let text: string;
    try {
      text = new TextDecoder().decode(fs.readFileSync(p, 4 * 1024 * 1024));
    } catch {
      continue;
    }
    const s = parseConrepSettings(text);
    const out: Record<string, string> = {};
    for (const sec of s.sections) if (/^RMRDS_Slot\d+$/.test(sec.name) && sec.value !== null) out[sec.name] = sec.value;
    return out;
  }
  return null;
}

export interface Reader {
  names: NameLookup | undefined;
}

function fromFacts(facts: HostFacts, r: Reader, id: string, source: string, rmrds: Record<string, string> | null): FleetHost {
  // Fleet prints verdicts and codes, never fix ladders: their simulations are skipped.
  return hostFromSurvey(runSurvey(buildHost(facts, r.names), { fixLadders: false }), id, source, rmrds);
}

/** One capture inside a tar's file system, rooted at `root`. */
function captureInFs(fs: Fs, root: string, r: Reader, id: string, source: string): FleetHost {
  const facts = readLiveHost(root, fs);
  facts.origin = { kind: 'capture', description: `capture ${source}` };
  return fromFacts(facts, r, id, source, rmrdsFrom(fs, root));
}

function surveyJsonHost(bytes: Uint8Array, id: string, source: string): FleetHost {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new SourceError('usage', source, `${source}: not JSON (${(e as Error).message})`);
  }
  return hostFromSurveyJson(doc, id, source);
}

/** The members of an archive of inputs (a fetched fleet): survey JSON, captures, capture directories. */
function archiveMembers(fs: Fs, archive: string, r: Reader, out: { hosts: FleetHost[]; errors: InputError[] }) {
  const base = hostId(basename(archive));
  const visit = (dir: string) => {
    for (const n of fs.readdirSync(dir).sort()) {
      const p = dir === '/' ? `/${n}` : `${dir}/${n}`;
      const source = `${archive}:${p.slice(1)}`;
      const st = fs.statSync(p);
      try {
        if (st.isDirectory()) {
          if (fs.existsSync(`${p}/sys/bus/pci/devices`)) out.hosts.push(captureInFs(fs, p, r, `${base}/${p.slice(1)}`, source));
          else visit(p);
        } else if (st.isFile() && isInputFile(n)) {
          const bytes = fs.readFileSync(p, SURVEY_JSON_MAX);
          const id = `${base}/${hostId(p.slice(1))}`;
          if (n.endsWith('.json')) out.hosts.push(surveyJsonHost(bytes, id, source));
          else out.hosts.push(captureBytes(unpackCapture(source, bytes), r, id, source));
        }
      } catch (e) {
        out.errors.push(inputError(source, e));
      }
    }
  };
  visit('/');
}

/** A capture's bytes (already gunzipped): the tar of `collect`. */
function captureBytes(bytes: Uint8Array, r: Reader, id: string, source: string): FleetHost {
  if (bytes.length > MAX_UNPACKED) throw new SourceError('too-large', source, `${source}: ${bytes.length} bytes, more than any capture holds (${MAX_UNPACKED})`);
  if (!isTar(bytes)) throw new SourceError('usage', source, `${source}: not a capture (expected a .tar.gz or .tar from \`assignable collect\`)`);
  const fs = memFs(readTar(bytes, MAX_MEMBERS));
  if (!fs.existsSync('/sys/bus/pci/devices')) throw new SourceError('usage', source, `${source}: not an assignable capture (no sys/bus/pci/devices inside)`);
  return captureInFs(fs, '/', r, id, source);
}

/** Read one task; failures become error entries (an archive of inputs may give several of each). */
export function readTask(t: Task, r: Reader): { hosts: FleetHost[]; errors: InputError[] } {
  const out = { hosts: [] as FleetHost[], errors: [] as InputError[] };
  try {
    if (t.kind === 'survey-json') out.hosts.push(surveyJsonHost(readInput(t.path, 'survey JSON', realFs, SURVEY_JSON_MAX), t.id, t.path));
    else if (t.kind === 'capture-dir') {
      const facts = readCapture(t.path);
      out.hosts.push(fromFacts(facts, r, t.id, t.path, rmrdsFrom(realFs, t.path)));
    } else {
      const packed = readInput(t.path, 'capture', realFs, FLEET_ARCHIVE_MAX);
      let bytes = packed;
      if (packed[0] === 0x1f && packed[1] === 0x8b) {
        try {
          bytes = new Uint8Array(gunzipSync(packed, { maxOutputLength: FLEET_ARCHIVE_MAX }));
        } catch (e) {
          throw new SourceError('usage', t.path, `${t.path}: gzip stream: ${(e as Error).message}`);
        }
      }
      if (!isTar(bytes)) throw new SourceError('usage', t.path, `${t.path}: neither a capture nor an archive of inputs (expected a .tar.gz or .tar)`);
      const fs = memFs(readTar(bytes, FLEET_ARCHIVE_MEMBERS));
      if (fs.existsSync('/sys/bus/pci/devices')) {
        if (bytes.length > MAX_UNPACKED) throw new SourceError('too-large', t.path, `${t.path}: ${bytes.length} bytes unpacked, more than any capture holds (${MAX_UNPACKED})`);
        out.hosts.push(captureInFs(fs, '/', r, t.id, t.path));
      } else archiveMembers(fs, t.path, r, out);
    }
  } catch (e) {
    out.errors.push(inputError(t.path, e));
  }
  return out;
}
