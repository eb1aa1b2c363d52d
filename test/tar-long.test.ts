/**
 * Capture archives hold sysfs links whose targets run past ustar's 100 bytes (SAS disks
 * behind expanders, deep PCIe trees). GNU tar is the oracle: it must extract what we write,
 * and we must read what it writes with its own long-name headers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readTar, writeTar } from '../src/sources/tar.js';

const LONG_LINK = '../../devices/pci0000:00/0000:00:03.0/0000:04:00.0/host1/port-1:0/expander-1:0/port-1:0:4/end_device-1:0:4/target1:0:4/1:0:4:0/block/sdb/sdb3';
const LONG_DIR = 'sys/devices/' + 'pci0000:00/0000:00:03.0/0000:04:00.0/0000:05:00.0/0000:06:08.0/0000:07:00.0/0000:08:00.0/0000:09:00.0/'.repeat(3);

function hasTar(): boolean {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('tar: names and link targets longer than ustar holds', () => {
  it('GNU tar extracts what writeTar writes', (t) => {
    if (!hasTar()) return t.skip('tar is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'assignable-tar-'));
    try {
      const archive = join(dir, 'a.tar');
      writeFileSync(archive, writeTar([
        { path: 'sys/class/block/sdb3', type: 'symlink', linkname: LONG_LINK },
        { path: `${LONG_DIR}config`, type: 'file', data: new Uint8Array([1, 2, 3]) },
      ]));
      mkdirSync(join(dir, 'x'));
      execFileSync('tar', ['-xf', archive, '-C', join(dir, 'x')]);
      assert.equal(readlinkSync(join(dir, 'x/sys/class/block/sdb3')), LONG_LINK);
      assert.deepEqual([...readFileSync(join(dir, 'x', LONG_DIR, 'config'))], [1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const format of ['gnu', 'pax']) {
    it(`readTar reads GNU tar's --format=${format} long names`, (t) => {
      if (!hasTar()) return t.skip('tar is not installed');
      const dir = mkdtempSync(join(tmpdir(), 'assignable-tar-'));
      try {
        mkdirSync(join(dir, 'in', LONG_DIR), { recursive: true });
        writeFileSync(join(dir, 'in', LONG_DIR, 'config'), 'abc');
        mkdirSync(join(dir, 'in/sys/class/block'), { recursive: true });
        symlinkSync(LONG_LINK, join(dir, 'in/sys/class/block/sdb3'));
        const bytes = execFileSync('tar', [`--format=${format}`, '-cf', '-', '-C', join(dir, 'in'), 'sys'], { maxBuffer: 1 << 24 });
        const entries = readTar(new Uint8Array(bytes));
        assert.equal(entries.find((e) => e.path === 'sys/class/block/sdb3')?.linkname, LONG_LINK);
        assert.equal(Buffer.from(entries.find((e) => e.path === `${LONG_DIR}config`)!.data!).toString(), 'abc');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
