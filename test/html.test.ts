/**
 * The HTML and Markdown reports, checked without a browser: every function lspci lists is in
 * the page, the embedded JSON is `survey --json`'s document, nothing points off the page, and
 * hostile names (lspci text, SMBIOS strings) stay text. test/html-browser.test.ts opens the same
 * pages in Chromium.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/cli/exit.js';
import { ROOT, fixture } from './helpers.js';
import { validatedJson } from './json-schema.js';
import { DL380E, HOSTILE, P6T6, hostileInputs, htmlOf, lspciAddresses } from './html-inputs.js';

const EX = join(ROOT, 'examples/hp-proliant-dl380e-gen8');

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return validatedJson({ code, out, err });
}

/** The text of the one <script type="application/json">, as the HTML parser would end it. */
function embeddedJson(html: string): unknown {
  const m = /<script type="application\/json" id="survey-json">([\s\S]*?)<\/script/i.exec(html);
  assert.ok(m, 'embedded survey JSON');
  return JSON.parse(m[1]!);
}

/** Start tags as the HTML tokenizer sees them outside <script>/<style>/<textarea> raw text. */
function tags(html: string): string[] {
  const stripped = html.replace(/<(script|style|textarea|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, (_m, t: string) => `<${t}></${t}>`);
  return [...stripped.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>/g)].map((m) => m[0]);
}

for (const [name, args, lspciFile] of [
  ['DL380e Gen8 example', DL380E, join(EX, 'lspci-vvnn.txt')],
  ['pciutils dump (ASUS P6T6)', P6T6, fixture('pci/pciutils-tests', 'asus-p6t6-pciutils-tree.dump.txt')],
] as const) {
  describe(`survey --format html: ${name}`, () => {
    it('holds every address lspci lists, the survey JSON, and nothing that loads from elsewhere', async () => {
      const html = await htmlOf([...args]);
      const addrs = lspciAddresses(lspciFile);
      assert.ok(addrs.length > 20, `${addrs.length} addresses`);
      for (const a of addrs) {
        assert.ok(html.includes(`id="dev-${a.replace(/[:.]/g, '-')}"`), `${a} has its device section`);
        assert.ok(html.includes(`<tspan class="addr">${a}</tspan>`), `${a} is in the topology picture`);
      }
      const json = await run('survey', '--json', '--target', 'vfio', ...args);
      assert.deepEqual(embeddedJson(html), JSON.parse(json.out));
      for (const t of tags(html)) {
        for (const m of t.matchAll(/\b(src|href|action|srcset|poster|data)\s*=\s*"([^"]*)"/gi)) assert.doesNotMatch(m[2]!, /^\s*(https?:)?\/\//i, t);
        assert.doesNotMatch(t, /^<(link|img|iframe|object|embed|base|form)\b/i, t);
      }
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      assert.doesNotMatch(style, /url\(|@import/);
      // Two scripts: the data block and the inline script the CSP names by hash.
      assert.equal((html.match(/<script\b/g) ?? []).length, 2);
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
      // Every device has a collapsible section; the verdict colours work from data-* attributes.
      assert.equal((html.match(/<details class="dev"/g) ?? []).length, addrs.length);
      assert.match(html, /<input class="tgt-radio" type="radio" name="target" id="tgt-dda" value="dda"><label for="tgt-dda">/);
      assert.match(html, /@media print/);
    });
  });
}

describe('survey --format html: the DL380e specifics', () => {
  it('marks what the input lacked, the RMRR devices, the embedded NICs and the iLO as host-critical', async () => {
    const html = await htmlOf(DL380E);
    // The example has no kernel groups and no kernel release: the page says so.
    assert.match(html, /IOMMU groups<\/th><td>not in the input: predicted from config space/);
    assert.match(html, /Kernel<\/th><td>not in the input: unknown/);
    assert.match(html, /<h2>What was missing<\/h2>/);
    // lspci: 02:00.0 is an I350 on the board; dmidecode type 41 calls it "NIC Port 1".
    assert.match(html, /<tspan class="addr">0000:02:00\.0<\/tspan> <tspan>Intel Corporation I350 Gigabit Network Connection<\/tspan> <tspan class="mk mk-rmrr">RMRR<\/tspan> <tspan class="mk mk-slot">embedded \(NIC Port 1\)<\/tspan>/);
    assert.match(html, /<tspan class="addr">0000:01:00\.0<\/tspan> <tspan>[^<]*<\/tspan> <tspan class="mk mk-rmrr">RMRR<\/tspan> <tspan class="mk mk-host">host-critical<\/tspan>/);
    assert.match(html, /<g class="grp grp-(predicted|uncertain)">/);
  });
  it('an empty slot is marked on the port above it, with its designation and RMRDS_SlotN', async () => {
    const html = await htmlOf(DL380E);
    // dmidecode: "Designation: PCI-E Slot 1" … "Bus Address: 0000:06:00.0"; lspci: 00:03.0 has secondary=06.
    const dmi = readFileSync(join(ROOT, 'examples/hp-proliant-dl380e-gen8/dmidecode.txt'), 'latin1');
    const slotBus = /Designation: PCI-E Slot 1\n(?:\t.*\n)*?\tBus Address: 0000:([0-9a-f]{2}):00\.0/.exec(dmi)![1];
    const lspci = readFileSync(join(ROOT, 'examples/hp-proliant-dl380e-gen8/lspci-vvnn.txt'), 'latin1');
    const port = [...lspci.matchAll(/^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) [^\n]*\n(?:\t[^\n]*\n)*?\tBus: primary=[0-9a-f]{2}, secondary=([0-9a-f]{2})/gm)].find((m) => m[2] === slotBus)![1];
    assert.equal(port, '00:03.0');
    assert.match(html, new RegExp(`<tspan class="addr">0000:${port!.replace('.', '\\.')}</tspan> <tspan>[^<]*</tspan> <tspan class="mk mk-slot mk-empty">slot 1 · PCI-E Slot 1 · RMRDS_Slot1: empty</tspan>`));
  });
  it('the --target chosen is the one checked, and a bad --format is a usage error', async () => {
    assert.match(await htmlOf(DL380E, 'dda'), /id="tgt-dda" value="dda" checked>/);
    const r = await run('survey', '--format', 'pdf', ...DL380E);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /^assignable: --format pdf: choose text, json, html, markdown\n$/);
    const both = await run('survey', '--format', 'html', '--json', ...DL380E);
    assert.equal(both.code, EXIT.INPUT);
  });
});

describe('hostile input stays text', () => {
  it('a device name and an SMBIOS string holding </script><img onerror> end up in no tag', async () => {
    const args = hostileInputs();
    const html = await htmlOf(args);
    assert.doesNotMatch(html, /<img/i);
    assert.doesNotMatch(html, /onerror="window/);
    for (const t of tags(html)) assert.doesNotMatch(t, /onerror/i, t);
    // The hostile strings survive as data: the JSON gives them back byte for byte.
    const j = embeddedJson(html) as { devices: Array<{ address: string; name: string; slot: { designation: string } | null }> };
    assert.equal(j.devices.find((d) => d.address === '0000:02:00.0')!.name, HOSTILE);
    assert.equal(j.devices.find((d) => d.address === '0000:02:00.1')!.slot!.designation, HOSTILE);
    assert.ok(html.includes('&lt;/script&gt;&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;'));
  });
  it('markdown: | and backticks from the input neither split a table row nor open a code span', async () => {
    const r = await run('survey', '--format', 'markdown', ...hostileInputs());
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    const rows = r.out.split('\n').filter((l) => l.startsWith('| '));
    // A cell boundary is a "|" not preceded by a backslash.
    const cells = (l: string) => l.split(/(?<!\\)\|/).length;
    assert.ok(rows.length > 3);
    for (const l of rows) assert.equal(cells(l), cells(rows[0]!), l);
    const row = rows.find((l) => l.includes('`0000:02:00.0`'))!;
    assert.ok(row.includes('\\</script\\>\\<img src=x onerror="window.\\_\\_pwned=1"\\> \\| \\`tick\\` \\<\\!-- \\&amp;'), row);
    // Outside our own code spans, no unescaped backtick is left.
    assert.equal(row.replace(/`0000:02:00\.[0-7]`|`[A-Z_]+`/g, '').replace(/\\`/g, '').includes('`'), false, row);
  });
});

describe('survey --format markdown', () => {
  it('one row per candidate lspci lists, verdicts for every target, and the blockers', async () => {
    const r = await run('survey', '--format', 'markdown', ...DL380E);
    assert.equal(r.code, EXIT.BLOCKED);
    const j = JSON.parse((await run('survey', '--json', ...DL380E)).out) as { devices: Array<{ address: string; hidden: boolean; verdicts: Record<string, { status: string }> }> };
    const shown = j.devices.filter((d) => !d.hidden);
    const rows = r.out.split('\n').filter((l) => l.startsWith('| `'));
    assert.deepEqual(rows.map((l) => /`([^`]+)`/.exec(l)![1]), shown.map((d) => d.address));
    // Every shown address is one lspci printed.
    const listed = new Set(lspciAddresses(join(EX, 'lspci-vvnn.txt')));
    for (const d of shown) assert.ok(listed.has(d.address));
    assert.match(r.out, /^\*\*Blockers for vfio\*\*$/m);
    const blocked = shown.filter((d) => d.verdicts.vfio!.status === 'blocked').map((d) => d.address);
    const listedBlockers = [...r.out.matchAll(/^- `([0-9a-f:.]+)`/gm)].map((m) => m[1]);
    assert.deepEqual(listedBlockers, blocked);
    assert.ok(r.out.length < 16_000, `${r.out.length} characters fit a forum post`);
  });
});

describe('survey --format html: IOMMU groups as boxes', () => {
  const Z440 = fixture('pci/iommu-groups/hp-z440-0eaf57');
  /** The kernel's groups, as lspci printed them ("IOMMU group: N" under each function). */
  const kernel = JSON.parse(readFileSync(join(Z440, 'expected.json'), 'utf8')) as { groups: Record<string, string[]> };

  /** Each function of the picture → the label of the box its row lies in (null: in none). */
  function boxOf(html: string): Map<string, { label: string; kind: string } | null> {
    const boxes = [...html.matchAll(/<g class="grp grp-(\w+)"><rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" rx="4"\/><text [^>]*>([^<]+)<\/text><\/g>/g)].map((m) => ({ kind: m[1]!, top: Number(m[2]), bottom: Number(m[2]) + Number(m[3]), label: m[4]! }));
    const out = new Map<string, { label: string; kind: string } | null>();
    for (const m of html.matchAll(/<a href="#dev-[^"]+" class="node"[^>]*><title>(\S+) [^<]*<\/title><rect class="vc" x="[\d.]+" y="([\d.]+)"/g)) {
      const y = Number(m[2]) + 5;
      const b = boxes.find((x) => x.top <= y && y <= x.bottom);
      out.set(m[1]!, b ? { label: b.label, kind: b.kind } : null);
    }
    return out;
  }

  it("the kernel's groups: every member drawn inside a solid box labelled with its group number", async () => {
    const html = await htmlOf(['--lspci', join(Z440, 'lspci-vvnn.txt'), '--kernel', '6.8.12-2-pve']);
    const drawn = boxOf(html);
    let n = 0;
    for (const [id, members] of Object.entries(kernel.groups)) {
      for (const a of members) {
        assert.deepEqual(drawn.get(a.startsWith('0000:') ? a : `0000:${a}`), { label: `group ${id}`, kind: 'kernel' }, a);
        n++;
      }
    }
    assert.equal(n, drawn.size, 'every function drawn is in a kernel group');
  });

  it('without the group lines: predicted boxes (dashed), partitioning the functions as the kernel did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assignable-nogroups-'));
    writeFileSync(join(dir, 'lspci.txt'), readFileSync(join(Z440, 'lspci-vvnn.txt'), 'latin1').split('\n').filter((l) => !/^\s*IOMMU group:/.test(l)).join('\n'), 'latin1');
    const html = await htmlOf(['--lspci', join(dir, 'lspci.txt'), '--kernel', '6.8.12-2-pve']);
    assert.doesNotMatch(html, /grp-kernel/);
    const drawn = boxOf(html);
    const byLabel = new Map<string, string[]>();
    for (const [a, b] of drawn) {
      assert.ok(b && b.kind !== 'kernel' && b.label.startsWith('predicted '), `${a}: ${JSON.stringify(b)}`);
      byLabel.set(b.label, [...(byLabel.get(b.label) ?? []), a]);
    }
    const partition = (gs: string[][]) => gs.map((g) => g.map((a) => (a.startsWith('0000:') ? a : `0000:${a}`)).sort().join(' ')).sort();
    assert.deepEqual(partition([...byLabel.values()]), partition(Object.values(kernel.groups)));
  });
});
