/** `assignable fleet`: many captures and survey JSON documents, one summary (README "Fleets"). */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TARGETS, type Target } from '../checks/finding.js';
import { toJson } from '../report/json.js';
import { FLEET_SCHEMA, fleetSummary, renderFleetHtml, renderFleetProm, renderFleetText, type FleetHost, type InputError } from '../report/fleet/index.js';
import { sourceErrorFrom } from '../sources/fs.js';
import { EXIT, type ExitCode } from './exit.js';
import { findInputs, readTask, type Task } from './fleet-read.js';
import { FLEET_WORKER_ARG } from './fleet-worker-arg.js';
import { BUILD_ASSET, singleExecutable } from '../sources/single-executable.js';
import { nameLookup } from './host-commands.js';
import { UsageError, type Io } from './run.js';

export interface FleetOptions {
  format?: string;
  json?: boolean;
  output?: string;
  target?: string;
  device?: string;
  slot?: string;
  jobs?: string;
  pciIds?: string;
}

const FORMATS = ['text', 'json', 'html', 'prom'] as const;
type Format = (typeof FORMATS)[number];
/** Below this many captures a second thread costs more (its start, pci.ids read again) than it saves. */
const PARALLEL_FROM = 200;
/** Tasks per message to a worker: small enough to balance, big enough that messages are few. */
const CHUNK_MAX = 64;
/** Chunks sent ahead to each worker. */
const IN_FLIGHT = 2;
const MAX_JOBS = 64;

type Read = { hosts: FleetHost[]; errors: InputError[] };

/**
 * The capture reader probes many paths a capture lacks, each an ENOENT error object; their
 * stack traces were a third of the CPU time of a fleet read, and fleet never prints them
 * (a failed input is one line). ASSIGNABLE_DEBUG=1 keeps them.
 */
export function withoutStacks<T>(f: () => T): T {
  if (process.env.ASSIGNABLE_DEBUG) return f();
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return f();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function readSerial(tasks: Task[], pciIds: string | undefined, tick: (n: number) => void): Read {
  const names = nameLookup(pciIds ? { pciIds } : {});
  const out: Read = { hosts: [], errors: [] };
  withoutStacks(() => {
    for (const t of tasks) {
      const r = readTask(t, { names });
      out.hosts.push(...r.hosts);
      out.errors.push(...r.errors);
      tick(1);
    }
  });
  return out;
}

/** Set to true by the bundler (scripts/bundle.mjs). */
declare const ASSIGNABLE_BUNDLED: boolean | undefined;
const BUNDLED = typeof ASSIGNABLE_BUNDLED !== 'undefined' && ASSIGNABLE_BUNDLED;
/** tsx's loader API: only the test runs of the .ts sources take this path, never a build. */
const TSX_API = ['tsx', 'esm', 'api'].join('/');

/** The same reads in `jobs` worker threads; a worker that dies leaves its tasks as error entries. */
function readParallel(tasks: Task[], jobs: number, pciIds: string | undefined, tick: (n: number) => void): Promise<Read> {
  const spawn = (): Worker => {
    // The one-file build has no fleet-worker file beside it: the bundle itself is the worker's
    // script, and its entry (bin.ts) runs the worker when its first argument says so.
    if (BUNDLED) {
      // The single executable is no script a worker can load: its workers evaluate the build embedded in it.
      const sea = singleExecutable();
      if (sea) return new Worker(sea.getAsset(BUILD_ASSET, 'utf8'), { eval: true, argv: [FLEET_WORKER_ARG], workerData: { pciIds } });
      return new Worker(process.argv[1]!, { argv: [FLEET_WORKER_ARG], workerData: { pciIds } });
    }
    // Under tsx (the tests) this module is the .ts source: the worker registers tsx first.
    if (import.meta.url.endsWith('.ts')) {
      const url = new URL('./fleet-worker.ts', import.meta.url);
      const tsxApi = TSX_API;
      return new Worker(`import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData: { pciIds } });
    }
    return new Worker(new URL('./fleet-worker.js', import.meta.url), { workerData: { pciIds } });
  };
  const size = Math.max(1, Math.min(CHUNK_MAX, Math.ceil(tasks.length / (jobs * 8))));
  const chunks: Task[][] = [];
  for (let i = 0; i < tasks.length; i += size) chunks.push(tasks.slice(i, i + size));
  const out: Read = { hosts: [], errors: [] };
  return new Promise((resolve) => {
    let live = 0;
    const start = () => {
      const w = spawn();
      live++;
      // Two chunks in flight per worker: it starts the next as soon as it has answered, without
      // waiting for this thread to be scheduled (on a busy machine that wait left workers idle).
      const inflight: Task[][] = [];
      const next = () => {
        while (inflight.length < IN_FLIGHT && chunks.length > 0) {
          const c = chunks.shift()!;
          inflight.push(c);
          w.postMessage(c);
        }
        if (inflight.length === 0) void w.terminate();
      };
      w.on('message', (r: Read) => {
        out.hosts.push(...r.hosts);
        out.errors.push(...r.errors);
        tick(inflight.shift()?.length ?? 0);
        next();
      });
      w.on('error', (e) => {
        // The chunk it was reading fails; the one waiting behind it goes back to the others.
        for (const t of inflight.shift() ?? []) out.errors.push({ input: t.path, kind: 'bad-input', message: `${t.path}: internal error while reading it: ${e.message} (this is a bug in assignable)` });
        chunks.unshift(...inflight.splice(0));
      });
      w.on('exit', () => {
        // Gone without an answer (killed): its chunks were not read, others read them.
        chunks.unshift(...inflight.splice(0));
        live--;
        if (live === 0) {
          // Every worker gone with work left (they all failed): the rest is read here.
          const rest = chunks.splice(0).flat();
          const r = readSerial(rest, pciIds, tick);
          out.hosts.push(...r.hosts);
          out.errors.push(...r.errors);
          resolve(out);
        }
      });
      next();
    };
    for (let i = 0; i < jobs; i++) start();
  });
}

/** Temp file in the same directory, synced, then renamed over: a collector never reads half a file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw sourceErrorFrom(e, path, 'fleet output');
  }
}

/** One host per id: a capture and a survey JSON of the same host (as the Ansible role fetches) give one row, the capture's. */
function oneRowPerHost(hosts: FleetHost[]): FleetHost[] {
  const byId = new Map<string, FleetHost>();
  for (const h of hosts.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))) {
    const seen = byId.get(h.id);
    if (!seen) byId.set(h.id, h);
    else if (seen.kind !== h.kind) {
      if (h.kind === 'capture') byId.set(h.id, h);
    } else byId.set(h.source, { ...h, id: h.source });
  }
  return [...byId.values()];
}

export async function runFleet(io: Io, inputs: string[], o: FleetOptions, progress = false): Promise<ExitCode> {
  const format = (o.json ? 'json' : (o.format ?? 'text')) as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format ${o.format}: choose text, json, html or prom`);
  const target = (o.target ?? 'vfio') as Target;
  if (!TARGETS.includes(target)) throw new UsageError(`--target ${o.target}: choose vfio, dda or esxi`);
  let slot: number | undefined;
  if (o.slot !== undefined) {
    if (!/^\d{1,4}$/.test(o.slot)) throw new UsageError(`--slot ${o.slot}: give a physical slot number, e.g. --slot 2`);
    slot = Number(o.slot);
  }
  let jobs: number | undefined;
  if (o.jobs !== undefined) {
    if (!/^\d{1,3}$/.test(o.jobs) || Number(o.jobs) < 1 || Number(o.jobs) > MAX_JOBS) throw new UsageError(`--jobs ${o.jobs}: give a number of threads from 1 to ${MAX_JOBS}`);
    jobs = Number(o.jobs);
  }
  if (inputs.length === 0) throw new UsageError('fleet: name the captures, survey JSON documents, directories or archives to read');

  // A pci.ids the user named must be readable: said once here, not by every worker.
  if (o.pciIds !== undefined) nameLookup({ pciIds: o.pciIds });
  const found = findInputs(inputs);
  if (found.tasks.length === 0 && found.errors.length === 0) throw new UsageError(`fleet: no captures (.tar.gz, capture directories) or survey JSON documents (.json) under ${inputs.join(', ')}`);
  const heavy = found.tasks.filter((t) => t.kind !== 'survey-json').length;
  const threads = Math.min(jobs ?? (heavy >= PARALLEL_FROM ? Math.min(2, availableParallelism()) : 1), Math.max(1, found.tasks.length));

  let done = 0;
  let shown = 0;
  const tick = (n: number) => {
    done += n;
    if (!progress) return;
    const now = Date.now();
    // Redrawn at most ten times a second: a terminal line, not a log.
    if (now - shown < 100 && done < found.tasks.length) return;
    shown = now;
    io.err(`\rfleet: ${done}/${found.tasks.length} inputs read`);
  };
  const read = threads > 1 ? await readParallel(found.tasks, threads, o.pciIds, tick) : readSerial(found.tasks, o.pciIds, tick);
  if (progress) io.err("\r\x1b[K");

  const errors = [...found.errors, ...read.errors];
  const hosts = oneRowPerHost(read.hosts);
  const q = o.device !== undefined || slot !== undefined ? { ...(o.device !== undefined ? { device: o.device } : {}), ...(slot !== undefined ? { slot } : {}) } : null;
  const summary = fleetSummary(hosts, errors, target, q);
  const text =
    format === 'json' ? toJson(FLEET_SCHEMA, summary) + '\n' : format === 'html' ? renderFleetHtml(summary) : format === 'prom' ? renderFleetProm(summary) : renderFleetText(summary);
  for (const e of summary.errors) io.err(`assignable: fleet: ${e.message}\n`);
  if (hosts.length === 0) {
    // Nothing to summarise: the output still says why, and the status is the inputs' own.
    if (o.output === undefined) io.out(text);
    return errors.some((e) => e.kind === 'bad-input') ? EXIT.INPUT : EXIT.ENVIRONMENT;
  }
  if (o.output !== undefined && o.output !== '-') writeAtomic(o.output, text);
  else io.out(text);
  return errors.length > 0 ? EXIT.BLOCKED : EXIT.OK;
}
