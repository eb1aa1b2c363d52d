/**
 * The fleet bench (issue 11 point 4: "10,000 captures in under a minute on 2 cores"):
 * 10,000 inputs copied from the real captures in test/fixtures/captures/ and from survey JSON
 * documents of the real machines in the fixtures, each under its own host name, read by
 * `assignable fleet` with one thread and with two worker threads. Wall time from our clock,
 * CPU time (user + system) and peak RSS from GNU time when it is installed.
 *
 * BENCH_FLEET_N sets the number of inputs (default 10,000).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_ENV } from './env.js';

interface Timing {
  wallS: number;
  cpuS: number | null;
  rssMiB: number | null;
  hosts: number;
}

function fleet(root: string, dir: string, jobs: number): Timing {
  // The installed program (package.json "bin"): what users run.
  const main = join(root, 'dist/assignable.cjs');
  const out = join(dir, `summary-${jobs}.json`);
  const args = [main, 'fleet', join(dir, 'inputs'), '--json', '-o', out, '--jobs', String(jobs)];
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = gnuTime ? spawnSync('/usr/bin/time', ['-f', '@@%U %S %M', process.execPath, ...args], { env: BENCH_ENV.env, encoding: 'utf8' }) : spawnSync(process.execPath, args, { env: BENCH_ENV.env, encoding: 'utf8' });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`fleet --jobs ${jobs} failed (${r.status}): ${r.stderr.slice(-400)}`);
  const m = /@@([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  const hosts = (JSON.parse(readFileSync(out, 'utf8')) as { hosts: unknown[] }).hosts.length;
  return { wallS, cpuS: m ? Number(m[1]) + Number(m[2]) : null, rssMiB: m ? Number(m[3]) / 1024 : null, hosts };
}

function line(label: string, t: Timing, n: number): string {
  const cpu = t.cpuS !== null ? `, CPU ${t.cpuS.toFixed(1)} s (${(n / t.cpuS).toFixed(0)} inputs per CPU-second), peak RSS ${t.rssMiB!.toFixed(0)} MiB` : '';
  return `  ${label.padEnd(26)} ${t.wallS.toFixed(1).padStart(7)} s wall (${(n / t.wallS).toFixed(0)} inputs/s)${cpu}; ${t.hosts} hosts summarised`;
}

/** Survey JSON documents of the real machines in the fixtures, written by the built CLI. */
function surveyDocs(root: string, dir: string): string[] {
  const main = join(root, 'dist/cli/main.js');
  const docs: string[] = [];
  const groups = join(root, 'test/fixtures/pci/iommu-groups');
  const runs: string[][] = readdirSync(groups).sort().map((m) => {
    const meta = JSON.parse(readFileSync(join(groups, m, 'machine.json'), 'utf8'));
    const d = join(groups, m);
    return ['--lspci', join(d, meta.lspci), ...(meta.dmar ? ['--dmar', join(d, meta.dmar)] : []), ...(meta.ivrs ? ['--ivrs', join(d, meta.ivrs)] : []), '--dmidecode', join(d, meta.dmidecode), '--kernel', meta.kernel];
  });
  const ex = join(root, 'examples/hp-proliant-dl380e-gen8');
  runs.push(['--lspci', join(ex, 'lspci-vvnn.txt'), '--dmar', join(ex, 'DMAR.dat'), '--dmidecode', join(ex, 'dmidecode.txt')]);
  runs.forEach((args, i) => {
    const r = spawnSync(process.execPath, [main, 'survey', '--json', ...args], { env: BENCH_ENV.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0 && r.status !== 1) throw new Error(`survey --json failed: ${r.stderr}`);
    const f = join(dir, `doc-${i}.json`);
    writeFileSync(f, r.stdout);
    docs.push(f);
  });
  return docs;
}

export function fleetBench(root: string): void {
  const n = Number(process.env.BENCH_FLEET_N ?? 10_000);
  const capDir = join(root, 'test/fixtures/captures');
  const captures = readdirSync(capDir).filter((f) => f.endsWith('.tar.gz')).sort().map((f) => join(capDir, f));
  process.stdout.write(`fleet: ${n} inputs per workload (copies of ${captures.length} real captures, or of survey JSON documents of 7 real machines, each under its own host name)\n`);
  const work = mkdtempSync(join(tmpdir(), 'assignable-bench-fleet-'));
  try {
    const docs = surveyDocs(root, work);
    for (const [kind, sources, suffix] of [['captures', captures, '.tar.gz'], ['survey JSON', docs, '.survey.json']] as const) {
      const dir = join(work, kind.replace(' ', '-'));
      mkdirSync(join(dir, 'inputs'), { recursive: true });
      // A hundred hosts per directory, as a fetched fleet is laid out by site or rack.
      for (let i = 0; i < n; i++) {
        const sub = join(dir, 'inputs', `rack-${String(Math.floor(i / 100)).padStart(3, '0')}`);
        if (i % 100 === 0) mkdirSync(sub, { recursive: true });
        copyFileSync(sources[i % sources.length]!, join(sub, `host-${String(i).padStart(5, '0')}${suffix}`));
      }
      process.stdout.write(`${kind}\n`);
      for (const jobs of [1, 2]) process.stdout.write(line(jobs === 1 ? 'one thread' : 'two worker threads', fleet(root, dir, jobs), n) + '\n');
    }
    process.stdout.write('\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
