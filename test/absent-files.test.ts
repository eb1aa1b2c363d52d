/**
 * Absent sysfs files are asked of stat, not found out by catching ENOENT (issue 12 point 5):
 * Fs.readIfPresent. It must answer exactly as the exception path did — the same host facts —
 * and keep every refusal of the tree reader (a link leaving the tree, a FIFO).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SourceError } from '../src/sources/errors.js';
import { treeFs, type Fs } from '../src/sources/fs.js';
import { readLiveHost } from '../src/sources/live.js';
import { fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const tree = () => sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: '6.8.12-4-pve', cmdline: 'quiet intel_iommu=on' });

describe('absent files without exceptions', () => {
  it('readIfPresent: undefined for what is not there, the bytes of what is, through links inside the tree', () => {
    const root = tree();
    try {
      const fs = treeFs(root);
      const devices = join(root, 'sys/bus/pci/devices');
      const first = readdirSync(devices).sort()[0]!;
      assert.equal(fs.readIfPresent!(join(devices, first, 'no_such_attribute')), undefined);
      assert.equal(fs.readIfPresent!(join(root, 'no/such/dir/file')), undefined);
      // devices/<addr> is a link into sys/devices: read through it, as sysfs is.
      assert.deepEqual(fs.readIfPresent!(join(devices, first, 'vendor')), new Uint8Array(readFileSync(join(devices, first, 'vendor'))));
      assert.equal(fs.existsSync(join(devices, first, 'no_such_attribute')), false);
      assert.equal(fs.existsSync(join(devices, first, 'vendor')), true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('still refuses a link leaving the tree and a FIFO, as readFileSync does', (t) => {
    const root = tree();
    try {
      const fs = treeFs(root);
      symlinkSync('/etc/hostname', join(root, 'escape'));
      assert.throws(() => fs.readIfPresent!(join(root, 'escape')), (e) => e instanceof SourceError && /outside/.test(e.message));
      if (spawnSync('mkfifo', [join(root, 'fifo')]).status !== 0) return t.skip('mkfifo is not available');
      assert.throws(() => fs.readIfPresent!(join(root, 'fifo')), (e) => e instanceof SourceError && e.kind === 'not-a-file');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the host read through it is the host read through ENOENT exceptions', () => {
    const root = tree();
    try {
      const fast = treeFs(root);
      // The same reader with readIfPresent taken away: absence is then an exception caught by tree-read.
      const { readIfPresent: _, ...rest } = fast;
      const slow: Fs = rest;
      assert.deepEqual(readLiveHost(root, fast), readLiveHost(root, slow));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
