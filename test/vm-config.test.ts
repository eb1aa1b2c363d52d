/**
 * `vm-config` (issue 10, point 4) on real hosts: the G7-like pciutils tree (Intel X58/5520 IOH +
 * ICH10, the chipset of ProLiant G7; a GeForce 210 with its audio function at 06:00), the HPE
 * DL380e Gen8 example (RMRRs on its I350s), an ASUS B550 with an RTX 3070 Ti whose kernel IOMMU
 * groups are in its lspci output, and the G7-like Windows probe capture. Every expectation comes
 * from outside our decoders: the config-space bytes of the dump read here by offset, lspci's own
 * class, "[size=…]" and "IOMMU group" lines, the kernel's groups, Windows' location paths — and
 * the output is read back by parsers written to the targets' documented formats (Proxmox's
 * hostpci and PCI-mapping property strings, libvirt's domain schema through virt-xml-validate).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { EXIT } from '../src/cli/exit.js';
import { ROOT, fixture, fixtureText } from './helpers.js';
import { main } from './main-validated.js';
import { sysfsTreeFromDump } from './sysfs-tree.js';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const P6T6 = fixture('captures', 'asus-p6t6-pciutils-tree.tar.gz');
const P6T6_DUMP = fixtureText('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt');
const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');
const DL380E = ['--lspci', join(EX, 'lspci-vvnn.txt'), '--dmar', join(EX, 'DMAR.dat'), '--dmidecode', join(EX, 'dmidecode.txt'), '--kernel', '6.8.12-4-pve', '--cmdline', 'ro quiet intel_iommu=on'];
const B550_DIR = fixture('pci/iommu-groups/asus-prime-b550-plus-a7bcab');
const B550 = ['--lspci', join(B550_DIR, 'lspci-vvnn.txt'), '--ivrs', join(B550_DIR, 'IVRS.dat'), '--dmidecode', join(B550_DIR, 'dmidecode.txt'), '--kernel', '6.1.0'];
const G7_WIN = fixture('windows-probe/out', 'g7like.json');

// ---- Oracles: config-space bytes by offset (PCI 3.0 header), lspci's own text ------------------

/** The config bytes of one function of an `lspci -xxxx` dump ("06:00.0 …" then "00: de 10 …"). */
function dumpBytes(dump: string, addr: string): Uint8Array {
  const lines = dump.split('\n');
  const at = lines.findIndex((l) => l.startsWith(addr + ' '));
  assert.ok(at >= 0, `${addr} in the dump`);
  const bytes: number[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ?)+)$/.exec(l.trim());
    if (!m) break;
    bytes.push(...m[2]!.trim().split(' ').map((b) => parseInt(b, 16)));
  }
  return new Uint8Array(bytes);
}
const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
/** Capability IDs on the list from 0x34 (PCI 3.0 §6.7); 0x10 is PCI Express. */
function capIds(b: Uint8Array): number[] {
  const ids: number[] = [];
  for (let p = b[0x34]! & 0xfc, n = 0; p !== 0 && n < 48; p = b[p + 1]! & 0xfc, n++) ids.push(b[p]!);
  return ids;
}
/** Functions the dump lists at bus:dev. */
const dumpFunctions = (dump: string, busDev: string) => [...dump.matchAll(new RegExp(`^${busDev}\\.([0-7]) `, 'gm'))].map((m) => Number(m[1]));

/** One lspci -vv record: its header line to the next blank line. */
function lspciRecord(text: string, addr: string): string {
  const i = text.search(new RegExp(`^${addr.replace('.', '\\.')} `, 'm'));
  assert.ok(i >= 0, addr);
  const end = text.indexOf('\n\n', i);
  return text.slice(i, end < 0 ? undefined : end);
}
const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
/** 64-bit memory BAR sizes lspci printed ("Region 1: Memory at … (64-bit, prefetchable) [size=8G]"). */
function lspci64BitSizes(record: string): bigint[] {
  return [...record.matchAll(/Region \d+: Memory at [0-9a-f]+ \(64-bit[^)]*\) \[size=(\d+)([KMGT]?)\]/g)].map((m) => BigInt(m[1]!) * UNITS[m[2]!]!);
}
const pow2Ceil = (n: bigint) => {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
};
const isPow2 = (n: bigint) => n > 0n && (n & (n - 1n)) === 0n;

// ---- Readers of the targets' formats ------------------------------------------------------------

/**
 * `qm set VMID -key value …` read back by Proxmox's documented property format for hostpci[n]:
 * [[host=]<HOSTPCIID[;HOSTPCIID2...]>] [,device-id=<hex id>] [,legacy-igd=<1|0>] [,mapping=<mapping-id>]
 * [,mdev=<string>] [,pcie=<1|0>] [,rombar=<1|0>] [,romfile=<string>] [,sub-device-id=<hex id>]
 * [,sub-vendor-id=<hex id>] [,vendor-id=<hex id>] [,x-vga=<1|0>]; "host" is the default key,
 * and either host or mapping must be set.
 */
const HOSTPCIID = /^(?:[0-9a-f]{4,}:)?[0-9a-f]{2}:[0-9a-f]{2}(?:\.[0-7])?$/;
const HOSTPCI_KEYS: Record<string, RegExp> = {
  host: /^.+$/,
  mapping: /^[a-z][a-z0-9_-]+$/i,
  'device-id': /^0x[0-9a-f]{4}$/i,
  'vendor-id': /^0x[0-9a-f]{4}$/i,
  'sub-device-id': /^0x[0-9a-f]{4}$/i,
  'sub-vendor-id': /^0x[0-9a-f]{4}$/i,
  'legacy-igd': /^[01]$/,
  pcie: /^[01]$/,
  rombar: /^[01]$/,
  'x-vga': /^[01]$/,
  romfile: /^[^,;]+$/,
  mdev: /^[^/.:]+$/,
};
function parseHostpci(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  value.split(',').forEach((part, i) => {
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 && i === 0 ? ['host', part] : [part.slice(0, eq), part.slice(eq + 1)];
    assert.ok(k in HOSTPCI_KEYS, `hostpci key "${k}" is in Proxmox's format`);
    assert.match(v, HOSTPCI_KEYS[k]!, `hostpci ${k}=${v}`);
    assert.ok(!(k in out), `hostpci key ${k} given twice`);
    out[k] = v;
  });
  if (out.host !== undefined) for (const id of out.host.split(';')) assert.match(id, HOSTPCIID, `HOSTPCIID ${id}`);
  assert.ok((out.host === undefined) !== (out.mapping === undefined), 'either host or mapping');
  return out;
}
interface QmSet {
  vmid: string;
  options: Record<string, string>;
}
function parseQmSet(line: string): QmSet {
  const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  assert.deepEqual(words.slice(0, 2), ['qm', 'set'], line);
  const vmid = words[2]!;
  const options: Record<string, string> = {};
  for (let i = 3; i < words.length; i += 2) {
    const k = words[i]!;
    assert.match(k, /^--?[a-z][a-z0-9-]*$/, `option name in ${line}`);
    assert.ok(i + 1 < words.length, `${k} has a value`);
    options[k.replace(/^--?/, '')] = words[i + 1]!;
  }
  for (const [k, v] of Object.entries(options)) if (/^hostpci\d+$/.test(k)) parseHostpci(v);
  return { vmid, options };
}
/** `pvesh create /cluster/mapping/pci --id ID --map …`: the map format of PVE's PCI mapping (node, path, id, subsystem-id, iommugroup, description). */
const PCI_PATH = /^(?:[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?;)*[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?$/;
function parseMapping(line: string): { id: string; map: Record<string, string> } {
  const m = /^pvesh create \/cluster\/mapping\/pci --id ([a-z][a-z0-9_-]+) --map (\S+)$/i.exec(line);
  assert.ok(m, line);
  const map: Record<string, string> = {};
  for (const part of m[2]!.split(',')) {
    const [k, v] = [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)];
    assert.ok(['node', 'path', 'id', 'subsystem-id', 'iommugroup', 'description'].includes(k), `map key ${k}`);
    map[k] = v;
  }
  assert.ok(map.node && map.path && map.id, 'node, path and id are required');
  assert.match(map.path, PCI_PATH);
  assert.match(map.id, /^[0-9a-f]{4}:[0-9a-f]{4}$/i);
  if (map['subsystem-id']) assert.match(map['subsystem-id'], /^[0-9a-f]{4}:[0-9a-f]{4}$/i);
  if (map.iommugroup) assert.match(map.iommugroup, /^\d+$/);
  return { id: m[1]!, map };
}

const codeLines = (out: string) => out.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('<!--'));
const qmLines = (out: string) => codeLines(out).filter((l) => l.startsWith('qm set'));

// ---- libvirt -------------------------------------------------------------------------------------

/** A complete minimal q35 domain around the printed elements, as libvirt's domain schema wants it. */
function minimalDomain(snippet: string): string {
  const body = snippet.split('\n').filter((l) => !l.startsWith('<!--')).join('\n');
  const controllers = body.match(/<controller[\s\S]*?<\/controller>/g) ?? [];
  const qemu = body.match(/<qemu:commandline>[\s\S]*?<\/qemu:commandline>/g) ?? [];
  const hostdevs = body.match(/<hostdev[\s\S]*?<\/hostdev>/g) ?? [];
  return [
    `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>`,
    '  <name>vm-config-test</name>',
    "  <memory unit='MiB'>1024</memory>",
    '  <vcpu>1</vcpu>',
    "  <os><type arch='x86_64' machine='q35'>hvm</type></os>",
    '  <devices>',
    ...controllers,
    ...hostdevs,
    '  </devices>',
    ...qemu,
    '</domain>',
  ].join('\n');
}
// virt-xml-validate runs xmllint with libvirt's RelaxNG schemas.
const hasVirtXmlValidate = ['virt-xml-validate', 'xmllint'].every((p) => spawnSync(p, ['--version'], { encoding: 'utf8' }).error === undefined);
function virtXmlValidate(t: { skip: (why: string) => void }, xml: string): void {
  if (!hasVirtXmlValidate) {
    t.skip('virt-xml-validate or xmllint is not installed (libvirt-clients, libxml2-utils; .ci/run installs them)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'assignable-vmcfg-'));
  const file = join(dir, 'domain.xml');
  writeFileSync(file, xml);
  const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `virt-xml-validate: ${r.stdout}${r.stderr}\n${xml}`);
}
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'hostdev' });

// ---- The G7-like host: GeForce 210 and its audio function at 06:00 ------------------------------

describe('vm-config on the G7-like host (X58/ICH10, GeForce 210 at 06:00)', () => {
  const gpu = dumpBytes(P6T6_DUMP, '06:00.0');
  const HEADER_TYPE_MULTIFUNCTION = 0x80;
  const CAP_PCI_EXPRESS = 0x10;

  it('Proxmox: qm set parses back to "All Functions" 0000:06:00 with pcie=1 (q35) and x-vga=1; the mapping carries the ids', async () => {
    const r = await run('vm-config', '06:00.0', '--for', 'proxmox', '--vm', '104', '--node', 'pve1', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    // Oracles: the header type's multi-function bit and the functions the dump lists at 06:00.
    assert.ok((gpu[0x0e]! & HEADER_TYPE_MULTIFUNCTION) !== 0);
    assert.deepEqual(dumpFunctions(P6T6_DUMP, '06:00'), [0, 1]);
    const sets = qmLines(r.out).map(parseQmSet);
    assert.ok(sets.every((s) => s.vmid === '104'));
    const direct = sets.find((s) => s.options.hostpci0 && !s.options.hostpci0.startsWith('mapping='))!;
    const hp = parseHostpci(direct.options.hostpci0!);
    assert.equal(hp.host, '0000:06:00');
    assert.equal(direct.options.hostpci1, undefined, 'both functions in one All-Functions entry');
    // pcie=1 only for a PCI Express function, which then needs q35.
    assert.ok(capIds(gpu).includes(CAP_PCI_EXPRESS));
    assert.equal(hp.pcie, '1');
    assert.ok(sets.some((s) => s.options.machine === 'q35'));
    // Class 03/00 (bytes 0x0b, 0x0a): a VGA controller, the VM's primary GPU; its ROM stays.
    assert.deepEqual([gpu[0x0b], gpu[0x0a]], [0x03, 0x00]);
    assert.equal(hp['x-vga'], '1');
    assert.equal(hp.rombar, undefined);
    // Cluster mapping: vendor:device (bytes 0-3) and subsystem (0x2c-0x2f) of function 0.
    const maps = codeLines(r.out).filter((l) => l.startsWith('pvesh')).map(parseMapping);
    assert.equal(maps.length, 1);
    assert.deepEqual(maps[0]!.map, { node: 'pve1', path: '0000:06:00', id: `${hex4(u16(gpu, 0))}:${hex4(u16(gpu, 2))}`, 'subsystem-id': `${hex4(u16(gpu, 0x2c))}:${hex4(u16(gpu, 0x2e))}` }, 'no iommugroup: the group is only predicted');
    const mapped = sets.find((s) => s.options.hostpci0?.startsWith('mapping='))!;
    assert.equal(parseHostpci(mapped.options.hostpci0!).mapping, maps[0]!.id);
  });

  it('Proxmox: a group of two devices of one model (the RTL8111s behind the ICH10 root ports) gets two entries and two distinct mappings', async () => {
    const a = dumpBytes(P6T6_DUMP, '07:00.0');
    const b = dumpBytes(P6T6_DUMP, '08:00.0');
    assert.deepEqual([u16(a, 0), u16(a, 2)], [u16(b, 0), u16(b, 2)], 'the same vendor:device');
    const r = await run('vm-config', '07:00.0', '--for', 'proxmox', '--vm', '100', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const maps = codeLines(r.out).filter((l) => l.startsWith('pvesh')).map(parseMapping);
    assert.deepEqual(maps.map((m) => m.map.path), ['0000:07:00.0', '0000:08:00.0']);
    assert.equal(new Set(maps.map((m) => m.id)).size, 2, maps.map((m) => m.id).join(' '));
    const mapped = qmLines(r.out).map(parseQmSet).find((s) => s.options.hostpci0?.startsWith('mapping='))!;
    assert.deepEqual([parseHostpci(mapped.options.hostpci0!).mapping, parseHostpci(mapped.options.hostpci1!).mapping], maps.map((m) => m.id));
  });

  it('a storage controller keeps its option ROM (the VM may boot from it): no rombar=0 for the SAS2008', async () => {
    const hba = dumpBytes(P6T6_DUMP, '04:00.0');
    assert.equal(hba[0x0b], 0x01, 'base class 01: mass storage');
    const r = await run('vm-config', '04:00.0', '--for', 'proxmox', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const hp = parseHostpci(qmLines(r.out).map(parseQmSet).find((s) => s.options.hostpci0 && !s.options.hostpci0.startsWith('mapping='))!.options.hostpci0!);
    assert.equal(hp.host, '0000:04:00.0');
    assert.equal(hp.rombar, undefined);
  });

  it('libvirt: one <hostdev> per function with its address; the minimal domain validates against libvirt\'s schema', async (t) => {
    const r = await run('vm-config', '06:00', '--for', 'libvirt', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const doc = xml.parse(minimalDomain(r.out));
    const hostdevs = doc.domain.devices.hostdev as Array<{ mode: string; type: string; managed: string; source: { address: Record<string, string> }; rom?: { bar: string } }>;
    assert.deepEqual(
      hostdevs.map((h) => [h.mode, h.type, h.managed, h.source.address.domain, h.source.address.bus, h.source.address.slot, h.source.address.function]),
      dumpFunctions(P6T6_DUMP, '06:00').map((f) => ['subsystem', 'pci', 'yes', '0x0000', '0x06', '0x00', `0x${f}`]),
    );
    // The GPU keeps its ROM (VGA BIOS).
    assert.equal(hostdevs[0]!.rom, undefined);
    virtXmlValidate(t, minimalDomain(r.out));
  });

  it('QEMU: vfio-pci per function on one root port, function 0 multifunction=on with x-vga=on', async () => {
    const r = await run('vm-config', '06:00.0', '--for', 'qemu', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const devs = codeLines(r.out).filter((l) => l.startsWith('-device vfio-pci,')).map((l) => Object.fromEntries(l.slice('-device vfio-pci,'.length).split(',').map((kv) => kv.split('=') as [string, string])));
    assert.deepEqual(devs.map((d) => d.host), ['0000:06:00.0', '0000:06:00.1']);
    assert.equal(devs[0]!.multifunction, 'on');
    assert.equal(devs[0]!['x-vga'], 'on');
    assert.deepEqual(devs.map((d) => d.addr), ['00.0', '00.1']);
    assert.ok(codeLines(r.out).includes('-vga none'));
    // Both on the root port the output declares.
    const port = /^-device pcie-root-port,id=([^,]+)/m.exec(r.out)![1];
    assert.ok(devs.every((d) => d.bus === port));
  });

  it('--json: the document validates; functions and entry as the dump has them', async () => {
    const r = await run('vm-config', '06:00.0', '--for', 'qemu', '--json', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.schema, 'assignable/vm-config/v1');
    assert.equal(j.status, 'ok');
    assert.deepEqual(j.entries.map((e: { host: string; allFunctions: boolean }) => [e.host, e.allFunctions]), [['0000:06:00', true]]);
    assert.equal(j.entries[0].functions[0].ids, `${hex4(u16(gpu, 0))}:${hex4(u16(gpu, 2))}`);
    // A hex dump carries no BAR sizes: said, not taken as zero.
    assert.deepEqual(j.mmio.barsUnknown, ['0000:06:00.0', '0000:06:00.1']);
    assert.equal(j.mmio.window64, null);
  });
});

// ---- B550 + RTX 3070 Ti: the kernel's own group, an 8 GiB BAR -----------------------------------

describe('vm-config on a B550 with an RTX 3070 Ti (kernel groups in lspci, 8 GiB BAR)', () => {
  const expected = JSON.parse(readFileSync(join(B550_DIR, 'expected.json'), 'utf8')) as { groups: Record<string, string[]> };
  const [groupId, members] = Object.entries(expected.groups).find(([, m]) => m.includes('0000:0a:00.0'))!;
  const lspci = readFileSync(join(B550_DIR, 'lspci-vvnn.txt'), 'latin1');

  it('the functions are exactly the kernel\'s group; Proxmox passes it whole with iommugroup= in the mapping', async () => {
    const r = await run('vm-config', '0a:00.0', '--for', 'proxmox', '--json', ...B550);
    assert.equal(r.code, EXIT.OK, r.err);
    const j = JSON.parse(r.out);
    assert.deepEqual(j.entries.flatMap((e: { functions: Array<{ address: string }> }) => e.functions.map((f) => f.address)).sort(), [...members].sort());
    const cluster = j.sections.find((s: { title: string }) => /mapping/.test(s.title)).lines as string[];
    const map = parseMapping(cluster.find((l) => l.startsWith('pvesh'))!);
    assert.equal(map.map.iommugroup, groupId);
    assert.equal(map.map.path, '0000:0a:00');
    // lspci's "[10de:2482]" on the header line.
    assert.equal(map.map.id, /\[([0-9a-f]{4}:[0-9a-f]{4})\] \(rev/.exec(lspciRecord(lspci, '0a:00.0'))![1]);
  });

  it('the 64-bit window is a whole power of two, holds every 64-bit BAR of the group aligned, and is the same in QEMU, OVMF and libvirt', async (t) => {
    const aligned = members.map((a) => lspci64BitSizes(lspciRecord(lspci, a.slice(5)))).flat().reduce((s, b) => s + pow2Ceil(b), 0n);
    assert.ok(aligned >= 8n << 30n, 'the 8G BAR is there');
    const q = await run('vm-config', '0a:00.0', '--for', 'qemu', ...B550);
    assert.equal(q.code, EXIT.OK, q.err);
    const hole = /^-global q35-pcihost\.pci-hole64-size=(\d+)([KMGT])$/m.exec(q.out);
    assert.ok(hole, 'pci-hole64-size as a whole number with a unit (never "512.1G")');
    const holeBytes = BigInt(hole[1]!) * UNITS[hole[2]!]!;
    assert.ok(isPow2(holeBytes), `${hole[1]}${hole[2]} is a power of two`);
    assert.ok(holeBytes >= aligned, `${holeBytes} ≥ ${aligned}`);
    const ovmf = /^-fw_cfg name=opt\/ovmf\/X-PciMmio64Mb,string=(\d+)$/m.exec(q.out);
    assert.ok(ovmf, 'X-PciMmio64Mb in whole MiB');
    assert.equal(BigInt(ovmf[1]!) << 20n, holeBytes);
    const l = await run('vm-config', '0a:00.0', '--for', 'libvirt', ...B550);
    assert.equal(l.code, EXIT.OK, l.err);
    const doc = xml.parse(minimalDomain(l.out));
    const ctrl = doc.domain.devices.controller;
    assert.equal(ctrl.model, 'pcie-root');
    assert.equal(ctrl.pcihole64.unit, 'KiB');
    assert.equal(BigInt(ctrl.pcihole64['#text']) * 1024n, holeBytes);
    assert.equal(doc.domain['qemu:commandline']['qemu:arg'][1].value, `name=opt/ovmf/X-PciMmio64Mb,string=${ovmf[1]}`);
    virtXmlValidate(t, minimalDomain(l.out));
  });

  it('Hyper-V: Set-VM once, MMIO from both functions\' BAR sizes (each rounded up to its power of two) plus the default headroom', async () => {
    let low = 0n;
    let high = 0n;
    for (const a of members) {
      for (const m of lspciRecord(lspci, a.slice(5)).matchAll(/Region \d+: Memory at [0-9a-f]+ \((32|64)-bit[^)]*\) \[size=(\d+)([KMGT]?)\]/g)) {
        const size = pow2Ceil(BigInt(m[2]!) * UNITS[m[3]!]!);
        if (m[1] === '64') high += size;
        else low += size;
      }
    }
    const MIB = 1n << 20n;
    const ceil = (n: bigint) => (n + MIB - 1n) / MIB;
    // Hyper-V's own defaults, kept as headroom: 128 MB low, 512 MB high (windows-dda.md §4).
    const r = await run('vm-config', '0a:00.0', '--for', 'hyperv', '--vm', 'vm1', ...B550);
    assert.equal(r.code, EXIT.OK, r.err);
    const sets = codeLines(r.out).filter((l) => /MemoryMappedIoSpace/.test(l));
    assert.deepEqual(sets, [`Set-VM -Name 'vm1' -LowMemoryMappedIoSpace ${ceil(low) + 128n}Mb -HighMemoryMappedIoSpace ${ceil(high) + 512n}Mb`]);
    assert.equal(codeLines(r.out).filter((l) => l.startsWith('Dismount-VMHostAssignableDevice')).length, members.length);
  });
});

describe('the MMIO finding of explain sizes the 64-bit hole the same way (whole, a power of two)', () => {
  it('a 32 GiB BAR (the 3070 Ti\'s 8G one resized, as a 32 GiB resizable BAR): pci-hole64-size is whole and holds the BARs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-vmcfg-'));
    const file = join(dir, 'lspci.txt');
    const text = readFileSync(join(B550_DIR, 'lspci-vvnn.txt'), 'latin1');
    const rec = lspciRecord(text, '0a:00.0');
    writeFileSync(file, text.replace(rec, rec.replace('[size=8G]', '[size=32G]')));
    const aligned = lspci64BitSizes(lspciRecord(readFileSync(file, 'latin1'), '0a:00.0')).reduce((s, b) => s + pow2Ceil(b), 0n);
    // 32 GiB and 32 MiB: twice that is not a whole number of GiB ("64.06G" is what sizing by bytes gives).
    assert.ok(aligned > 32n << 30n && (aligned * 2n) % (1n << 30n) !== 0n);
    const r = await run('explain', '0a:00.0', '--json', '--lspci', file);
    const j = JSON.parse(r.out);
    const mmio = j.devices[0].findings.find((f: { code: string }) => f.code === 'MMIO');
    const cmds = mmio.fixes.flatMap((f: { commands?: string[] }) => f.commands ?? []) as string[];
    const hole = cmds.map((c) => /^-global q35-pcihost\.pci-hole64-size=(\d+)([KMGT])$/.exec(c)).find((m) => m);
    assert.ok(hole, cmds.join(' | '));
    const bytes = BigInt(hole[1]!) * UNITS[hole[2]!]!;
    assert.ok(isPow2(bytes) && bytes >= aligned, `${hole[1]}${hole[2]}`);
    assert.ok(cmds.includes(`<pcihole64 unit='KiB'>${bytes / 1024n}</pcihole64>`));
    const v = await run('vm-config', '0a:00.0', '--for', 'qemu', '--lspci', file);
    assert.match(v.out, new RegExp(`^-global q35-pcihost\\.pci-hole64-size=${hole[1]}${hole[2]}$`, 'm'), 'vm-config gives the same window');
  });
});

// ---- DL380e Gen8: RMRR-blocked devices are refused ----------------------------------------------

describe('vm-config on the HPE DL380e Gen8 (RMRRs)', () => {
  const lspci = readFileSync(join(EX, 'lspci-vvnn.txt'), 'latin1');

  it('refuses a device an RMRR blocks: exit 1, the blocking finding, a pointer to explain, nothing on stdout', async () => {
    const r = await run('vm-config', '02:00.0', '--for', 'proxmox', ...DL380E);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.equal(r.out, '');
    assert.match(r.err, /RMRR_DIRECT/);
    assert.match(r.err, /assignable explain 0000:02:00\.0/);
    assert.match(r.err, /--force/);
  });

  it('--json of a refusal: status refused with the blockers, no configuration', async () => {
    const r = await run('vm-config', '02:00.0', '--for', 'libvirt', '--json', ...DL380E);
    assert.equal(r.code, EXIT.BLOCKED);
    const j = JSON.parse(r.out);
    assert.equal(j.status, 'refused');
    assert.ok(j.blockers.some((b: { code: string }) => b.code === 'RMRR_DIRECT'));
    assert.deepEqual(j.sections, []);
  });

  it('Hyper-V refuses the iLO\'s display function (management controller) too', async () => {
    const r = await run('vm-config', '01:00.1', '--for', 'hyperv', ...DL380E);
    assert.equal(r.code, EXIT.BLOCKED);
    assert.match(r.err, /MANAGEMENT_CONTROLLER/);
    assert.match(r.err, /--target dda/);
  });

  it('--force prints it marked as blocked: one I350 port alone (each port has ACS), rombar=0 for the NIC', async () => {
    const r = await run('vm-config', '02:00.0', '--for', 'proxmox', '--force', ...DL380E);
    assert.equal(r.code, EXIT.OK, r.err);
    assert.match(r.out, /^# BLOCKED \(RMRR_DIRECT\)/m);
    // lspci: the port is an Ethernet controller [0200] with its own ACS capability, one of four functions.
    const rec = lspciRecord(lspci, '02:00.0');
    assert.match(rec, /\[0200\]/);
    assert.match(rec, /Access Control Services/);
    assert.equal(dumpFunctions(lspci, '02:00').length, 4);
    const hp = parseHostpci(qmLines(r.out).map(parseQmSet).find((s) => s.options.hostpci0 && !s.options.hostpci0.startsWith('mapping='))!.options.hostpci0!);
    assert.equal(hp.host, '0000:02:00.0');
    assert.equal(hp.rombar, '0');
    assert.equal(hp['x-vga'], undefined);
  });

  it('--force for libvirt: <rom bar=\'off\'/> for the NIC, and the domain still validates', async (t) => {
    const r = await run('vm-config', '02:00.0', '--for', 'libvirt', '--force', ...DL380E);
    assert.equal(r.code, EXIT.OK, r.err);
    const doc = xml.parse(minimalDomain(r.out));
    const hostdevs = doc.domain.devices.hostdev as Array<{ source: { address: Record<string, string> }; rom?: { bar: string } }>;
    assert.deepEqual(hostdevs.map((h) => [h.source.address.bus, h.source.address.function, h.rom?.bar]), [['0x02', '0x0', 'off']]);
    virtXmlValidate(t, minimalDomain(r.out));
  });
});

describe('vm-config --for hyperv on a Linux capture (no Windows instance ids)', () => {
  it('each function is looked up by its own location path into its own variable; Set-VM once with both functions\' MMIO unknown, said so', async () => {
    const r = await run('vm-config', '06:00.0', '--for', 'hyperv', '--vm', 'vm1', '--capture', P6T6);
    assert.equal(r.code, EXIT.OK, r.err);
    const lines = codeLines(r.out);
    const lookups = lines.filter((l) => /^\$id\d* = \(Get-PnpDevice/.test(l));
    assert.equal(lookups.length, dumpFunctions(P6T6_DUMP, '06:00').length);
    const vars = lookups.map((l) => l.split(' ')[0]);
    assert.equal(new Set(vars).size, vars.length, 'one variable per function');
    // Each function's enable (undo) names its own variable.
    for (const v of vars) assert.ok(lines.includes(`Enable-PnpDevice -InstanceId ${v} -Confirm:$false`), v);
    assert.equal(lines.filter((l) => l.startsWith('Set-VM ')).some((l) => /MemoryMappedIoSpace/.test(l)), false, 'no MMIO from sizes that were not read');
    assert.match(r.out, /BAR sizes are unknown/);
  });
});

// ---- Hyper-V from Windows' own answers -----------------------------------------------------------

describe('vm-config --for hyperv on the G7-like Windows probe capture', () => {
  const probe = JSON.parse(readFileSync(G7_WIN, 'utf8')) as { pciDevices: Array<{ instanceId: string; properties: Record<string, unknown> }> };
  const windowsPath = (dev: string) => (probe.pciDevices.find((d) => d.instanceId.startsWith('PCI\\') && d.instanceId.includes(dev))!.properties.DEVPKEY_Device_LocationPaths as string[]).find((p) => p.startsWith('PCIROOT'))!;

  it('refused without --force (no interrupt remapping on this DMAR), then the DDA commands on Windows\' own location paths, the VM settings once', async () => {
    const refused = await run('vm-config', '06:00.0', '--for', 'hyperv', '--capture', G7_WIN);
    assert.equal(refused.code, EXIT.BLOCKED);
    assert.match(refused.err, /INTERRUPT_REMAPPING_ABSENT/);
    const r = await run('vm-config', '06:00.0', '--for', 'hyperv', '--vm', 'gpu vm', '--force', '--capture', G7_WIN);
    assert.equal(r.code, EXIT.OK, r.err);
    const lines = codeLines(r.out);
    for (const dev of ['DEV_0A65', 'DEV_0BE3']) {
      const lp = windowsPath(dev);
      assert.ok(lines.some((l) => /^Dismount-VMHostAssignableDevice( -Force)? -LocationPath /.test(l) && l.endsWith(`'${lp}'`)), `dismount ${lp}`);
      assert.ok(lines.includes(`Add-VMAssignableDevice -LocationPath '${lp}' -VMName 'gpu vm'`), `add ${lp}`);
    }
    assert.equal(lines.filter((l) => l.startsWith("Set-VM -Name 'gpu vm' -AutomaticStopAction TurnOff")).length, 1);
  });
});

// ---- Exit statuses and usage ---------------------------------------------------------------------

describe('vm-config: usage and exit statuses', () => {
  it('bad --for, a missing --for, a non-numeric Proxmox VMID, --vm for qemu, an unknown device, an ambiguous name: exit 2, one line', async () => {
    for (const args of [
      ['06:00.0', '--capture', P6T6],
      ['06:00.0', '--for', 'xen', '--capture', P6T6],
      ['06:00.0', '--for', 'proxmox', '--vm', 'myvm', '--capture', P6T6],
      ['06:00.0', '--for', 'qemu', '--vm', 'x', '--capture', P6T6],
      ['06:00.0', '--for', 'libvirt', '--node', 'pve1', '--capture', P6T6],
      ['0f:00.0', '--for', 'qemu', '--capture', P6T6],
      ['realtek', '--for', 'qemu', '--capture', P6T6],
    ]) {
      const r = await run('vm-config', ...args);
      assert.equal(r.code, EXIT.INPUT, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
  });

  it('a bridge is not a device to configure: exit 2, saying so', async () => {
    // 00:03.0 is a PCI-to-PCI bridge: class 06/04 at bytes 0x0b/0x0a of the dump.
    const b = dumpBytes(P6T6_DUMP, '00:03.0');
    assert.deepEqual([b[0x0b], b[0x0a]], [0x06, 0x04]);
    const r = await run('vm-config', '00:03.0', '--for', 'qemu', '--capture', P6T6);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /is a bridge/);
  });

  it('capabilities not read (lspci without root): no pcie=1 claimed, a note says it is unknown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-vmcfg-'));
    const file = join(dir, 'lspci.txt');
    // What lspci prints without root: "Capabilities: <access denied>".
    writeFileSync(file, readFileSync(join(B550_DIR, 'lspci-vvnn.txt'), 'latin1').replace(/^\tCapabilities: \[[^\n]*(\n\t\t[^\n]*)*/gm, '\tCapabilities: <access denied>'));
    const r = await run('vm-config', '0a:00.0', '--for', 'proxmox', '--lspci', file);
    assert.equal(r.code, EXIT.OK, r.err);
    const hp = parseHostpci(qmLines(r.out).map(parseQmSet).find((s) => s.options.hostpci0 && !s.options.hostpci0.startsWith('mapping='))!.options.hostpci0!);
    assert.equal(hp.pcie, undefined);
    assert.match(r.out, /is PCI Express is unknown/);
  });

  it('a host whose firmware describes no IOMMU: refused with exit 4 (IOMMU_ABSENT)', async () => {
    // A live tree from the same dump whose ACPI tables directory holds no DMAR or IVRS.
    const root = sysfsTreeFromDump(P6T6_DUMP, { kernel: '6.8.12-4-pve', cmdline: 'ro quiet' });
    mkdirSync(join(root, 'sys/firmware/acpi/tables'), { recursive: true });
    const r = await run('vm-config', '06:00.0', '--for', 'qemu', '--root', root);
    assert.equal(r.code, EXIT.ABSENT, r.err);
    assert.match(r.err, /IOMMU_ABSENT/);
  });
});
