#!/usr/bin/env node
/** The program's entry (the bundle, the single executable, the .deb): runs whatever the file is named. */
import { isMainThread, workerData } from 'node:worker_threads';
import { run } from './main.js';

// `fleet --jobs N` in the one-file build starts its workers on this same file.
if (!isMainThread && (workerData as { assignableWorker?: string } | null)?.assignableWorker === 'fleet') void import('./fleet-worker.js');
else run();
