/**
 * The argument the one-file build's fleet workers are started with (fleet-command.ts): bin.ts
 * sees it in process.argv without loading node:worker_threads at every start.
 */
export const FLEET_WORKER_ARG = '--assignable-fleet-worker';
