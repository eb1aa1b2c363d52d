/**
 * Captures: `collect --redact` on a fake host full of planted identifiers (checked byte by
 * byte in the unpacked archive, SMBIOS checked with dmidecode), host trees and capture
 * directories that try to make us read outside them or block, hostile archives, and the
 * manifest's name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { collect, MANIFEST_NAME } from '../src/sources/collect.js';
import { realFs, type Fs } from '../src/sources/fs.js';
import { readLiveHost } from '../src/sources/live.js';
import { memFs } from '../src/sources/memfs.js';
import { readTar, writeTar, type TarEntry } from '../src/sources/tar.js';
import { ROOT, fixture, fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';
import { assertValidDocument, validatedJson } from './json-schema.js';
import { dmidecodeDumpBin } from '../src/firmware/dumps.js';
import { redactSmbios } from '../src/firmware/smbios/redact.js';
import { DecodeError } from '../src/firmware/errors.js';
import { buildSmbios, bytes, parseDump, setString, structure } from './smbios-plant.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

const DMIDECODE = '/usr/sbin/dmidecode';
const hasDmidecode = spawnSync(DMIDECODE, ['--version']).status === 0;
/** The installed program (package.json "bin"), as `npm test`'s build leaves it. */
const BIN = join(ROOT, 'dist/assignable.cjs');

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), outBytes: (b) => void (out += Buffer.from(b).toString('latin1')) });
  return validatedJson({ code, out, err });
}

/** The built CLI as a child with a hard kill: a regression that hangs fails instead of hanging the suite. */
function runChild(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  return validatedJson({ code: r.status, err: r.stderr, out: r.stdout, signal: r.signal });
}

function assertOneLineError(r: { code: number | null; err: string; signal?: NodeJS.Signals | null }, codes: number[], re: RegExp) {
  assert.equal(r.signal ?? null, null, `killed by ${r.signal}: it hung`);
  assert.ok(codes.includes(r.code as number), `exit ${r.code}: ${r.err}`);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.doesNotMatch(r.err, /\n\s+at |internal error/);
  assert.match(r.err, re);
}

// --- The fake host ---------------------------------------------------------------------

const PCI_DUMP = fixtureText('pci/pciutils-tests', 'pciutils-cap-pcie-2.dump.txt');
/** lspci's own decode of the function's Device Serial Number: it prints the bytes in config-space order. */
const DSN_BYTES = Buffer.from(/Device Serial Number (\S+)/.exec(PCI_DUMP)![1]!.split('-').join(''), 'hex');
const MAC = '52:54:00:ab:cd:ef';
const HOST = 'markerhost';
const CMDLINE_UUID = '6f1c2a3b-1111-2222-3333-444455556666';
const IQN = `iqn.2004-01.com.${HOST}:disk1`;
/** Latin-1 bytes ≥ 0x80 in a string that comes before the serial in type 1's string set. */
const NON_ASCII = new Uint8Array([0xc9, 0x43, 0x4c, 0x41, 0x49, 0x52, 0xe9]);

const MARKERS = {
  systemSerial: 'SYS-SERIAL-MARK',
  systemSku: 'SYS-SKU-MARK',
  uuid: 'UUIDMARKUUIDMARK',
  boardSerial: 'BOARD-SERIAL-MARK',
  chassisSerial: 'CHASSIS-SERIAL-MARK',
  chassisAsset: 'CHASSIS-ASSET-MARK',
  cpuSerial: 'CPU-SERIAL-MARK',
  cpuAsset: 'CPU-ASSET-MARK',
  cpuPart: 'CPU-PART-MARK',
  dimmSerial: 'DIMM-SERIAL-MARK',
  dimmAsset: 'DIMM-ASSET-MARK',
  dimmPart: 'DIMM-PART-MARK',
  oemString: 'OEM-STRING-MARK',
  batterySerial: 'BATTERY-SERIAL-MARK',
  psuSerial: 'PSU-SERIAL-MARK',
  psuAsset: 'PSU-ASSET-MARK',
  psuPart: 'PSU-PART-MARK',
  hpe237Serial: 'HPE237-SERIAL-MARK',
  hpe237Part: 'HPE237-PART-MARK',
  hpe203Serial: 'HPE203-SERIAL-MARK',
  hpe209Mac: 'MACMRK',
  hpe233Mac: 'MAC233',
  vpdSerial: 'VPD-SERIAL-MARK',
  vpdVendor: 'VPD-VENDOR-MARK',
  vpdAsset: 'VPD-ASSET-MARK',
  host: HOST,
  mac: MAC,
  macUpper: MAC.toUpperCase(),
  ip: '10.1.2.3',
  ipv6: '2001:db8::1234',
  gatewayHex: '0102010A',
  cmdlineUuid: CMDLINE_UUID,
};

/** A real SMBIOS (Dell R630, dmidecode-checked) presented as an HPE ProLiant, markers in every identifying field. */
function plantedSmbios() {
  const { ep, structures } = parseDump(fixtureBytes('smbios/raw', 'dell-poweredge-r630-gosmbios.dump'));
  for (const s of structures) {
    const t = s.formatted[0]!;
    if (t === 1) {
      setString(s, 0x04, bytes('HPE'));
      setString(s, 0x05, bytes('ProLiant DL380 Gen10'));
      setString(s, 0x06, NON_ASCII);
      setString(s, 0x07, bytes(MARKERS.systemSerial));
      setString(s, 0x19, bytes(MARKERS.systemSku));
      s.formatted.set(bytes(MARKERS.uuid), 0x08);
    }
    if (t === 2) {
      setString(s, 0x07, bytes(MARKERS.boardSerial));
    }
    if (t === 3) {
      setString(s, 0x07, bytes(MARKERS.chassisSerial));
      setString(s, 0x08, bytes(MARKERS.chassisAsset));
    }
    if (t === 4) {
      setString(s, 0x20, bytes(MARKERS.cpuSerial));
      setString(s, 0x21, bytes(MARKERS.cpuAsset));
      setString(s, 0x22, bytes(MARKERS.cpuPart));
    }
    if (t === 17) {
      setString(s, 0x18, bytes(MARKERS.dimmSerial));
      setString(s, 0x19, bytes(MARKERS.dimmAsset));
      setString(s, 0x1a, bytes(MARKERS.dimmPart));
    }
    if (t === 11) s.strings = s.strings.map(() => bytes(MARKERS.oemString));
  }
  const end = structures.pop()!;
  structures.push(
    structure(11, 5, 0xf001, { 0x04: bytes(MARKERS.oemString) }),
    structure(22, 0x1a, 0xf002, { 0x04: bytes('Rear'), 0x07: bytes(MARKERS.batterySerial) }),
    structure(39, 0x16, 0xf003, { 0x05: bytes('PSU 1'), 0x08: bytes(MARKERS.psuSerial), 0x09: bytes(MARKERS.psuAsset), 0x0a: bytes(MARKERS.psuPart) }),
    // HPE 237 (DIMM serial numbers, dmidecode dmioem.c): handle, manufacturer, part, serial.
    structure(237, 9, 0xf004, { 0x06: bytes('Hynix'), 0x07: bytes(MARKERS.hpe237Part), 0x08: bytes(MARKERS.hpe237Serial) }),
    // HPE 203 (device correlation): the structured name is what slot numbers come from; the serial is not.
    structure(203, 0x28, 0xf007, { 0x1d: bytes('PCI.Slot.1.1'), 0x23: bytes(MARKERS.hpe203Serial) }),
    // HPE 209: NIC records of bus/devfn + MAC; HPE 233: MAC at 0x08.
    structure(209, 4 + 8, 0xf005, {}, { 4: new Uint8Array([0x00, 0x01, ...bytes(MARKERS.hpe209Mac)]) }),
    structure(233, 0x0e, 0xf006, {}, { 6: new Uint8Array([0x01, 0x00, ...bytes(MARKERS.hpe233Mac)]) }),
    end,
  );
  return buildSmbios(ep, structures);
}

const LSPCI_TEXT = `${PCI_DUMP.split('\n00:')[0]}
	Vital Product Data
		Product Name: Example NIC
		Read-only fields:
			[PN] Part number: E1G42ET
			[SN] Serial number: ${MARKERS.vpdSerial}
			[V0] Vendor specific: ${MARKERS.vpdVendor}
		Read/write fields:
			[YA] Asset tag: ${MARKERS.vpdAsset}
		End
	Kernel driver in use: igb, MAC ${MAC}
`;

function fakeHost(): { root: string; smbios: ReturnType<typeof plantedSmbios> } {
  const cmdline = `BOOT_IMAGE=/vmlinuz root=UUID=${CMDLINE_UUID} ro ip=${MARKERS.ip}::10.1.2.1:255.255.255.0:${HOST}:eth0:none rd.iscsi.initiator=${IQN} BOOTIF=01-${MAC.replace(/:/g, '-')} intel_iommu=on`;
  const root = sysfsTreeFromDump(PCI_DUMP, { kernel: '6.8.12-4-pve', cmdline });
  const w = (p: string, data: string | Uint8Array) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), data);
  };
  const smbios = plantedSmbios();
  w('sys/firmware/dmi/tables/smbios_entry_point', smbios.ep);
  w('sys/firmware/dmi/tables/DMI', smbios.table);
  w('proc/mounts', `/dev/mapper/${HOST}--vg-root / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n${MARKERS.ip}:/export /mnt nfs rw,addr=${MARKERS.ip} 0 0\n`);
  mkdirSync(join(root, 'dev/mapper'), { recursive: true });
  symlinkSync('../dm-0', join(root, `dev/mapper/${HOST}--vg-root`));
  mkdirSync(join(root, 'sys/devices/virtual/block/dm-0/slaves'), { recursive: true });
  mkdirSync(join(root, 'sys/class/block'), { recursive: true });
  symlinkSync('../../devices/virtual/block/dm-0', join(root, 'sys/class/block/dm-0'));
  w('proc/net/route', `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t${MARKERS.gatewayHex}\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0002010A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`);
  const dev = join('sys/bus/pci/devices', '0000:01:00.0');
  const real = join(dirname(dev), readlinkSync(join(root, dev)));
  w(join(real, 'net/eth0/address'), `${MAC}\n`);
  mkdirSync(join(root, 'sys/class/net'), { recursive: true });
  symlinkSync(join('../..', real.replace(/^sys\//, ''), 'net/eth0'), join(root, 'sys/class/net/eth0'));
  w(
    'var/log/dmesg',
    [
      `Linux version 6.8.12-4-pve (builder@${HOST}) #1 SMP`,
      `Command line: ${cmdline}`,
      `DMAR: IOMMU enabled`,
      `vfio-pci 0000:01:00.0: iommu group 3, hwaddr ${MAC.toUpperCase()}`,
      `iommu: iscsi session to ${IQN} at ${MARKERS.ipv6}`,
      `ACS: id ${CMDLINE_UUID}`,
    ].join('\n') + '\n',
  );
  return { root, smbios };
}

function archiveOf(root: string, redact: boolean, lspciText?: string) {
  const c = collect(root, realFs, { redact, toolVersion: 'test', created: '2026-01-01T00:00:00Z', ...(lspciText ? { lspciText } : {}) });
  // What users post: the .tar.gz; checked after unpacking it again.
  const tar = Buffer.from(gunzipSync(gzipSync(writeTar(c.entries))));
  return { ...c, tar, files: new Map(readTar(tar).filter((e) => e.type === 'file').map((e) => [e.path, e.data!])) };
}

function markerHits(tar: Buffer): string[] {
  const hits = Object.entries(MARKERS).filter(([, m]) => tar.includes(Buffer.from(m, 'latin1')) || tar.includes(Buffer.from(m.toLowerCase(), 'latin1'))).map(([k]) => k);
  if (tar.includes(DSN_BYTES)) hits.push('PCIe Device Serial Number');
  return hits;
}

function dmidecode(dump: Uint8Array): string {
  const f = join(mkdtempSync(join(tmpdir(), 'assignable-dmi-')), 'dump.bin');
  writeFileSync(f, dump);
  const r = spawnSync(DMIDECODE, ['--from-dump', f], { encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const handles = (text: string) => text.split('\n').filter((l) => /^Handle 0x/.test(l)).length;
const field = (text: string, section: string, name: string) => new RegExp(`^${section}\\n(?:\\t.*\\n)*?\\t${name}: (.*)$`, 'm').exec(text)?.[1];

describe('collect --redact leaves nothing identifying (issue 7 point 10)', () => {
  const host = fakeHost();

  it('the markers are really where the reader reads (an unredacted capture holds them all)', () => {
    const plain = archiveOf(host.root, false, LSPCI_TEXT);
    const missing = Object.keys(MARKERS).filter((k) => !markerHits(plain.tar).includes(k) && !['ipv6', 'macUpper'].includes(k));
    // The full mount table, other routes and the net address file are not copied at all.
    assert.deepEqual(missing, []);
    assert.ok(markerHits(plain.tar).includes('PCIe Device Serial Number'));
  });

  it('no marker survives anywhere in the unpacked archive; the manifest says redacted', () => {
    const red = archiveOf(host.root, true, LSPCI_TEXT);
    assert.deepEqual(markerHits(red.tar), []);
    const manifest = JSON.parse(new TextDecoder().decode(red.files.get(MANIFEST_NAME)));
    assertValidDocument(manifest, MANIFEST_NAME);
    assert.equal(manifest.redacted, true);
    assert.deepEqual(manifest.notes, []);
    assert.deepEqual(manifest.keptOemStrings, ['type 203 (handle 0xf007) string 1']);
    assert.ok(red.tar.includes(Buffer.from('PCI.Slot.1.1')), 'the HPE slot name is kept');
    // What the survey needs is still there: the command line's IOMMU switch, the root disk and default-route NIC.
    const facts = readLiveHost('/', memFs(readTar(red.tar)));
    assert.match(facts.cmdline!, /intel_iommu=on/);
    assert.match(facts.cmdline!, /root=UUID=REDACTED/);
    assert.deepEqual(facts.defaultRouteFunctions, ['0000:01:00.0']);
  });

  it('dmidecode reads the redacted SMBIOS: same structure count, serials blanked in place, other strings intact', (t) => {
    if (!hasDmidecode) return t.skip('dmidecode is not installed (the oracle)');
    const red = archiveOf(host.root, true);
    const before = dmidecode(host.smbios.dump);
    const after = dmidecode(red.files.get('dmidecode.bin')!);
    assert.ok(handles(before) > 70);
    assert.equal(handles(after), handles(before));
    assert.equal(field(after, 'System Information', 'Serial Number'), 'X'.repeat(MARKERS.systemSerial.length));
    for (const f of ['Manufacturer', 'Product Name', 'Version']) assert.equal(field(after, 'System Information', f), field(before, 'System Information', f), f);
    assert.equal(field(before, 'System Information', 'Version'), '.CLAIR.');
    assert.equal(field(after, 'Base Board Information', 'Product Name'), field(before, 'Base Board Information', 'Product Name'));
    assert.notEqual(field(after, 'System Information', 'UUID'), field(before, 'System Information', 'UUID'));
    // The sysfs copy says the same as the dump beside it.
    assert.equal(handles(dmidecode(buildSmbios(red.files.get('sys/firmware/dmi/tables/smbios_entry_point')!, parseDump(red.files.get('dmidecode.bin')!).structures).dump)), handles(before));
  });

  it('a table that does not decode is dropped, and the capture says so', () => {
    const { root } = fakeHost();
    // A structure of length 2 cannot be delimited (DSP0134: at least the 4-byte header).
    const bad = new Uint8Array([1, 2, 0, 0, ...bytes('UNDECODABLE-SERIAL-MARK'), 0, 0]);
    writeFileSync(join(root, 'sys/firmware/dmi/tables/DMI'), bad);
    const red = archiveOf(root, true);
    assert.ok(!red.tar.includes(Buffer.from('UNDECODABLE-SERIAL-MARK')));
    assert.ok(!red.files.has('sys/firmware/dmi/tables/DMI') && !red.files.has('dmidecode.bin'));
    const manifest = JSON.parse(new TextDecoder().decode(red.files.get(MANIFEST_NAME)));
    assertValidDocument(manifest, MANIFEST_NAME);
    assert.ok(manifest.notes.some((n: string) => /SMBIOS not copied: it does not decode/.test(n)), manifest.notes.join('\n'));
    assert.equal(manifest.redacted, true);
  });

  it('a serial left where no redaction reaches makes collect --redact refuse: exit 1, nothing written', async () => {
    const { root } = fakeHost();
    // The kernel release is copied as it is; a (contrived) serial in it must still be caught.
    writeFileSync(join(root, 'proc/sys/kernel/osrelease'), `6.8.0-${MARKERS.systemSerial}\n`);
    const out = join(mkdtempSync(join(tmpdir(), 'assignable-cap-')), 'cap.tar.gz');
    const r = await run('collect', '--root', root, '-o', out, '--redact');
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    assert.match(r.err, /identifying text remains in proc\/sys\/kernel\/osrelease/);
    assert.ok(!existsSync(out));
  });

  it('collect --redact through the CLI writes the same manifest name the docs give (point 13)', async () => {
    const doc = readFileSync(join(ROOT, 'docs/json.md'), 'utf8');
    const documented = /^## `assignable\/capture\/v1` — `([^`]+)` in a capture/m.exec(doc)?.[1];
    assert.ok(documented, 'docs/json.md names the manifest');
    const out = join(mkdtempSync(join(tmpdir(), 'assignable-cap-')), 'cap.tar.gz');
    const r = await run('collect', '--root', host.root, '-o', out, '--redact');
    assert.equal(r.code, EXIT.OK, r.err);
    const names = readTar(gunzipSync(readFileSync(out))).map((e) => e.path);
    assert.ok(names.includes(documented!), names.join(' '));
  });
});

// --- Reading inside the tree -----------------------------------------------------------

function smallTree(): string {
  return sysfsTreeFromDump(PCI_DUMP, { kernel: '6.8.0', cmdline: 'quiet' });
}
const configOf = (root: string) => join(root, 'sys/bus/pci/devices', '0000:01:00.0', 'config');

describe('a host tree and a capture directory are read only inside themselves (point 11)', () => {
  const cases: Array<[string, (root: string) => void, RegExp]> = [
    ['a FIFO for config space', (root) => {
      rmSync(configOf(root));
      assert.equal(spawnSync('mkfifo', [configOf(root)]).status, 0);
    }, /config: is a FIFO/],
    ['config space linked to /dev/zero', (root) => {
      rmSync(configOf(root));
      symlinkSync('/dev/zero', configOf(root));
    }, /outside/],
    ['config space linked out of the tree', (root) => {
      rmSync(configOf(root));
      symlinkSync('../../../../../../../../../../../../etc/passwd', configOf(root));
    }, /config: leads to \/etc\/passwd, outside/],
    ['the device directory linked out of the tree', (root) => {
      const d = join(root, 'sys/bus/pci/devices/0000:01:00.0');
      rmSync(d);
      symlinkSync('/sys/devices', d);
    }, /outside/],
  ];
  for (const [name, spoil, re] of cases) {
    for (const how of ['--root', '--capture'] as const) {
      it(`${name}: ${how} gives a one-line error, exit 2 or 3, and never hangs`, () => {
        const root = smallTree();
        spoil(root);
        assertOneLineError(runChild('survey', how, root), [EXIT.INPUT, EXIT.ENVIRONMENT], re);
      });
    }
  }
  it('a FIFO given as --pci-ids is refused, not waited on', () => {
    const root = smallTree();
    const fifo = join(root, 'pci.ids');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assertOneLineError(runChild('survey', '--root', root, '--pci-ids', fifo), [EXIT.INPUT], /FIFO/);
  });
  it('relative links inside the tree (as sysfs has) are followed', async () => {
    const r = await run('survey', '--json', '--root', smallTree());
    assert.ok(r.code === EXIT.OK || r.code === EXIT.BLOCKED, r.err);
    assert.equal(JSON.parse(r.out).devices.length, 1);
  });
});

describe('bad host trees are bad input, not a crash (point 14)', () => {
  it('a non-numeric sysfs resource file', async () => {
    const root = smallTree();
    writeFileSync(join(root, 'sys/bus/pci/devices/0000:01:00.0/resource'), 'banana 0x0 0x0\n');
    const r = await run('survey', '--root', root);
    assert.equal(r.code, EXIT.INPUT, r.err);
    assert.match(r.err, /resource: line 1: start: expected a hex number/);
    assert.equal(r.err.trim().split('\n').length, 1);
  });
  it('a directory where config space should be', async () => {
    const root = smallTree();
    rmSync(configOf(root));
    mkdirSync(configOf(root));
    const r = await run('survey', '--root', root);
    assert.equal(r.code, EXIT.INPUT, r.err);
    assert.match(r.err, /config: is a directory, not a file/);
  });
  it('an SMBIOS entry point without its table: SMBIOS unknown, said in a note', async () => {
    const root = fakeHost().root;
    rmSync(join(root, 'sys/firmware/dmi/tables/DMI'));
    const r = await run('survey', '--json', '--root', root);
    assert.ok(r.code === EXIT.OK || r.code === EXIT.BLOCKED, r.err);
    const notes = JSON.parse(r.out).host.notes as Array<{ code: string; message: string }>;
    assert.ok(notes.some((n) => n.code === 'SMBIOS_UNDECODABLE' && /DMI: missing/.test(n.message)), JSON.stringify(notes));
  });
});

// --- Archives ------------------------------------------------------------------------

function counting(fs: Fs): { fs: Fs; calls: () => number } {
  let n = 0;
  const wrap = <A extends unknown[], R>(f: (...a: A) => R) => (...a: A) => (n++, f(...a));
  return { fs: { readFileSync: wrap(fs.readFileSync), statSync: wrap(fs.statSync), readdirSync: wrap(fs.readdirSync), readlinkSync: wrap(fs.readlinkSync), existsSync: wrap(fs.existsSync) }, calls: () => n };
}

describe('capture archives (point 12)', () => {
  it('a gzip that unpacks past any real capture is refused before it is all inflated', async () => {
    const entries: TarEntry[] = [{ path: 'sys/bus/pci/devices', type: 'dir' }, { path: 'zeros', type: 'file', data: new Uint8Array(40 << 20) }];
    const gz = gzipSync(writeTar(entries));
    assert.ok(gz.length < 200_000);
    const f = join(mkdtempSync(join(tmpdir(), 'assignable-bomb-')), 'bomb.tar.gz');
    writeFileSync(f, gz);
    const r = await run('survey', '--capture', f);
    assert.equal(r.code, EXIT.INPUT, r.err);
    assert.match(r.err, /unpacks to more than 16777216 bytes/);
  });

  it('a network fan-out (bridges of bridges) is walked once per interface, not once per path', () => {
    const entries: TarEntry[] = [
      { path: 'sys/bus/pci/devices', type: 'dir' },
      { path: 'proc/net/route', type: 'file', data: bytes('Iface\tDestination\tGateway\nbr0\t00000000\t00000000\n') },
    ];
    for (let k = 0; k < 10; k++) for (let j = 0; j < 10; j++) entries.push({ path: `sys/class/net/br${k}/brif/br${j}`, type: 'dir' });
    assert.ok(writeTar(entries).length < 64 * 1024);
    const c = counting(memFs(readTar(writeTar(entries))));
    readLiveHost('/', c.fs);
    // 10 interfaces, a handful of file-system calls each; every path through them would be 10^5.
    assert.ok(c.calls() < 200, `${c.calls()} file-system calls`);
  });

  it('the biggest real host collects to far less than the archive cap', () => {
    const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt'), { kernel: '5.4.0', cmdline: 'quiet' });
    const tar = writeTar(collect(root, realFs, { redact: false, toolVersion: 'test', created: '2026-01-01T00:00:00Z', lspciText: fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt') }).entries);
    assert.ok(tar.length < 2 << 20, `${tar.length} bytes`);
  });
});

void fixture;

describe('SMBIOS redaction on every real dump, dmidecode as the oracle', () => {
  /** dmidecode fields redaction may change: the spec's serial/asset/part/SKU/UUID fields and free OEM text. */
  const MAY_CHANGE = /^\t(Serial Number|Asset Tag|Part Number|SKU Number|UUID|Model Part Number|String \d+|Option \d+|SBDS Serial Number|Asset Tag Number): /;
  const IDENTIFYING = /^\t(Serial Number|Asset Tag|Part Number|SKU Number|Model Part Number): ./;
  const dumps = [...fixtureFiles('smbios/raw', '.dump').map((f) => ['smbios/raw', f] as const), ...fixtureFiles('smbios/hpe-oem', '.dump').map((f) => ['smbios/hpe-oem', f] as const)];
  for (const [dir, file] of dumps) {
    it(file, (t) => {
      if (!hasDmidecode) return t.skip('dmidecode is not installed (the oracle)');
      const dump = fixtureBytes(dir, file);
      const ep = dump.subarray(0, 0x20);
      const r = redactSmbios(ep, dump.subarray(0x20));
      const before = dmidecode(dump).split('\n');
      const after = dmidecode(dmidecodeDumpBin(ep, r.table)).split('\n');
      assert.equal(after.length, before.length);
      assert.equal(handles(after.join('\n')), handles(before.join('\n')));
      let oem = false;
      for (const [i, line] of before.entries()) {
        const h = /^Handle 0x[0-9A-F]+, DMI type (\d+),/.exec(line);
        if (h) oem = Number(h[1]) >= 128;
        const value = line.slice(line.indexOf(': ') + 2);
        // Another field may share the blanked string (firmware reuses "Default string" for many).
        if (after[i] !== line && !line.startsWith('Reading SMBIOS/DMI data from file')) assert.ok(oem || MAY_CHANGE.test(line) || r.blanked.includes(value), `${file} line ${i + 1}: "${line}" became "${after[i]}"`);
        // Every field dmidecode calls a serial number, asset tag, SKU or part number is blanked.
        if (!oem && IDENTIFYING.test(line) && !/: (Not Specified|None|<BAD INDEX>)$/.test(line)) assert.notEqual(after[i], line, `${file} line ${i + 1}`);
      }
    });
  }
});

describe('SMBIOS redaction of damaged tables', () => {
  it('a bit-flipped or cut table is redacted to the same length or refused with a DecodeError, never anything else', () => {
    const dump = fixtureBytes('smbios/raw', 'dell-poweredge-r630-gosmbios.dump');
    const ep = dump.subarray(0, 0x20);
    let seed = 0x5eed;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let redacted = 0;
    let refused = 0;
    for (let n = 0; n < 2000; n++) {
      const t = dump.slice(0x20);
      if (n % 3 === 0) t.fill(0, Math.floor(next() * t.length));
      else for (let k = 0; k < 4; k++) t[Math.floor(next() * t.length)] = Math.floor(next() * 256);
      try {
        const r = redactSmbios(ep, t);
        assert.equal(r.table.length, t.length);
        redacted++;
      } catch (e) {
        if (!(e instanceof DecodeError)) assert.fail(`mutation ${n}: ${e instanceof Error ? e.stack : String(e)}`);
        refused++;
      }
    }
    assert.ok(redacted > 0 && refused > 0, `${redacted} redacted, ${refused} refused`);
  });
});
