/**
 * Applying an RMRDS plan with conrep: full backup (-s), load the override (-l), read back
 * (-s) and succeed only if the slot reads back Excluded and nothing else changed — whatever
 * conrep's exit status said (it can print "Return code: 0" after aborting). On any
 * mismatch the changed sections are restored from the backup and read back again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DecodeError } from '../../firmware/errors.js';
import { ok, outcome, tail, type Runner, type RunResult } from '../runner.js';
import { ensureDir, stamp } from '../state.js';
import { diffSettings } from './lint.js';
import type { RmrdsPlan } from './plan.js';
import { EXCLUDED } from './rmrds.js';
import { overrideFile, parseConrepSettings, valueOf, type ConrepSettings } from './settings.js';

export interface ConrepContext {
  runner: Runner;
  conrep: string;
  schemaPath: string;
  stateDir: string;
  now: Date;
}

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

function save(ctx: ConrepContext, path: string, transcript: RunResult[]): { settings: ConrepSettings | null; problem: string | null } {
  const r = ctx.runner.run(ctx.conrep, ['-s', '-x', ctx.schemaPath, '-f', path]);
  transcript.push(r);
  if (!ok(r)) return { settings: null, problem: `conrep -s failed (${outcome(r)}): ${tail(r)}` };
  if (!existsSync(path)) return { settings: null, problem: `conrep -s reported success but wrote no ${path}` };
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

/** Load `sections` of `backup` back, then check the whole read-back equals the backup. */
export function restoreSections(ctx: ConrepContext, backup: ConrepSettings, names: string[], tag: string, transcript: RunResult[]): { ok: boolean; problem: string | null } {
  if (names.length === 0) return { ok: true, problem: null };
  const restorePath = join(ctx.stateDir, `${tag}-restore.xml`);
  const values = names.map((n) => ({ name: n, value: valueOf(backup, n) ?? '' }));
  writeFileSync(restorePath, overrideFile(values) + '\n');
  const lr = load(ctx, restorePath, transcript);
  const check = save(ctx, join(ctx.stateDir, 'backups', `${tag}-restored.dat`), transcript);
  if (!check.settings) return { ok: false, problem: `${check.problem} (restore load: ${outcome(lr)})` };
  const d = diffSettings(backup, check.settings);
  if (d.changed.length === 0 && d.onlyA.length === 0 && d.onlyB.length === 0) return { ok: true, problem: null };
  return { ok: false, problem: `after the restore, ${d.changed.map((c) => `${c.section} reads ${c.b} (backup: ${c.a})`).join('; ')}` };
}

export function applyRmrds(plan: RmrdsPlan, ctx: ConrepContext): ApplyOutcome {
  const transcript: RunResult[] = [];
  const tag = stamp(ctx.now);
  ensureDir(join(ctx.stateDir, 'backups'));
  // 1. Full backup, before anything is written.
  const backupPath = join(ctx.stateDir, 'backups', `${tag}-before.dat`);
  const before = save(ctx, backupPath, transcript);
  if (!before.settings) throw new ApplyError(`backup failed, nothing was changed: ${before.problem}`, 'unchanged', transcript);
  const current = valueOf(before.settings, plan.section);
  if (current === undefined) throw new ApplyError(`the backup has no ${plan.section}: the schema ${ctx.schemaPath} does not define it for this server; nothing was changed`, 'unchanged', transcript);
  if (current === EXCLUDED) return { status: 'already', backup: backupPath, after: null, sections: [], notes: [`${plan.section} is already ${EXCLUDED}: nothing to load (a reboot may still be pending)`], transcript };

  // 2. Load the override.
  const overridePath = join(ctx.stateDir, `${tag}-override.xml`);
  writeFileSync(overridePath, plan.override + '\n');
  const lr = load(ctx, overridePath, transcript);

  // 3. Read back, and trust only what it shows.
  const afterPath = join(ctx.stateDir, 'backups', `${tag}-after.dat`);
  const after = save(ctx, afterPath, transcript);
  const loadSaid = `conrep -l: ${outcome(lr)}${tail(lr) ? ` (${tail(lr)})` : ''}`;
  if (after.settings) {
    const d = diffSettings(before.settings, after.settings);
    const onlyOurs = d.changed.length === 1 && d.changed[0]!.section === plan.section && d.onlyA.length === 0 && d.onlyB.length === 0;
    if (onlyOurs && valueOf(after.settings, plan.section) === EXCLUDED) {
      return {
        status: 'applied',
        backup: backupPath,
        after: afterPath,
        sections: [{ name: plan.section, before: current ?? '', after: EXCLUDED }],
        notes: ok(lr) ? [] : [`${loadSaid}, yet the read-back shows the change: trusting the read-back`],
        transcript,
      };
    }
    // Something else happened: restore whatever differs.
    const changed = d.changed.map((c) => c.section);
    const why = d.changed.length === 0 ? `the read-back still shows ${plan.section} = ${current} (${loadSaid})` : `the read-back differs from the backup in ${d.changed.map((c) => `${c.section} (${c.a} → ${c.b})`).join(', ')} (${loadSaid})`;
    if (changed.length === 0) throw new ApplyError(`the change did not take: ${why}; the firmware settings are unchanged`, 'unchanged', transcript);
    const res = restoreSections(ctx, before.settings, changed, tag, transcript);
    if (res.ok) throw new ApplyError(`the change went wrong: ${why}; restored ${changed.join(', ')} from ${backupPath} and read back`, 'restored', transcript);
    throw new ApplyError(`the change went wrong: ${why}; restoring from ${backupPath} FAILED: ${res.problem}. Check the settings with conrep -s and load the backup by hand`, 'unknown', transcript);
  }
  // No read-back at all: try to put the slot back and see.
  const res = restoreSections(ctx, before.settings, [plan.section], tag, transcript);
  if (res.ok) throw new ApplyError(`reading back failed (${after.problem}; ${loadSaid}); restored ${plan.section} from ${backupPath} and read back`, 'restored', transcript);
  throw new ApplyError(`reading back failed (${after.problem}; ${loadSaid}) and so did restoring (${res.problem}): the firmware state is unknown — check with conrep -s and load ${backupPath} by hand`, 'unknown', transcript);
}

/** `fix --rollback`: put the recorded sections back to their backup values, and read back. */
export function rollbackRmrds(sections: string[], backupPath: string, ctx: ConrepContext): { restored: string[]; transcript: RunResult[] } {
  const transcript: RunResult[] = [];
  let backup: ConrepSettings;
  try {
    backup = parseConrepSettings(readFileSync(backupPath, 'utf8'));
  } catch (e) {
    throw new ApplyError(`cannot read the backup ${backupPath}: ${e instanceof Error ? e.message : String(e)}; nothing was changed`, 'unchanged', transcript);
  }
  ensureDir(join(ctx.stateDir, 'backups'));
  const tag = `${stamp(ctx.now)}-rollback`;
  const now = save(ctx, join(ctx.stateDir, 'backups', `${tag}-before.dat`), transcript);
  if (!now.settings) throw new ApplyError(`could not read the current settings, nothing was changed: ${now.problem}`, 'unchanged', transcript);
  const toRestore = sections.filter((n) => valueOf(now.settings!, n) !== valueOf(backup, n));
  if (toRestore.length === 0) return { restored: [], transcript };
  const res = restoreSections(ctx, { ...now.settings, sections: now.settings.sections.map((s) => (toRestore.includes(s.name) ? { ...s, value: valueOf(backup, s.name) ?? s.value } : s)) }, toRestore, tag, transcript);
  if (!res.ok) throw new ApplyError(`rollback did not take: ${res.problem}`, 'unknown', transcript);
  return { restored: toRestore, transcript };
}
