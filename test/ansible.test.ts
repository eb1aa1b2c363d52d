/**
 * The Ansible collection (issue 11 point 5): the role puts assignable on three targets —
 * localhost and two SSH hosts, each an sshd in its own network namespace reached over that
 * namespace's loopback only — runs collect and survey --json there, fetches both and runs
 * `fleet` on the controller. Two targets read a host tree built from a real pciutils dump
 * (--root); the summary is checked against each dump's function count, `survey`'s own
 * counts for the same tree, the kernel's /sys/bus/pci/devices listing for localhost, and
 * the fleet schema.
 *
 * Needs root (namespaces, sshd), ansible-playbook, sshd, ip and npm; skips saying which is absent.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT, fixtureText } from './helpers.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const SSHD = '/usr/sbin/sshd';
const why =
  process.getuid?.() !== 0 ? 'needs root (network namespaces, sshd)'
  : !has('ansible-playbook') ? 'ansible-playbook is not installed (apt install ansible)'
  : !existsSync(SSHD) ? 'sshd is not installed (apt install openssh-server)'
  : !has('ip') ? 'ip (iproute2) is not installed'
  : !has('npm') ? 'npm is not installed'
  : !existsSync(join(ROOT, 'dist/cli/main.js')) ? 'dist/ is not built (npm run build)'
  : null;

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
const HEADER = /^(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /gm;

/** The runtime dependency closure from our node_modules, as Node resolves it. */
function dependencyDirs(): string[] {
  const found = new Set<string>();
  const queue: Array<[string, string]> = Object.keys(PKG.dependencies ?? {}).map((n) => [n, ROOT]);
  while (queue.length) {
    const [name, from] = queue.shift()!;
    let dir: string | null = null;
    for (let d = from; dirname(d) !== d; d = dirname(d)) {
      if (existsSync(join(d, 'node_modules', name, 'package.json'))) {
        dir = realpathSync(join(d, 'node_modules', name));
        break;
      }
    }
    assert.ok(dir, `runtime dependency ${name} is not installed`);
    if (found.has(dir)) continue;
    found.add(dir);
    for (const n of Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {})) queue.push([n, dir]);
  }
  return [...found];
}

function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** survey's own summary line for a tree. */
function surveyCounts(root: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'survey', '--root', root, '--no-color'], { encoding: 'utf8' });
  const m = /(\d+) device\(s\): (\d+) assignable, (\d+) with warnings, (\d+) blocked for vfio/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return { assignable: Number(m[2]), warnings: Number(m[3]), blocked: Number(m[4]) };
}

/** Wait until something listens on the namespace's loopback port (sshd's start), or give up. */
function waitListening(ns: string, port: number, proxy: string): boolean {
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, proxy, '127.0.0.1', String(port), 'probe'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return true;
    spawnSync('sleep', ['0.2']);
  }
  return false;
}

describe('the Ansible role against localhost and two namespaced SSH hosts (issue 11 point 5)', { skip: why ?? false }, () => {
  it('collects, surveys, fetches, and the fleet summary has each host with its own counts', { timeout: 900_000 }, () => {
    const tag = `asgn${process.pid}`;
    const work = mkdtempSync(join(tmpdir(), 'assignable-ansible-'));
    const namespaces: string[] = [];
    const daemons: ChildProcess[] = [];
    const controlDir = join(work, 'cp');
    try {
      // The package as users get it: npm pack of the built tree, and its dependencies packed from node_modules.
      const pkgs = join(work, 'pkgs');
      const tree = join(work, 'pkgtree');
      mkdirSync(pkgs);
      mkdirSync(tree);
      for (const f of ['package.json', 'README.md', 'LICENSE']) cpSync(join(ROOT, f), join(tree, f));
      // Only what `files` ships: dist/sea (a whole node binary), dist/deb and dist/bench would be
      // copied only for npm pack to leave them out.
      const unshipped = new Set(['dist/sea', 'dist/deb', 'dist/bench']);
      for (const d of ['dist', 'docs']) cpSync(join(ROOT, d), join(tree, d), { recursive: true, filter: (src) => !unshipped.has(relative(ROOT, src).split(sep).slice(0, 2).join('/')) });
      npm(['pack', '--ignore-scripts', '--pack-destination', pkgs, '--silent'], tree);
      // One npm for all the dependencies (npm pack takes several specs), into a directory of
      // their own: the role gets them one by one (assignable_packages), the package as a
      // directory (assignable_package_dir), and must put both together on the target.
      const deps = join(work, 'deps');
      mkdirSync(deps);
      npm(['pack', ...dependencyDirs(), '--ignore-scripts', '--pack-destination', deps, '--silent'], work);
      const tarballs = readdirSync(pkgs).filter((f) => f.endsWith('.tgz')).map((f) => join(pkgs, f));
      assert.ok(tarballs.some((f) => f.includes(`${PKG.name}-`)), tarballs.join(' '));
      const depTarballs = readdirSync(deps).filter((f) => f.endsWith('.tgz')).map((f) => join(deps, f));
      assert.ok(depTarballs.length >= Object.keys(PKG.dependencies ?? {}).length, depTarballs.join(' '));

      // A proxy through which ssh reaches a namespace's loopback: stdio ⇄ TCP (or a probe).
      const proxy = join(work, 'proxy.cjs');
      writeFileSync(proxy, "const s = require('net').connect(+process.argv[3], process.argv[2]);\nif (process.argv[4] === 'probe') { s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1)); }\nelse { process.stdin.pipe(s); s.pipe(process.stdout); s.on('error', () => process.exit(1)); s.on('close', () => process.exit(0)); }\n");
      const key = join(work, 'id_ed25519');
      assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
      mkdirSync('/run/sshd', { recursive: true });
      const knownHosts: string[] = [];
      const inventory: string[] = ['[fleet]', `localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 assignable_prefix=${join(work, 'prefix-localhost')}`];
      const dumps: Record<string, string> = { 'fleet-a': 'asus-p6t6-pciutils-tree.dump.txt', 'fleet-b': 'fujitsu-esprimo-p8010-pciutils-tree.dump.txt' };
      const trees: Record<string, string> = {};
      for (const [host, dump] of Object.entries(dumps)) {
        const ns = `${tag}-${host}`;
        assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, `ip netns add ${ns}`);
        namespaces.push(ns);
        assert.equal(spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']).status, 0);
        const d = join(work, host);
        mkdirSync(d);
        assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(d, 'host_ed25519')]).status, 0);
        cpSync(`${key}.pub`, join(d, 'authorized_keys'));
        writeFileSync(join(d, 'sshd_config'), [
          'Port 2222', 'ListenAddress 127.0.0.1', `HostKey ${join(d, 'host_ed25519')}`, `PidFile ${join(d, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(d, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
          'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'Subsystem sftp /usr/lib/openssh/sftp-server', '',
        ].join('\n'));
        const sshd = spawn('ip', ['netns', 'exec', ns, SSHD, '-D', '-e', '-f', join(d, 'sshd_config')], { stdio: 'ignore' });
        daemons.push(sshd);
        assert.ok(waitListening(ns, 2222, proxy), `sshd in ${ns} did not start`);
        knownHosts.push(`${host} ${readFileSync(join(d, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}`);
        // A real capture's host: the tree of a real pciutils dump, read with --root.
        const text = fixtureText('pci/pciutils-tests', dump);
        trees[host] = sysfsTreeFromDump(text, { kernel: '6.8.0', cmdline: 'intel_iommu=on' });
        const ssh = `-o ProxyCommand="ip netns exec ${ns} ${process.execPath} ${proxy} 127.0.0.1 2222" -o HostKeyAlias=${host} -o UserKnownHostsFile=${join(work, 'known_hosts')} -o StrictHostKeyChecking=yes -o ConnectTimeout=30`;
        inventory.push(`${host} ansible_host=127.0.0.1 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=${key} ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='${ssh}' assignable_root=${trees[host]} assignable_prefix=${join(work, `prefix-${host}`)}`);
      }
      writeFileSync(join(work, 'known_hosts'), knownHosts.join('\n') + '\n');
      writeFileSync(join(work, 'inventory.ini'), inventory.join('\n') + '\n');
      const out = join(work, 'out');
      mkdirSync(controlDir);
      const vars = { assignable_package_dir: pkgs, assignable_packages: depTarballs, assignable_fetch_dir: out, assignable_fleet_command: [process.execPath, join(ROOT, 'dist/cli/main.js')], assignable_fleet_formats: ['text', 'json', 'prom'] };
      const env = { ...process.env, ANSIBLE_ROLES_PATH: join(ROOT, 'ansible/roles'), ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_RETRY_FILES_ENABLED: 'False', ANSIBLE_LOCAL_TEMP: join(work, 'ansible-local'), ANSIBLE_REMOTE_TEMP: join(work, 'ansible-remote'),
        // Settings users of the role may use too (ansible/README.md): modules piped over the
        // connection instead of copied to a file first, and one SSH connection per host for the
        // whole play (Ansible's default ControlPersist), its socket here so the test can close it.
        ANSIBLE_PIPELINING: 'True', ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir };
      const play = spawnSync('ansible-playbook', ['-i', join(work, 'inventory.ini'), join(ROOT, 'ansible/playbooks/fleet.yml'), '-e', JSON.stringify(vars)], { env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
      assert.equal(play.status, 0, `ansible-playbook (${play.signal ?? play.status}):\n${play.stdout.slice(-6000)}\n${play.stderr.slice(-2000)}`);
      assert.match(play.stdout, /localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
      for (const host of Object.keys(dumps)) assert.match(play.stdout, new RegExp(`${host}\\s+: ok=\\d+\\s+changed=\\d+\\s+unreachable=0\\s+failed=0`));

      // The summary: every host, each with what its own input says.
      const doc = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8'));
      const validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(ROOT, 'docs/schema/fleet-v1.schema.json'), 'utf8')));
      const ok: boolean = validate(doc as unknown);
      assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5)));
      assert.deepEqual(doc.hosts.map((h: { id: string }) => h.id).sort(), ['fleet-a', 'fleet-b', 'localhost']);
      assert.deepEqual(doc.errors, []);
      for (const [host, dump] of Object.entries(dumps)) {
        const h = doc.hosts.find((x: { id: string }) => x.id === host);
        assert.equal(h.kind, 'capture', `${host}: the capture is the row (it says more than the survey document)`);
        assert.equal(h.functions, (fixtureText('pci/pciutils-tests', dump).match(HEADER) ?? []).length, host);
        assert.deepEqual(h.counts.vfio, surveyCounts(trees[host]!), host);
        assert.equal(h.kernel, '6.8.0');
      }
      const local = doc.hosts.find((x: { id: string }) => x.id === 'localhost');
      const sysfs = existsSync('/sys/bus/pci/devices') ? readdirSync('/sys/bus/pci/devices').length : 0;
      assert.equal(local.functions, sysfs, 'localhost: the kernel\'s own device listing');
      assert.ok(readFileSync(join(out, 'fleet.txt'), 'utf8').startsWith('3 host(s) summarised'));
      assert.match(readFileSync(join(out, 'fleet.prom'), 'utf8'), /^assignable_fleet_hosts 3$/m);
      for (const host of ['localhost', ...Object.keys(dumps)]) {
        assert.ok(existsSync(join(out, 'hosts', `${host}.tar.gz`)), `${host} capture fetched`);
        assert.equal(JSON.parse(readFileSync(join(out, 'hosts', `${host}.survey.json`), 'utf8')).schema, 'assignable/survey/v2');
      }
    } finally {
      // The SSH masters Ansible left (ControlPersist) would hold their sshd sessions, and this
      // process, for another minute.
      if (existsSync(controlDir)) for (const s of readdirSync(controlDir)) spawnSync('ssh', ['-O', 'exit', '-o', `ControlPath=${join(controlDir, s)}`, 'master'], { timeout: 10_000 });
      for (const d of daemons) d.kill('SIGTERM');
      for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
      rmSync(work, { recursive: true, force: true });
    }
  });
});
