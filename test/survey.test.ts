/**
 * The survey on real data: the HPE DL380e Gen8 capture (DMAR, lspci, dmidecode) against the
 * hand-derived RMRR → function mapping of the corpus; kernel-version-aware predictions; a
 * sysfs tree built from a real dump against the same dump given as capture files, and
 * through `collect`; the live runs on this machine, held against what its kernel lists (each
 * skips, saying why, where what it needs is absent).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { validatedJson } from './json-schema.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt')];

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), outBytes: (b) => void (out += Buffer.from(b).toString('latin1')) });
  return validatedJson({ code, out, err });
}

/** A survey of the DL380e capture: its iLO functions are host-critical whatever the options, so exit 1. */
async function surveyJson(...args: string[]) {
  const r = await run('survey', '--json', ...args);
  assert.equal(r.code, EXIT.BLOCKED, r.err);
  return JSON.parse(r.out) as {
    schema: string;
    host: { iommu: Record<string, unknown>; findings: Array<{ code: string }>; notes: Array<{ code: string; message: string }>; system: { product: string; isHpeProliant: boolean; hpeGeneration: number } };
    devices: Array<{
      address: string;
      vendorId: number;
      deviceId: number;
      classCode: number;
      name: string;
      iommuGroup: number | null;
      slot: { physical: number | null; designation: string | null; hpeRmrdsSlot: string | null; embedded: boolean } | null;
      rmrr: Array<{ base: string; limit: string }>;
      findings: Array<{ code: string; severity: string; message: string; fixes: Array<{ title: string }> }>;
      verdicts: Record<'vfio' | 'dda' | 'esxi', { status: string; reasons: string[]; confidence: string }>;
    }>;
  };
}

/** The corpus's hand-derived mapping: "RMRR [base - end]" blocks of "-> 0000:bb:dd.f" lines. */
function derivedMapping(): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  let cur: Set<string> | null = null;
  for (const line of fixtureText('logs', 'hp-proliant-dl380e-gen8-cb0557.rmrr-resolution.DERIVED.txt').split('\n')) {
    const r = /^RMRR \[0x([0-9a-f]+) - 0x([0-9a-f]+)\]/.exec(line);
    if (r) {
      cur = new Set();
      m.set(`0x${BigInt('0x' + r[1]).toString(16)}-0x${BigInt('0x' + r[2]).toString(16)}`, cur);
      continue;
    }
    const s = /-> (0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s+(.*)$/.exec(line);
    if (s && cur && !/not present/.test(s[2]!)) cur.add(s[1]!);
  }
  return m;
}

describe('HPE ProLiant DL380e Gen8 capture', () => {
  it('attributes every RMRR scope to the function the hand-derived mapping names', async () => {
    const j = await surveyJson(...DL380E, '--kernel', '3.17.4-301.fc21.x86_64');
    const ours = new Map<string, Set<string>>();
    for (const d of j.devices) for (const r of d.rmrr) ours.set(`${r.base}-${r.limit}`, (ours.get(`${r.base}-${r.limit}`) ?? new Set()).add(d.address));
    const expected = derivedMapping();
    assert.equal(expected.size, 9);
    assert.deepEqual([...ours.keys()].sort(), [...expected.keys()].sort());
    for (const [range, set] of expected) assert.deepEqual([...ours.get(range)!].sort(), [...set].sort(), range);
    // The one scope the derivation marks absent is reported, once.
    const unresolved = j.host.notes.filter((n) => n.code === 'RMRR_SCOPE_UNRESOLVED');
    assert.equal(unresolved.length, 1);
    assert.match(unresolved[0]!.message, /00:1f\.5: 0000:00:1f\.5 is not present/);
  });

  it('iLO functions are host-critical and blocked everywhere', async () => {
    const j = await surveyJson(...DL380E);
    const ilo = j.devices.filter((d) => d.vendorId === 0x103c && [0x3306, 0x3307, 0x3300].includes(d.deviceId));
    assert.deepEqual(ilo.map((d) => d.address), ['0000:01:00.0', '0000:01:00.2', '0000:01:00.4']);
    for (const d of ilo) {
      assert.ok(d.findings.some((f) => f.code === 'MANAGEMENT_CONTROLLER'), d.address);
      for (const t of ['vfio', 'dda', 'esxi'] as const) assert.equal(d.verdicts[t].status, 'blocked', `${d.address} ${t}`);
    }
    // The iLO's VGA function (Matrox, same device) belongs to the management controller too.
    assert.ok(j.devices.find((d) => d.address === '0000:01:00.1')!.findings.some((f) => f.code === 'MANAGEMENT_CONTROLLER'));
  });

  it('embedded I350 ports and the Smart Array: blocked by RMRR for vfio and dda; for esxi only a believed warning', async () => {
    const j = await surveyJson(...DL380E, '--kernel', '3.17.4-301.fc21.x86_64');
    const targets = j.devices.filter((d) => (d.vendorId === 0x8086 && d.deviceId === 0x1521) || (d.vendorId === 0x1590 && d.deviceId === 0x0045));
    assert.deepEqual(targets.map((d) => d.address), ['0000:02:00.0', '0000:02:00.1', '0000:02:00.2', '0000:02:00.3', '0000:05:00.0']);
    for (const d of targets) {
      assert.equal(d.verdicts.vfio.status, 'blocked');
      assert.ok(d.verdicts.vfio.reasons.includes('RMRR_DIRECT'), `${d.address} vfio reasons`);
      assert.equal(d.verdicts.dda.status, 'blocked');
      assert.ok(d.verdicts.dda.reasons.includes('RMRR_DIRECT'));
      // No VMware source says DirectPath I/O ignores RMRRs (peers.md §3.6): a warning, marked believed.
      assert.equal(d.verdicts.esxi.status, 'warnings', `${d.address} esxi`);
      assert.ok(d.verdicts.esxi.reasons.includes('RMRR_DIRECT'));
      assert.equal((d.verdicts.esxi as { confidence?: string }).confidence, 'believed');
      assert.equal(d.verdicts.vfio.confidence, 'documented');
      // Embedded: no slot, so no RMRDS setting; the fix ladder says so.
      assert.equal(d.slot?.embedded, true);
      assert.equal(d.slot?.hpeRmrdsSlot, null);
      const rmrr = d.findings.find((f) => f.code === 'RMRR_DIRECT')!;
      assert.match(rmrr.message, /Device is ineligible for IOMMU domain attach due to platform RMRR requirement\. {2}Contact your platform vendor\./);
      assert.ok(rmrr.fixes.some((x) => x.title === 'No firmware switch for this device'));
    }
  });

  it('slots come from its SMBIOS type 9 records, each matched to the port whose secondary bus it names', async () => {
    const r = await run('slots', '--json', ...DL380E);
    const j = JSON.parse(r.out) as { slots: Array<{ physical: number; designation: string; smbiosBusAddress: string; port: string; hpeRmrdsSlot: string; functions: unknown[] }> };
    // Independent: the bridges' secondary buses as lspci prints them.
    const lspci = readFileSync(join(EX, 'lspci-vvnn.txt'), 'latin1');
    const secondaryOf = (bus: string) => {
      for (const b of lspci.split(/\n(?=[0-9a-f]{2}:)/)) {
        const m = /secondary=([0-9a-f]{2})/.exec(b);
        if (m && m[1] === bus) return `0000:${b.slice(0, 7)}`;
      }
      return null;
    };
    assert.deepEqual(
      j.slots.map((s) => [s.physical, s.designation, s.smbiosBusAddress, s.port, s.hpeRmrdsSlot, s.functions.length]),
      [
        [1, 'PCI-E Slot 1', '0000:06:00.0', secondaryOf('06'), 'RMRDS_Slot1', 0],
        [2, 'PCI-E Slot 2', '0000:09:00.0', secondaryOf('09'), 'RMRDS_Slot2', 0],
        [4, 'PCI-E Slot 4', '0000:03:00.0', secondaryOf('03'), 'RMRDS_Slot4', 0],
      ],
    );
    assert.match(r.out, /"address": "0000:02:00\.0"/);
  });

  it('the JSON contract: schema and the documented keys', async () => {
    const j = await surveyJson(...DL380E);
    assert.equal(j.schema, 'assignable/survey/v2');
    const d = j.devices.find((x) => x.address === '0000:05:00.0')!;
    for (const k of ['address', 'vendorId', 'deviceId', 'classCode', 'name', 'iommuGroup', 'slot', 'rmrr', 'findings', 'verdicts']) assert.ok(k in d, k);
    assert.equal(d.classCode, 0x010400);
    assert.match(d.rmrr[0]!.base, /^0x[0-9a-f]+$/);
    assert.deepEqual(Object.keys(d.verdicts).sort(), ['dda', 'esxi', 'vfio']);
    assert.equal(j.host.system.isHpeProliant, true);
    assert.equal(j.host.system.hpeGeneration, 8);
  });

  it('survey exits 1 when a shown device is blocked; explain names the fixes', async () => {
    const s = await run('survey', ...DL380E);
    assert.equal(s.code, EXIT.BLOCKED);
    assert.match(s.out, /0000:05:00\.0 +emb .*blocked +RMRR_DIRECT/);
    const e = await run('explain', '05:00.0', ...DL380E, '--kernel', '6.8.12-4-pve');
    assert.equal(e.code, EXIT.BLOCKED);
    assert.match(e.out, /Firmware has requested this device have a 1:1 IOMMU mapping/);
    assert.match(e.out, /Add intel_iommu=on,relax_rmrr to the kernel command line \[risk: high\]/);
    assert.match(e.out, /proxmox-boot-tool refresh/);
    const none = await run('explain', 'frobnicator', ...DL380E);
    assert.equal(none.code, EXIT.INPUT);
  });
});

describe('kernel-version-aware RMRR verdicts', () => {
  const verdictOf = async (...args: string[]) => {
    const j = await surveyJson(...DL380E, ...args);
    return j.devices.find((d) => d.address === '0000:02:00.0')!;
  };
  it('before 3.17 RMRRs are not enforced', async () => {
    const d = await verdictOf('--kernel', '3.16.7');
    assert.ok(d.findings.some((f) => f.code === 'RMRR_NOT_ENFORCED'));
    assert.equal(d.verdicts.dda.status, 'blocked');
  });
  it('6.6+ prints the 1:1 mapping message', async () => {
    const d = await verdictOf('--kernel', '6.6.1');
    assert.match(d.findings.find((f) => f.code === 'RMRR_DIRECT')!.message, /Firmware has requested this device have a 1:1 IOMMU mapping/);
  });
  it('relax_rmrr on a Proxmox kernel that has it relaxes the RMRR for vfio only', async () => {
    const d = await verdictOf('--kernel', '6.8.12-4-pve', '--cmdline', 'BOOT_IMAGE=/boot/vmlinuz root=/dev/mapper/pve-root ro quiet intel_iommu=on,relax_rmrr');
    assert.ok(d.findings.some((f) => f.code === 'RMRR_RELAXED_BY_OPTION'));
    assert.notEqual(d.verdicts.vfio.reasons[0], 'RMRR_DIRECT');
    assert.ok(!d.verdicts.vfio.reasons.includes('RMRR_DIRECT'));
    assert.equal(d.verdicts.dda.status, 'blocked');
  });
  it('relax_rmrr on a kernel without it changes nothing', async () => {
    const d = await verdictOf('--kernel', '6.2.16-12-pve', '--cmdline', 'intel_iommu=on,relax_rmrr');
    assert.ok(d.findings.some((f) => f.code === 'RMRR_DIRECT'));
  });
  it('USB controllers in an RMRR are relaxable', async () => {
    const j = await surveyJson(...DL380E, '--kernel', '5.15.0');
    const usb = j.devices.find((x) => x.address === '0000:00:1d.0')!;
    assert.ok(usb.findings.some((f) => f.code === 'RMRR_RELAXABLE'));
  });
});

describe('a live host tree and its captures give the same survey', () => {
  const DUMP = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
  const KERNEL = '5.4.0-90-generic';
  const CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-5.4.0-90-generic root=UUID=0 ro quiet';
  const IDS = fixture('pci', 'pci.ids.subset');
  const norm = (s: string) => JSON.parse(s);

  it('sysfs tree == capture files (lspci dump, kernel, command line)', async () => {
    const root = sysfsTreeFromDump(DUMP, { kernel: KERNEL, cmdline: CMDLINE });
    const tree = await run('survey', '--json', '--root', root, '--pci-ids', IDS);
    // The capture equivalent of a host without SMBIOS is what dmidecode prints there.
    const files = await run('survey', '--json', '--lspci', fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), '--dmidecode', fixture('smbios', 'no-smbios.dmidecode.txt'), '--kernel', KERNEL, '--cmdline', CMDLINE, '--pci-ids', IDS);
    // No ACPI tables and no groups in either: IOMMU unknown, which blocks nothing by itself.
    assert.equal(tree.code, EXIT.OK, tree.err);
    assert.equal(files.code, EXIT.OK, files.err);
    assert.deepEqual(norm(tree.out), norm(files.out));
    const j = norm(tree.out);
    assert.equal(j.devices.length, 53);
    assert.ok(j.devices.every((d: { name: string }) => !/^Device /.test(d.name)), 'names from pci.ids');
  });

  it('collect of that tree, read back with --capture, gives the same survey (also redacted)', async () => {
    const root = sysfsTreeFromDump(DUMP, { kernel: KERNEL, cmdline: CMDLINE });
    const tree = await run('survey', '--json', '--root', root, '--pci-ids', IDS);
    for (const redact of [false, true]) {
      const out = join(mkdtempSync(join(tmpdir(), 'assignable-cap-')), 'cap.tar.gz');
      const c = await run('collect', '--root', root, '-o', out, ...(redact ? ['--redact'] : []));
      assert.equal(c.code, EXIT.OK, c.err);
      const cap = await run('survey', '--json', '--capture', out, '--pci-ids', IDS);
      const want = norm(tree.out);
      // Redaction blanks the root file system's UUID in the command line, nothing the verdicts use.
      if (redact) want.host.cmdline = want.host.cmdline.replace('root=UUID=0', 'root=UUID=REDACTED');
      assert.deepEqual(norm(cap.out), want, `redact=${redact}`);
    }
  });

  it('a capture archive with a path outside itself is refused', async () => {
    const { writeTar } = await import('../src/sources/tar.js');
    const bad = writeTar([{ path: 'sys/bus/pci/devices', type: 'dir' }]);
    // Forge a member name "../etc/passwd" by patching the header (checksum recomputed).
    const t = writeTar([{ path: 'xx/etc/passwd', type: 'file', data: new Uint8Array(1) }]);
    t.set(new TextEncoder().encode('../'), 0);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : t[i]!;
    t.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    const f = join(mkdtempSync(join(tmpdir(), 'assignable-cap-')), 'evil.tar');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f, Buffer.concat([Buffer.from(t.subarray(0, 1024)), Buffer.from(bad)]));
    const r = await run('survey', '--capture', f);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /points outside the archive/);
  });
});

describe('this machine', () => {
  const bin = join(ROOT, 'dist/assignable.cjs');
  // What the kernel itself shows, read here without our code: the oracle for the live runs.
  const SYS_PCI = '/sys/bus/pci/devices';
  const ACPI_TABLES = '/sys/firmware/acpi/tables';
  const pciFunctions = (): string[] => {
    try {
      return readdirSync(SYS_PCI).sort();
    } catch {
      return [];
    }
  };
  const acpiTables = (): string[] | null => {
    try {
      return readdirSync(ACPI_TABLES);
    } catch {
      return null;
    }
  };
  const NO_PCI = 'no PCI devices on this machine';
  /** Config space bytes 0..63: readable by every user (PCI 3.0 type 0/1 header). */
  const header = (a: string) => new Uint8Array(readFileSync(join(SYS_PCI, a, 'config'))).subarray(0, 64);
  const STATUS_CAP_LIST = 0x10;
  const isBridgeOrHostBridge = (c: Uint8Array) => (c[0x0e]! & 0x7f) !== 0 || (c[0x0b] === 0x06 && [0x00, 0x04, 0x07, 0x09].includes(c[0x0a]!));

  it('survey --json lists every PCI function the kernel lists, with its ids', (t) => {
    const fns = pciFunctions();
    if (fns.length === 0) return t.skip(NO_PCI);
    const r = spawnSync(process.execPath, [bin, 'survey', '--all', '--json'], { encoding: 'utf8' });
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    validatedJson({ out: r.stdout });
    const j = JSON.parse(r.stdout) as { devices: Array<{ address: string; vendorId: number; deviceId: number }> };
    assert.deepEqual(j.devices.map((d) => d.address).sort(), fns);
    for (const d of j.devices) {
      assert.equal(d.vendorId, Number(readFileSync(join(SYS_PCI, d.address, 'vendor'), 'utf8')), `${d.address} vendor`);
      assert.equal(d.deviceId, Number(readFileSync(join(SYS_PCI, d.address, 'device'), 'utf8')), `${d.address} device`);
    }
  });

  it('firmware without a DMAR or IVRS table: survey exits 4 and says why', (t) => {
    const tables = acpiTables();
    if (pciFunctions().length === 0) return t.skip(NO_PCI);
    if (tables === null) return t.skip(`${ACPI_TABLES} cannot be listed here`);
    if (tables.includes('DMAR') || tables.includes('IVRS')) return t.skip("this host's firmware describes an IOMMU; the next test covers it");
    const r = spawnSync(process.execPath, [bin, 'survey'], { encoding: 'utf8' });
    assert.equal(r.status, EXIT.ABSENT, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^ADDRESS/m);
    // On a virtual machine (readiness: "virtual machine YES") the same finding speaks of the VM.
    assert.match(r.stdout, /^\s+virtual machine\s+YES/m.test(r.stdout) ? /IOMMU_ABSENT: This virtual machine has no IOMMU \(no ACPI DMAR or IVRS table\)/ : /IOMMU_ABSENT: The firmware exposes neither a DMAR/);
  });

  it('firmware with a DMAR or IVRS table, as root: the survey names that IOMMU', (t) => {
    const tables = acpiTables() ?? [];
    if (pciFunctions().length === 0) return t.skip(NO_PCI);
    if (!tables.includes('DMAR') && !tables.includes('IVRS')) return t.skip("this host's firmware describes no IOMMU; the previous test covers it");
    if (process.getuid?.() !== 0) return t.skip('not root: the ACPI tables are readable by root only');
    const r = spawnSync(process.execPath, [bin, 'survey', '--json'], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    validatedJson({ out: r.stdout });
    const j = JSON.parse(r.stdout);
    assert.equal(j.host.iommu.firmware, 'present');
    assert.equal(j.host.iommu.vendor, tables.includes('DMAR') ? 'intel' : 'amd');
  });

  /**
   * The built tool and its runtime dependencies in a world-readable directory: a clone may sit
   * where nobody cannot read it (mktemp -d makes 0700 directories).
   */
  function readableCopy(): string {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-nobody-'));
    chmodSync(dir, 0o755);
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const queue = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies ?? {});
    for (const seen = new Set<string>(); queue.length; ) {
      const name = queue.shift()!;
      const from = join(ROOT, 'node_modules', name);
      if (seen.has(name) || !existsSync(from)) continue;
      seen.add(name);
      cpSync(from, join(dir, 'node_modules', name), { recursive: true });
      queue.push(...Object.keys(JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')).dependencies ?? {}));
    }
    return join(dir, 'dist/cli/main.js');
  }
  it('without root it says what it could not read and carries on', (t) => {
    const fns = pciFunctions();
    if (fns.length === 0) return t.skip(NO_PCI);
    const root = process.getuid?.() === 0;
    if (root && spawnSync('setpriv', ['--version']).status !== 0) return t.skip('running as root without setpriv: cannot drop to an unprivileged user');
    // As root, drop to nobody; otherwise we are not root already.
    const cmd = root ? 'setpriv' : process.execPath;
    const args = root ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, readableCopy(), 'survey', '--json'] : [bin, 'survey', '--json'];
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
    const tables = acpiTables();
    const iommuTable = tables !== null && (tables.includes('DMAR') || tables.includes('IVRS'));
    // Without an IOMMU table the status is fixed by the README (4); with one it depends on the devices.
    if (!iommuTable) assert.equal(r.status, EXIT.ABSENT, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.devices.map((d: { address: string }) => d.address).sort(), fns);
    // The kernel gives the unprivileged 64 bytes of every config space that is larger.
    const short = fns.filter((a) => statSync(join(SYS_PCI, a, 'config')).size > 64).length;
    const notRoot = j.host.notes.filter((n: { code: string }) => n.code === 'NOT_ROOT');
    assert.equal(notRoot.length, 1, JSON.stringify(j.host.notes));
    assert.match(notRoot[0].message, new RegExp(`config space past 64 bytes of ${short} function\\(s\\)`));
    assert.equal(/the ACPI DMAR\/IVRS tables/.test(notRoot[0].message), iommuTable, notRoot[0].message);
    // Unknown capabilities: exactly the endpoints whose header says they have a capability list.
    const expected = fns.filter((a) => (header(a)[0x06]! & STATUS_CAP_LIST) !== 0 && !isBridgeOrHostBridge(header(a)));
    const flagged = j.devices.filter((d: { findings: Array<{ code: string }> }) => d.findings.some((f) => f.code === 'CAPABILITIES_UNKNOWN')).map((d: { address: string }) => d.address).sort();
    assert.deepEqual(flagged, expected);
  });
});
