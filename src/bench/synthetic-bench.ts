/**
 * `npm run bench`, section "grouping + survey of synthetic hosts": hosts of 1024 to 8192
 * functions built from real config space (synthetic.ts) as `lspci -xxxx` dumps, surveyed
 * (a) by the whole CLI process, `assignable survey --lspci <dump>`, and (b) inside a
 * process: read + parse + buildHost + every check, the path the CLI takes (loadHost,
 * runSurvey), without Node's start-up or the rendering. Each figure is the median of
 * BENCH_RUNS fresh processes; growth is the ratio of times per doubling of the functions,
 * shown beside the target. BENCH_ONLY=synthetic runs this section alone.
 *
 * This file is also the in-process worker: `node synthetic-bench.js --worker <dump>`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSurvey } from '../checks/index.js';
import { loadHost } from '../cli/host-commands.js';
import { syntheticDump, syntheticHost, TEMPLATES, type TemplateTexts } from './synthetic.js';
import { BENCH_ENV } from './env.js';

const SIZES = [1024, 2048, 4096, 8192];
const TARGET_GROWTH = 2.2;

interface Sample {
  wallMs: number;
  /** User + system CPU time: steadier than wall time on a shared machine. */
  cpuMs: number;
  maxRssKiB: number;
  stdout: string;
}

/** Wall time by our clock, CPU time and peak RSS by GNU time (as bench.ts measures). */
function timed(cmd: string, args: string[]): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '@@%M %U %S', cmd, ...args], { env: BENCH_ENV.env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /@@(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  // survey exits 1 when a device is blocked: only a missing measurement is a failure.
  if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr ?? '').slice(-400)}`);
  return { wallMs, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, maxRssKiB: Number(m[1]), stdout: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0).padStart(7)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0).padStart(5)} MiB`;

function growth(label: string, values: number[]): string {
  const parts: string[] = [];
  for (let i = 1; i < values.length; i++) {
    const r = values[i]! / values[i - 1]!;
    parts.push(`${SIZES[i - 1]}→${SIZES[i]} ${r.toFixed(2)}×${r <= TARGET_GROWTH ? '' : ' (over)'}`);
  }
  return `  growth per doubling, ${label}: ${parts.join(', ')}   (target ≤ ${TARGET_GROWTH}× per doubling)`;
}

/**
 * Runs the section unless BENCH_ONLY names another one. Returns true when BENCH_ONLY asked
 * for this section alone, so the caller can stop there.
 */
export function benchSyntheticHosts(root: string, runs: number): boolean {
  const only = process.env.BENCH_ONLY;
  if (only && !only.split(',').includes('synthetic')) return false;
  const out = (s: string) => process.stdout.write(s + '\n');
  out('grouping + survey of synthetic hosts (real config space, SR-IOV VFs, lspci -xxxx; no IOMMU group lines: the groups are for the kernel to predict)');
  // The installed program (package.json "bin"): what users run.
  const cli = join(root, 'dist/assignable.cjs');
  const self = fileURLToPath(import.meta.url);
  const texts: TemplateTexts = Object.fromEntries(Object.values(TEMPLATES).map((t) => [t.file, readFileSync(join(root, 'test/fixtures/pci/pciutils-tests', t.file), 'latin1')]));
  const work = mkdtempSync(join(tmpdir(), 'assignable-bench-synthetic-'));
  try {
    const nodeStart = median(Array.from({ length: runs }, () => timed(process.execPath, ['-e', '0']).wallMs));
    out(`  node -e 0 (start-up, for reference)              ${ms(nodeStart)}`);
    const whole: number[] = [];
    const inside: number[] = [];
    const wholeCpu: number[] = [];
    const insideCpu: number[] = [];
    for (const n of SIZES) {
      const file = join(work, `host-${n}.lspci-xxxx.txt`);
      const dump = syntheticDump(syntheticHost(n, texts));
      writeFileSync(file, dump);
      const a: Sample[] = [];
      const b: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        a.push(timed(process.execPath, [cli, 'survey', '--no-color', '--lspci', file]));
        b.push(timed(process.execPath, [self, '--worker', file]));
      }
      const w = median(a.map((s) => s.wallMs));
      const worker = b.map((s) => JSON.parse(s.stdout.trim().split('\n').at(-1)!) as { inProcessMs: number; cpuMs: number });
      const p = median(worker.map((x) => x.inProcessMs));
      whole.push(w);
      inside.push(p);
      wholeCpu.push(median(a.map((s) => s.cpuMs)));
      insideCpu.push(median(worker.map((x) => x.cpuMs)));
      const rss = Math.max(...a.map((s) => s.maxRssKiB));
      out(`  ${String(n).padStart(5)} functions (${(dump.length / 1e6).toFixed(0)} MB dump): whole process ${ms(w)} (CPU ${ms(wholeCpu.at(-1)!)})  peak RSS ${mib(rss)}   decode + analysis ${ms(p)} (CPU ${ms(insideCpu.at(-1)!)})`);
    }
    out(growth('whole process, wall', whole));
    out(growth('whole process, CPU', wholeCpu));
    out(growth('decode + analysis, wall', inside));
    out(growth('decode + analysis, CPU', insideCpu));
    out('');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return only !== undefined && only !== '';
}

/** The worker: what `survey` does up to the findings, timed inside the process. */
function worker(file: string): void {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const sv = runSurvey(loadHost({ lspci: file }));
  const ns = process.hrtime.bigint() - start;
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ devices: sv.devices.length, inProcessMs: Number(ns) / 1e6, cpuMs: (used.user + used.system) / 1000 }) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--worker') worker(process.argv[3]!);
