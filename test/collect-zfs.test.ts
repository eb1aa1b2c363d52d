/**
 * A Proxmox host on ZFS, collected live: the reader learns the root pool's disks by running
 * `zpool status -P`, so the capture must carry that output — with the members as kernel
 * names, since the by-id names it prints hold the disks' serial numbers. The expectations
 * come from the tree planted here (which controller each disk hangs off), not from our output.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { buildHost } from '../src/host/build.js';
import { collect } from '../src/sources/collect.js';
import { readCapture } from '../src/sources/capture-archive.js';
import { treeFs, type Fs } from '../src/sources/fs.js';
import { writeTar } from '../src/sources/tar.js';
import { gzipSync } from 'node:zlib';
import { fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const P6T6 = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
const SDA = '../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda';
const SDB = '../../devices/pci0000:00/0000:00:03.0/0000:04:00.0/host1/port-1:0/end_device-1:0/target1:0:0/1:0:0:0/block/sdb';
const SERIALS = ['ST1000-SERIALA', '35000c500SERIALB'];
const ZPOOL = `  pool: rpool
 state: ONLINE
config:

\tNAME                                            STATE     READ WRITE CKSUM
\trpool                                           ONLINE       0     0     0
\t  mirror-0                                      ONLINE       0     0     0
\t    /dev/disk/by-id/ata-${SERIALS[0]}-part3      ONLINE       0     0     0
\t    /dev/disk/by-id/scsi-${SERIALS[1]}-part3     ONLINE       0     0     0

errors: No known data errors
`;

function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}
function ln(root: string, rel: string, target: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  symlinkSync(target, join(root, rel));
}

/** The tree seen as "/" of a running host: paths are mapped into it, and it says it is live. */
function asLiveRoot(root: string): Fs {
  const t = treeFs(root);
  const m = (p: string) => join(root, p);
  return {
    readFileSync: (p, max) => t.readFileSync(m(p), max),
    statSync: (p) => t.statSync(m(p)),
    readdirSync: (p) => t.readdirSync(m(p)),
    readlinkSync: (p) => t.readlinkSync(m(p)),
    existsSync: (p) => t.existsSync(m(p)),
    live: true,
  };
}

describe('collect on a ZFS root', () => {
  it('keeps the zpool output the reader used, members by kernel name, serials gone', (t) => {
    const root = sysfsTreeFromDump(P6T6, { kernel: '6.8.12-4-pve', cmdline: 'root=ZFS=rpool/ROOT/pve-1 boot=zfs' });
    const bin = mkdtempSync(join(tmpdir(), 'assignable-zpool-'));
    const savedPath = process.env.PATH;
    try {
      ln(root, 'sys/class/block/sda3', `${SDA}/sda3`);
      ln(root, 'sys/class/block/sdb3', `${SDB}/sdb3`);
      ln(root, `dev/disk/by-id/ata-${SERIALS[0]}-part3`, '../../sda3');
      ln(root, `dev/disk/by-id/scsi-${SERIALS[1]}-part3`, '../../sdb3');
      // An early root mounted over by the pool: the last line for / is the one in use.
      put(root, 'proc/mounts', 'rootfs / rootfs rw 0 0\ntmpfs / tmpfs rw 0 0\nrpool/ROOT/pve-1 / zfs rw,relatime,xattr,noacl 0 0\n');
      // A stand-in zpool on PATH that prints what a real mirror pool prints.
      writeFileSync(join(bin, 'zpool'), `#!/bin/sh\n[ "$1 $2 $3" = "status -P rpool" ] || exit 1\ncat <<'EOF'\n${ZPOOL}EOF\n`);
      chmodSync(join(bin, 'zpool'), 0o755);
      process.env.PATH = `${bin}:${savedPath ?? ''}`;
      if (process.platform !== 'linux') return t.skip('needs /bin/sh');

      for (const redact of [false, true]) {
        const c = collect('/', asLiveRoot(root), { redact, toolVersion: 'test', created: '2026-01-01T00:00:00Z' });
        const z = c.entries.find((e) => e.path === 'zpool-status-P.txt');
        assert.ok(z?.data, `redact=${redact}: no zpool-status-P.txt in ${c.entries.map((e) => e.path).join(' ')}`);
        const text = Buffer.from(z.data).toString('latin1');
        assert.match(text, /\/dev\/sda3\s/);
        assert.match(text, /\/dev\/sdb3\s/);
        if (redact) {
          const all = c.entries.map((e) => `${e.path}\n${e.linkname ?? ''}\n${e.data ? Buffer.from(e.data).toString('latin1') : ''}`).join('\n');
          for (const s of SERIALS) assert.ok(!all.includes(s), `serial ${s} left in the redacted capture`);
        }
        // The capture alone, away from the host: both controllers still hold the root.
        const out = join(bin, `capture-${redact}.tar.gz`);
        writeFileSync(out, gzipSync(writeTar(c.entries)));
        const sv = runSurvey(buildHost(readCapture(out)));
        for (const a of ['0000:00:1f.2', '0000:04:00.0']) {
          const codes = sv.devices.find((d) => d.device.address === a)!.findings.map((f) => f.code);
          assert.ok(codes.includes('HOST_BOOT_DISK'), `redact=${redact} ${a}: ${codes.join(',')}`);
        }
      }
    } finally {
      process.env.PATH = savedPath;
      rmSync(root, { recursive: true, force: true });
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
