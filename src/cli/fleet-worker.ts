/** A worker thread of `assignable fleet --jobs N`: reads the tasks it is sent, returns the hosts. */
import { parentPort, workerData } from 'node:worker_threads';
import { readTask, type Task } from './fleet-read.js';
import { nameLookup } from './host-commands.js';

// As in the command's own loop (withoutStacks): error objects of absent paths need no stack.
if (!process.env.ASSIGNABLE_DEBUG) Error.stackTraceLimit = 0;

const names = nameLookup(workerData?.pciIds ? { pciIds: workerData.pciIds as string } : {});
parentPort?.on('message', (tasks: Task[]) => {
  const out = { hosts: [] as ReturnType<typeof readTask>['hosts'], errors: [] as ReturnType<typeof readTask>['errors'] };
  for (const t of tasks) {
    const r = readTask(t, { names });
    out.hosts.push(...r.hosts);
    out.errors.push(...r.errors);
  }
  parentPort!.postMessage(out);
});
