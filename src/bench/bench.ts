/**
 * `npm run bench`: speed and peak memory of assignable against the C oracles on the
 * same data, as ratios. Never part of the tests (timings vary by machine); needs the
 * Debian oracles: `apt install acpica-tools pciutils time`.
 *
 * For each workload it runs both programs N times under GNU time and reports the median
 * wall time and the largest peak RSS. assignable's time is given twice: the whole process
 * (Node.js start-up included) and the decode-and-render work inside it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchSyntheticHosts } from './synthetic-bench.js';
import { fleetBench } from './fleet-bench.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

interface Run {
  wallMs: number;
  maxRssKiB: number;
  stdout: string;
}

/** Wall time from our own clock (GNU time's is in 10 ms steps); peak RSS from GNU time. */
function timed(cmd: string, args: string[], cwd: string): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '@@%M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /@@(\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} failed: ${r.stderr.slice(-400)}`);
  return { wallMs, maxRssKiB: Number(m[1]), stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function need(tool: string, pkg: string): boolean {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0) return true;
  process.stdout.write(`  (skipped: ${tool} not installed — apt install ${pkg})\n`);
  return false;
}

function bench(title: string, ours: () => Run, theirs: () => Run, theirName: string): void {
  const o: Run[] = [];
  const t: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    o.push(ours());
    t.push(theirs());
  }
  const inProc = median(o.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!).inProcessMs as number));
  const ow = median(o.map((r) => r.wallMs));
  const tw = median(t.map((r) => r.wallMs));
  const orss = Math.max(...o.map((r) => r.maxRssKiB)) / 1024;
  const trss = Math.max(...t.map((r) => r.maxRssKiB)) / 1024;
  const lines = [
    `${title}`,
    `  assignable, whole process     ${ow.toFixed(1).padStart(8)} ms   peak RSS ${orss.toFixed(1)} MiB`,
    `  assignable, decode + render   ${inProc.toFixed(1).padStart(8)} ms   (inside the same process)`,
    `  ${theirName.padEnd(28)} ${tw.toFixed(1).padStart(8)} ms   peak RSS ${trss.toFixed(1)} MiB`,
    `  ratio (their time / ours; above 1 means assignable is faster): whole process ${(tw / ow).toFixed(2)}, decode work ${(tw / inProc).toFixed(2)}`,
    `  memory (our peak RSS / theirs): ${(orss / trss).toFixed(1)}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function main(): void {
  process.stdout.write(`assignable benchmark — ${RUNS} runs each, median wall time, on this machine\n\n`);
  if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === 'fleet') fleetBench(ROOT);
  if (process.env.BENCH_ONLY === 'fleet') return;
  if (!existsSync('/usr/bin/time')) {
    process.stdout.write('GNU time (/usr/bin/time) is needed: apt install time\n');
    process.exitCode = 1;
    return;
  }
  if (benchSyntheticHosts(ROOT, RUNS)) return; // BENCH_ONLY=synthetic: this section alone
  const batch = join(ROOT, 'dist/bench/batch.js');

  for (const kind of ['dmar', 'ivrs'] as const) {
    const src = join(ROOT, 'test/fixtures', kind);
    const files = readdirSync(src).filter((f) => f.endsWith('.dat')).sort();
    process.stdout.write(`${kind.toUpperCase()} corpus: ${files.length} tables\n`);
    if (!need('iasl', 'acpica-tools')) continue;
    // iasl writes a .dsl beside each input: give it a scratch copy.
    const work = mkdtempSync(join(tmpdir(), `assignable-bench-${kind}-`));
    for (const f of files) copyFileSync(join(src, f), join(work, f));
    bench(
      `  ${kind} — decode every table and print it`,
      () => timed(process.execPath, [batch, kind, ...files.map((f) => join(work, f))], work),
      () => timed('iasl', ['-d', ...files], work),
      'iasl -d (ACPICA)',
    );
    rmSync(work, { recursive: true, force: true });
  }

  // The survey of the largest real capture (most functions) beside lspci reading the same dump.
  const pciDir = join(ROOT, 'test/fixtures/pci/pciutils-tests');
  const dumps = readdirSync(pciDir).filter((f) => f.endsWith('.dump.txt'));
  const count = (f: string) => (readFileSync(join(pciDir, f), 'latin1').match(/^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /gm) ?? []).length;
  const largest = dumps.map((f) => [f, count(f)] as const).sort((a, b) => b[1] - a[1])[0]!;
  process.stdout.write(`PCI capture: ${largest[0]} (${largest[1]} functions)\n`);
  if (need('lspci', 'pciutils')) {
    const file = join(pciDir, largest[0]);
    bench(
      '  survey (parse, decode, build the host, check, print) vs lspci -F -vvv',
      () => timed(process.execPath, [batch, 'survey', file], ROOT),
      () => timed('lspci', ['-F', file, '-vvv'], ROOT),
      'lspci -F dump -vvv',
    );
  }
}

main();
