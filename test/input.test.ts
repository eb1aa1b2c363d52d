/**
 * Text inputs users paste (issue 7, points 14–15): IOMMU group listings, lspci -mm/-vmm,
 * re-encoded and re-indented pastes. Oracles are independent of our reader: the kernel's own
 * groups (expected.json, from pciutils' "IOMMU group:" lines), the config bytes of pciutils'
 * dumps, acpixtract's raw table.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSurvey } from '../src/checks/index.js';
import { buildHost } from '../src/host/build.js';
import { configFromLspci, parseLspci, parseLspciInput } from '../src/firmware/pci/lspci-text.js';
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { decodeTextInput, isTextInput } from '../src/firmware/text.js';
import { acpiTableFromBytes } from '../src/firmware/acpi/input.js';
import { decodeDmarTable } from '../src/firmware/acpi/dmar.js';
import { functionsFromCapture, readCaptureFiles } from '../src/sources/capture-files.js';
import { fixture, fixtureText } from './helpers.js';

const MACHINES = ['hp-t630-thin-client-4aa2f6', 'framework-laptop13-mtl-717edb'];

/** The kernel's partition, as sets: group numbers are labels, the partition is the fact. */
function expectedPartition(machine: string): string[] {
  const j = JSON.parse(readFileSync(fixture('pci/iommu-groups', machine, 'expected.json'), 'utf8')) as { groups: Record<string, string[]> };
  return Object.values(j.groups).map((g) => [...g].sort().join(' ')).sort();
}

function partitionOf(groups: Map<number, string[]>): string[] {
  return [...groups.values()].map((g) => [...g].sort().join(' ')).sort();
}

/** The header line of each function (exactly what `lspci -nns ADDR` prints) and its group line. */
function headersWithGroups(machine: string): Array<{ header: string; group: number }> {
  const out: Array<{ header: string; group: number }> = [];
  let header: string | null = null;
  for (const l of fixtureText('pci/iommu-groups', machine, 'lspci-vvnn.txt').split('\n')) {
    if (/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)) header = l;
    const g = /^\tIOMMU group: (\d+)$/.exec(l);
    if (g && header) {
      out.push({ header, group: Number(g[1]) });
      header = null;
    }
  }
  return out;
}

/** The three listing formats users paste, built from real lspci header lines. */
const LISTINGS: Record<string, (rows: Array<{ header: string; group: number }>) => string> = {
  // for d in /sys/kernel/iommu_groups/*/devices/*; do …; printf 'IOMMU Group %s ' "$n"; lspci -nns "${d##*/}"; done
  'Arch wiki one-line': (rows) => rows.map((r) => `IOMMU Group ${r.group} ${r.header}\n`).join(''),
  // echo "IOMMU Group N:" then echo -e "\t$(lspci -nns …)" for each device
  'Arch wiki grouped': (rows) => {
    const groups = new Map<number, string[]>();
    for (const r of rows) groups.set(r.group, [...(groups.get(r.group) ?? []), r.header]);
    return [...groups].map(([g, hs]) => `IOMMU Group ${g}:\n${hs.map((h) => `\t${h}\n`).join('')}`).join('');
  },
  // ls-iommu (pkg/iommu/genoutput.go): "IOMMU Group %3d:", full address, class id without colon
  'ls-iommu': (rows) =>
    rows.map((r) => `IOMMU Group ${String(r.group).padStart(3)}: 0000:${r.header.replace(/^(\S+ [^[]*\[[0-9a-f]{4}\]):/, '$1')}\n`).sort().join(''),
};

describe('IOMMU group listings (Arch wiki script, ls-iommu) are the kernel\'s groups', () => {
  for (const m of MACHINES) {
    for (const [name, build] of Object.entries(LISTINGS)) {
      it(`${m}: ${name}`, () => {
        const rows = headersWithGroups(m);
        const input = parseLspciInput(build(rows));
        assert.equal(input.kind, 'iommu-listing');
        assert.deepEqual(partitionOf(input.groups!), expectedPartition(m));
        // Identity from "[vvvv:dddd]", class from "[cccc]", read off the lspci line by hand.
        for (const r of rows) {
          const addr = '0000:' + r.header.slice(0, 7);
          const fn = input.capture.functions.find((f) => `0000:${f.address.bus.toString(16).padStart(2, '0')}:${f.address.device.toString(16).padStart(2, '0')}.${f.address.function}` === addr);
          assert.ok(fn, addr);
          const ids = [...r.header.matchAll(/\[([0-9a-f]{4}):([0-9a-f]{4})\]/g)].at(-1)!;
          assert.equal(fn.vendorId, parseInt(ids[1]!, 16), addr);
          assert.equal(fn.deviceId, parseInt(ids[2]!, 16), addr);
          assert.equal(fn.classBaseSub, parseInt(/\[([0-9a-f]{4})\]:/.exec(r.header)![1]!, 16), addr);
        }
        // No config space in a listing: capabilities are unknown, not "none".
        for (const f of functionsFromCapture(input.capture)) {
          assert.equal(f.config.capabilities, undefined);
          assert.equal(f.config.acs, undefined);
          assert.equal(f.config.pcie, undefined);
        }
      });
    }
  }
  it('ls-iommu -k: the "Kernel driver in use" lines under each function are read', () => {
    const m = MACHINES[0]!;
    const drivers = new Map<string, string>();
    let addr = '';
    const lines: string[] = [];
    let group = -1;
    let header = '';
    for (const l of fixtureText('pci/iommu-groups', m, 'lspci-vvnn.txt').split('\n')) {
      if (/^[0-9a-f]{2}:/.test(l)) header = l;
      if (/^[0-9a-f]{2}:/.test(l)) addr = '0000:' + l.slice(0, 7);
      const g = /^\tIOMMU group: (\d+)$/.exec(l);
      if (g) group = Number(g[1]);
      const d = /^\tKernel driver in use: (\S+)$/.exec(l);
      if (d && group >= 0) {
        drivers.set(addr, d[1]!);
        lines.push(`IOMMU Group ${String(group).padStart(3)}: ${addr}${header.slice(7).replace(/^([^[]*\[[0-9a-f]{4}\]):/, '$1')}\n\tKernel driver in use: ${d[1]}\n`);
        group = -1;
      }
    }
    assert.ok(drivers.size > 0);
    const input = parseLspciInput(lines.join(''));
    for (const f of input.capture.functions) {
      const a = `0000:${f.address.bus.toString(16).padStart(2, '0')}:${f.address.device.toString(16).padStart(2, '0')}.${f.address.function}`;
      assert.equal(f.driver, drivers.get(a), a);
    }
    assert.equal(input.capture.functions.length, drivers.size);
  });
  it('a real paste: a user\'s iommu_check output kept as "#" comments (hernad, DL380p Gen8)', () => {
    const text = fixtureText('logs', 'hp-proliant-dl380p-gen8-hernad.iommu-groups.txt');
    // The groups as the user's script printed them, read off each line by hand.
    const want = new Map<string, number>();
    for (const m of text.matchAll(/^#IOMMU Group (\d+)\s+([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /gm)) want.set(`0000:${m[2]}`, Number(m[1]));
    assert.ok(want.size > 50);
    const input = parseLspciInput(text);
    const got = new Map<string, number>();
    for (const [g, devs] of input.groups!) for (const d of devs) got.set(d, g);
    assert.deepEqual(got, want);
  });
  it('a function listed twice is refused', () => {
    const rows = headersWithGroups(MACHINES[0]!);
    assert.throws(() => parseLspciInput(LISTINGS['Arch wiki one-line']!([...rows, rows[0]!])), /listed twice/);
  });
});

/** Vendor, device and class straight from the dump's config bytes. */
function idsFromDump(name: string): Map<string, { vendor: number; device: number; cls: number }> {
  const out = new Map<string, { vendor: number; device: number; cls: number }>();
  let addr: string | null = null;
  for (const l of fixtureText('pci/pciutils-tests', `${name}.dump.txt`).split('\n')) {
    const h = /^((?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) /.exec(l);
    if (h) addr = h[1]!.length === 7 ? `0000:${h[1]}` : h[1]!;
    if (addr && l.startsWith('00: ')) {
      const b = l.slice(4).trim().split(' ').map((x) => parseInt(x, 16));
      out.set(addr, { vendor: b[0]! | (b[1]! << 8), device: b[2]! | (b[3]! << 8), cls: b[10]! | (b[11]! << 8) });
    }
  }
  return out;
}

describe('lspci -mm -nn and -vmm -nn: identity and class, capabilities unknown', () => {
  for (const name of ['asus-p6t6-pciutils-tree', 'pciutils-PCI-X-bridges-and-domains']) {
    for (const form of ['mmnn', 'vmmnn']) {
      it(`${name} -${form}`, () => {
        const input = parseLspciInput(fixtureText('pci/machine', `${name}.lspci39-${form}.txt`));
        const bytes = idsFromDump(name);
        assert.equal(input.capture.functions.length, bytes.size);
        for (const f of input.capture.functions) {
          const a = `${f.address.segment.toString(16).padStart(4, '0')}:${f.address.bus.toString(16).padStart(2, '0')}:${f.address.device.toString(16).padStart(2, '0')}.${f.address.function}`;
          const want = bytes.get(a);
          assert.ok(want, a);
          assert.deepEqual({ vendor: f.vendorId, device: f.deviceId, cls: f.classBaseSub }, want, a);
        }
        for (const f of functionsFromCapture(input.capture)) assert.equal(f.config.capabilities, undefined);
      });
    }
  }
  it('-mm without -nn has no ids: refused, saying what to paste', () => {
    assert.throws(() => parseLspciInput(fixtureText('pci/machine', 'asus-p6t6-pciutils-tree.lspci39-mm.txt')), /without -nn .*lspci -nnvvv/);
  });
});

/** Re-encodings of a real capture: every one must give the kernel's groups. */
function encodings(text: string): Record<string, Uint8Array> {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.from(le);
  be.swap16();
  return {
    'CRLF': Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1'),
    'CR only': Buffer.from(text.replace(/\n/g, '\r'), 'latin1'),
    'UTF-16LE with BOM': Buffer.concat([Buffer.from([0xff, 0xfe]), le]),
    'UTF-16BE with BOM': Buffer.concat([Buffer.from([0xfe, 0xff]), be]),
    'UTF-16LE without BOM': le,
    'UTF-16BE without BOM': be,
    'UTF-8 BOM': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'latin1')]),
    'indented (forum code block)': Buffer.from(text.split('\n').map((l) => (l === '' ? l : '    ' + l)).join('\n'), 'latin1'),
  };
}

describe('pastes in other encodings, line ends and indentation read the same', () => {
  const m = MACHINES[0]!;
  const text = fixtureText('pci/iommu-groups', m, 'lspci-vvnn.txt');
  for (const [name, bytes] of Object.entries(encodings(text))) {
    it(`lspci -vvnn, ${name}: the kernel's groups`, () => {
      const input = parseLspciInput(decodeTextInput(bytes));
      const groups = new Map<number, string[]>();
      for (const f of input.capture.functions) {
        if (f.iommuGroup === null) continue; // the IOMMU itself and the host bridge are in no group
        const a = `0000:${f.address.bus.toString(16).padStart(2, '0')}:${f.address.device.toString(16).padStart(2, '0')}.${f.address.function}`;
        groups.set(f.iommuGroup!, [...(groups.get(f.iommuGroup!) ?? []), a]);
      }
      assert.deepEqual(partitionOf(groups), expectedPartition(m));
      // -vv text holds the capabilities: an encoding must not lose them (records with a
      // "Capabilities: [" line or "Status: Cap-", counted on the file itself).
      // A root run that read extended space (a "[1xx" capability shows, nothing "<access denied>")
      // lists every capability there is, so each record with a Status line is complete too.
      const rootRun = /\tCapabilities: \[1[0-9a-f]{2}/.test(text) && !text.includes('<access denied>');
      const withCaps = text.split(/\n(?=[0-9a-f]{2}:)/).filter((r) => r.includes('\tCapabilities: [') || r.includes('\tStatus: Cap-') || (rootRun && r.includes('\tStatus: '))).length;
      assert.ok(withCaps > 0);
      assert.equal(functionsFromCapture(input.capture).filter((f) => f.config.capabilities !== undefined).length, withCaps);
    });
  }
  const dumpText = fixtureText('dmar/acpidump', 'dell-poweredge-r820-e5985c.acpidump.txt');
  const raw = new Uint8Array(readFileSync(fixture('dmar', 'dell-poweredge-r820-e5985c.dat')));
  for (const [name, bytes] of Object.entries(encodings(dumpText))) {
    it(`acpidump text, ${name}: the DMAR acpixtract extracted`, () => {
      const t = acpiTableFromBytes(bytes, 'DMAR');
      assert.deepEqual(new Uint8Array(t.view.bytes), raw);
      assert.equal(decodeDmarTable(t).checksumOk, true);
    });
  }
});

describe('text or binary: judged on the first 4096 bytes, by the control characters in them', () => {
  // What text may hold: printable ASCII, bytes above 0x7f (Latin-1 or UTF-8), tab, LF, FF and CR.
  const allowed = (c: number) => (c >= 0x20 && c !== 0x7f) || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
  it('every byte value, alone in a line of text', () => {
    for (let c = 0; c < 256; c++) {
      const b = new Uint8Array(Buffer.from(`00:1f.0 ISA bridge:${String.fromCharCode(c)}Intel\n`, 'latin1'));
      assert.equal(isTextInput(b), allowed(c), `byte 0x${c.toString(16)}`);
    }
  });
  it('a control character past the first 4096 bytes does not decide it; one at byte 4095 does', () => {
    const b = new Uint8Array(5000).fill(0x41);
    b[4096] = 0;
    assert.equal(isTextInput(b), true);
    b[4095] = 0;
    assert.equal(isTextInput(b), false);
    // A view into a larger buffer is judged on its own bytes.
    const big = new Uint8Array(8192).fill(0x41);
    big[10] = 1;
    assert.equal(isTextInput(big.subarray(100)), true);
    assert.equal(isTextInput(big.subarray(0, 50)), false);
  });
});

describe('a paste whose tabs became spaces still gives the capabilities the bytes hold', () => {
  for (const name of ['asus-p6t6-pciutils-tree', 'pciutils-cap-rcec', 'pciutils-cap-aer-log']) {
    it(name, () => {
      const dump = parseLspci(fixtureText('pci/pciutils-tests', `${name}.dump.txt`));
      // An editor with expandtab: every leading tab becomes eight spaces.
      const spaced = fixtureText('pci/pciutils-tests', `${name}.lspci313-vvvnn.txt`).replace(/^\t+/gm, (t) => ' '.repeat(8 * t.length));
      const text = parseLspciInput(spaced).capture;
      assert.equal(text.functions.length, dump.functions.length);
      let withCaps = 0;
      for (const fn of dump.functions) {
        const t = text.functions.find((x) => JSON.stringify(x.address) === JSON.stringify(fn.address))!;
        const a = decodePciConfig(fn.config!);
        const b = configFromLspci(t);
        withCaps += a.capabilities!.length > 0 ? 1 : 0;
        assert.deepEqual(b.capabilities?.map((c) => c.offset), a.capabilities?.map((c) => c.offset), JSON.stringify(fn.address));
        for (const k of ['pm', 'msi', 'msix', 'pcie', 'bridge'] as const) assert.deepEqual(b[k], a[k], `${JSON.stringify(fn.address)} ${k}`);
      }
      assert.ok(withCaps > 0);
    });
  }
});

describe('what the survey says of a listing\'s unknown capabilities', () => {
  it('names the input it came from, not a 64-byte sysfs read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-listing-'));
    try {
      const file = join(dir, 'groups.txt');
      writeFileSync(file, headersWithGroups(MACHINES[0]!).map((r) => `IOMMU Group ${r.group} ${r.header}`).join('\n') + '\n');
      const sv = runSurvey(buildHost(readCaptureFiles({ lspci: file })));
      const unknown = sv.devices.flatMap((r) => r.findings).filter((f) => f.code === 'CAPABILITIES_UNKNOWN');
      assert.ok(unknown.length > 0);
      for (const f of unknown) {
        assert.doesNotMatch(f.message, /64 bytes/);
        assert.match(f.message, /no capability list/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
