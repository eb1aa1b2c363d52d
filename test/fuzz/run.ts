/**
 * The fuzz run: every reader of user input, fed deterministic mutations of the real corpus
 * files (test/fixtures). Invariant per input: a decode, or an error the CLI maps to a
 * documented exit status (never 70); no input slower than the budget; no hang (the slice's
 * worker is terminated and the input named); memory bounded (workers have a heap limit,
 * the process's peak RSS is reported).
 *
 *   npm run fuzz                       # the full run, 200,000+ inputs
 *   npm run fuzz -- --per-reader 500   # a smaller run
 *   npm run fuzz -- --reader dmar --from 1234 --count 1 --save   # reproduce one input
 *
 * test/fuzz.test.ts runs a slice of the same thing inside `npm test`.
 */
import { buildSync } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeInput } from './mutate.js';
import { READERS } from './readers.js';
import type { Failure, FromWorker, SliceData } from './shared.js';

export interface FuzzOptions {
  /** Inputs per reader (the first ones are the unmutated seeds). */
  perReader: number;
  readers?: string[];
  /** First input index (to reproduce one input). */
  from?: number;
  /** Inputs per worker. */
  chunk?: number;
  workers?: number;
  /** An input needing more CPU time than this is a failure (measured around each decode). */
  budgetMs?: number;
  /** An input still running after this is a hang: its worker is terminated. */
  hangMs?: number;
  /** Heap limit per worker: running out is a failure of the input that did it. */
  heapMb?: number;
  log?: (line: string) => void;
}

export interface ReaderTally {
  inputs: number;
  ok: number;
  typed: number;
  failed: number;
  slowestMs: number;
  slowestIndex: number;
}

export interface FuzzReport {
  readers: Record<string, ReaderTally>;
  total: number;
  failures: Failure[];
  slowest: { reader: string; index: number; ms: number };
  peakRssMb: number;
  elapsedS: number;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

let workerBundle: string | null = null;
/**
 * The worker as one plain script, bundled by esbuild once per run (~30 ms): each child then
 * starts as plain node, where `--import tsx` cost about a second of start-up per slice.
 * test/helpers.ts is the only module of the worker that reads import.meta.url (for the
 * repository root): it keeps its own URL.
 */
function workerScript(): string {
  if (workerBundle) return workerBundle;
  const dir = mkdtempSync(join(tmpdir(), 'assignable-fuzz-'));
  const out = join(dir, 'worker.mjs');
  buildSync({
    entryPoints: [WORKER],
    bundle: true,
    platform: 'node',
    format: 'esm',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(dirname(WORKER), '..', 'helpers.ts')).href) },
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    outfile: out,
    logLevel: 'error',
  });
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  workerBundle = out;
  return out;
}

interface Slice {
  reader: string;
  from: number;
  count: number;
}

/**
 * A child process that runs slices one after another: its start-up (node, the worker bundle)
 * cost more than the slices of `npm test`. A child that hangs or dies is replaced.
 */
interface Child {
  proc: ChildProcess;
  /** Its stderr since the current slice began (for the crash report). */
  stderr: string;
  /** Set while a slice runs. */
  onMessage: ((m: FromWorker) => void) | null;
  onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null;
  exited: Promise<void>;
}

function startChild(heapMb: number): Child {
  const proc = fork(workerScript(), [], { execArgv: [`--max-old-space-size=${heapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const c: Child = { proc, stderr: '', onMessage: null, onExit: null, exited: new Promise((done) => proc.on('exit', () => done())) };
  proc.stderr!.on('data', (b: Buffer) => {
    if (c.stderr.length < 4000) c.stderr += b.toString();
  });
  proc.on('message', (m: FromWorker) => c.onMessage?.(m));
  proc.on('exit', (code, signal) => c.onExit?.(code, signal));
  return c;
}

/**
 * One slice in a child process. `gone`: a hang or crash ended the child, and `rest` is the part
 * of the slice still to run; otherwise the child finished the slice and can take another.
 */
function runSlice(child: Child, s: Slice, o: Required<Omit<FuzzOptions, 'readers' | 'log' | 'from'>>, tally: ReaderTally, failures: Failure[], rss: { maxKb: number }): Promise<{ gone: boolean; rest: Slice | null }> {
  child.stderr = '';
  let current = -1;
  let startedAt = 0;
  let stopped: Failure['what'] | null = null;
  return new Promise((resolve) => {
    const watch = setInterval(() => {
      if (current >= 0 && Date.now() - startedAt > o.hangMs) {
        stopped = 'hang';
        child.proc.kill('SIGKILL');
      }
    }, 100);
    const settle = (gone: boolean, rest: Slice | null) => {
      clearInterval(watch);
      child.onMessage = null;
      child.onExit = null;
      resolve({ gone, rest });
    };
    child.onMessage = (m) => {
      if ('start' in m) {
        current = m.start;
        startedAt = Date.now();
      } else if ('failure' in m) failures.push(m.failure);
      else {
        tally.ok += m.done.ok;
        tally.typed += m.done.typed;
        tally.inputs += m.done.inputs;
        if (m.done.slowestMs > tally.slowestMs) {
          tally.slowestMs = m.done.slowestMs;
          tally.slowestIndex = m.done.slowestIndex;
        }
        rss.maxKb = Math.max(rss.maxKb, m.done.maxRssKb);
        settle(false, null);
      }
    };
    child.onExit = (code, signal) => {
      // The input in flight when the child stopped: record it, run the rest in a new child.
      const reader = READERS.find((r) => r.name === s.reader)!;
      const i = current >= 0 ? current : s.from;
      let input: { seed: number; kinds: string[] } = { seed: -1, kinds: ['(could not be regenerated)'] };
      try {
        input = makeInput(s.reader, reader.seeds(), i, reader.text);
      } catch {
        // Reported below as the crash it caused.
      }
      const why = stopped === 'hang' ? `still running after ${o.hangMs} ms: killed` : `child died (${signal ?? `exit ${code}`}): ${child.stderr.split('\n').filter((l) => /error|heap|memory/i.test(l)).slice(0, 2).join(' ').slice(0, 300)}`;
      failures.push({ reader: s.reader, index: i, seed: input.seed, kinds: input.kinds, what: stopped ?? 'crash', detail: why });
      // Inputs before `i` were counted by the child only in its final message: count them as run.
      tally.inputs += i - s.from + 1;
      const rest = s.from + s.count - (i + 1);
      settle(true, rest > 0 ? { reader: s.reader, from: i + 1, count: rest } : null);
    };
    child.proc.send({ ...s, budgetMs: o.budgetMs } satisfies SliceData);
  });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const o = { chunk: 2500, workers: Math.max(1, availableParallelism()), budgetMs: 2000, hangMs: 20_000, heapMb: 1024, ...opts };
  const readers = READERS.filter((r) => !opts.readers || opts.readers.includes(r.name));
  if (readers.length === 0) throw new Error(`no such reader: ${opts.readers?.join(', ')} (have: ${READERS.map((r) => r.name).join(', ')})`);
  const started = Date.now();
  const tallies: Record<string, ReaderTally> = {};
  const failures: Failure[] = [];
  const queue: Slice[] = [];
  const rss = { maxKb: 0 };
  for (const r of readers) {
    tallies[r.name] = { inputs: 0, ok: 0, typed: 0, failed: 0, slowestMs: 0, slowestIndex: -1 };
    const from = opts.from ?? 0;
    for (let i = from; i < from + o.perReader; i += o.chunk) queue.push({ reader: r.name, from: i, count: Math.min(o.chunk, from + o.perReader - i) });
  }
  // Interleave readers so a slow one does not serialise the tail of the run.
  queue.sort((a, b) => a.from - b.from);
  const pool = async () => {
    let child: Child | null = null;
    for (let s = queue.shift(); s; s = queue.shift()) {
      if (child && !child.proc.connected) child = null;
      child ??= startChild(o.heapMb);
      const { gone, rest } = await runSlice(child, s, o, tallies[s.reader]!, failures, rss);
      // A hang or a crash ended the child: the rest of the slice goes to a new one.
      if (gone) child = null;
      if (rest) queue.unshift(rest);
      const t = tallies[s.reader]!;
      o.log?.(`${s.reader} ${s.from}..${s.from + s.count - 1}: ${t.inputs} done, ${failures.filter((f) => f.reader === s.reader).length} failures`);
    }
    // No more slices: the child's IPC channel closes and it exits.
    if (child) {
      child.proc.disconnect();
      await child.exited;
    }
  };
  await Promise.all(Array.from({ length: o.workers }, pool));
  for (const f of failures) if (tallies[f.reader]) tallies[f.reader]!.failed++;
  let slowest = { reader: '', index: -1, ms: 0 };
  for (const [name, t] of Object.entries(tallies)) if (t.slowestMs > slowest.ms) slowest = { reader: name, index: t.slowestIndex, ms: t.slowestMs };
  return {
    readers: tallies,
    total: Object.values(tallies).reduce((n, t) => n + t.inputs, 0),
    failures,
    slowest,
    // The largest peak of any one child (a child runs slices one after another).
    peakRssMb: Math.round(rss.maxKb / 1024),
    elapsedS: Math.round((Date.now() - started) / 100) / 10,
  };
}

/** A failing input written out, with how to reproduce it. */
export function saveReproducer(f: Failure, dir: string): string {
  const r = READERS.find((x) => x.name === f.reader)!;
  const input = makeInput(f.reader, r.seeds(), f.index, r.text);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${f.reader}-${f.index}.bin`);
  writeFileSync(file, input.bytes);
  writeFileSync(
    `${file}.txt`,
    `reader: ${f.reader}\ninput: ${f.index} (seed ${f.seed}; mutations: ${f.kinds.join(', ') || 'none'})\nfailure: ${f.what}: ${f.detail}\n` +
      `reproduce: npm run fuzz -- --reader ${f.reader} --from ${f.index} --per-reader 1\n`,
  );
  return file;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function main(): Promise<void> {
  // 200,000 inputs across the readers unless told otherwise.
  const perReader = Number(arg('--per-reader') ?? Math.ceil(200_000 / READERS.length));
  const readers = arg('--reader')?.split(',');
  const from = arg('--from');
  const opts: FuzzOptions = { perReader, log: (l) => process.stderr.write(`${l}\n`) };
  if (readers) opts.readers = readers;
  if (from !== undefined) opts.from = Number(from);
  if (arg('--workers')) opts.workers = Number(arg('--workers'));
  const rep = await runFuzz(opts);
  const rows = Object.entries(rep.readers).map(([n, t]) => `${n.padEnd(16)} ${String(t.inputs).padStart(7)} inputs  ${String(t.ok).padStart(7)} ok  ${String(t.typed).padStart(7)} refused  ${String(t.failed).padStart(4)} failed  slowest ${t.slowestMs.toFixed(1)} ms (#${t.slowestIndex})`);
  process.stdout.write(`${rows.join('\n')}\ntotal ${rep.total} inputs in ${rep.elapsedS} s; slowest ${rep.slowest.ms.toFixed(1)} ms (${rep.slowest.reader} #${rep.slowest.index}); peak RSS ${rep.peakRssMb} MB; ${rep.failures.length} failures\n`);
  for (const f of rep.failures) {
    process.stdout.write(`FAIL ${f.reader} #${f.index} [${f.kinds.join(', ')}] ${f.what}: ${f.detail}\n`);
    if (process.argv.includes('--save')) process.stdout.write(`  saved ${saveReproducer(f, arg('--save-dir') ?? 'fuzz-failures')}\n`);
  }
  process.exitCode = rep.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
