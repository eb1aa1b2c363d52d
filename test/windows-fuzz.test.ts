/**
 * Bad input is normal input: the simulated Gen8 capture with one node replaced by another JSON
 * value, many times over (a fixed-seed generator, so a failure replays). Every outcome is either
 * a Host that surveys, or a DecodeError naming the JSON path — never another exception (which
 * the CLI would report as an internal error, exit 70).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { exitCodeFor } from '../src/cli/run.js';
import { EXIT } from '../src/cli/exit.js';
import { buildHost } from '../src/host/build.js';
import { parseProbeBytes } from '../src/sources/windows/index.js';
import { surveyDdaFacts } from '../src/sources/windows/surveydda.js';
import { fixtureText } from './helpers.js';
import { gen8Probe } from './windows-hosts.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 60, 'x', 'System.Collections.Hashtable', '', [], [1, 'a'], {}, { value: [1], Count: 1 }, 'PCIROOT(0)#PCI(0000)', '18446744073709551616', 4294967296];

function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.slice(0, 6).forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function get(doc: any, path: Array<string | number>): unknown {
  let cur = doc;
  for (const p of path) cur = cur[p];
  return cur;
}

function set(doc: any, path: Array<string | number>, value: unknown): any {
  if (path.length === 0) return value;
  let cur = doc;
  for (const p of path.slice(0, -1)) cur = cur[p];
  cur[path[path.length - 1]!] = value;
  return doc;
}

describe('Windows probe capture: mutated documents', () => {
  it('600 single-node mutations: a survey or a DecodeError, never anything else', () => {
    const base = JSON.stringify(gen8Probe());
    // One copy of the document, each node put back after its mutation is written out: the
    // bytes are those a fresh copy per mutation gave, without parsing the whole probe again.
    const doc = JSON.parse(base);
    const all = paths(doc);
    const r = rng(20261127);
    let decodeErrors = 0;
    for (let i = 0; i < 600; i++) {
      const p = all[Math.floor(r() * all.length)]!;
      const v = VALUES[Math.floor(r() * VALUES.length)];
      const was = get(doc, p);
      const bytes = new TextEncoder().encode(JSON.stringify(set(doc, p, v)));
      set(doc, p, was);
      try {
        runSurvey(buildHost(parseProbeBytes(bytes, 'm.json')));
      } catch (e) {
        const { code, message } = exitCodeFor(e);
        assert.equal(code, EXIT.INPUT, `${p.join('.')} = ${JSON.stringify(v)}: ${message}`);
        assert.match(message, /^m\.json: /);
        decodeErrors++;
      }
    }
    assert.ok(decodeErrors > 0, 'some mutations are refused');
  });

  it('SurveyDDA text: any cut and any line dropped still parses or is refused cleanly', () => {
    const text = fixtureText('windows', '06-haxm-149-2020-06-13-surveydda-z390-ws2019.txt');
    const lines = text.split('\n');
    for (let cut = 0; cut < text.length; cut += 37) {
      for (const t of [text.slice(0, cut), lines.filter((_, i) => i !== cut % lines.length).join('\n')]) {
        try {
          runSurvey(buildHost(surveyDdaFacts(t, 'p.txt')));
        } catch (e) {
          assert.equal(exitCodeFor(e).code, EXIT.INPUT, String(e));
        }
      }
    }
  });
});
