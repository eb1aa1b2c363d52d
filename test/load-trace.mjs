/**
 * `node --import ./test/load-trace.mjs …`: appends the URL of every module Node loads to the
 * file named by ASSIGNABLE_LOAD_TRACE (test/bundle.test.ts asks what a command loads).
 */
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.ASSIGNABLE_LOAD_TRACE) appendFileSync(process.env.ASSIGNABLE_LOAD_TRACE, url + '\\n');
  return next(url, context);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));
