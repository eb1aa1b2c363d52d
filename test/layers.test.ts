/**
 * Imports run one way (docs/architecture.md): firmware ← host ← checks ← report ← cli.
 * The oracle is the layer order the architecture document states; each import statement
 * of the decoder, host and check layers is read from the source text.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');
/** What each layer may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  firmware: [],
  host: ['firmware'],
  checks: ['firmware', 'host'],
  // Sources produce HostFacts (host/model types) from bytes the decoders read.
  sources: ['firmware', 'host'],
  report: ['firmware', 'host', 'checks'],
  // Remedies plan from a survey and read through sources; never from report or cli.
  remedies: ['firmware', 'host', 'checks', 'sources'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('imports run downward only', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`src/${layer} imports only ${allowed.join(', ') || 'itself'}`, () => {
      const bad: string[] = [];
      for (const f of files(join(SRC, layer))) {
        for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
          const target = relative(SRC, resolve(dirname(f), m[1]!)).split('/')[0]!;
          if (target !== layer && !allowed.includes(target) && !target.endsWith('.js')) bad.push(`${relative(ROOT, f)} → ${m[1]}`);
        }
      }
      assert.deepEqual(bad, []);
    });
  }
});
