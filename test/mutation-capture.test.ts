/** Mutations of a collected capture archive (see test/mutation/shared.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../src/firmware/errors.js';
import { buildHost } from '../src/host/build.js';
import { runSurvey } from '../src/checks/index.js';
import { collect } from '../src/sources/collect.js';
import { SourceError } from '../src/sources/errors.js';
import { realFs } from '../src/sources/fs.js';
import { readLiveHost } from '../src/sources/live.js';
import { memFs } from '../src/sources/memfs.js';
import { readTar, writeTar } from '../src/sources/tar.js';
import { fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';
import { rng } from './fuzz/mutate.js';
import { timed } from './mutation/shared.js';

describe('mutated capture archives', { timeout: 300_000 }, () => {
  it('a collected capture, cut and bit-flipped: DecodeError or SourceError, never anything else', () => {
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'fujitsu-esprimo-p8010-pciutils-tree.dump.txt'), { kernel: '5.4.0', cmdline: 'quiet' });
    const tar = writeTar(collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z' }).entries);
    const r = rng(8000);
    let ok = 0;
    let refused = 0;
    for (let n = 0; n < 600; n++) {
      const m = n % 2 === 0 ? tar.slice(0, Math.floor(r() * tar.length)) : tar.slice();
      if (n % 2 === 1) for (let k = 0; k < 8; k++) m[Math.floor(r() * m.length)] = Math.floor(r() * 256);
      try {
        timed(`capture mutation ${n}`, () => runSurvey(buildHost(readLiveHost('/', memFs(readTar(m))))));
        ok++;
      } catch (e) {
        if (!(e instanceof DecodeError) && !(e instanceof SourceError)) assert.fail(`mutation ${n}: ${e instanceof Error ? e.stack : String(e)}`);
        refused++;
      }
    }
    assert.ok(ok > 0 && refused > 0, `${ok} ok, ${refused} refused`);
  });
});
