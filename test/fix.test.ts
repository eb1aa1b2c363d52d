/**
 * `fix`: plans on real captures, refusals, and the real apply/verify/rollback code driven
 * against the conrep simulator (test/sim/conrep), including its failure modes; the kernel
 * remedy against a fake proxmox-boot-tool on PATH.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/cli/exit.js';
import { parseConrepSettings } from '../src/remedies/hpe-rmrds/settings.js';
import { addRelaxRmrr } from '../src/remedies/kernel-cmdline/relax-rmrr.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { cliScript } from './cli-bin.js';
import { assembledDmar, CARD, conrepSimBundle, hpeHost, nvramByte, reboot, type HpeHost, runWithEnv } from './fix-host.js';

const SIM = join(ROOT, 'test/sim/conrep');
const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt'), '--kernel', '3.17.4-301.fc21.x86_64'];

const run = runWithEnv;

const tmp = () => mkdtempSync(join(tmpdir(), 'assignable-fix-'));
// --apply reads and changes only the host it runs on; the tests point it at the fake host through
// the test-only ASSIGNABLE_TEST_HOST_ROOT (README "Testing the write path").
const simEnv = (h: HpeHost, fail = '') => ({ CONREP_SIM_BUNDLE: conrepSimBundle(), CONREP_SIM_STATE: h.image, CONREP_SIM_LOG: h.log, CONREP_SIM_FAIL: fail, ASSIGNABLE_TEST_HOST_ROOT: h.root });
const applyArgs = (h: HpeHost, ...more: string[]) => ['fix', CARD, '--apply', '--conrep', SIM, '--state-dir', h.stateDir, ...more];
const calls = (h: HpeHost) => (existsSync(h.log) ? readFileSync(h.log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')[0]) : []);

describe('fix plans', () => {
  it('a card in slot 2 of a DL380e Gen8 gets RMRDS_Slot2 and exactly the override users loaded', async () => {
    // Assembled: the real DL380e Gen8 lspci, SMBIOS (slot 2 = bus 09 behind 00:03.2) and DMAR
    // DRHDs; a card at 09:00.0 whose lspci block and config bytes are the real Intel 82576
    // SR-IOV NIC of pciutils' cap-pcie-2 dump (re-addressed); an RMRR naming 00:03.2 / 00.0.
    const dir = tmp();
    const card = fixtureText('pci/pciutils-tests', 'pciutils-cap-pcie-2.dump.txt').replace(/^01:00\.0 /m, '09:00.0 ');
    writeFileSync(join(dir, 'lspci.txt'), readFileSync(join(EX, 'lspci-vvnn.txt'), 'latin1') + '\n' + card);
    writeFileSync(join(dir, 'DMAR'), assembledDmar(true, [[3, 2], [0, 0]]));
    const args = ['--lspci', join(dir, 'lspci.txt'), '--dmar', join(dir, 'DMAR'), '--dmidecode', join(EX, 'dmidecode.txt'), '--kernel', '3.17.4-301.fc21.x86_64'];
    const r = await run(['fix', '09:00.0', ...args]);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.match(r.out, /Firmware fix: HPE RMRDS — set RMRDS_Slot2 = Endpoints_Excluded \(NVRAM 0x26A, bit mask 0x02\) for slot 2 \(PCI-E Slot 2\)/);
    const plan = JSON.parse((await run(['fix', '09:00.0', '--json', ...args])).out);
    assert.equal(plan.chosen, 'hpe-rmrds');
    assert.equal(plan.firmware.section, 'RMRDS_Slot2');
    assert.equal(plan.firmware.verified, true);
    assert.equal(plan.firmware.override, fixtureText('conrep', 'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__override-rmrds.xml').trimEnd());
    assert.deepEqual(parseConrepSettings(plan.firmware.override).sections, parseConrepSettings(fixtureText('conrep', 'busterswt_busterswt.github.io___posts_2018-08-06-proliant-intel-dpdk.markdown__exclude.dat')).sections);
    assert.ok(plan.firmware.windows.some((l: string) => /hpsstkio\.sys/.test(l)));
    assert.ok(plan.firmware.cost.some((l: string) => /iLO stops monitoring slot 2/.test(l)));
    assert.match(r.out, /Nothing has been changed/);
  });

  it('embedded I350 ports and the Smart Array of the DL380e: refused, pointing to relax_rmrr or a card in a slot', async () => {
    for (const dev of ['02:00.0', '02:00.3', '05:00.0']) {
      const r = await run(['fix', dev, ...DL380E]);
      assert.equal(r.code, EXIT.BLOCKED, dev);
      assert.match(r.out, /Firmware fix: not possible/);
      assert.match(r.out, /is embedded .*RMRDS works per PCIe slot/);
      assert.match(r.out, /intel_iommu=on,relax_rmrr/);
      assert.match(r.out, /put a card of the same kind in a PCIe slot/);
      assert.match(r.out, /Kernel remedy \(intel_iommu=relax_rmrr\): kernel 3\.17\.4-301\.fc21\.x86_64 has no relax_rmrr option/);
    }
  });

  it('iLO functions: refused as the management controller', async () => {
    const r = await run(['fix', '01:00.0', ...DL380E]);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.match(r.out, /management controller/);
    assert.doesNotMatch(r.out, /relax_rmrr/);
  });

  it('not an HPE ProLiant: refused with the system named', async () => {
    const r = await run(['fix', '02:00.0', '--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', fixture('smbios', 'dell-poweredge-r820-e5985c.dmidecode.txt')]);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.match(r.out, /RMRDS is a setting of HPE ProLiant BIOSes; this system is Dell Inc\. PowerEdge R820/);
  });

  it('a device no RMRR names: nothing to fix', async () => {
    const r = await run(['fix', '01:00.1', ...DL380E]);
    assert.equal(r.code, EXIT.OK);
    assert.match(r.out, /Nothing to fix: no RMRR names 0000:01:00\.1/);
  });

  it('on a Gen10 the plan is marked unverified and --apply needs --force', async () => {
    const h = hpeHost(tmp(), { product: 'ProLiant DL380 Gen10' });
    const plan = await run(['fix', CARD, '--root', h.root]);
    assert.equal(plan.code, EXIT.OK, plan.err);
    assert.match(plan.out, /UNVERIFIED here — --apply also needs --force:\n  · Gen10: HPE has said nothing found on whether Gen10 and later still put slots in RMRRs/);
    assert.match(plan.out, /--apply --force/);
    const noForce = await run(applyArgs(h), simEnv(h));
    assert.equal(noForce.code, EXIT.INPUT);
    assert.match(noForce.err, /add --force/);
    assert.deepEqual(calls(h), [], 'nothing ran without --force');
    const forced = await run(applyArgs(h, '--force'), simEnv(h));
    assert.equal(forced.code, EXIT.OK, forced.err);
    assert.equal(nvramByte(h, 0x26a), 0x02);
  });
});

describe('fix --apply against the conrep simulator', () => {
  it('backs up, loads, reads back, records a pending reboot; verify after the reboot; rollback', async () => {
    const h = hpeHost(tmp());
    const r = await run(applyArgs(h), simEnv(h));
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(calls(h), ['-s', '-l', '-s']);
    assert.equal(nvramByte(h, 0x26a), 0x02);
    assert.match(r.out, /Done: RMRDS_Slot2 reads back Endpoints_Excluded \(was Endpoints_Included\)/);
    const backups = readdirSync(join(h.stateDir, 'backups'));
    const before = backups.find((f) => f.endsWith('-before.dat'))!;
    assert.match(readFileSync(join(h.stateDir, 'backups', before), 'utf8'), /"RMRDS_Slot2" helptext=".">Endpoints_Included</);
    const pending = JSON.parse(readFileSync(join(h.stateDir, 'pending.json'), 'utf8'));
    assert.equal(pending.device, CARD);
    assert.equal(pending.bootId, '11111111-2222-3333-4444-555555555555');
    assert.equal(pending.before.verdicts.vfio.status, 'blocked');

    // Not rebooted yet: the RMRR is still there.
    const early = await run(['fix', '--verify', '--root', h.root, '--state-dir', h.stateDir]);
    assert.equal(early.code, EXIT.BLOCKED);
    assert.match(early.out, /Not rebooted since the change/);

    reboot(h);
    const v = await run(['fix', '--verify', '--root', h.root, '--state-dir', h.stateDir]);
    assert.equal(v.code, EXIT.OK, v.out + v.err);
    assert.match(v.out, /RMRR {2}1 range\(s\) +none/);
    assert.match(v.out, /vfio {2}blocked \(RMRR_DIRECT/);
    assert.match(v.out, /Verified: no RMRR names the device any more/);

    // Rollback: a plan without --apply (nothing runs), the restore with it.
    const n = calls(h).length;
    const plan = await run(['fix', '--rollback', '--state-dir', h.stateDir, '--conrep', SIM], simEnv(h));
    assert.equal(plan.code, EXIT.OK);
    assert.match(plan.out, /Nothing has been changed/);
    assert.equal(calls(h).length, n, 'rollback without --apply ran conrep');
    const rb = await run(['fix', '--rollback', join(h.stateDir, 'backups', before), '--apply', '--state-dir', h.stateDir, '--conrep', SIM], simEnv(h));
    assert.equal(rb.code, EXIT.OK, rb.err);
    assert.match(rb.out, /Restored RMRDS_Slot2/);
    assert.equal(nvramByte(h, 0x26a), 0x00);
  });

  it('no code path writes without --apply', async () => {
    const h = hpeHost(tmp());
    for (const args of [
      ['fix', CARD, '--root', h.root],
      ['fix', CARD, '--root', h.root, '--json'],
      ['fix', CARD, '--root', h.root, '--method', 'relax-rmrr'],
      ['fix', '--rollback', '/nonexistent.dat', '--state-dir', h.stateDir],
      ['fix', '--rollback', '--state-dir', h.stateDir],
    ]) {
      await run([...args, '--conrep', SIM], simEnv(h));
    }
    assert.deepEqual(calls(h), []);
    assert.equal(existsSync(h.stateDir), false, 'no state was written');
    assert.equal(nvramByte(h, 0x26a), 0);
  });

  const failures: Array<[string, number, RegExp, 'unchanged' | 'restored' | 'unknown']> = [
    ['abort-exit0', EXIT.APPLY_FAILED, /did not take: the read-back still shows RMRDS_Slot2 = Endpoints_Included \(conrep -l: exit 0 \(ASM values not set! aborting/, 'unchanged'],
    ['exit-nonzero', EXIT.APPLY_FAILED, /did not take: .*conrep -l: exit 1/, 'unchanged'],
    ['no-driver', EXIT.APPLY_FAILED, /backup failed, nothing was changed: conrep -s failed \(exit 1\).*hpsstkio/, 'unchanged'],
    ['bad-schema', EXIT.APPLY_FAILED, /backup failed, nothing was changed: .*Unable to parse the XML file/, 'unchanged'],
    ['crash-halfway', EXIT.APPLY_FAILED, /went wrong: the read-back differs from the backup in .*RMRDS_Slot2.*killed by SIGSEGV.*restored .* and read back/, 'restored'],
    ['crash-halfway,load-once', EXIT.APPLY_UNKNOWN, /restoring from .* FAILED/, 'unknown'],
    ['save-after-load-fails', EXIT.APPLY_UNKNOWN, /reading back failed .* and so did restoring/, 'unknown'],
  ];
  for (const [mode, code, message, firmware] of failures) {
    it(`${mode}: exits ${code}, says so in one line, firmware ${firmware}`, async () => {
      const h = hpeHost(tmp());
      const before = readFileSync(h.image, 'utf8');
      const r = await run(applyArgs(h), simEnv(h, mode));
      assert.equal(r.code, code, r.out + r.err);
      const lines = r.err.trim().split('\n').filter((l) => !/^assignable: backing up/.test(l));
      assert.equal(lines.length, 1, r.err);
      assert.match(lines[0]!, message);
      // Unknown: the intent record stays, for --verify / --rollback to settle; otherwise nothing is pending.
      if (firmware === 'unknown') assert.equal(JSON.parse(readFileSync(join(h.stateDir, 'pending.json'), 'utf8')).state, 'intent');
      else assert.equal(existsSync(join(h.stateDir, 'pending.json')), false);
      if (firmware === 'unknown') assert.match(lines[0]!, new RegExp(`load the backup by hand: ${SIM} -l -x \\S+ -f ${h.stateDir}/backups/\\S+-before\\.dat`));
      const nv = (t: string) => JSON.parse(t).nvram as string;
      if (firmware !== 'unknown') assert.equal(nv(readFileSync(h.image, 'utf8')), nv(before), 'NVRAM unchanged or restored');
    });
  }

  it('two concurrent applies cannot interleave', async () => {
    const h = hpeHost(tmp());
    // The sources as they are, started through the code cache (test/cli-bin.ts).
    const bin = cliScript();
    const one = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [bin, ...applyArgs(h)], { env: { ...process.env, ...simEnv(h), CONREP_SIM_DELAY_MS: '700' } });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => resolve({ code, err }));
      });
    const [a, b] = await Promise.all([one(), one()]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [EXIT.OK, EXIT.ENVIRONMENT], a.err + b.err);
    assert.match((a.code === EXIT.OK ? b : a).err, /another assignable fix is changing firmware settings or driver bindings \(pid \d+/);
    assert.deepEqual(calls(h), ['-s', '-l', '-s']);
    assert.equal(nvramByte(h, 0x26a), 0x02);
  });

  it('conrep missing: exit 3 with where to get it', async () => {
    const h = hpeHost(tmp());
    const r = await run(['fix', CARD, '--apply', '--conrep', '/nonexistent/conrep', '--state-dir', h.stateDir], { ASSIGNABLE_TEST_HOST_ROOT: h.root });
    assert.equal(r.code, EXIT.ENVIRONMENT);
    assert.match(r.err, /hp-scripting-tools/);
  });

  it('--apply refuses captures: it only changes the host it runs on', async () => {
    const r = await run(['fix', '02:00.0', ...DL380E, '--apply']);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /cannot be combined with a capture/);
  });
});

describe('the kernel remedy: intel_iommu=on,relax_rmrr', () => {
  it('merges into the command line it finds', () => {
    assert.equal(addRelaxRmrr('root=ZFS=rpool/ROOT/pve-1 boot=zfs'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs intel_iommu=on,relax_rmrr');
    assert.equal(addRelaxRmrr('quiet intel_iommu=on iommu=pt'), 'quiet intel_iommu=on,relax_rmrr iommu=pt');
    assert.equal(addRelaxRmrr('quiet intel_iommu=sm_on'), 'quiet intel_iommu=on,sm_on,relax_rmrr');
    assert.equal(addRelaxRmrr('quiet intel_iommu=on,relax_rmrr'), 'quiet intel_iommu=on,relax_rmrr');
  });

  function kernelHost(tool: 'ok' | 'fail' | 'fail-once') {
    const dir = tmp();
    // Not HPE, so the firmware cannot help; a Proxmox VE kernel that has relax_rmrr.
    const h = hpeHost(dir, { manufacturer: 'Supermicro', product: 'X9DRW', kernel: '6.8.12-4-pve' });
    mkdirSync(join(h.root, 'etc/kernel'), { recursive: true });
    writeFileSync(join(h.root, 'etc/kernel/cmdline'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'proxmox-boot-tool'), `#!/bin/sh\necho "$@" >> ${join(dir, 'pbt.log')}\n${tool === 'fail-once' ? `[ -e ${join(dir, 'failed')} ] && exit 0; touch ${join(dir, 'failed')}; ` : ''}${tool === 'ok' ? 'echo "Copying and configuring kernels on /dev/disk/by-uuid/ABCD"' : 'echo "E: no ESP configured" >&2; exit 2'}\n`);
    chmodSync(join(bin, 'proxmox-boot-tool'), 0o755);
    return { h, dir, env: { PATH: `${bin}:${process.env.PATH}`, ASSIGNABLE_TEST_HOST_ROOT: h.root } };
  }

  it('plans, applies (backup, write, read back, refresh) and rolls back', async () => {
    const { h, dir, env } = kernelHost('ok');
    const plan = await run(['fix', CARD, '--root', h.root]);
    assert.equal(plan.code, EXIT.OK, plan.err);
    assert.match(plan.out, /RMRDS is a setting of HPE ProLiant BIOSes; this system is Supermicro X9DRW/);
    assert.match(plan.out, /Kernel remedy: add intel_iommu=on,relax_rmrr \(systemd-boot, \/etc\/kernel\/cmdline\)/);
    assert.match(plan.out, /root=ZFS=rpool\/ROOT\/pve-1 boot=zfs quiet intel_iommu=on,relax_rmrr/);
    assert.match(plan.out, /assuming all RMRRs are relaxable/);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n', 'the plan wrote nothing');
    const r = await run(['fix', CARD, '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet intel_iommu=on,relax_rmrr\n');
    assert.equal(readFileSync(join(dir, 'pbt.log'), 'utf8'), 'refresh\n');
    const rb = await run(['fix', '--rollback', '--apply', '--state-dir', h.stateDir], env);
    assert.equal(rb.code, EXIT.OK, rb.err);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n');
  });

  it('a failing bootloader refresh puts the file back and refreshes again: exit 5', async () => {
    const { h, env } = kernelHost('fail-once');
    const r = await run(['fix', CARD, '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /proxmox-boot-tool refresh failed \(exit 2: E: no ESP configured\); \/etc\/kernel\/cmdline was restored from \S+ and the bootloader refreshed again/);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n');
    assert.equal(existsSync(join(h.stateDir, 'pending.json')), false);
  });

  it('a refresh that fails again after the file is put back: exit 6, saying what to run', async () => {
    const { h, env } = kernelHost('fail');
    const r = await run(['fix', CARD, '--apply', '--state-dir', h.stateDir], env);
    assert.equal(r.code, EXIT.APPLY_UNKNOWN, r.err);
    assert.match(r.err, /\/etc\/kernel\/cmdline was restored from \S+, but refreshing the bootloader again failed too \(exit 2\): run proxmox-boot-tool refresh by hand/);
    assert.equal(readFileSync(join(h.root, 'etc/kernel/cmdline'), 'utf8'), 'root=ZFS=rpool/ROOT/pve-1 boot=zfs quiet\n');
  });
});
