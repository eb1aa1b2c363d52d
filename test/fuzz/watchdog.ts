/**
 * A watchdog for tests that run decoders synchronously on the main thread, where neither
 * node:test timeouts nor timers can fire. A worker thread watches shared memory; when one
 * input has been running longer than `hangMs` it writes which input to stderr and kills
 * the process (the test runner then reports the file as failed, with that line).
 */
import { Worker } from 'node:worker_threads';

const LABEL_BYTES = 1024;

export interface Watchdog {
  /** Call before each input, with a label that names it (file, mutation number). */
  begin(label: string): void;
  end(): void;
}

const WATCHER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData.sab, 0, 2);
const started = new Float64Array(workerData.sab, 8, 1);
const label = new Uint8Array(workerData.sab, 16, ${LABEL_BYTES});
setInterval(() => {
  if (Atomics.load(state, 0) === 1 && Date.now() - started[0] > workerData.hangMs) {
    const end = label.indexOf(0);
    const name = Buffer.from(label.subarray(0, end < 0 ? label.length : end)).toString();
    fs.writeSync(2, 'HANG: ' + name + ' still running after ' + workerData.hangMs + ' ms: process killed\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 100);
`;

export function startWatchdog(hangMs: number): Watchdog {
  const sab = new SharedArrayBuffer(16 + LABEL_BYTES);
  const state = new Int32Array(sab, 0, 2);
  const started = new Float64Array(sab, 8, 1);
  const label = new Uint8Array(sab, 16, LABEL_BYTES);
  // No inherited flags: the watcher is plain CommonJS whatever the test process runs under.
  const w = new Worker(WATCHER, { eval: true, execArgv: [], workerData: { sab, hangMs } });
  // The watchdog must never keep a finished test process alive.
  w.unref();
  const enc = new TextEncoder();
  // Room for the label and its terminating NUL; begin runs once per input, so no copies.
  const text = label.subarray(0, LABEL_BYTES - 1);
  return {
    begin(name) {
      label[enc.encodeInto(name, text).written] = 0;
      started[0] = Date.now();
      Atomics.store(state, 0, 1);
    },
    end() {
      Atomics.store(state, 0, 0);
    },
  };
}
