/**
 * `npm run bench`: what users run, timed as whole processes against whole processes on the
 * same data — `assignable` (the bundle npm installs as the binary) beside `node -e 0` (the
 * floor: starting the runtime), `lspci -F` and `iasl -d` — with the ratios and targets of
 * issue 12 side by side. Never part of the tests (timings vary by machine); needs the Debian
 * oracles: `apt install acpica-tools pciutils time`.
 *
 * Each workload runs BENCH_RUNS times (default 9), ours and theirs alternating so a busy
 * moment hits both; the median wall time (our own clock: GNU time's is in 10 ms steps) and the
 * largest peak RSS (GNU time) are reported.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSyntheticHosts } from './synthetic-bench.js';
import { fleetBench } from './fleet-bench.js';
import { BENCH_ENV } from './env.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 9));
/** The program as npm installs it (package.json "bin": the launcher, its build and code cache): `npm run bench` builds it first. */
const BIN = join(ROOT, 'dist/assignable.cjs');

interface Run {
  wallMs: number;
  maxRssKiB: number;
}

interface Measured {
  medianMs: number;
  peakRssMiB: number;
}

/** One whole process under GNU time; its output is discarded (both sides write to a pipe). */
function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = BENCH_ENV.env): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '@@%M', cmd, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /@@(\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-400)}`);
  return { wallMs, maxRssKiB: Number(m[1]) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Both commands RUNS times, alternating. */
function pair(ours: [string, string[]], theirs: [string, string[]], cwd = ROOT): [Measured, Measured] {
  const o: Run[] = [];
  const t: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    o.push(timed(ours[0], ours[1], cwd));
    t.push(timed(theirs[0], theirs[1], cwd));
  }
  const m = (rs: Run[]): Measured => ({ medianMs: median(rs.map((r) => r.wallMs)), peakRssMiB: Math.max(...rs.map((r) => r.maxRssKiB)) / 1024 });
  return [m(o), m(t)];
}

function need(tool: string, pkg: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return true;
  process.stdout.write(`  (skipped: ${tool} not installed — apt install ${pkg})\n`);
  return false;
}

interface Ratio {
  what: string;
  ratio: number;
  target: number;
  /** Against a C tool: node -e 0's own ratio to it. */
  floorRatio?: number;
}
const ratios: Ratio[] = [];

/** `node -e 0` as measured beside --version: the runtime's own start-up, the floor of any Node program. */
let floor: Measured | null = null;

function report(title: string, oursName: string, o: Measured, theirName: string, t: Measured, target: number | null, metric: 'time' | 'rss' = 'time', againstNative = false): void {
  const ratio = metric === 'time' ? o.medianMs / t.medianMs : o.peakRssMiB / t.peakRssMiB;
  const line = (name: string, m: Measured) => `  ${name.padEnd(44)} ${m.medianMs.toFixed(1).padStart(8)} ms   peak RSS ${m.peakRssMiB.toFixed(1).padStart(6)} MiB\n`;
  process.stdout.write(`${title}\n${line(oursName, o)}${line(theirName, t)}`);
  const verdict = target === null ? '' : `   target ≤ ${target}×  ${ratio <= target ? 'met' : 'NOT met'}`;
  process.stdout.write(`  ratio (ours / theirs, ${metric === 'time' ? 'wall time' : 'peak RSS'}): ${ratio.toFixed(2)}×${verdict}\n`);
  // Against a C tool, what starting Node alone costs: a target below it no Node program meets.
  let floorRatio: number | undefined;
  if (againstNative && floor) {
    floorRatio = floor.medianMs / t.medianMs;
    process.stdout.write(`  node -e 0 alone / theirs: ${floorRatio.toFixed(2)}×${target !== null && floorRatio > target ? ' (above the target: the runtime\'s start-up alone misses it)' : ''}; our work beyond that start-up: ${((o.medianMs - floor.medianMs) / t.medianMs).toFixed(2)}× theirs\n`);
  }
  process.stdout.write('\n');
  if (target !== null) ratios.push({ what: `${title.trim()}${metric === 'rss' ? ' (peak RSS)' : ''}`, ratio, target, ...(floorRatio !== undefined ? { floorRatio } : {}) });
}

function main(): void {
  process.stdout.write(`assignable benchmark — whole processes, ${RUNS} runs each, median wall time, on this machine (Node ${process.version})\n\n`);
  if (!existsSync('/usr/bin/time')) {
    process.stdout.write('GNU time (/usr/bin/time) is needed: apt install time\n');
    process.exitCode = 1;
    return;
  }
  // BENCH_ONLY=synthetic,fleet: those sections alone.
  const only = process.env.BENCH_ONLY?.split(',');
  if (only) {
    if (only.includes('synthetic')) benchSyntheticHosts(ROOT, RUNS);
    if (only.includes('fleet')) fleetBench(ROOT);
    return;
  }
  if (!existsSync(BIN)) {
    process.stdout.write(`${BIN} is missing: npm run bundle (npm run bench does)\n`);
    process.exitCode = 1;
    return;
  }
  const node = process.execPath;
  const nodeStart: [string, string[]] = [node, ['-e', '0']];
  if (BENCH_ENV.removed.length > 0) {
    // What they cost here, once: the reason they are left out.
    const kept = median(Array.from({ length: RUNS }, () => timed(node, ['-e', '0'], ROOT, process.env).wallMs));
    const clean = median(Array.from({ length: RUNS }, () => timed(node, ['-e', '0'], ROOT).wallMs));
    process.stdout.write(`Every process runs without ${BENCH_ENV.removed.join(' and ')}, set in this environment: Node acts on such variables at each start (node -e 0: ${kept.toFixed(1)} ms as set here, ${clean.toFixed(1)} ms without). BENCH_KEEP_ENV=1 keeps them.\n\n`);
  }

  // Start-up alone: the runtime, commander, the version.
  {
    const [o, t] = pair([node, [BIN, '--version']], nodeStart);
    floor = t;
    report('--version', 'assignable --version', o, 'node -e 0', t, 1.2);
  }

  // The README's example: a survey of the DL380e Gen8 pastes.
  {
    const ex = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
    const args = [BIN, 'survey', '--lspci', join(ex, 'lspci-vvnn.txt'), '--dmar', join(ex, 'DMAR.dat'), '--dmidecode', join(ex, 'dmidecode.txt')];
    const [o, t] = pair([node, args], nodeStart);
    report('survey of the DL380e Gen8 example', 'assignable survey (lspci, DMAR, dmidecode)', o, 'node -e 0', t, 1.6);
    report('survey of the DL380e Gen8 example', 'assignable survey', o, 'node -e 0', t, 1.5, 'rss');
  }

  // The largest pciutils dump: our survey of it beside lspci reading the same dump.
  {
    const pciDir = join(ROOT, 'test/fixtures/pci/pciutils-tests');
    const dumps = readdirSync(pciDir).filter((f) => f.endsWith('.dump.txt'));
    const count = (f: string) => (readFileSync(join(pciDir, f), 'latin1').match(/^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /gm) ?? []).length;
    const [file, n] = dumps.map((f) => [f, count(f)] as const).sort((a, b) => b[1] - a[1])[0]!;
    if (need('lspci', 'pciutils')) {
      const dump = join(pciDir, file);
      const [o, t] = pair([node, [BIN, 'survey', '--lspci', dump]], ['lspci', ['-F', dump, '-vvv']]);
      report(`survey of ${file} (${n} functions)`, 'assignable survey --lspci DUMP', o, 'lspci -F DUMP -vvv', t, 4, 'time', true);
    }
  }

  // Every table of the corpus in one process each side.
  for (const kind of ['dmar', 'ivrs'] as const) {
    const src = join(ROOT, 'test/fixtures', kind);
    const files = readdirSync(src).filter((f) => f.endsWith('.dat')).sort();
    if (!need('iasl', 'acpica-tools')) break;
    // iasl writes a .dsl beside each input: both sides get the same scratch copy.
    const work = mkdtempSync(join(tmpdir(), `assignable-bench-${kind}-`));
    for (const f of files) copyFileSync(join(src, f), join(work, f));
    const [o, t] = pair([node, [BIN, kind, ...files]], ['iasl', ['-d', ...files]], work);
    report(`${kind} of all ${files.length} corpus tables, one process`, `assignable ${kind} FILE…`, o, 'iasl -d FILE…', t, kind === 'dmar' ? 1.5 : null, 'time', true);
    rmSync(work, { recursive: true, force: true });
  }

  // Further sections, one line each.
  benchSyntheticHosts(ROOT, RUNS);
  fleetBench(ROOT);

  process.stdout.write('Summary (issue 12 targets):\n');
  for (const r of ratios) {
    const floorNote = r.floorRatio !== undefined ? `   (node -e 0 alone: ${r.floorRatio.toFixed(2)}×)` : '';
    process.stdout.write(`  ${r.what.padEnd(58)} ${r.ratio.toFixed(2).padStart(6)}×   target ≤ ${r.target}×   ${r.ratio <= r.target ? 'met' : 'NOT met'}${floorNote}\n`);
  }
}

main();
