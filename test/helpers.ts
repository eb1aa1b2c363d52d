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
