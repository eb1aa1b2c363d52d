/**
 * The write path of `fix` (issue 7, points 1–7 and the acceptance): the real CLI against the
 * conrep simulator, killed at every step, with write faults at every write, links planted at
 * every state path, a conrep that ignores SIGTERM. Each case ends in a documented state:
 * unchanged, changed-and-recorded, or exit 6 naming the backup — never a silent change, never a
 * write through a link. The oracle for the firmware is the simulator's NVRAM byte 0x26A (bit 1 =
 * slot 2 excluded, HPE's RMRDS layout), read from its image file, not from our output.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../src/cli/exit.js';
import { runSupervised } from '../src/remedies/runner.js';
import { StateDir } from '../src/remedies/write.js';
import { ROOT } from './helpers.js';
import { validatedJson } from './json-schema.js';
import { cliScript } from './cli-bin.js';
import { CARD, conrepSimBundle, hpeHost, nvramByte, reboot, type HpeHost, runWithEnv } from './fix-host.js';

const SIM = join(ROOT, 'test/sim/conrep');
const tmp = () => mkdtempSync(join(tmpdir(), 'assignable-write-'));
const SLOT2 = 0x26a;

const run = runWithEnv;

/**
 * The real CLI as its own process, for the runs killed on purpose (a crash must kill the process,
 * not the test). What runs after a crash (verify, rollback) reads only what the dead process left
 * on disk: it runs in this process (run), without a Node start and a megabyte of bundle each.
 */
function child(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cliScript(), ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return validatedJson({ code: r.status, signal: r.signal, out: r.stdout, err: r.stderr });
}

const env = (h: HpeHost, more: Record<string, string> = {}) => ({ CONREP_SIM_BUNDLE: conrepSimBundle(), CONREP_SIM_STATE: h.image, CONREP_SIM_LOG: h.log, ASSIGNABLE_TEST_HOST_ROOT: h.root, ...more });
const apply = (h: HpeHost) => ['fix', CARD, '--apply', '--conrep', SIM, '--state-dir', h.stateDir];
const rollback = (h: HpeHost, backup?: string) => ['fix', '--rollback', ...(backup ? [backup] : []), '--apply', '--conrep', SIM, '--state-dir', h.stateDir];
const verify = (h: HpeHost, ...more: string[]) => ['fix', '--verify', '--conrep', SIM, '--state-dir', h.stateDir, ...more];
const pending = (h: HpeHost) => (existsSync(join(h.stateDir, 'pending.json')) ? JSON.parse(readFileSync(join(h.stateDir, 'pending.json'), 'utf8')) : null);
const calls = (h: HpeHost) => (existsSync(h.log) ? readFileSync(h.log, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')[0]) : []);
const oneLine = (err: string) => err.split('\n').filter((l) => l && !/^assignable: backing up/.test(l));

/** Every path under `dir` with its kind, size and mtime — to prove a run wrote nothing. */
function snapshot(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.join('\n');
}

describe('kill -9 at every step of apply, then --verify and --rollback', () => {
  const steps = ['before-load', 'after-load', 'after-readback', 'after-record'] as const;
  for (const step of steps) {
    it(`apply killed ${step}: a record says what may have happened; verify and rollback settle it`, async () => {
      const h = hpeHost(tmp());
      const k = child(apply(h), env(h, { ASSIGNABLE_TEST_CRASH_AT: step }));
      assert.equal(k.signal, 'SIGKILL', k.err);
      const changed = step !== 'before-load';
      assert.equal(nvramByte(h, SLOT2), changed ? 0x02 : 0x00, 'the firmware is as far as the step got');
      const p = pending(h);
      assert.ok(p, 'a record exists whatever the step: never a silent change');
      assert.equal(p.state, step === 'after-record' ? 'applied' : 'intent');
      assert.match(p.backup, /-before\.dat$/);
      assert.ok(existsSync(p.backup) && existsSync(p.backup + '.meta.json'), 'the backup and its sidecar were written before the change');

      // --verify without --apply: never "Verified", never a write.
      const before = snapshot(h.stateDir);
      const v = await run(verify(h), env(h));
      assert.equal(v.code, EXIT.BLOCKED, v.out + v.err);
      assert.doesNotMatch(v.out, /Verified/);
      assert.match(v.out, step === 'after-record' ? /Not rebooted since the change/ : /was interrupted: .*unknown until read back/);
      assert.equal(snapshot(h.stateDir), before, '--verify without --apply wrote nothing');

      // --rollback --apply after the crash (the dead process's lock is taken over): back to the backup.
      const rb = await run(rollback(h), env(h));
      assert.equal(rb.code, EXIT.OK, rb.err);
      assert.match(rb.out, changed ? /Restored RMRDS_Slot2 from .*-before\.dat; the read-back matches/ : /Nothing to restore: the settings already match/);
      assert.equal(nvramByte(h, SLOT2), 0x00);
      assert.equal(pending(h), null, 'the rollback settled the record');
      assert.equal(existsSync(join(h.stateDir, 'lock')), false);
    });

  }

  // --verify --apply after a crash: read back and settle (one step where nothing changed, one where it did).
  for (const step of ['before-load', 'after-load'] as const) {
    it(`apply killed ${step}: --verify --apply reads back and settles the record`, async () => {
      const h = hpeHost(tmp());
      assert.equal(child(apply(h), env(h, { ASSIGNABLE_TEST_CRASH_AT: step })).signal, 'SIGKILL');
      const v = await run(verify(h, '--apply'), env(h));
      if (step === 'before-load') {
        assert.equal(v.code, EXIT.APPLY_FAILED, v.out + v.err);
        assert.match(v.out, /never took: the settings still match/);
        assert.equal(pending(h), null);
      } else {
        assert.equal(v.code, EXIT.BLOCKED, v.out + v.err);
        assert.match(v.out, /had taken .* now recorded/);
        assert.match(v.out, /Not rebooted since the change/);
        assert.equal(pending(h).state, 'applied');
        reboot(h);
        const v2 = await run(verify(h, '--apply'), env(h));
        assert.equal(v2.code, EXIT.OK, v2.out + v2.err);
        assert.match(v2.out, /Verified: no RMRR names the device any more\. The record is archived/);
        assert.equal(pending(h), null);
      }
    });
  }

  for (const step of steps) {
    it(`rollback killed ${step}: the record says so, and --rollback --apply again finishes it`, async () => {
      const h = hpeHost(tmp());
      assert.equal((await run(apply(h), env(h))).code, EXIT.OK);
      const k = child(rollback(h), env(h, { ASSIGNABLE_TEST_CRASH_AT: step }));
      assert.equal(k.signal, 'SIGKILL', k.err);
      assert.equal(nvramByte(h, SLOT2), step === 'before-load' ? 0x02 : 0x00);
      if (step === 'after-record') assert.equal(pending(h), null);
      else assert.equal(pending(h).state, 'rollback-intent');
      if (step !== 'after-record') {
        const v = await run(verify(h), env(h));
        assert.equal(v.code, EXIT.BLOCKED);
        assert.match(v.out, /A rollback of .* was interrupted/);
      }
      const again = await run(rollback(h), env(h));
      assert.equal(again.code, EXIT.OK, again.err);
      assert.equal(nvramByte(h, SLOT2), 0x00);
      assert.equal(pending(h), null);
    });
  }
});

describe('the intent record is on disk before conrep -l runs', () => {
  it('at the moment of the load, pending.json says "intent" and names the file being loaded and the backup', async () => {
    const h = hpeHost(tmp());
    const r = await run(apply(h), env(h, { CONREP_SIM_WATCH: join(h.stateDir, 'pending.json') }));
    assert.equal(r.code, EXIT.OK, r.err);
    const seen = readFileSync(h.log + '.watch', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(seen.length, 1);
    assert.ok(seen[0].watched, 'no record existed while conrep -l ran');
    const rec = JSON.parse(seen[0].watched);
    assert.equal(rec.state, 'intent');
    assert.equal(rec.loaded, seen[0].loaded);
    assert.ok(existsSync(rec.backup));
  });
});

describe('write faults at every write of the fix path', () => {
  for (const code of ['ENOSPC', 'EROFS']) {
    it(`${code} at each write of apply: exit 3 unchanged, or exit 6 naming the backup and the conrep command, never 70`, async () => {
      const seen = new Set<number>();
      let n = 1;
      for (; n < 40; n++) {
        const h = hpeHost(tmp());
        const r = await run(apply(h), env(h, { ASSIGNABLE_TEST_WRITE_FAULT: `${code}:${n}` }));
        seen.add(r.code);
        assert.notEqual(r.code, EXIT.INTERNAL, r.err);
        if (r.code === EXIT.OK) {
          // The fault fell after the last write that matters (the lock's removal): changed and recorded.
          assert.equal(nvramByte(h, SLOT2), 0x02);
          assert.equal(pending(h).state, 'applied');
          if (!existsSync(join(h.stateDir, 'lock'))) break; // past every write: done
          continue;
        }
        const lines = oneLine(r.err);
        assert.equal(lines.length, 1, r.err);
        assert.match(lines[0]!, new RegExp(code));
        if (r.code === EXIT.ENVIRONMENT) {
          assert.equal(nvramByte(h, SLOT2), 0x00, `write ${n}: exit 3 must mean unchanged`);
          assert.ok(!calls(h).includes('-l'), `write ${n}: conrep -l ran before a failed write`);
        } else {
          assert.equal(r.code, EXIT.APPLY_UNKNOWN, `write ${n}: ${r.err}`);
          assert.equal(nvramByte(h, SLOT2), 0x02);
          const m = /load the backup by hand: (\S+) -l -x (\S+) -f (\S+-before\.dat)/.exec(lines[0]!);
          assert.ok(m, lines[0]);
          assert.ok(existsSync(m[2]!) && existsSync(m[3]!), 'the schema and backup the message names exist');
          // The exact command it gives does restore the firmware.
          // (With the test process's simulator bundle: no esbuild freshness check at this call.)
          const by = spawnSync(m[1]!, ['-l', '-x', m[2]!, '-f', m[3]!], { env: { ...process.env, CONREP_SIM_BUNDLE: conrepSimBundle(), CONREP_SIM_STATE: h.image } });
          assert.equal(by.status, 0);
          assert.equal(nvramByte(h, SLOT2), 0x00);
        }
      }
      assert.ok(n < 40, 'the apply never completed');
      assert.ok(seen.has(EXIT.ENVIRONMENT) && seen.has(EXIT.APPLY_UNKNOWN), `cases seen: ${[...seen]}`);
    });
  }

  for (const code of ['ENOSPC', 'EROFS']) {
    it(`${code} at each write of a rollback: exit 3 unchanged, or 6 with the backup named; a retry restores`, async () => {
      const h = hpeHost(tmp());
      assert.equal((await run(apply(h), env(h))).code, EXIT.OK);
      // Each round starts from the applied state: the simulator's image and the record as they were.
      const image = readFileSync(h.image);
      const record = readFileSync(join(h.stateDir, 'pending.json'));
      let n = 1;
      for (; n < 30; n++) {
        writeFileSync(h.image, image);
        writeFileSync(join(h.stateDir, 'pending.json'), record);
        const r = await run(rollback(h), env(h, { ASSIGNABLE_TEST_WRITE_FAULT: `${code}:${n}` }));
        assert.notEqual(r.code, EXIT.INTERNAL, r.err);
        if (r.code === EXIT.OK) {
          assert.equal(nvramByte(h, SLOT2), 0x00);
          if (!existsSync(join(h.stateDir, 'lock'))) break;
          unlinkSync(join(h.stateDir, 'lock')); // the fault hit the lock's removal: a dead pid's lock, taken over anyway
          continue;
        }
        assert.ok(r.code === EXIT.ENVIRONMENT || r.code === EXIT.APPLY_UNKNOWN, `${n}: ${r.code} ${r.err}`);
        assert.equal(oneLine(r.err).length, 1, r.err);
        assert.match(r.err, new RegExp(code));
        if (r.code === EXIT.ENVIRONMENT) assert.equal(nvramByte(h, SLOT2), 0x02, `write ${n}: exit 3 must mean unchanged`);
        else {
          const again = await run(rollback(h), env(h));
          assert.equal(again.code, EXIT.OK, again.err);
          assert.equal(nvramByte(h, SLOT2), 0x00);
        }
      }
      assert.ok(n < 30, 'the rollback never completed');
    });
  }
});

/** Whether this machine lets a test mount a tmpfs in a private mount namespace (root, util-linux). */
function canMountPrivately(): boolean {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" && rmdir "$d"'], { encoding: 'utf8' });
  return r.status === 0;
}

describe('the host\'s own faults: a real full and a real read-only state filesystem', () => {
  // The injected faults above cover every write; these are the kernel's own ENOSPC and EROFS,
  // from a tmpfs mounted over the state directory in a mount namespace of the child alone.
  const cases = {
    full: 'mount -t tmpfs -o size=16k,mode=0700 tmpfs "$SD" && (dd if=/dev/zero of="$SD/filler" bs=4k 2>/dev/null || true)',
    'read-only': 'mount -t tmpfs -o size=64k,mode=0700 tmpfs "$SD" && mount -o remount,ro "$SD"',
  };
  for (const [name, prep] of Object.entries(cases)) {
    it(`${name}: exit 3, one line naming the state directory, firmware unchanged, conrep -l never run`, (t) => {
      if (!canMountPrivately()) return t.skip('cannot mount a tmpfs in a private mount namespace here (needs root and unshare)');
      const h = hpeHost(tmp());
      mkdirSync(h.stateDir, { recursive: true });
      const before = nvramByte(h, SLOT2);
      const cli = [process.execPath, cliScript(), ...apply(h)].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
      const r = spawnSync('unshare', ['-m', 'sh', '-c', `set -e; ${prep}; exec ${cli}`], { cwd: ROOT, env: { ...process.env, ...env(h), SD: h.stateDir }, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, EXIT.ENVIRONMENT, r.stderr);
      assert.equal(oneLine(r.stderr).length, 1, r.stderr);
      assert.ok(r.stderr.includes(h.stateDir), r.stderr);
      assert.match(r.stderr, name === 'full' ? /ENOSPC|no space/i : /EROFS|read-only/i);
      assert.equal(nvramByte(h, SLOT2), before);
      assert.ok(!calls(h).includes('-l'), `conrep calls: ${calls(h).join(', ')}`);
    });
  }
});

describe('the state directory: no links followed, no name reused, ours only', () => {
  function victim(dir: string) {
    const v = join(dir, 'victim');
    mkdirSync(v);
    writeFileSync(join(v, 'file'), 'precious\n');
    return v;
  }

  for (const where of ['state', 'backups', 'history']) {
    it(`a symbolic link planted as ${where === 'state' ? 'the state directory' : `${where}/`}: exit 3, nothing run, nothing written through it`, async () => {
      const dir = tmp();
      const h = hpeHost(dir);
      const v = victim(dir);
      if (where === 'state') symlinkSync(v, h.stateDir);
      else {
        mkdirSync(h.stateDir, { mode: 0o700 });
        symlinkSync(v, join(h.stateDir, where));
      }
      const r = await run(apply(h), env(h));
      assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
      assert.match(r.err, /refusing the state directory: .* is a symbolic link/);
      assert.deepEqual(calls(h), []);
      assert.deepEqual(readdirSync(v), ['file']);
      assert.equal(nvramByte(h, SLOT2), 0);
    });
  }

  it('a link planted as the lock: exit 3, the file it points to untouched', async () => {
    const dir = tmp();
    const h = hpeHost(dir);
    const v = victim(dir);
    mkdirSync(h.stateDir, { mode: 0o700 });
    symlinkSync(join(v, 'file'), join(h.stateDir, 'lock'));
    const r = await run(apply(h), env(h));
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /lock .* is not a regular file/);
    assert.equal(readFileSync(join(v, 'file'), 'utf8'), 'precious\n');
    assert.deepEqual(calls(h), []);
  });

  it('links planted as pending.json and its temporary name: replaced, never written through', async () => {
    const dir = tmp();
    const h = hpeHost(dir);
    const v = victim(dir);
    mkdirSync(h.stateDir, { mode: 0o700 });
    symlinkSync(join(v, 'file'), join(h.stateDir, 'pending.json'));
    symlinkSync(join(v, 'file'), join(h.stateDir, `.pending.json.${process.pid}.0.tmp`));
    const r = await run(apply(h), env(h));
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(readFileSync(join(v, 'file'), 'utf8'), 'precious\n');
    assert.ok(lstatSync(join(h.stateDir, 'pending.json')).isFile());
    assert.equal(pending(h).state, 'applied');
  });

  it('a file name that exists (a planted link) is never reused: create picks a new name', () => {
    const dir = tmp();
    const v = victim(dir);
    const sd = StateDir.open(join(dir, 'state'), true)!;
    symlinkSync(join(v, 'file'), join(dir, 'state', 'backups', 'x.dat'));
    const p = sd.create('backups', 'x.dat', 'new');
    assert.equal(p, join(dir, 'state', 'backups', 'x-1.dat'));
    assert.equal(readFileSync(join(v, 'file'), 'utf8'), 'precious\n');
  });

  it('a state directory writable by group or others, or not owned by the effective user: exit 3', async (t) => {
    const h = hpeHost(tmp());
    mkdirSync(h.stateDir, { mode: 0o700 });
    chmodSync(h.stateDir, 0o770);
    const r = await run(apply(h), env(h));
    assert.equal(r.code, EXIT.ENVIRONMENT, r.err);
    assert.match(r.err, /writable by group or others \(mode 770\)/);
    chmodSync(h.stateDir, 0o700);
    if (process.geteuid?.() !== 0) return t.skip('chown to another uid needs root');
    chownSync(h.stateDir, 4321, 4321);
    const r2 = await run(apply(h), env(h));
    assert.equal(r2.code, EXIT.ENVIRONMENT, r2.err);
    assert.match(r2.err, /is owned by uid 4321, not root/);
    assert.deepEqual(calls(h), []);
  });
});

describe('--apply refuses what it cannot do safely', () => {
  it('--apply with --root: exit 2, nothing run, no state written', async () => {
    const h = hpeHost(tmp());
    const r = await run(['fix', CARD, '--root', h.root, '--apply', '--conrep', SIM, '--state-dir', h.stateDir], env(h));
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /cannot be combined with --root/);
    assert.deepEqual(calls(h), []);
    assert.equal(existsSync(h.stateDir), false);
  });

  it('--apply, --rollback --apply and --verify --apply without root: exit 3 before the lock', async () => {
    const h = hpeHost(tmp());
    for (const args of [apply(h), rollback(h, '/nonexistent.dat'), verify(h, '--apply')]) {
      const r = await run(args, env(h, { ASSIGNABLE_TEST_EUID: '1000' }));
      assert.equal(r.code, EXIT.ENVIRONMENT, args.join(' '));
      assert.match(r.err, /run it as root \(nothing was changed\)/);
    }
    assert.deepEqual(calls(h), []);
    assert.equal(existsSync(h.stateDir), false);
  });

  it('fix --rollback /nonexistent --apply: one line, exit 3', async () => {
    const h = hpeHost(tmp());
    const r = await run(rollback(h, '/nonexistent'), env(h));
    assert.equal(r.code, EXIT.ENVIRONMENT);
    assert.equal(oneLine(r.err).length, 1, r.err);
    assert.match(r.err, /cannot read \/nonexistent: ENOENT/);
  });
});

describe('a backup is restored only to what it was taken from', () => {
  it('without its sidecar, with other bytes, or from another host: exit 2, nothing run', async () => {
    const h = hpeHost(tmp());
    assert.equal((await run(apply(h), env(h))).code, EXIT.OK);
    const backup = pending(h).backup as string;
    const n = calls(h).length;
    const copy = join(h.stateDir, 'copy.dat');
    writeFileSync(copy, readFileSync(backup));
    let r = await run(rollback(h, copy), env(h));
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /has no copy\.dat\.meta\.json saying what it is a backup of/);
    writeFileSync(copy + '.meta.json', readFileSync(backup + '.meta.json'));
    writeFileSync(copy, readFileSync(backup, 'utf8').replace('Endpoints_Included', 'Endpoints_Excluded'));
    r = await run(rollback(h, copy), env(h));
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /is not the file that was backed up \(its SHA-256 differs/);
    writeFileSync(join(h.root, 'etc/machine-id'), 'ffffffffffffffffffffffffffffffff\n');
    r = await run(rollback(h, backup), env(h));
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /was taken on another host \(machineId 0123456789abcdef0123456789abcdef, this host ffffffffffffffffffffffffffffffff\)/);
    assert.equal(calls(h).length, n, 'conrep ran for a refused rollback');
    assert.equal(nvramByte(h, SLOT2), 0x02);
  });
});

describe('external programs end with their whole process group', () => {
  it('a program and a grandchild that ignore SIGTERM are both gone after the timeout', () => {
    const dir = tmp();
    const pidFile = join(dir, 'pids');
    const t0 = Date.now();
    const r = runSupervised('sh', ['-c', `trap "" TERM; (trap "" TERM; sleep 600) & echo $! > ${pidFile}; sleep 600`], 500, 300);
    assert.match(r.error ?? '', /timed out after 0\.5 s \(its process group was killed\)/);
    assert.ok(Date.now() - t0 < 60_000);
    const gc = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(gone(gc), `grandchild ${gc} still runs`);
  });

  it('a conrep that ignores SIGTERM during the load: killed, the read-back decides (unchanged, exit 5), the lock released', async () => {
    const h = hpeHost(tmp());
    const r = await run(apply(h), env(h, { CONREP_SIM_FAIL: 'hang-load', ASSIGNABLE_RUN_TIMEOUT_MS: '3000' }));
    assert.equal(r.code, EXIT.APPLY_FAILED, r.err);
    assert.match(r.err, /the change did not take: .*conrep -l: timed out after 3 s \(its process group was killed\)/);
    assert.equal(nvramByte(h, SLOT2), 0x00);
    assert.equal(existsSync(join(h.stateDir, 'lock')), false);
    const gc = Number(readFileSync(h.log + '.pids', 'utf8').trim());
    assert.ok(gone(gc), `conrep's child ${gc} still runs`);
    // And the next apply is not blocked by anything left behind.
    const again = await run(apply(h), env(h));
    assert.equal(again.code, EXIT.OK, again.err);
  });
});

/** Exited: no such process, or a zombie nobody has reaped yet (it runs no more). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return true;
  }
}

describe('--verify says what it could not see', () => {
  async function applied() {
    const h = hpeHost(tmp());
    assert.equal((await run(apply(h), env(h))).code, EXIT.OK);
    reboot(h);
    return h;
  }

  it('DMAR undecodable (unknown): exit 3, not "Verified", nothing written', async () => {
    const h = await applied();
    writeFileSync(join(h.root, 'sys/firmware/acpi/tables/DMAR'), 'not a table');
    const before = snapshot(h.stateDir);
    const v = await run(verify(h), env(h));
    assert.equal(v.code, EXIT.ENVIRONMENT, v.out + v.err);
    assert.match(v.out, /Not verified: the DMAR table could not be read/);
    assert.equal(snapshot(h.stateDir), before);
  });

  it('DMAR absent: exit 4, not "Verified"', async () => {
    const h = await applied();
    unlinkSync(join(h.root, 'sys/firmware/acpi/tables/DMAR'));
    const v = await run(verify(h), env(h));
    assert.equal(v.code, EXIT.ABSENT, v.out + v.err);
    assert.match(v.out, /Not verified: this host has no DMAR table now/);
  });

  it('verified: without --apply the record stays (nothing written); with --apply it is archived', async () => {
    const h = await applied();
    const before = snapshot(h.stateDir);
    const v = await run(verify(h), env(h));
    assert.equal(v.code, EXIT.OK, v.out + v.err);
    assert.match(v.out, /Verified: .*Nothing was written/);
    assert.equal(snapshot(h.stateDir), before);
    const va = await run(verify(h, '--apply'), env(h));
    assert.equal(va.code, EXIT.OK);
    assert.equal(pending(h), null);
    assert.ok(readdirSync(join(h.stateDir, 'history')).some((f) => f.endsWith('-verified.json')));
  });

  it('no boot id recorded: the verdict rests on the DMAR and says the reboot is unknown', async () => {
    const h = await applied();
    const p = pending(h);
    writeFileSync(join(h.stateDir, 'pending.json'), JSON.stringify({ ...p, bootId: null }));
    const v = await run(verify(h), env(h));
    assert.equal(v.code, EXIT.OK, v.out);
    assert.match(v.out, /whether the host rebooted since is unknown/);
  });
});

