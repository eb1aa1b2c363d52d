/**
 * The kernel remedy's file edits (issue 7 point 8), the rollback target (point 1) and what
 * RMRDS plans claim (point 9). The oracle for /etc/default/grub is sh itself: grub-mkconfig
 * sources the file with sh, so `sh -c '. FILE; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"'` is
 * what GRUB will use. Byte-exactness is checked on the bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/cli/exit.js';
import { ROOT } from './helpers.js';
import { cliScript } from './cli-bin.js';
import { CARD, hpeHost, type HpeHost, runWithEnv } from './fix-host.js';

const run = runWithEnv;

const tmp = () => mkdtempSync(join(tmpdir(), 'assignable-kernel-'));

/** A non-HPE host on a Proxmox kernel (relax_rmrr available), fake bootloader tools that log their calls. */
function kernelHost(files: Record<string, Buffer | string>) {
  const dir = tmp();
  const h = hpeHost(dir, { manufacturer: 'Supermicro', product: 'X9DRW', kernel: '6.8.12-4-pve' });
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(h.root, rel, '..'), { recursive: true });
    writeFileSync(join(h.root, rel), data);
  }
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'tools.log');
  for (const t of ['update-grub', 'proxmox-boot-tool']) {
    writeFileSync(join(bin, t), `#!/bin/sh\necho "${t} $*" >> ${log}\n`);
    chmodSync(join(bin, t), 0o755);
  }
  const env = { PATH: `${bin}:${process.env.PATH}`, ASSIGNABLE_TEST_HOST_ROOT: h.root };
  const tools = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => l.trimEnd()) : []);
  return { h, env, tools };
}

const applyK = (h: HpeHost) => ['fix', CARD, '--method', 'relax-rmrr', '--apply', '--state-dir', h.stateDir];
const pending = (h: HpeHost) => JSON.parse(readFileSync(join(h.stateDir, 'pending.json'), 'utf8'));

/** What GRUB uses: the file sourced by sh. */
function grubSees(file: string): string {
  return execFileSync('sh', ['-c', '. "$1"; printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"', 'sh', file], { encoding: 'latin1' });
}

describe('the kernel remedy edits boot files without damage', () => {
  it('/etc/default/grub: comments, odd bytes, a trailing # comment, the variable assigned twice — the last one edited, all else byte-exact', async () => {
    const before = Buffer.concat([
      Buffer.from('# If you change this file, run \'update-grub\'\n# caf\xe9 \xff\xfe odd bytes\nGRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n\n', 'latin1'),
      Buffer.from('GRUB_CMDLINE_LINUX_DEFAULT="quiet splash iommu=pt"   # the one in use\nGRUB_CMDLINE_LINUX=""\n#GRUB_TERMINAL=console', 'latin1'),
    ]);
    const { h, env, tools } = kernelHost({ 'etc/default/grub': before });
    const file = join(h.root, 'etc/default/grub');
    const isRoot = process.geteuid?.() === 0;
    if (isRoot) chownSync(file, 1234, 5678);
    chmodSync(file, 0o640);
    assert.equal(grubSees(file), 'quiet splash iommu=pt');
    const r = await run(applyK(h), env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(grubSees(file), 'quiet splash iommu=pt intel_iommu=on,relax_rmrr');
    const after = readFileSync(file);
    const b = before.toString('latin1').split('\n');
    const a = after.toString('latin1').split('\n');
    assert.equal(a.length, b.length);
    for (let i = 0; i < b.length; i++) if (i !== 5) assert.equal(a[i], b[i], `line ${i + 1} changed`);
    assert.equal(a[5], 'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash iommu=pt intel_iommu=on,relax_rmrr"   # the one in use');
    const st = statSync(file);
    assert.equal(st.mode & 0o777, 0o640, 'mode kept');
    if (isRoot) assert.deepEqual([st.uid, st.gid], [1234, 5678], 'owner kept');
    assert.deepEqual(tools(), ['update-grub']);
    assert.ok(readFileSync(pending(h).backup).equals(before), 'backup byte-exact');
    const rb = await run(['fix', '--rollback', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(rb.code, EXIT.OK, rb.err);
    assert.ok(readFileSync(file).equals(before), 'restore byte-exact');
    assert.equal(statSync(file).mode & 0o777, 0o640);
  });

  it('/etc/kernel/cmdline with CRLF, a comment line, odd bytes and no final newline: only the command line edited; backup and restore byte-exact', async () => {
    const before = Buffer.from('# proxmox \xff\r\nroot=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on quiet\r\nextra=\xe9', 'latin1');
    const { h, env, tools } = kernelHost({ 'etc/kernel/cmdline': before });
    const file = join(h.root, 'etc/kernel/cmdline');
    const r = await run(applyK(h), env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(readFileSync(file, 'latin1'), '# proxmox \xff\r\nroot=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on,relax_rmrr quiet\r\nextra=\xe9');
    assert.deepEqual(tools(), ['proxmox-boot-tool refresh']);
    assert.ok(readFileSync(pending(h).backup).equals(before));
    const rb = await run(['fix', '--rollback', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(rb.code, EXIT.OK, rb.err);
    assert.ok(readFileSync(file).equals(before), 'restore byte-exact');
  });

  it('a symlinked /etc/default/grub (absolute link, resolved inside the root) is edited through its target; the link stays', async () => {
    const before = 'GRUB_CMDLINE_LINUX_DEFAULT=quiet\n';
    const { h, env } = kernelHost({ 'etc/grub-real/grub': before });
    mkdirSync(join(h.root, 'etc/default'), { recursive: true });
    symlinkSync('/etc/grub-real/grub', join(h.root, 'etc/default/grub'));
    const r = await run(applyK(h), env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.ok(lstatSync(join(h.root, 'etc/default/grub')).isSymbolicLink());
    assert.equal(grubSees(join(h.root, 'etc/grub-real/grub')), 'quiet intel_iommu=on,relax_rmrr');
    const rb = await run(['fix', '--rollback', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(rb.code, EXIT.OK, rb.err);
    assert.equal(readFileSync(join(h.root, 'etc/grub-real/grub'), 'utf8'), before);
    assert.ok(lstatSync(join(h.root, 'etc/default/grub')).isSymbolicLink());
  });

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ['a drop-in that sets the variable after /etc/default/grub', { 'etc/default/grub': 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n', 'etc/default/grub.d/50-cloudimg.cfg': 'GRUB_CMDLINE_LINUX_DEFAULT="console=ttyS0"\n' }, /grub\.d\/50-cloudimg\.cfg sets GRUB_CMDLINE_LINUX_DEFAULT after \/etc\/default\/grub, so an edit there would have no effect/],
    ['a value built from variables', { 'etc/default/grub': 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT quiet"\n' }, /is not a plain quoted value .*edit it by hand/],
    ['intel_iommu= given twice', { 'etc/kernel/cmdline': 'root=/dev/sda1 intel_iommu=on intel_iommu=igfx_off\n' }, /gives intel_iommu= more than once/],
    ['an empty /etc/kernel/cmdline', { 'etc/kernel/cmdline': '# nothing\n' }, /holds no command line: refusing/],
  ];
  for (const [name, files, message] of refusals) {
    it(`refused clearly, nothing written: ${name}`, async () => {
      const { h, env, tools } = kernelHost(files);
      const r = await run(applyK(h), env);
      assert.equal(r.code, EXIT.BLOCKED, r.out + r.err);
      assert.match(r.out, message);
      assert.doesNotMatch(r.out, /Done/);
      for (const [rel, data] of Object.entries(files)) assert.equal(readFileSync(join(h.root, rel), 'utf8'), data);
      assert.deepEqual(tools(), []);
      assert.equal(existsSync(h.stateDir), false);
    });
  }
});

describe('a backup goes back only to the file it was taken from', () => {
  it('a GRUB backup, rolled back with a fresh state directory on a host that also has /etc/kernel/cmdline: /etc/default/grub restored, update-grub run, cmdline untouched', async () => {
    const grub = 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n';
    const { h, env, tools } = kernelHost({ 'etc/default/grub': grub });
    assert.equal((await run(applyK(h), env)).code, EXIT.OK);
    const backup = pending(h).backup as string;
    const cmdline = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs\n';
    mkdirSync(join(h.root, 'etc/kernel'), { recursive: true });
    writeFileSync(join(h.root, 'etc/kernel/cmdline'), cmdline);
    const fresh = join(tmp(), 'state');
    const r = await run(['fix', '--rollback', backup, '--apply', '--state-dir', fresh], env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.match(r.out, /Restored \/etc\/default\/grub from/);
    assert.equal(readFileSync(join(h.root, 'etc/default/grub'), 'utf8'), grub);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), cmdline);
    assert.deepEqual(tools(), ['update-grub', 'update-grub']);
  });
});

describe('RMRDS plans claim only what is known (hpe-rmrr.md §2, §4)', () => {
  const cases: Array<[string, { product: string; storage?: boolean }, RegExp | null]> = [
    ['a NIC in a DL360e Gen8 (the advisory\'s ground)', { product: 'ProLiant DL360e Gen8' }, null],
    ['a NIC in a MicroServer Gen8', { product: 'ProLiant MicroServer Gen8' }, /reported not to work on the ProLiant MicroServer Gen8/],
    ['an HBA (class 0107) in a DL360e Gen8', { product: 'ProLiant DL360e Gen8', storage: true }, /HBAs and storage controllers: .* not other cards such as HBAs/],
    ['a NIC in a DL380 Gen10 Plus', { product: 'ProLiant DL380 Gen10 Plus' }, /Gen10: HPE has said nothing found/],
    ['a NIC in a DL360 Gen11', { product: 'ProLiant DL360 Gen11' }, /Gen11: HPE has said nothing found/],
  ];
  for (const [name, o, reason] of cases) {
    it(`${name}: ${reason ? 'unverified here, --apply needs --force' : 'offered as documented'}`, async () => {
      const h = hpeHost(tmp(), o);
      const plan = JSON.parse((await run(['fix', CARD, '--root', h.root, '--json'])).out);
      assert.equal(plan.chosen, 'hpe-rmrds');
      assert.equal(plan.firmware.verified, reason === null);
      if (reason) {
        assert.ok(plan.firmware.unverified.some((u: string) => reason.test(u)), plan.firmware.unverified.join(' | '));
        const text = await run(['fix', CARD, '--root', h.root]);
        assert.match(text.out, /UNVERIFIED here — --apply also needs --force/);
        const r = await run(['fix', CARD, '--apply', '--conrep', '/nonexistent/conrep', '--state-dir', h.stateDir], { ASSIGNABLE_TEST_HOST_ROOT: h.root });
        assert.equal(r.code, EXIT.INPUT);
        assert.match(r.err, /unverified here .* add --force/);
        assert.equal(existsSync(h.stateDir), false);
      } else assert.deepEqual(plan.firmware.unverified, []);
    });
  }
});

describe('the kernel remedy under kill -9 and write faults', () => {
  const before = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n';
  const after = 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet intel_iommu=on,relax_rmrr\n';
  for (const step of ['before-load', 'after-load', 'after-readback', 'after-record'] as const) {
    it(`apply killed ${step}: the file is as far as the step got, a record says so, rollback restores byte-exact`, async () => {
      const { h, env, tools } = kernelHost({ 'etc/kernel/cmdline': before });
      const file = join(h.root, 'etc/kernel/cmdline');
      const k = spawnSync(process.execPath, [cliScript(), ...applyK(h)], { cwd: ROOT, env: { ...process.env, ...env, ASSIGNABLE_TEST_CRASH_AT: step }, encoding: 'utf8' });
      assert.equal(k.signal, 'SIGKILL', k.stderr);
      assert.equal(readFileSync(file, 'utf8'), step === 'before-load' ? before : after);
      assert.equal(pending(h).state, step === 'after-record' ? 'applied' : 'intent');
      assert.deepEqual(tools(), step === 'after-record' ? ['proxmox-boot-tool refresh'] : []);
      // Only the killed run needs its own process; the rollback reads what it left on disk.
      const rb = await run(['fix', '--rollback', '--apply', '--state-dir', h.stateDir], env);
      assert.equal(rb.code, EXIT.OK, rb.err);
      assert.equal(readFileSync(file, 'utf8'), before);
      assert.equal(tools().at(-1), 'proxmox-boot-tool refresh', 'the bootloader is refreshed after a rollback');
      assert.equal(existsSync(join(h.stateDir, 'pending.json')), false);
    });
  }

  for (const code of ['ENOSPC', 'EROFS']) {
    it(`${code} at each write: exit 3 with the file unchanged, exit 5 restored, or exit 6 naming the backup — never 70`, async () => {
      let n = 1;
      for (; n < 40; n++) {
        const { h, env } = kernelHost({ 'etc/kernel/cmdline': before });
        const file = join(h.root, 'etc/kernel/cmdline');
        const r = await run(applyK(h), { ...env, ASSIGNABLE_TEST_WRITE_FAULT: `${code}:${n}` });
        assert.notEqual(r.code, EXIT.INTERNAL, r.err);
        if (r.code === EXIT.OK) {
          assert.equal(readFileSync(file, 'utf8'), after);
          assert.equal(pending(h).state, 'applied');
          if (!existsSync(join(h.stateDir, 'lock'))) break;
          continue;
        }
        assert.equal(r.err.trim().split('\n').length, 1, r.err);
        assert.match(r.err, new RegExp(code));
        if (r.code === EXIT.APPLY_UNKNOWN) {
          assert.equal(readFileSync(file, 'utf8'), after);
          const m = /To undo: cp (\S+) \/etc\/kernel\/cmdline && proxmox-boot-tool refresh/.exec(r.err);
          assert.ok(m, r.err);
          assert.equal(readFileSync(m[1]!, 'utf8'), before);
        } else {
          assert.ok(r.code === EXIT.ENVIRONMENT || r.code === EXIT.APPLY_FAILED, `${n}: ${r.code} ${r.err}`);
          assert.equal(readFileSync(file, 'utf8'), before, `write ${n}: exit ${r.code} must mean unchanged`);
        }
      }
      assert.ok(n < 40);
    });
  }
});
