/**
 * The in-memory file system over a capture's members (src/sources/memfs.ts) keeps the walk to
 * each directory (fleet reads thousands of captures, dozens of files per device directory
 * reached through its link). Whatever it keeps, it must answer as the kernel does over the
 * same archive unpacked by GNU tar: every member path, every sysfs attribute reached through
 * the device links, "..", paths that are not there — read, link, exists, and the no-exception
 * variants (readIfPresent, linkIfPresent) alike.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { memFs } from '../src/sources/memfs.js';
import { readTar } from '../src/sources/tar.js';
import { fixture, fixtureBytes, fixtureFiles } from './helpers.js';

/** What the kernel says of a path under `dir`: the file's bytes, the link's target, or whether anything is there. */
function kernel(dir: string, p: string) {
  const full = join(dir, p);
  // ENOTDIR (a name under a file) is "not there" too.
  const quiet = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  const st = quiet(() => statSync(full));
  const l = quiet(() => lstatSync(full));
  return {
    exists: existsSync(full),
    file: st?.isFile() ? new Uint8Array(readFileSync(full)) : undefined,
    dir: st?.isDirectory() === true,
    link: l?.isSymbolicLink() ? readlinkSync(full) : undefined,
  };
}

function ours(fs: ReturnType<typeof memFs>, p: string) {
  const abs = `/${p}`;
  let file: Uint8Array | undefined;
  try {
    file = fs.readFileSync(abs);
  } catch (e) {
    assert.ok(['ENOENT', 'EISDIR'].includes((e as NodeJS.ErrnoException).code ?? ''), `${p}: ${(e as Error).message}`);
  }
  let link: string | undefined;
  try {
    link = fs.readlinkSync(abs);
  } catch {
    link = undefined;
  }
  // The no-exception variants answer as the throwing ones (a directory still refuses to be read).
  let present: Uint8Array | undefined;
  try {
    present = fs.readIfPresent!(abs);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'EISDIR', p);
  }
  assert.deepEqual(present, file, `${p}: readIfPresent`);
  assert.equal(fs.linkIfPresent!(abs), link, `${p}: linkIfPresent`);
  let dir = false;
  try {
    dir = fs.statSync(abs).isDirectory();
  } catch {
    dir = false;
  }
  return { exists: fs.existsSync(abs), file, dir, link };
}

describe('memFs answers as the kernel over the unpacked capture', () => {
  for (const f of fixtureFiles('captures', '.tar.gz')) {
    it(f, (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'assignable-memfs-'));
      const r = spawnSync('tar', ['-xzf', fixture('captures', f), '-C', dir], { encoding: 'utf8' });
      if (r.error || r.status !== 0) return t.skip(`GNU tar not usable here: ${r.error?.message ?? r.stderr}`);
      const entries = readTar(new Uint8Array(gunzipSync(fixtureBytes('captures', f))));
      const fs = memFs(entries);
      const paths = new Set<string>();
      const devices = entries.filter((e) => /^sys\/bus\/pci\/devices\/[^/]+$/.test(e.path)).map((e) => e.path);
      assert.ok(devices.length > 0);
      for (const e of entries) paths.add(e.path);
      // Reached through the device links, as the survey reads them, twice over (the kept walks answer the second time).
      for (const round of [1, 2]) {
        for (const d of devices) {
          for (const a of ['config', 'vendor', 'resource', 'driver', 'iommu_group', 'physfn', 'reset', 'reset_method', 'net', 'absent-attribute', '.', '..', '../..', `../${d.split('/').pop()}/config`, 'config/x']) paths.add(`${d}/${a}`);
          paths.add(`${d}/../../../../../../escape`);
        }
        for (const p of [...paths].sort()) assert.deepEqual(ours(fs, p), kernel(dir, p), `${p} (round ${round})`);
      }
    });
  }
});
