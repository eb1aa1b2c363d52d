/**
 * Applying an RMRDS plan with conrep, by the write contract (../write.ts): full backup (-s)
 * with its sidecar, the intent record, load the override (-l), read back (-s), and only then
 * the record "applied" — succeeding only if the slot reads back Excluded and nothing else
 * changed, whatever conrep's exit status said (it can print "Return code: 0" after aborting).
 * On any mismatch the changed sections are restored from the backup and read back again.
 */
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../firmware/errors.js';
import { ok, outcome, tail, type Runner, type RunResult } from '../runner.js';
import { clearPending, stamp, writeHistory, writePending, type PendingChange } from '../state.js';
import { bootIdOf, crashPoint, lstatOrNull, StateDir, WriteError, writeSidecar } from '../write.js';
import { diffSettings } from './lint.js';
import type { RmrdsPlan } from './plan.js';
import { EXCLUDED } from './rmrds.js';
import { overrideFile, parseConrepSettings, valueOf, type ConrepSettings } from './settings.js';

export interface ConrepContext {
  runner: Runner;
  conrep: string;
  schemaPath: string;
  sd: StateDir;
  /** The host root, for its identity and boot id in records. */
  root: string;
  now: Date;
}

/** What the pending record says about the device, filled in by the CLI. */
export type RecordBase = Pick<PendingChange, 'device' | 'before' | 'tool'>;

/** How it ended. `firmware` says what state the firmware settings are in now. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    message: string,
    readonly firmware: 'unchanged' | 'restored' | 'unknown',
    readonly transcript: RunResult[],
  ) {
    super(message);
  }
}

export interface ApplyOutcome {
  status: 'applied' | 'already';
  backup: string;
  after: string | null;
  sections: Array<{ name: string; before: string; after: string }>;
  /** conrep's own exit status of the load, when it disagreed with what the read-back shows. */
  notes: string[];
  transcript: RunResult[];
}

/** The command that puts a backup back by hand, for messages. */
export function loadByHand(ctx: Pick<ConrepContext, 'conrep' | 'schemaPath'>, backup: string): string {
  return `${ctx.conrep} -l -x ${ctx.schemaPath} -f ${backup}`;
}

function save(ctx: ConrepContext, path: string, transcript: RunResult[]): { settings: ConrepSettings | null; problem: string | null } {
  const r = ctx.runner.run(ctx.conrep, ['-s', '-x', ctx.schemaPath, '-f', path]);
  transcript.push(r);
  if (!ok(r)) return { settings: null, problem: `conrep -s failed (${outcome(r)}): ${tail(r)}` };
  const st = lstatOrNull(path);
  if (st === null) return { settings: null, problem: `conrep -s reported success but wrote no ${path}` };
  if (!st.isFile()) return { settings: null, problem: `${path} is not a regular file after conrep -s` };
  try {
    return { settings: parseConrepSettings(readFileSync(path, 'utf8')), problem: null };
  } catch (e) {
    return { settings: null, problem: `conrep -s wrote an unreadable file ${path}: ${e instanceof DecodeError ? e.message : String(e)}` };
  }
}

function load(ctx: ConrepContext, path: string, transcript: RunResult[]): RunResult {
  const r = ctx.runner.run(ctx.conrep, ['-l', '-x', ctx.schemaPath, '-f', path]);
  transcript.push(r);
  return r;
}

/** Read the settings now (conrep -s into a new file in backups/). */
export function readNow(ctx: ConrepContext, tag: string, transcript: RunResult[]): { settings: ConrepSettings | null; problem: string | null; path: string } {
  const path = ctx.sd.freshPath('backups', `${tag}.dat`);
  return { ...save(ctx, path, transcript), path };
}

/**
 * Load `names` of `backup` back, then check the whole read-back equals the backup.
 * `crash` marks the steps (a rollback's own steps are crash-tested).
 */
export function restoreSections(ctx: ConrepContext, backup: ConrepSettings, names: string[], tag: string, transcript: RunResult[], crash = false): { ok: boolean; problem: string | null } {
  if (names.length === 0) return { ok: true, problem: null };
  const values = names.map((n) => ({ name: n, value: valueOf(backup, n) ?? '' }));
  let restorePath: string;
  try {
    restorePath = ctx.sd.create(null, `${tag}-restore.xml`, overrideFile(values) + '\n');
  } catch (e) {
    // A rollback has changed nothing yet: the write error itself is the answer (exit 3).
    if (e instanceof WriteError && !crash) return { ok: false, problem: `could not write the restore file: ${e.message}` };
    throw e;
  }
  if (crash) crashPoint('before-load');
  const lr = load(ctx, restorePath, transcript);
  if (crash) crashPoint('after-load');
  const check = readNow(ctx, `${tag}-restored`, transcript);
  if (crash) crashPoint('after-readback');
  if (!check.settings) return { ok: false, problem: `${check.problem} (restore load: ${outcome(lr)})` };
  const d = diffSettings(backup, check.settings);
  if (d.changed.length === 0 && d.onlyA.length === 0 && d.onlyB.length === 0) return { ok: true, problem: null };
  return { ok: false, problem: `after the restore, ${d.changed.map((c) => `${c.section} reads ${c.b} (backup: ${c.a})`).join('; ')}` };
}

function settleQuietly(ctx: ConrepContext, record: PendingChange, event: string): string {
  try {
    writeHistory(ctx.sd, record, event, ctx.now);
    clearPending(ctx.sd);
    return '';
  } catch (e) {
    return ` (the interrupted-change record ${ctx.sd.file('pending.json')} could not be cleared: ${(e as Error).message}; \`assignable fix --verify --apply\` settles it)`;
  }
}

export function applyRmrds(plan: RmrdsPlan, ctx: ConrepContext, base: RecordBase): ApplyOutcome {
  const transcript: RunResult[] = [];
  const tag = stamp(ctx.now);
  // 1. Full backup, before anything is written; its sidecar says what it is of.
  const backupPath = ctx.sd.freshPath('backups', `${tag}-before.dat`);
  const before = save(ctx, backupPath, transcript);
  if (!before.settings) throw new ApplyError(`backup failed, nothing was changed: ${before.problem}`, 'unchanged', transcript);
  writeSidecar(backupPath, { kind: 'hpe-rmrds', sections: before.settings.sections.map((s) => s.name), schema: ctx.schemaPath }, ctx.root, ctx.now);
  const current = valueOf(before.settings, plan.section);
  if (current === undefined) throw new ApplyError(`the backup has no ${plan.section}: the schema ${ctx.schemaPath} does not define it for this server; nothing was changed`, 'unchanged', transcript);
  if (current === EXCLUDED) return { status: 'already', backup: backupPath, after: null, sections: [], notes: [`${plan.section} is already ${EXCLUDED}: nothing to load (a reboot may still be pending)`], transcript };

  // 2. The override, and the intent record — synced before conrep -l touches anything.
  const overridePath = ctx.sd.create(null, `${tag}-override.xml`, plan.override + '\n');
  const sections = [{ name: plan.section, before: current ?? '', after: EXCLUDED }];
  const record: PendingChange = {
    schema: 'assignable/pending/v2',
    state: 'intent',
    kind: 'hpe-rmrds',
    ...base,
    sections,
    loaded: overridePath,
    schemaPath: ctx.schemaPath,
    backup: backupPath,
    appliedAt: ctx.now.toISOString(),
    bootId: bootIdOf(ctx.root),
  };
  writePending(ctx.sd, record);
  crashPoint('before-load');

  // 3. Load, then read back, and trust only what the read-back shows.
  const lr = load(ctx, overridePath, transcript);
  crashPoint('after-load');
  const afterPath = ctx.sd.freshPath('backups', `${tag}-after.dat`);
  const after = save(ctx, afterPath, transcript);
  crashPoint('after-readback');
  const loadSaid = `conrep -l: ${outcome(lr)}${tail(lr) ? ` (${tail(lr)})` : ''}`;
  const byHand = `load the backup by hand: ${loadByHand(ctx, backupPath)}`;
  if (after.settings) {
    const d = diffSettings(before.settings, after.settings);
    const onlyOurs = d.changed.length === 1 && d.changed[0]!.section === plan.section && d.onlyA.length === 0 && d.onlyB.length === 0;
    if (onlyOurs && valueOf(after.settings, plan.section) === EXCLUDED) {
      const applied: PendingChange = { ...record, state: 'applied', after: afterPath };
      try {
        writeHistory(ctx.sd, applied, 'applied', ctx.now);
        writePending(ctx.sd, applied);
      } catch (e) {
        if (!(e instanceof WriteError)) throw e;
        throw new ApplyError(`${plan.section} now reads back ${EXCLUDED} (the firmware WAS changed), but recording it failed: ${e.message}; the pending record may still say "intent". To undo, ${byHand}`, 'unknown', transcript);
      }
      crashPoint('after-record');
      return {
        status: 'applied',
        backup: backupPath,
        after: afterPath,
        sections,
        notes: ok(lr) ? [] : [`${loadSaid}, yet the read-back shows the change: trusting the read-back`],
        transcript,
      };
    }
    // Something else happened: restore whatever differs.
    const changed = d.changed.map((c) => c.section);
    const why = d.changed.length === 0 ? `the read-back still shows ${plan.section} = ${current} (${loadSaid})` : `the read-back differs from the backup in ${d.changed.map((c) => `${c.section} (${c.a} → ${c.b})`).join(', ')} (${loadSaid})`;
    if (changed.length === 0) throw new ApplyError(`the change did not take: ${why}; the firmware settings are unchanged${settleQuietly(ctx, record, 'unchanged')}`, 'unchanged', transcript);
    const res = restoreSections(ctx, before.settings, changed, tag, transcript);
    if (res.ok) throw new ApplyError(`the change went wrong: ${why}; restored ${changed.join(', ')} from ${backupPath} and read back${settleQuietly(ctx, record, 'restored')}`, 'restored', transcript);
    throw new ApplyError(`the change went wrong: ${why}; restoring from ${backupPath} FAILED: ${res.problem}. Check the settings with conrep -s and ${byHand}`, 'unknown', transcript);
  }
  // No read-back at all: try to put the slot back and see.
  const res = restoreSections(ctx, before.settings, [plan.section], tag, transcript);
  if (res.ok) throw new ApplyError(`reading back failed (${after.problem}; ${loadSaid}); restored ${plan.section} from ${backupPath} and read back${settleQuietly(ctx, record, 'restored')}`, 'restored', transcript);
  throw new ApplyError(`reading back failed (${after.problem}; ${loadSaid}) and so did restoring (${res.problem}): the firmware state is unknown — check with conrep -s and ${byHand}`, 'unknown', transcript);
}

/**
 * `fix --rollback`: put every section of the backup that differs now back to its backup
 * value, and read back. `record` is the pending record to mark (or one made for this rollback).
 */
export function rollbackRmrds(backup: ConrepSettings, backupPath: string, ctx: ConrepContext, record: PendingChange): { restored: string[]; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  const tag = `${stamp(ctx.now)}-rollback`;
  const now = readNow(ctx, `${tag}-before`, transcript);
  if (!now.settings) throw new ApplyError(`could not read the current settings, nothing was changed: ${now.problem}`, 'unchanged', transcript);
  writeSidecar(now.path, { kind: 'hpe-rmrds', sections: now.settings.sections.map((s) => s.name), schema: ctx.schemaPath }, ctx.root, ctx.now);
  const toRestore = backup.sections.filter((s) => valueOf(now.settings!, s.name) !== undefined && valueOf(now.settings!, s.name) !== s.value).map((s) => s.name);
  if (toRestore.length === 0) return { restored: [], transcript };
  writePending(ctx.sd, { ...record, state: 'rollback-intent', backup: backupPath });
  const target = { ...now.settings, sections: now.settings.sections.map((s) => (toRestore.includes(s.name) ? { ...s, value: valueOf(backup, s.name) ?? s.value } : s)) };
  const res = restoreSections(ctx, target, toRestore, tag, transcript, true);
  if (!res.ok) throw new ApplyError(`rollback did not take: ${res.problem}; the settings before the rollback are in ${now.path}. Check with conrep -s and ${`load the backup by hand: ${loadByHand(ctx, backupPath)}`}`, 'unknown', transcript);
  return { restored: toRestore, transcript };
}
