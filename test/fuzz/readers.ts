/**
 * Every reader of user input, each with seeds taken from the real corpus copies in
 * test/fixtures and a `run` that goes as far as the CLI would: decode, then JSON and text
 * rendering (or the whole survey for host inputs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeDmarTable, describeDmar } from '../../src/firmware/acpi/dmar.js';
import { decodeIvrsTable, describeIvrs } from '../../src/firmware/acpi/ivrs.js';
import { acpiTableFromBytes } from '../../src/firmware/acpi/input.js';
import { parseAcpidumpText } from '../../src/firmware/acpi/acpidump.js';
import { parseAcpiTable } from '../../src/firmware/acpi/table.js';
import { EXIT } from '../../src/cli/exit.js';
import { exitCodeFor } from '../../src/cli/run.js';
import { decodePciConfig } from '../../src/firmware/pci/config.js';
import { parseLspci } from '../../src/firmware/pci/lspci-text.js';
import { decodeDmidecodeText } from '../../src/firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile, decodeSmbiosSysfs } from '../../src/firmware/smbios/index.js';
import { buildHost } from '../../src/host/build.js';
import { runSurvey } from '../../src/checks/index.js';
import { applySettings, emptyImage, imageFromFile, imageToFile, readSettings } from '../../src/remedies/hpe-rmrds/codec.js';
import { builtinRmrdsSchema } from '../../src/remedies/hpe-rmrds/rmrds.js';
import { parseConrepSchema } from '../../src/remedies/hpe-rmrds/schema.js';
import { parseConrepSettings, writeConrepSettings } from '../../src/remedies/hpe-rmrds/settings.js';
import { renderDmar, renderIvrs, renderSmbios } from '../../src/report/firmware-text.js';
import { renderFields } from '../../src/report/format.js';
import { SCHEMAS, toJson } from '../../src/report/json.js';
import { renderSurvey, surveyJson, SURVEY_SCHEMA } from '../../src/report/survey.js';
import { readCapture } from '../../src/sources/capture-archive.js';
import { readCaptureFiles } from '../../src/sources/capture-files.js';
import { functionsFromLspci } from '../../src/sources/capture-files.js';
import { collect } from '../../src/sources/collect.js';
import { realFs } from '../../src/sources/fs.js';
import { writeTar } from '../../src/sources/tar.js';
import { fixtureBytes, fixtureFiles, fixtureText } from '../helpers.js';
import { sysfsTreeFromDump } from '../sysfs-tree.js';

export interface Reader {
  name: string;
  /** Text readers also get the text mutations (CR, UTF-16, long lines, …). */
  text: boolean;
  seeds(): Uint8Array[];
  run(bytes: Uint8Array): void;
}

const latin1 = (b: Uint8Array) => new TextDecoder('latin1').decode(b);
const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * `--json` output is checked to be a string, not parsed back: toJson is JSON.stringify of a
 * plain object, and whatever text that returns parses (lone surrogates are escaped).
 */
function survey(functions: ReturnType<typeof functionsFromLspci>): void {
  const sv = runSurvey(buildHost({ origin: { kind: 'capture', description: 'fuzz' }, functions, notes: [] }));
  assert.equal(typeof toJson(SURVEY_SCHEMA, surveyJson(sv, 'vfio')), 'string');
  renderSurvey(sv, 'vfio', true, { color: false });
}

/**
 * The acpidump texts are up to 1.8 MB: re-parsing one per input would make the run take
 * hours. Seeds are excerpts of them instead — the DMAR block with its neighbours, exactly as
 * written in the real file — plus the smallest whole file.
 */
function acpidumpSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of fixtureFiles('dmar/acpidump', '.txt')) {
    const text = fixtureText('dmar/acpidump', f);
    const lines = text.split('\n');
    const dmar = parseAcpidumpText(text).find((t) => t.signature === 'DMAR');
    if (!dmar) continue;
    const from = Math.max(0, dmar.line - 1 - 40);
    const end = lines.findIndex((l, i) => i > dmar.line && l.trim() === '');
    out.push(bytesOf(lines.slice(from, end < 0 ? undefined : end + 40).join('\n')));
  }
  out.push(fixtureBytes('dmar/acpidump', 'fujitsu-primergy-41b1e7.acpidump.txt'));
  return out;
}

function smbiosBinaries(): Uint8Array[] {
  return [
    ...fixtureFiles('smbios/raw', '').filter((f) => /\.(dump|table\.bin|rsmb\.bin)$/.test(f)).map((f) => fixtureBytes('smbios/raw', f)),
    ...fixtureFiles('smbios/hpe-oem', '.dump').map((f) => fixtureBytes('smbios/hpe-oem', f)),
  ];
}

const SMALL_LSPCI = [
  'fujitsu-esprimo-p8010-pciutils-tree.lspci313-vvvnn.txt',
  'freescale-p2020-pciutils-tree.lspci313-vvvnn.txt',
  'pciutils-cap-pcie-2.lspci313-vvvnn.txt',
  'pciutils-broken-ecaps.lspci313-vvvnn.txt',
  'pciutils-cap-ide.dump.txt',
  'pciutils-bridge-ctl-vga16.dump.txt',
  'fujitsu-esprimo-p8010-pciutils-tree.lspci39-vvv.txt',
];

/** The Arch wiki loop's output ("IOMMU Group N 00:01.0 …") from an lspci -vvnn capture with its "IOMMU group:" lines. */
function archWikiListing(lspci: string): string {
  const out: string[] = [];
  let header: string | null = null;
  for (const l of lspci.split('\n')) {
    if (/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l)) header = l;
    const g = /^\tIOMMU group: (\d+)/.exec(l);
    if (g && header) out.push(`IOMMU Group ${g[1]} ${header}`);
  }
  return out.join('\n') + '\n';
}

let captureDir: string | null = null;
function captureFile(bytes: Uint8Array): string {
  if (captureDir === null) {
    const d = mkdtempSync(join(tmpdir(), 'assignable-fuzz-'));
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
    captureDir = d;
  }
  const p = join(captureDir, 'capture');
  // A new file each time: ext4 flushes a file rewritten through O_TRUNC when it is closed
  // (auto_da_alloc), which cost more than the survey of most inputs.
  rmSync(p, { force: true });
  writeFileSync(p, bytes);
  return p;
}

export const READERS: Reader[] = [
  {
    name: 'dmar',
    text: false,
    seeds: () => fixtureFiles('dmar', '.dat').map((f) => fixtureBytes('dmar', f)),
    run: (b) => {
      const t = parseAcpiTable(b, 'DMAR');
      const d = decodeDmarTable(t);
      assert.equal(typeof toJson(SCHEMAS.dmar, d), 'string');
      renderDmar(d, t.view.length);
      renderFields(describeDmar(t, d));
    },
  },
  {
    name: 'ivrs',
    text: false,
    seeds: () => fixtureFiles('ivrs', '.dat').map((f) => fixtureBytes('ivrs', f)),
    run: (b) => {
      const t = parseAcpiTable(b, 'IVRS');
      const d = decodeIvrsTable(t);
      assert.equal(typeof toJson(SCHEMAS.ivrs, d), 'string');
      renderIvrs(d, t.view.length);
      renderFields(describeIvrs(t, d));
    },
  },
  {
    name: 'acpidump-text',
    text: true,
    seeds: acpidumpSeeds,
    run: (b) => {
      const t = acpiTableFromBytes(b, 'DMAR');
      const d = decodeDmarTable(t);
      assert.equal(typeof toJson(SCHEMAS.dmar, d), 'string');
      renderDmar(d, t.view.length);
    },
  },
  {
    name: 'smbios-file',
    text: false,
    seeds: smbiosBinaries,
    run: (b) => {
      const s = decodeSmbiosFile(b);
      assert.equal(typeof toJson(SCHEMAS.smbios, s), 'string');
      renderSmbios(s, null);
    },
  },
  {
    // sysfs gives the entry point and the table as two files: the dump's first 0x20 bytes and the rest.
    name: 'smbios-sysfs',
    text: false,
    seeds: () => smbiosBinaries().filter((b) => b[0] === 0x5f),
    run: (b) => {
      const s = decodeSmbiosSysfs(b.subarray(0, 0x20), b.subarray(0x20));
      assert.equal(typeof toJson(SCHEMAS.smbios, s), 'string');
      renderSmbios(s, null);
    },
  },
  {
    name: 'pci-config',
    text: false,
    seeds: () => {
      const out: Uint8Array[] = [];
      for (const stem of ['asus-p6t6-pciutils-tree', 'pciutils-cap-dvsec-cxl', 'pciutils-cap-pcie-2', 'pciutils-broken-ecaps', 'pciutils-cap-ide']) {
        for (const fn of parseLspci(fixtureText('pci/pciutils-tests', `${stem}.dump.txt`)).functions) if (fn.config) out.push(fn.config);
      }
      return out;
    },
    run: (b) => {
      decodePciConfig(b);
    },
  },
  {
    name: 'lspci-text',
    text: true,
    seeds: () => SMALL_LSPCI.map((f) => fixtureBytes('pci/pciutils-tests', f)),
    run: (b) => survey(functionsFromLspci(latin1(b))),
  },
  {
    name: 'dmidecode-text',
    text: true,
    seeds: () => [
      ...fixtureFiles('smbios', '.dmidecode.txt').filter((f) => /proliant|poweredge|supermicro|lenovo|asus/.test(f)).map((f) => fixtureBytes('smbios', f)),
      ...fixtureFiles('smbios/hpe-oem', '.txt').slice(0, 3).map((f) => fixtureBytes('smbios/hpe-oem', f)),
    ],
    run: (b) => {
      const s = decodeDmidecodeText(latin1(b));
      assert.equal(typeof toJson(SCHEMAS.smbios, s), 'string');
      renderSmbios(s, null);
    },
  },
  {
    name: 'conrep-settings',
    text: true,
    seeds: () =>
      [
        'busterswt-verify.clean.dat',
        'mazad01_docker-conrep__data__hyperthreading_disable.dat',
        'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__override-rmrds.xml',
        'Silvenga_silvenga.com__src_posts_archive_pci-passthough-hpe-servers.md__existing-settings-excerpt.xml',
      ].map((f) => fixtureBytes('conrep', f)),
    run: (b) => {
      writeConrepSettings(parseConrepSettings(latin1(b)));
    },
  },
  {
    name: 'conrep-schema',
    text: true,
    seeds: () => [
      fixtureBytes('conrep', 'mazad01_docker-conrep__data__conrep_5.48.xml'),
      bytesOf(`<Conrep>${fixtureText('conrep', 'korean-howto__RMRDS-sections-added-to-conrep.xml')}</Conrep>`),
    ],
    run: (b) => {
      parseConrepSchema(latin1(b));
    },
  },
  {
    // The NVRAM image codec: a real settings file written into an image, read back.
    name: 'conrep-image',
    text: true,
    seeds: () => {
      const s = parseConrepSettings(fixtureText('conrep', 'busterswt-verify.clean.dat'));
      const platform = { platform: 'ProLiant DL360e Gen8', family: 'P73', romDate: '08/02/2014', procMan: 'Intel' };
      const img = emptyImage();
      applySettings(img, builtinRmrdsSchema(), platform, s);
      return [new TextEncoder().encode(JSON.stringify(imageToFile(img, platform), null, 2))];
    },
    run: (b) => {
      const { image, platform } = imageFromFile(latin1(b));
      writeConrepSettings(readSettings(image, builtinRmrdsSchema(), platform, [['version', 'fuzz']]));
    },
  },
  {
    // `survey --lspci FILE` as users paste it: IOMMU group listings (Arch wiki, ls-iommu), lspci -mm -nn,
    // through the real file reader (encoding detection, kind detection, refusals) and the survey.
    name: 'lspci-paste',
    text: true,
    seeds: () => [
      fixtureBytes('logs', 'hp-proliant-dl380p-gen8-hernad.iommu-groups.txt'),
      ...fixtureFiles('pci/machine', 'nn.txt').map((f) => fixtureBytes('pci/machine', f)),
      ...fixtureFiles('pci/iommu-groups', '').filter((d) => !d.includes('.')).map((d) => bytesOf(archWikiListing(fixtureText('pci/iommu-groups', d, 'lspci-vvnn.txt')))),
    ],
    run: (b) => {
      const sv = runSurvey(buildHost(readCaptureFiles({ lspci: captureFile(b) })));
      assert.equal(typeof toJson(SURVEY_SCHEMA, surveyJson(sv, 'vfio')), 'string');
    },
  },
  {
    // `survey --capture FILE`: tar and tar.gz written by `collect`, read by the real reader.
    name: 'capture-archive',
    text: false,
    seeds: () => {
      const out: Uint8Array[] = [];
      for (const stem of ['fujitsu-esprimo-p8010-pciutils-tree', 'pciutils-PCI-X-bridges-and-domains']) {
        const root = sysfsTreeFromDump(fixtureText('pci/pciutils-tests', `${stem}.dump.txt`), { kernel: '6.8.12-4-pve', cmdline: 'quiet intel_iommu=on' });
        const tar = writeTar(collect(root, realFs, { redact: false, toolVersion: 'fuzz', created: '2026-01-01T00:00:00Z' }).entries);
        rmSync(root, { recursive: true, force: true });
        out.push(tar, new Uint8Array(gzipSync(tar)));
      }
      return out;
    },
    run: (b) => {
      runSurvey(buildHost(readCapture(captureFile(b))));
    },
  },
];

/** The CLI's own mapping decides: anything it would report as exit 70 is a failure. */
export function isTypedError(e: unknown): boolean {
  return exitCodeFor(e).code !== EXIT.INTERNAL;
}

/**
 * Readers that misbehave on purpose, to prove the runner catches each kind of failure
 * (test/fuzz-runner.test.ts). Present only when ASSIGNABLE_FUZZ_SELFTEST is set.
 */
if (process.env.ASSIGNABLE_FUZZ_SELFTEST) {
  const seeds = () => [new Uint8Array([1, 2, 3])];
  READERS.push({
    name: 'selftest',
    text: false,
    seeds,
    // The seed decodes; any mutation that changes its length throws what the CLI would call a bug.
    run: (b) => {
      if (b.length !== 3) throw new TypeError('selftest: an untyped exception');
    },
  });
  READERS.push({
    name: 'selftest-hang',
    text: false,
    seeds,
    run: () => {
      for (;;);
    },
  });
  READERS.push({
    name: 'selftest-oom',
    text: false,
    seeds,
    run: () => {
      const keep: number[][] = [];
      for (;;) keep.push(new Array<number>(1 << 20).fill(1));
    },
  });
}
