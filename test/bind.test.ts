/**
 * `assignable bind` (issue 10 point 3) against a fake sysfs root built from the real ASUS P6T6
 * dump (test/bind-host.ts). Oracles: the IOMMU groups planted as the kernel's (what the plan must
 * list), lspci -tv of the same machine (06:00.0/06:00.1 are one device; the NICs share 10ec:8168),
 * the fake kernel's record of writes (their order) and its driver links (the read-back), kmod's
 * own parser (`modprobe -C FILE -c`) for the modprobe.d file, and test doubles of the initramfs
 * tools that log their argv.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/cli/exit.js';
import { runBind, type BindOptions } from '../src/cli/bind-command.js';
import { systemRunner } from '../src/remedies/runner.js';
import { recordName } from '../src/remedies/vfio-bind/apply.js';
import { MODPROBE_FILE, UDEV_FILE } from '../src/remedies/vfio-bind/persist.js';
import type { AttrWriter } from '../src/remedies/vfio-bind/apply.js';
import { ROOT } from './helpers.js';
import { cliScript } from './cli-bin.js';
import { runWithEnv, setEnv } from './fix-host.js';
import { validatedJson } from './json-schema.js';
import { bindHost, fakeKernel, GPU, GPU_AUDIO, ICH10_PORTS, NIC1, NIC2, toolBin, type BindHost, type BindHostOptions } from './bind-host.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'assignable-bind-'));
const GPU_GROUP = [GPU, GPU_AUDIO];
/** The NICs behind the ICH10 root ports, as one group when the ports have no ACS. */
const ICH10_GROUP = [...ICH10_PORTS, NIC1, NIC2];

function setup(o: BindHostOptions = {}) {
  const dir = tmp();
  const h = bindHost(dir, { groups: [GPU_GROUP, ICH10_GROUP], ...o });
  const tools = toolBin(dir);
  const env = { ASSIGNABLE_TEST_HOST_ROOT: h.root, PATH: `${tools.bin}:${process.env.PATH}` };
  return { h, tools, env };
}

/** runBind in this process with a fake kernel, the test root and tool doubles in the environment. */
function direct(device: string, o: BindOptions, env: Record<string, string>, attr?: AttrWriter) {
  const restore = setEnv(env);
  let out = '';
  let err = '';
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (err += s) };
  try {
    let code: number;
    try {
      code = runBind(io, device, o, undefined, systemRunner, new Date('2026-11-27T12:00:00Z'), attr);
    } catch (e) {
      // What main()'s guarded() would print: the tests read the message and status.
      return { code: -1, out, err: (e as Error).message, error: e };
    }
    return validatedJson({ code, out, err, error: null as unknown });
  } finally {
    restore();
  }
}

const record = (h: BindHost, d: string) => {
  const p = join(h.stateDir, recordName(d));
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
};

describe('bind: the plan (no writes)', () => {
  it('lists every function of the kernel group and the sibling function, each with its driver → vfio-pci', async () => {
    const { h, env } = setup();
    const r = await runWithEnv(['bind', GPU, '--root', h.root, '--state-dir', h.stateDir, '--json'], env);
    assert.equal(r.code, EXIT.OK, r.err);
    const doc = JSON.parse(r.out);
    assert.deepEqual(doc.group, { source: 'kernel', id: '0', members: GPU_GROUP });
    assert.deepEqual(doc.functions.map((f: { address: string; driver: string; action: string }) => [f.address, f.driver, f.action]), [[GPU, 'nouveau', 'bind'], [GPU_AUDIO, 'snd_hda_intel', 'bind']]);
    assert.deepEqual(doc.functions.map((f: { ids: string }) => f.ids), ['10de:0a65', '10de:0be3'], 'the ids lspci -nn prints for them');
    assert.deepEqual(doc.refused, []);
    assert.equal(existsSync(h.stateDir), false, 'a plan writes nothing, not even the state directory');
    assert.equal(h.override(GPU), '(null)\n');
  });

  it('a group with bridges: the endpoints go, the bridges stay; a group member the host needs (default route) refuses, exit 1', async () => {
    const { h, env } = setup({ defaultRoute: NIC2 });
    const r = await runWithEnv(['bind', NIC1, '--root', h.root, '--json'], env);
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    const doc = JSON.parse(r.out);
    assert.deepEqual(doc.group.members, ICH10_GROUP);
    assert.deepEqual(doc.functions.filter((f: { action: string }) => f.action === 'leave-bridge').map((f: { address: string }) => f.address), ICH10_PORTS);
    assert.deepEqual(doc.functions.filter((f: { action: string }) => f.action === 'bind').map((f: { address: string }) => f.address), [NIC1, NIC2]);
    assert.equal(doc.refused.length, 1);
    assert.match(doc.refused[0], new RegExp(`${NIC2} goes with ${NIC1} .* the host needs it: carries the default route`));
    const t = await runWithEnv(['bind', NIC1, '--root', h.root], env);
    assert.match(t.out, /Refused:\n {2}· 0000:08:00\.0 goes with/);
  });

  it('the host-critical device itself (console GPU, boot_vga=1) is refused', async () => {
    const { h, env } = setup({ bootVga: GPU });
    const r = await runWithEnv(['bind', GPU, '--root', h.root, '--json'], env);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.deepEqual(JSON.parse(r.out).refused, [`${GPU} is a device the host needs: the console display (boot_vga=1)`]);
  });

  it('no IOMMU (the kernel made no groups): refused, exit 4, and --apply writes nothing', async () => {
    const { h, env } = setup({ groups: null });
    const r = await runWithEnv(['bind', GPU, '--root', h.root, '--json'], env);
    assert.equal(r.code, EXIT.ABSENT, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.noIommu, true);
    assert.match(doc.refused[0], /no IOMMU groups/);
    const a = direct(GPU, { apply: true, stateDir: h.stateDir }, { ASSIGNABLE_TEST_HOST_ROOT: h.root }, fakeKernel(h).attr);
    assert.equal(a.code, EXIT.ABSENT);
    assert.equal(h.override(GPU), '(null)\n');
    assert.equal(h.driverOf(GPU), 'nouveau');
  });

  it('already on vfio-pci: nothing to do', async () => {
    const { h, env } = setup({ drivers: { [GPU]: 'vfio-pci', [GPU_AUDIO]: 'vfio-pci' } });
    const r = await runWithEnv(['bind', GPU, '--root', h.root], env);
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, /already on vfio-pci/);
    assert.match(r.out, /Nothing to do: every function is already on vfio-pci/);
  });

  it('without the kernel groups (a capture of loose files): the predicted group, said to be predicted; the sibling function still goes along', async () => {
    const r = await runWithEnv(['bind', '06:00.0', '--lspci', join(ROOT, 'test/fixtures/pci/pciutils-tests/asus-p6t6-pciutils-tree.lspci313-vvvnn.txt'), '--json']);
    const doc = JSON.parse(r.out);
    assert.equal(doc.group.source, 'predicted');
    assert.ok(doc.functions.some((f: { address: string }) => f.address === GPU_AUDIO), 'lspci -tv: 06:00.1 is a function of the same device');
    assert.ok(doc.notes.some((n: string) => /predicted from config space/.test(n)));
  });
});

describe('bind --apply: runtime, through sysfs', () => {
  it('writes driver_override, unbind, drivers_probe per function in order, reads the link back; --unbind restores the recorded drivers', () => {
    const { h } = setup();
    const k = fakeKernel(h);
    const env = { ASSIGNABLE_TEST_HOST_ROOT: h.root };
    const r = direct(GPU, { apply: true, stateDir: h.stateDir }, env, k.attr);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(k.writes, [
      { file: `${GPU}/driver_override`, value: 'vfio-pci' },
      { file: 'sys/bus/pci/drivers/nouveau/unbind', value: GPU },
      { file: 'sys/bus/pci/drivers_probe', value: GPU },
      { file: `${GPU_AUDIO}/driver_override`, value: 'vfio-pci' },
      { file: 'sys/bus/pci/drivers/snd_hda_intel/unbind', value: GPU_AUDIO },
      { file: 'sys/bus/pci/drivers_probe', value: GPU_AUDIO },
    ]);
    assert.equal(h.driverOf(GPU), 'vfio-pci');
    assert.equal(h.driverOf(GPU_AUDIO), 'vfio-pci');
    const rec = record(h, GPU);
    assert.equal(rec.state, 'bound');
    assert.deepEqual(rec.functions, [{ address: GPU, driver: 'nouveau', override: null }, { address: GPU_AUDIO, driver: 'snd_hda_intel', override: null }]);
    assert.match(r.out, /To undo: assignable bind 0000:06:00\.0 --unbind --apply/);

    k.writes.length = 0;
    const u = direct(GPU, { apply: true, unbind: true, stateDir: h.stateDir }, env, k.attr);
    assert.equal(u.code, EXIT.OK, u.err);
    assert.deepEqual(k.writes, [
      { file: `${GPU_AUDIO}/driver_override`, value: '' },
      { file: 'sys/bus/pci/drivers/vfio-pci/unbind', value: GPU_AUDIO },
      { file: 'sys/bus/pci/drivers/snd_hda_intel/bind', value: GPU_AUDIO },
      { file: `${GPU}/driver_override`, value: '' },
      { file: 'sys/bus/pci/drivers/vfio-pci/unbind', value: GPU },
      { file: 'sys/bus/pci/drivers/nouveau/bind', value: GPU },
    ]);
    assert.equal(h.driverOf(GPU), 'nouveau');
    assert.equal(h.driverOf(GPU_AUDIO), 'snd_hda_intel');
    assert.equal(record(h, GPU), null, 'the record is archived in history');
    assert.ok(readdirSync(join(h.stateDir, 'history')).some((f) => f.endsWith('-vfio-bind-unbound.json')));
  });

  it('the second function does not bind (its link does not change): the first is put back on its driver, exit 5', () => {
    const { h } = setup();
    const k = fakeKernel(h, [GPU_AUDIO]);
    const r = direct(GPU, { apply: true, stateDir: h.stateDir }, { ASSIGNABLE_TEST_HOST_ROOT: h.root }, k.attr);
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /0000:06:00\.1 did not bind to vfio-pci \(its driver link reads no driver/);
    assert.match(r.err, /put back on nouveau, snd_hda_intel and read back/);
    assert.equal(h.driverOf(GPU), 'nouveau');
    assert.equal(h.driverOf(GPU_AUDIO), 'snd_hda_intel');
    assert.equal(h.override(GPU), '\n', 'driver_override cleared');
    assert.equal(record(h, GPU), null);
  });

  it('through the CLI with no kernel behind the files: the link never changes → rolled back, exit 5, override cleared', async () => {
    const { h, env } = setup();
    const r = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /0000:06:00\.0 did not bind to vfio-pci .*put back on nouveau and read back/);
    assert.equal(h.override(GPU), '\n');
    assert.equal(h.override(GPU_AUDIO), '(null)\n', 'the second function was never touched');
  });

  it('--apply refuses --root (it changes the host it runs on) and a non-root user, before writing anything', async () => {
    const { h, env } = setup();
    const r = await runWithEnv(['bind', GPU, '--apply', '--root', h.root], env);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /--apply changes the host it runs on; it cannot be combined with --root/);
    const nr = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], { ...env, ASSIGNABLE_TEST_EUID: '1000' });
    assert.equal(nr.code, EXIT.ENVIRONMENT);
    assert.match(nr.err, /run it as root \(nothing was changed\)/);
    assert.equal(existsSync(h.stateDir), false);
  });

  it('a symbolic link planted at driver_override is refused; its target is not written', async () => {
    const { h, env } = setup();
    const victim = join(h.root, 'victim');
    writeFileSync(victim, 'keep\n');
    unlinkSync(join(h.dev(GPU_AUDIO), 'driver_override'));
    symlinkSync(victim, join(h.dev(GPU_AUDIO), 'driver_override'));
    const r = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /driver_override is a symbolic link, not a sysfs attribute: refused/);
    assert.equal(readFileSync(victim, 'utf8'), 'keep\n');
    assert.equal(h.override(GPU), '(null)\n', 'checked before any write');
  });

  it('a read-only sysfs (EROFS on the first attribute write): nothing changed, exit 5', async () => {
    const { h, env } = setup();
    // Writes of this run: the state directory and its two subdirectories, the record and its
    // history entry, then the attributes: the 6th is the first driver_override.
    const r = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], { ...env, ASSIGNABLE_TEST_WRITE_FAULT: 'EROFS:7' });
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /cannot write "vfio-pci" to .*driver_override: EROFS \(read-only file system\)/);
    assert.equal(h.override(GPU), '\n');
    assert.equal(h.driverOf(GPU), 'nouveau');
  });

  it('a full state directory before acting (ENOSPC on the record): nothing written to sysfs, exit 3', async () => {
    const { h, env } = setup();
    const r = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], { ...env, ASSIGNABLE_TEST_WRITE_FAULT: 'ENOSPC:5' });
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /ENOSPC/);
    assert.equal(h.override(GPU), '(null)\n');
  });

  for (const step of ['before-load', 'after-load'] as const) {
    it(`killed ${step}: the intent record was on disk first; --unbind --apply puts every function back`, async () => {
      const { h, env } = setup();
      const k = spawnSync(process.execPath, [cliScript(), 'bind', GPU, '--apply', '--state-dir', h.stateDir], { cwd: ROOT, env: { ...process.env, ...env, ASSIGNABLE_TEST_CRASH_AT: step }, encoding: 'utf8', timeout: 120_000 });
      assert.equal(k.signal, 'SIGKILL', k.stderr);
      const rec = record(h, GPU);
      assert.equal(rec.state, 'intent');
      assert.deepEqual(rec.functions.map((f: { driver: string }) => f.driver), ['nouveau', 'snd_hda_intel']);
      assert.equal(h.override(GPU), step === 'before-load' ? '(null)\n' : 'vfio-pci\n');
      // The record holds the only copy of the original drivers: a new bind must not overwrite it.
      // Only the killed run needs its own process; what follows reads what it left on disk.
      const again = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], env);
      assert.equal(again.code, EXIT.APPLY_FAILED, again.err);
      assert.match(again.err, /a bind of 0000:06:00\.0 is recorded \(intent, .*run `assignable bind 0000:06:00\.0 --unbind --apply` first; nothing was changed/);
      assert.deepEqual(record(h, GPU).functions.map((f: { driver: string }) => f.driver), ['nouveau', 'snd_hda_intel']);
      const u = await runWithEnv(['bind', GPU, '--unbind', '--apply', '--state-dir', h.stateDir], env);
      assert.equal(u.code, EXIT.OK, u.err);
      assert.equal(h.override(GPU), '\n');
      assert.equal(h.driverOf(GPU), 'nouveau');
      assert.equal(record(h, GPU), null);
      assert.equal(existsSync(join(h.stateDir, 'lock')), false, "the dead process's lock was taken over and released");
    });
  }

  it('named by its other function: one record for the set — bound through 06:00.1, put back through 06:00.0', () => {
    const { h } = setup();
    const k = fakeKernel(h);
    const env = { ASSIGNABLE_TEST_HOST_ROOT: h.root };
    assert.equal(direct(GPU_AUDIO, { apply: true, stateDir: h.stateDir }, env, k.attr).code, EXIT.OK);
    assert.equal(h.driverOf(GPU), 'vfio-pci');
    const u = direct(GPU, { apply: true, unbind: true, stateDir: h.stateDir }, env, k.attr);
    assert.equal(u.code, EXIT.OK, u.err);
    assert.match(u.out, /back on nouveau, snd_hda_intel/);
    assert.equal(h.driverOf(GPU), 'nouveau');
    assert.equal(h.driverOf(GPU_AUDIO), 'snd_hda_intel');
  });

  it('a plan by a user who cannot read the state directory still plans, and says what it could not show', async () => {
    const { h, env } = setup();
    mkdirSync(h.stateDir, { mode: 0o700 }); // owned by root: not "ours" for uid 1000
    const r = await runWithEnv(['bind', GPU, '--root', h.root, '--state-dir', h.stateDir, '--json'], { ...env, ASSIGNABLE_TEST_EUID: '1000' });
    assert.equal(r.code, EXIT.OK, r.err);
    assert.ok(JSON.parse(r.out).notes.some((n: string) => /state directory could not be read .*owned by uid 0/.test(n)));
  });

  it('--unbind with no record (bound by something else): override cleared, off vfio-pci, the kernel probes its driver again', () => {
    const { h } = setup({ drivers: { [GPU]: 'vfio-pci', [GPU_AUDIO]: 'vfio-pci' } });
    writeFileSync(join(h.dev(GPU), 'driver_override'), 'vfio-pci\n');
    writeFileSync(join(h.dev(GPU_AUDIO), 'driver_override'), 'vfio-pci\n');
    const k = fakeKernel(h);
    const u = direct(GPU, { apply: true, unbind: true, stateDir: h.stateDir }, { ASSIGNABLE_TEST_HOST_ROOT: h.root }, k.attr);
    assert.equal(u.code, EXIT.OK, u.err);
    assert.match(u.out, /no bind was recorded, so the kernel chose the driver again/);
    assert.deepEqual(k.writes.slice(0, 3), [
      { file: `${GPU_AUDIO}/driver_override`, value: '' },
      { file: 'sys/bus/pci/drivers/vfio-pci/unbind', value: GPU_AUDIO },
      { file: 'sys/bus/pci/drivers_probe', value: GPU_AUDIO },
    ]);
    assert.equal(h.driverOf(GPU), 'nouveau');
    assert.equal(h.driverOf(GPU_AUDIO), 'snd_hda_intel');
  });

  it('the host driver has no unbind attribute (suppress_bind_attrs): the override is cleared again, nothing bound, exit 5', () => {
    const { h } = setup();
    unlinkSync(join(h.root, 'sys/bus/pci/drivers/nouveau/unbind'));
    const k = fakeKernel(h);
    const r = direct(GPU, { apply: true, stateDir: h.stateDir }, { ASSIGNABLE_TEST_HOST_ROOT: h.root }, k.attr);
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /binding 0000:06:00\.0 failed: cannot open .*nouveau\/unbind: ENOENT/);
    assert.deepEqual(k.writes.map((w) => `${w.file}=${w.value}`), [`${GPU}/driver_override=vfio-pci`, `${GPU}/driver_override=`]);
    assert.equal(h.driverOf(GPU), 'nouveau');
    assert.equal(h.override(GPU_AUDIO), '(null)\n');
  });

  it('vfio-pci not loaded: `modprobe vfio-pci` runs first; when it fails, nothing is changed (exit 5)', async () => {
    const { h, env, tools } = setup({ noVfioDriver: true });
    const r = await runWithEnv(['bind', GPU, '--apply', '--state-dir', h.stateDir], { ...env, FAIL_TOOL: 'modprobe' });
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /`modprobe vfio-pci` failed .*nothing was changed/);
    assert.deepEqual(tools.calls(), ['modprobe vfio-pci']);
    assert.equal(h.override(GPU), '(null)\n');
  });
});

/** kmod's reading of a modprobe.d file: its options and softdep lines for vfio_pci. */
function kmodReads(file: string): string[] | null {
  const r = spawnSync('modprobe', ['-C', file, '-c'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return r.stdout.split('\n').filter((l) => /^options vfio_pci |^softdep /.test(l));
}

describe('bind --persistent: modprobe.d / udev, with backup, and the initramfs tool of the host', () => {
  it('kmod reads the file as meant: vfio_pci ids= both functions, a softdep per original driver', async (t) => {
    const probe = spawnSync('modprobe', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) return t.skip('modprobe (kmod) is not installed: .ci/run installs it');
    const { h, env } = setup();
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(kmodReads(join(h.root, MODPROBE_FILE)), ['options vfio_pci ids=10de:0a65,10de:0be3', 'softdep nouveau pre: vfio-pci', 'softdep snd_hda_intel pre: vfio-pci']);
  });

  it('Debian: options vfio-pci ids= and a softdep per original driver; update-initramfs -u -k all; --unbind --persistent removes it', async () => {
    const { h, env, tools } = setup();
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    const file = join(h.root, MODPROBE_FILE);
    assert.equal(lstatSync(file).mode & 0o777, 0o644);
    assert.deepEqual(tools.calls(), ['update-initramfs -u -k all']);
    assert.equal(h.override(GPU), '(null)\n', 'the boot-time path does not touch sysfs');
    assert.match(readFileSync(file, 'utf8'), /^options vfio-pci ids=10de:0a65,10de:0be3$/m);
    assert.equal(record(h, GPU).persistent.state, 'written');

    const u = await runWithEnv(['bind', GPU, '--unbind', '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(u.code, EXIT.OK, u.err);
    assert.equal(existsSync(file), false);
    assert.deepEqual(tools.calls(), ['update-initramfs -u -k all', 'update-initramfs -u -k all']);
    const backup = /Backup: (\S+)/.exec(u.out)![1]!;
    assert.equal(JSON.parse(readFileSync(backup + '.meta.json', 'utf8')).of.path, MODPROBE_FILE, 'the backup says what it is of');
    assert.equal(record(h, GPU), null);
  });

  it('two devices: the second is added to the same file, the first kept; removing one keeps the other', async () => {
    const { h, env } = setup({ groups: [GPU_GROUP, [NIC1]] });
    assert.equal((await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env)).code, EXIT.OK);
    // NIC2 is not host-critical here and shares 10ec:8168 with NIC1: ids= would take it too.
    const r = await runWithEnv(['bind', NIC1, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    const conf = readFileSync(join(h.root, MODPROBE_FILE), 'utf8');
    assert.match(conf, /^options vfio-pci ids=10de:0a65,10de:0be3$/m, 'the ids line does not take 10ec:8168: 08:00.0 has it too');
    assert.match(conf, /^softdep r8169 pre: vfio-pci$/m);
    assert.equal(readFileSync(join(h.root, UDEV_FILE), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join('\n'), `ACTION=="add", SUBSYSTEM=="pci", KERNEL=="${NIC1}", ATTR{driver_override}="vfio-pci"`);
    assert.match(r.out, /its ID 10ec:8168 is also 0000:08:00\.0, which the host keeps/);
    const u = await runWithEnv(['bind', GPU, '--unbind', '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(u.code, EXIT.OK, u.err);
    const after = readFileSync(join(h.root, MODPROBE_FILE), 'utf8');
    assert.doesNotMatch(after, /10de:/);
    assert.match(after, /^softdep r8169 pre: vfio-pci$/m);
    assert.ok(existsSync(join(h.root, UDEV_FILE)));
  });

  it('Proxmox (proxmox-boot-tool manages the ESPs): update-initramfs, then proxmox-boot-tool refresh', async () => {
    const { h, env, tools } = setup({ proxmoxBootTool: true });
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(tools.calls(), ['update-initramfs -u -k all', 'proxmox-boot-tool refresh']);
  });

  it('Fedora/RHEL: dracut', async () => {
    const { h, env, tools } = setup({ osRelease: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n' });
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(tools.calls(), ['dracut -f --regenerate-all']);
  });

  it('an unknown distribution: refused before writing (exit 3)', async () => {
    const { h, env, tools } = setup({ osRelease: 'ID=plan9\n' });
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.ENVIRONMENT);
    assert.match(r.err, /cannot tell which initramfs tool/);
    assert.equal(existsSync(join(h.root, MODPROBE_FILE)), false);
    assert.deepEqual(tools.calls(), []);
  });

  it('the initramfs tool fails: the file is put back (removed again), the initramfs rebuilt from it, exit 5', async () => {
    const { h, env, tools } = setup();
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], { ...env, FAIL_TOOL: 'update-initramfs' });
    assert.equal(r.code, EXIT.APPLY_UNKNOWN, 'the second rebuild fails too: the state of the initramfs is unknown');
    assert.equal(existsSync(join(h.root, MODPROBE_FILE)), false, 'the file is gone again');
    assert.deepEqual(tools.calls(), ['update-initramfs -u -k all', 'update-initramfs -u -k all']);
    assert.match(r.err, /run update-initramfs -u -k all by hand/);
  });

  it('EROFS on the file (7th write of the run): nothing changed, the record settled, exit 5', async () => {
    const { h, env, tools } = setup();
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], { ...env, ASSIGNABLE_TEST_WRITE_FAULT: 'EROFS:7' });
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /assignable-vfio\.conf.*EROFS \(read-only file system\); nothing was changed/);
    assert.equal(existsSync(join(h.root, MODPROBE_FILE)), false);
    assert.deepEqual(tools.calls(), []);
    assert.equal(record(h, GPU), null);
  });

  it('killed after the file was written, before the initramfs rebuild: the record names the file; --unbind --persistent --apply takes it out and rebuilds', async () => {
    const { h, env, tools } = setup();
    const k = spawnSync(process.execPath, [cliScript(), 'bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], { cwd: ROOT, env: { ...process.env, ...env, ASSIGNABLE_TEST_CRASH_AT: 'after-load' }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(k.signal, 'SIGKILL', k.stderr);
    assert.deepEqual(record(h, GPU).persistent, { files: [{ path: MODPROBE_FILE, backup: null }], refresh: [['update-initramfs', '-u', '-k', 'all']], state: 'intent' });
    assert.ok(existsSync(join(h.root, MODPROBE_FILE)));
    assert.deepEqual(tools.calls(), [], 'killed before the rebuild');
    const u = await runWithEnv(['bind', GPU, '--unbind', '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(u.code, EXIT.OK, u.err);
    assert.equal(existsSync(join(h.root, MODPROBE_FILE)), false);
    assert.deepEqual(tools.calls(), ['update-initramfs -u -k all']);
    assert.equal(record(h, GPU), null);
  });

  it('an existing file edited by hand is refused, byte for byte untouched', async () => {
    const { h, env, tools } = setup();
    const file = join(h.root, MODPROBE_FILE);
    writeFileSync(file, 'options vfio-pci ids=1234:5678\n');
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /is not as assignable wrote it/);
    assert.equal(readFileSync(file, 'utf8'), 'options vfio-pci ids=1234:5678\n');
    assert.deepEqual(tools.calls(), []);
  });

  it('a symbolic link planted at the file name is replaced, never written through', async () => {
    const { h, env } = setup();
    const victim = join(h.root, 'etc/shadow-like');
    writeFileSync(victim, 'secret\n');
    mkdirSync(join(h.root, 'etc/modprobe.d'), { recursive: true });
    symlinkSync('/etc/shadow-like', join(h.root, MODPROBE_FILE));
    const r = await runWithEnv(['bind', GPU, '--persistent', '--apply', '--state-dir', h.stateDir], env);
    assert.notEqual(r.code, EXIT.OK);
    assert.equal(readFileSync(victim, 'utf8'), 'secret\n');
  });
});
