/**
 * Shared by the test/mutation-*.test.ts files (split by corpus so node:test runs them in
 * parallel; the inputs and their seeds are those of the one file they came from).
 *
 * Property: for every real table of the corpus and thousands of mutations of it
 * (every truncation, random bit flips and byte smears, corrupted length fields),
 * decoding either succeeds — and then JSON, text and --fields rendering succeed too —
 * or throws a DecodeError naming table, offset and field. Nothing else is thrown and
 * nothing hangs: each input has a budget of INPUT_BUDGET_MS of CPU time (judged on a timed
 * second run of any input over it in wall time; node:test timeouts cannot stop synchronous
 * code), and a watchdog thread kills the process, naming the input, if one never returns.
 * Seeded, so a failure reproduces.
 *
 * The JSON is not parsed back: toJson is JSON.stringify of a plain object, and any text that
 * returns parses (lone surrogates come out escaped), so a parse could fail only where toJson
 * returned no string at all, and that is what the suites check.
 */
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/firmware/errors.js';
import { startWatchdog } from '../fuzz/watchdog.js';
import { rng } from '../fuzz/mutate.js';

export function* mutations(orig: Uint8Array, lengthFields: Array<{ offset: number; size: 1 | 2 | 4 }>, seed: number, randomCount: number): Generator<Uint8Array> {
  // Truncations: every length for small tables; for large ones every length in the first
  // 512 bytes and around every structure boundary, and a stride through the rest.
  const cuts = new Set<number>();
  const stride = Math.max(1, Math.ceil(orig.length / 1500));
  for (let n = 0; n < orig.length; n++) if (n < 512 || n % stride === 0) cuts.add(n);
  for (const f of lengthFields) for (let d = -3; d <= 3; d++) if (f.offset + d >= 0 && f.offset + d < orig.length) cuts.add(f.offset + d);
  for (const n of [...cuts].sort((a, b) => a - b)) yield orig.slice(0, n);
  const r = rng(seed);
  for (let i = 0; i < randomCount; i++) {
    const m = orig.slice();
    const kind = i % 3;
    if (kind === 0) {
      const bit = Math.floor(r() * m.length * 8);
      m[bit >> 3]! ^= 1 << (bit & 7);
    } else if (kind === 1) {
      const at = Math.floor(r() * m.length);
      const n = 1 + Math.floor(r() * 8);
      for (let k = 0; k < n && at + k < m.length; k++) m[at + k] = Math.floor(r() * 256);
    } else {
      for (let k = 0; k < 4; k++) {
        const bit = Math.floor(r() * m.length * 8);
        m[bit >> 3]! ^= 1 << (bit & 7);
      }
    }
    yield m;
  }
  const values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x18, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x7fffffff, 0xffffffff];
  for (const f of lengthFields) {
    const origValue = orig[f.offset]! | (f.size > 1 ? orig[f.offset + 1]! << 8 : 0);
    for (const v of [...values, origValue - 1, origValue + 1, origValue * 2]) {
      const m = orig.slice();
      for (let k = 0; k < f.size && f.offset + k < m.length; k++) m[f.offset + k] = (v >>> (8 * k)) & 0xff;
      yield m;
    }
  }
}

/** No single input may take longer than this (CPU time, so a busy CI machine does not trip it). */
export const INPUT_BUDGET_MS = 2000;
/** An input still running after this much wall time is a hang: the watchdog kills the run and names it. */
export const HANG_MS = 60_000;
const watchdog = startWatchdog(HANG_MS);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Run one input under the budget and the watchdog. Reading the CPU clock is a system call,
 * dearer than decoding many of the inputs; the main thread's CPU time never exceeds the wall
 * time, so only an input over the budget in wall time is run again (inputs are pure) with
 * its CPU time measured, and that is what the budget judges, as before.
 */
export function timed<T>(what: string, f: () => T): T {
  watchdog.begin(what);
  const t0 = performance.now();
  try {
    return f();
  } finally {
    watchdog.end();
    if (performance.now() - t0 > INPUT_BUDGET_MS) cpuBudget(what, f);
  }
}

function cpuBudget(what: string, f: () => unknown): void {
  watchdog.begin(what);
  const t0 = cpuMs();
  try {
    f();
  } catch {
    // The first run's outcome is the one checked; this run is only timed.
  } finally {
    watchdog.end();
  }
  const ms = cpuMs() - t0;
  assert.ok(ms <= INPUT_BUDGET_MS, `${what}: took ${ms.toFixed(0)} ms of CPU, over the ${INPUT_BUDGET_MS} ms budget for one input`);
}

export interface Tally {
  ok: number;
  decodeErrors: number;
}

export function check(tally: Tally, what: string, f: () => void): void {
  try {
    timed(what, f);
    tally.ok++;
  } catch (e) {
    if (!(e instanceof DecodeError)) {
      assert.fail(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of a DecodeError`);
    }
    assert.match(e.message, /(at offset 0x[0-9a-f]+|line \d+) \(/, `${what}: error does not name offset and field: ${e.message}`);
    tally.decodeErrors++;
  }
}

export const RANDOM_PER_TABLE = 2500;

/**
 * The inputs with their index, made one at a time: spreading a generator kept every mutation
 * alive until the last was checked (megabytes of text each for acpidump), which the garbage
 * collector then had to copy and promote.
 */
export function* numbered<T>(inputs: Iterable<T>): Generator<[number, T]> {
  let n = 0;
  for (const x of inputs) yield [n++, x];
}


/** Text inputs: cut at random places, lines dropped or garbled, bytes smeared. */
export function* textMutations(text: string, seed: number, count: number): Generator<string> {
  const r = rng(seed);
  const lines = text.split('\n');
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0) yield text.slice(0, Math.floor(r() * text.length));
    else if (kind === 1) {
      const l = lines.slice();
      l.splice(Math.floor(r() * l.length), 1 + Math.floor(r() * 5));
      yield l.join('\n');
    } else if (kind === 2) {
      const at = Math.floor(r() * text.length);
      yield text.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + text.slice(at + 1);
    } else {
      const l = lines.slice();
      const k = Math.floor(r() * l.length);
      l[k] = l[k]!.replace(/[0-9A-F]/, 'Z');
      yield l.join('\n');
    }
  }
}
