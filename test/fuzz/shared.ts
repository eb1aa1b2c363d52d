/** Messages between the fuzz runner and its child processes. */
export interface SliceData {
  reader: string;
  from: number;
  count: number;
  budgetMs: number;
}

export interface Failure {
  reader: string;
  index: number;
  seed: number;
  kinds: string[];
  what: 'exception' | 'slow' | 'hang' | 'crash';
  detail: string;
}

export type FromWorker =
  | { start: number }
  | { failure: Failure }
  | { done: { ok: number; typed: number; inputs: number; slowestMs: number; slowestIndex: number; maxRssKb: number } };
