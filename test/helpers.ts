import { spawn, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function fixtureBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(fixture(...parts)));
}

export function fixtureText(...parts: string[]): string {
  return readFileSync(fixture(...parts), 'latin1');
}

/** File names in a fixture folder ending in `ext`, sorted. */
export function fixtureFiles(folder: string, ext: string): string[] {
  return readdirSync(fixture(folder))
    .filter((f) => f.endsWith(ext))
    .sort();
}

/** A child's exit status and whole output (decoded once, so no UTF-8 sequence is split), without blocking this process. */
export function spawnOutput(cmd: string, args: readonly string[], options: SpawnOptions = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout!.on('data', (b: Buffer) => out.push(b));
    c.stderr!.on('data', (b: Buffer) => err.push(b));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
