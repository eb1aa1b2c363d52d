/**
 * Runs slices of the readers' inputs in a child process, one slice per message from the
 * parent, until the parent disconnects. For each input it tells the parent which
 * input it is starting; the parent kills it when one runs past the hang budget (a
 * synchronous loop cannot be stopped from inside, nor by node:test timeouts) or reports
 * the input in flight when the process dies (out of memory aborts the whole process).
 */
import { performance } from 'node:perf_hooks';
import { makeInput } from './mutate.js';
import { READERS, isTypedError } from './readers.js';
import type { Failure, FromWorker, SliceData } from './shared.js';

const send = (m: FromWorker) => process.send!(m);

/** CPU time of this process: a busy machine slows the wall clock, not the work an input needs. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

process.on('message', (d: SliceData) => {
  const reader = READERS.find((r) => r.name === d.reader)!;
  const seeds = reader.seeds();
  let ok = 0;
  let typed = 0;
  let done = 0;
  let slowestMs = 0;
  let slowestIndex = -1;
  for (let i = d.from; i < d.from + d.count; i++) {
    const input = makeInput(reader.name, seeds, i, reader.text);
    send({ start: i });
    const t0 = performance.now();
    const c0 = cpuMs();
    let failure: Failure | null = null;
    try {
      reader.run(input.bytes);
      ok++;
    } catch (e) {
      if (isTypedError(e)) typed++;
      else {
        const err = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        const where = e instanceof Error ? (e.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim()).join(' | ') : '';
        failure = { reader: reader.name, index: i, seed: input.seed, kinds: input.kinds, what: 'exception', detail: `${err.slice(0, 300)} at ${where}` };
      }
    }
    const ms = cpuMs() - c0;
    const wallMs = performance.now() - t0;
    done++;
    if (ms > slowestMs) {
      slowestMs = ms;
      slowestIndex = i;
    }
    if (!failure && ms > d.budgetMs) failure = { reader: reader.name, index: i, seed: input.seed, kinds: input.kinds, what: 'slow', detail: `${ms.toFixed(0)} ms of CPU (${wallMs.toFixed(0)} ms wall), over the ${d.budgetMs} ms budget` };
    if (failure) send({ failure });
  }
  send({ done: { ok, typed, inputs: done, slowestMs, slowestIndex, maxRssKb: process.resourceUsage().maxRSS } });
});
