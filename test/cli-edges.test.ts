/**
 * The CLI's edges as a user meets them (issue 7, points 14–17), each run as a child process
 * of the built binary: bad input is one line naming the file and a documented exit status
 * (never 70, never a stack); pipes work both ways; hostile text takes linear time.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../src/cli/exit.js';
import { fixture, ROOT } from './helpers.js';
import { validatedJson } from './json-schema.js';

/** The installed program (package.json "bin"), as `npm test`'s build leaves it. */
const bin = join(ROOT, 'dist/assignable.cjs');
const built = existsSync(bin);
const LSPCI = fixture('pci/hpe', 'hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');
const T630 = fixture('pci/iommu-groups/hp-t630-thin-client-4aa2f6');
const CONREP = fixture('conrep', 'busterswt-verify.clean.dat');
const README = join(ROOT, 'README.md');
let dir = '';

function cli(args: string[], input?: Buffer | string) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, timeout: 120_000 });
  return validatedJson({ code: r.status, out: r.stdout, err: r.stderr, signal: r.signal });
}

/** One line on stderr, naming `file`, no stack, no "internal error". */
function assertOneLine(r: ReturnType<typeof cli>, code: number, file: string, what?: RegExp) {
  assert.equal(r.signal, null, 'killed: it hung');
  assert.equal(r.code, code, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.doesNotMatch(r.err, /internal error|\n\s+at /);
  assert.ok(r.err.includes(file), `names ${file}: ${r.err}`);
  if (what) assert.match(r.err, what);
}

function write(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** The kernel's partition from expected.json, and the one the survey reports. */
function expectedPartition(): string[] {
  const j = JSON.parse(readFileSync(join(T630, 'expected.json'), 'utf8')) as { groups: Record<string, string[]> };
  return Object.values(j.groups).map((g) => [...g].sort().join(' ')).sort();
}
function surveyPartition(json: string): string[] {
  const j = JSON.parse(json) as { devices: Array<{ address: string; iommuGroup: number | null }> };
  const g = new Map<number, string[]>();
  for (const d of j.devices) if (d.iommuGroup !== null) g.set(d.iommuGroup, [...(g.get(d.iommuGroup) ?? []), d.address]);
  return [...g.values()].map((x) => x.sort().join(' ')).sort();
}

/** The Arch wiki loop's output, from real header and group lines. */
function archListing(): string {
  let h = '';
  const out: string[] = [];
  for (const l of readFileSync(join(T630, 'lspci-vvnn.txt'), 'latin1').split('\n')) {
    if (/^[0-9a-f]{2}:/.test(l)) h = l;
    const g = /^\tIOMMU group: (\d+)/.exec(l);
    if (g) out.push(`IOMMU Group ${g[1]} ${h}\n`);
  }
  return out.join('');
}

describe('cli edges', { skip: built ? false : 'dist/ not built: run `npm run build` (npm test does)' }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'assignable-edges-'));
  });

  describe('inputs that are not what the option expects: exit 2, one line naming the file (point 15)', () => {
    it('survey --lspci README.md (Markdown holding lspci lines)', () => {
      assertOneLine(cli(['survey', '--lspci', README]), EXIT.INPUT, 'README.md', /no(?:t)? lspci.*Markdown/);
    });
    it('survey --capture README.md: what the file is, not a tar field', () => {
      assertOneLine(cli(['survey', '--capture', README]), EXIT.INPUT, 'README.md', /not a capture.*Markdown/);
    });
    it('survey --kernel banana', () => {
      assertOneLine(cli(['survey', '--lspci', LSPCI, '--kernel', 'banana']), EXIT.INPUT, 'banana', /kernel release/);
    });
    it('survey --acpidump with a text that is not acpidump output', () => {
      assertOneLine(cli(['survey', '--lspci', LSPCI, '--acpidump', README]), EXIT.INPUT, 'README.md', /Markdown/);
    });
    it('survey --dmesg with a text that is not a kernel log', () => {
      assertOneLine(cli(['survey', '--lspci', LSPCI, '--dmesg', README]), EXIT.INPUT, 'README.md', /kernel log/);
    });
    it('survey --dmidecode with a text that is not dmidecode output', () => {
      assertOneLine(cli(['survey', '--lspci', LSPCI, '--dmidecode', README]), EXIT.INPUT, 'README.md', /dmidecode/);
    });
    it('empty files given as --dmidecode, --dmesg, --acpidump', () => {
      const f = write('empty-input', '');
      for (const o of ['--dmidecode', '--dmesg', '--acpidump']) assertOneLine(cli(['survey', '--lspci', LSPCI, o, f]), EXIT.INPUT, f);
    });
    it('smbios and dmar on a text of another kind', () => {
      assertOneLine(cli(['smbios', README]), EXIT.INPUT, 'README.md');
      assertOneLine(cli(['dmar', README]), EXIT.INPUT, 'README.md');
    });
  });

  describe('lspci pastes (point 14)', () => {
    it('lspci -tv: refused, saying what to paste', () => {
      const f = fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.lspci313-tvnn.txt');
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.INPUT, f, /lspci -t .*lspci -nnvvv/);
    });
    it('lspci -mm without -nn: refused, saying what to paste', () => {
      const f = fixture('pci/machine', 'asus-p6t6-pciutils-tree.lspci39-mm.txt');
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.INPUT, f, /-nn/);
    });
    it('an empty file', () => {
      const f = write('empty.txt', '');
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.INPUT, f, /empty/);
    });
    it('a file holding one address twice (two captures pasted together)', () => {
      const t = readFileSync(LSPCI, 'latin1');
      const f = write('twice.txt', t + '\n' + t);
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.INPUT, f, /appears twice/);
    });
    it('a binary file', () => {
      const f = write('binary.dat', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(200).fill(0), 0x0a, 0x30, 0x30, 0x3a, 0x30, 0x30, 0x2e, 0x30, 0x20]));
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.INPUT, f, /binary/);
    });
    it('bytes of a binary file quoted in a message are not sent to the terminal raw', () => {
      // A tar header whose checksum field (offset 148) holds an escape sequence and a bell.
      const block = new Uint8Array(1024);
      block[0] = 0x61;
      block.set([0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x1b, 0x5d, 0x30], 148);
      const f = write('escape.tar', block);
      const r = cli(['survey', '--capture', f]);
      assertOneLine(r, EXIT.INPUT, f);
      assert.doesNotMatch(r.err.trimEnd(), /[\x00-\x1f\x7f]/);
    });
    it('two inputs from standard input', () => {
      const r = cli(['survey', '--lspci', '-', '--dmesg', '-'], 'x');
      assert.equal(r.code, EXIT.INPUT);
      assert.match(r.err, /standard input can be read once/);
    });
    it('a file that does not exist: exit 3', () => {
      const f = join(dir, 'nope.txt');
      assertOneLine(cli(['survey', '--lspci', f]), EXIT.ENVIRONMENT, f);
    });
    it('an IOMMU group listing is accepted: the survey shows the kernel\'s groups', () => {
      const f = write('arch.txt', archListing());
      const r = cli(['survey', '--lspci', f, '--all', '--json']);
      assert.ok(r.code === EXIT.OK || r.code === EXIT.BLOCKED, r.err);
      assert.deepEqual(surveyPartition(r.out), expectedPartition());
    });
    it('UTF-16 and CR-only acpidump text: DMAR read (not "no IOMMU", exit 4)', () => {
      const t = readFileSync(fixture('dmar/acpidump', 'dell-poweredge-r820-e5985c.acpidump.txt'), 'latin1');
      const raw = cli(['dmar', fixture('dmar', 'dell-poweredge-r820-e5985c.dat'), '--json']);
      for (const [name, data] of [['cr.txt', Buffer.from(t.replace(/\r?\n/g, '\r'), 'latin1')], ['u16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])]] as const) {
        const f = write(name, data);
        const s = cli(['survey', '--lspci', LSPCI, '--acpidump', f]);
        assert.notEqual(s.code, EXIT.ABSENT, s.err);
        assert.doesNotMatch(s.err, /internal error/);
        const d = cli(['dmar', f, '--json']);
        assert.equal(d.code, EXIT.OK, d.err);
        assert.equal(d.out, raw.out);
      }
    });
  });

  describe('hostile XML for conrep lint/diff/decode (point 14)', () => {
    const cases: Record<string, string> = {
      'out-of-range character reference': '<?xml version="1.0"?>\n<Conrep><Section name="RMRDS_Slot1">&#x110000;</Section></Conrep>\n',
      'NUL character reference': '<Conrep><Section name="RMRDS_Slot1">&#0;</Section></Conrep>\n',
      'deep nesting': '<Conrep>' + '<a>'.repeat(20000) + '</a>'.repeat(20000) + '</Conrep>\n',
      '__proto__ element': '<Conrep><__proto__/></Conrep>\n',
      '__proto__ attribute': '<Conrep><Section name="RMRDS_Slot1" __proto__="x">Endpoints_Included</Section></Conrep>\n',
      'constructor element': '<Conrep><constructor/></Conrep>\n',
      'unclosed <?xml': '<?xml version="1.0"\n<Conrep></Conrep>\n',
      'unclosed comment': '<Conrep><!-- never closed\n',
    };
    for (const [name, xml] of Object.entries(cases)) {
      it(name, () => {
        const f = write(`${name.replace(/\W+/g, '-')}.xml`, xml);
        assertOneLine(cli(['conrep', 'lint', f]), EXIT.INPUT, f);
        assertOneLine(cli(['conrep', 'diff', f, CONREP]), EXIT.INPUT, f);
        assertOneLine(cli(['conrep', 'lint', CONREP, '--schema', f]), EXIT.INPUT, f);
      });
    }
    it('a settings file saved as UTF-16 reads as the same settings', () => {
      const f = write('utf16.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(CONREP, 'utf8'), 'utf16le')]));
      const r = cli(['conrep', 'diff', f, CONREP]);
      assert.equal(r.code, EXIT.OK, r.err);
      assert.match(r.out, /no differences/);
    });
    it('a conrep image missing fields', () => {
      for (const [i, j] of ['{"platform":{},"nvram":"","cmos":""}', '{"platform":"x","nvram":"00","cmos":"00"}', '{"platform":{"platform":"ProLiant DL360e Gen8","family":"P73","romDate":"08/02/2014","procMan":"Intel"},"nvram":"00","cmos":"00","ev":[1]}'].entries()) {
        const f = write(`image${i}.json`, j);
        assertOneLine(cli(['conrep', 'decode', f]), EXIT.INPUT, f);
      }
    });
  });

  describe('pipes (point 17)', () => {
    it('--lspci - reads standard input', () => {
      const r = cli(['survey', '--lspci', '-', '--all', '--json'], readFileSync(join(T630, 'lspci-vvnn.txt')));
      assert.ok(r.code === EXIT.OK || r.code === EXIT.BLOCKED, r.err);
      assert.deepEqual(surveyPartition(r.out), expectedPartition());
    });
    it('--lspci <(…): a pipe the user named is read', (t) => {
      if (spawnSync('bash', ['-c', 'true']).status !== 0) return t.skip('no bash for process substitution');
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" survey --all --json --lspci <(cat "${join(T630, 'lspci-vvnn.txt')}")`], { encoding: 'utf8', timeout: 120_000 });
      assert.ok(r.status === EXIT.OK || r.status === EXIT.BLOCKED, r.stderr);
      assert.deepEqual(surveyPartition(r.stdout), expectedPartition());
    });
    it('standard output that cannot be written (a full device) is one line on stderr and exit 3, for --version too', (t) => {
      if (!existsSync('/dev/full')) return t.skip('no /dev/full on this system');
      for (const args of [['survey', '--lspci', LSPCI], ['--version']]) {
        const errFile = join(dir, 'full.err');
        const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" ${args.map((a) => `"${a}"`).join(' ')} >/dev/full 2>"${errFile}"; echo $?`], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(Number(r.stdout.trim()), EXIT.ENVIRONMENT, args.join(' '));
        assert.match(readFileSync(errFile, 'utf8'), /^assignable: standard output: ENOSPC[^\n]*\n$/, args.join(' '));
      }
    });
    for (const args of [['survey', '--all', '--json', '--lspci', LSPCI], ['explain', '00:1c.0', '--lspci', LSPCI]]) {
      it(`${args[0]} … | a reader that has gone: no stack, the command's own status`, (t) => {
        if (spawnSync('bash', ['-c', 'true']).status !== 0) return t.skip('no bash for the pipeline');
        const errFile = join(dir, `${args[0]}.err`);
        // `true` exits without reading: every write of ours meets a closed pipe (EPIPE).
        const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" ${args.map((a) => `"${a}"`).join(' ')} 2>"${errFile}" | true; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 120_000 });
        const status = Number(r.stdout.trim());
        const alone = cli(args);
        assert.equal(status, alone.code, readFileSync(errFile, 'utf8'));
        assert.equal(readFileSync(errFile, 'utf8'), alone.err);
      });
    }
  });

  describe('hostile text takes linear time (point 16)', () => {
    // Each case is 400 KB that made a pattern backtrack; a regression runs for minutes and is
    // killed by the child's timeout (generous: the point is "finishes", not how fast).
    const blanks = ' '.repeat(400_000);
    const cases: Record<string, { file: string; args: (f: string) => string[]; code: number | null }> = {
      'one 400 KB lspci header line': { file: `00:00.0 Host bridge [0600]: ${blanks}x\n`, args: (f) => ['survey', '--lspci', f], code: EXIT.INPUT },
      'lspci header lines just under the line limit': {
        file: Array.from({ length: 100 }, (_, i) => `00:${(i >> 3).toString(16).padStart(2, '0')}.${i & 7} Host bridge [0600]: ${' '.repeat(4000)}(rev\n`).join(''),
        args: (f) => ['survey', '--lspci', f],
        code: null,
      },
      'dmidecode slot type of 400 KB': { file: `Handle 0x0009, DMI type 9, 17 bytes\nSystem Slot Information\n\tDesignation: x\n\tType: x8 ${'('.repeat(400_000)}\n`, args: (f) => ['smbios', f], code: EXIT.INPUT },
      'dmidecode slot types just under the line limit': {
        file: Array.from({ length: 100 }, (_, i) => `Handle 0x${i.toString(16).padStart(4, '0')}, DMI type 9, 17 bytes\nSystem Slot Information\n\tDesignation: x\n\tType: x8 ${'('.repeat(4000)}\n\tCurrent Usage: ${'('.repeat(4000)}\n\n`).join(''),
        args: (f) => ['smbios', f],
        code: EXIT.OK,
      },
      'acpidump header of 400 KB': { file: `DMAR @ 0x${'0'.repeat(400_000)}\n`, args: (f) => ['dmar', f], code: EXIT.INPUT },
    };
    for (const [name, c] of Object.entries(cases)) {
      it(name, () => {
        const f = write(`${name.replace(/\W+/g, '-')}.txt`, c.file);
        const r = spawnSync(process.execPath, [bin, ...c.args(f)], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.signal, null, `still running after the kill timeout: ${name} is not linear`);
        if (c.code !== null) assert.equal(r.status, c.code, r.stderr);
        assert.ok([0, 1, 2, 3, 4].includes(r.status!), r.stderr);
        assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      });
    }
    // Below the CLI's line limit: the readers and the message flattening on their own, fed
    // 400 KB at once, in a child with a kill timeout. From dist/ (tsc's output of the same
    // sources, which this file needs anyway): a child under tsx costs ten times its start.
    const units: Record<string, string> = {
      'parseLspci on a 400 KB header line': `const { parseLspci } = await import('./dist/firmware/pci/lspci-text.js'); parseLspci('00:00.0 Host bridge [0600]: ' + ' '.repeat(400000) + '(rev\\n');`,
      'oneLine on 400 KB of blanks': `const { oneLine } = await import('./dist/cli/run.js'); oneLine('a' + ' '.repeat(400000) + 'b');`,
    };
    for (const [name, code] of Object.entries(units)) {
      it(name, () => {
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.signal, null, `still running after the kill timeout: ${name} is not linear`);
        assert.equal(r.status, 0, r.stderr);
      });
    }
  });
});
