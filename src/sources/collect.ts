/**
 * `assignable collect`: a capture of this host that `survey --capture` reads with the very
 * reader that reads the live host. The capture is made by running that reader through a
 * recording file system and copying exactly what it read — files, directory listings and
 * symbolic links, under the same paths — so the two cannot drift apart. Beside them go the
 * standard formats people paste: lspci -nnvvv (when lspci is installed), acpidump text of
 * DMAR/IVRS, a dmidecode dump.
 *
 * --redact treats every copied file as manifest.ts says, then checks the result: no
 * blanked SMBIOS string, MAC address or UUID may be left in any file; only then does the
 * capture's manifest say "redacted": true.
 */
import { basename, dirname, join, normalize, posix, relative } from 'node:path';
import { acpidumpText, dmidecodeDumpBin } from '../firmware/dumps.js';
import { DecodeError } from '../firmware/errors.js';
import { redactSmbios } from '../firmware/smbios/redact.js';
import { SourceError } from './errors.js';
import { realFs, treeFs, type Fs } from './fs.js';
import { ZPOOL_STATUS_FILE } from './boot-disk.js';
import { readLiveHost } from './live.js';
import { redactionFor } from './manifest.js';
import { cpuinfoKept } from './readiness.js';
import { MAC, UUID, defaultRoutes, redactCmdline, redactIdentifiers, redactKernelLog, redactLspciText, redactMountLine, redactPciConfig, redactRoutes, rootMountLine } from './redact.js';
import type { TarEntry } from './tar.js';

export interface CollectOptions {
  redact: boolean;
  /** `lspci -nnvvv` output when the tool is available (the CLI runs it). */
  lspciText?: string;
  toolVersion: string;
  created: string;
  /** A conrep settings save (`conrep -s`) to keep as CONREP_SAVE_FILE: fleet reads RMRDS per slot from it. */
  conrepSave?: Uint8Array;
}

/** The capture's own description, at the top of the archive (docs/json.md). */
export const MANIFEST_NAME = 'manifest.json';
/** Where collect puts a conrep save given to it, at the top of the capture (fleet reads it there). */
export const CONREP_SAVE_FILE = 'conrep.xml';
export const CAPTURE_SCHEMA = 'assignable/capture/v1';

export interface CaptureManifest {
  schema: typeof CAPTURE_SCHEMA;
  tool: string;
  created: string;
  /** True only when --redact was given and every check of the result held. */
  redacted: boolean;
  notes: string[];
  /** With --redact: the OEM SMBIOS strings kept as harmless (slot and firmware names). */
  keptOemStrings?: string[];
}

/** Kernel log lines the survey uses; the rest says nothing about passthrough. */
const KEEP_LOG = /DMAR|IOMMU|iommu|AMD-Vi|IRQ remapping|Linux version|Command line|vfio|RMRR|ACS|relaxable|pcie_acs|x2apic|Hypervisor detected/;
const SMBIOS_EP = 'sys/firmware/dmi/tables/smbios_entry_point';
const SMBIOS_TABLE = 'sys/firmware/dmi/tables/DMI';
const LOG_FILES = new Set(['var/log/dmesg', 'dmesg.txt']);
const MAX_LINK_HOPS = 40;
const enc = new TextEncoder();
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

interface Access {
  read?: Uint8Array;
  list?: boolean;
  link?: string;
  exists?: boolean;
}

/** An Fs that remembers every successful access, by path relative to the root. */
function recordingFs(fs: Fs, root: string, log: Map<string, Access>): Fs {
  const at = (p: string): Access => {
    const k = relative(root, p) || '.';
    let a = log.get(k);
    if (!a) log.set(k, (a = {}));
    return a;
  };
  return {
    readFileSync(p, max) {
      const b = fs.readFileSync(p, max);
      at(p).read = b;
      return b;
    },
    statSync: (p) => fs.statSync(p),
    readdirSync(p) {
      const names = fs.readdirSync(p);
      at(p).list = true;
      return names;
    },
    readlinkSync(p) {
      const t = fs.readlinkSync(p);
      at(p).link = t;
      return t;
    },
    existsSync(p) {
      const e = fs.existsSync(p);
      if (e) at(p).exists = true;
      return e;
    },
    ...(fs.live !== undefined ? { live: fs.live } : {}),
  };
}

/** The archive being built: entries by path, parents created as needed. */
class Archive {
  readonly entries = new Map<string, TarEntry>();
  addDir(p: string): void {
    const parts = p.split('/').filter((x) => x && x !== '.');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!this.entries.has(d)) this.entries.set(d, { path: d, type: 'dir' });
    }
  }
  addFile(p: string, data: Uint8Array): void {
    this.addDir(dirname(p));
    this.entries.set(p, { path: p, type: 'file', data });
  }
  addLink(p: string, target: string): void {
    this.addDir(dirname(p));
    if (!this.entries.has(p)) this.entries.set(p, { path: p, type: 'symlink', linkname: target });
  }
  has(p: string): boolean {
    return this.entries.has(p);
  }
}

/** Copies paths of the host tree into the archive, keeping the symbolic links on their way. */
class Copier {
  constructor(
    private readonly fs: Fs,
    private readonly root: string,
    private readonly out: Archive,
  ) {}

  private linkAt(rel: string): string | undefined {
    try {
      return this.fs.readlinkSync(join(this.root, rel));
    } catch (e) {
      if (e instanceof SourceError) throw e;
      return undefined;
    }
  }

  /** Where `rel` really is (links resolved inside the tree); every link on the way is copied. */
  realPath(rel: string, hops = 0): string {
    if (hops > MAX_LINK_HOPS) throw new SourceError('usage', join(this.root, rel), `${join(this.root, rel)}: too many levels of symbolic links`);
    let cur = '';
    for (const part of rel.split('/').filter((x) => x && x !== '.')) {
      const p = cur ? `${cur}/${part}` : part;
      const target = this.linkAt(p);
      if (target === undefined) {
        cur = p;
        continue;
      }
      const to = target.startsWith('/') ? relative(this.root === '/' ? '/' : this.root, target) : normalize(join(dirname(p), target));
      if (to.startsWith('..')) throw new SourceError('usage', join(this.root, p), `${join(this.root, p)}: links to ${target}, outside ${this.root}`);
      // Stored relative, so the capture resolves it inside itself wherever it is unpacked.
      this.out.addLink(p, posix.relative(dirname(p), to) || '.');
      cur = this.realPath(to, hops + 1);
    }
    return cur;
  }

  /** A directory listing: the subdirectories and links in it (the reader uses their names). */
  listing(rel: string): void {
    const real = this.realPath(rel);
    this.out.addDir(real);
    for (const name of this.fs.readdirSync(join(this.root, rel))) {
      const child = `${real}/${name}`;
      const t = this.linkAt(child);
      if (t !== undefined) this.out.addLink(child, t);
      else if (this.fs.statSync(join(this.root, child)).isDirectory()) this.out.addDir(child);
    }
  }

  /** Something whose existence the reader checked: a directory, or a file it did not read (sysfs `reset` is write-only). */
  existing(rel: string): void {
    const real = this.realPath(rel);
    if (this.fs.statSync(join(this.root, rel)).isDirectory()) this.out.addDir(real);
    else if (!this.out.has(real)) this.out.addFile(real, new Uint8Array());
  }
}

/** The bytes to store for a file the reader read, as its manifest line says. */
function transform(rel: string, data: Uint8Array, redact: boolean): Uint8Array {
  const rule = redactionFor(rel);
  if (rule === 'mounts') {
    const line = rootMountLine(latin1(data));
    return line === undefined ? new Uint8Array() : enc.encode((redact ? redactMountLine(line) : line) + '\n');
  }
  if (rule === 'route') {
    const kept = defaultRoutes(latin1(data));
    return enc.encode(redact ? redactRoutes(kept) : kept);
  }
  if (rule === 'cpuinfo') return enc.encode(cpuinfoKept(latin1(data)));
  if (!redact || rule === 'none') return data;
  if (rule === 'pci-config') return redactPciConfig(data);
  if (rule === 'cmdline') return enc.encode(redactCmdline(latin1(data)));
  return enc.encode(redactIdentifiers(latin1(data)));
}

interface SmbiosCopy {
  keptOemStrings: string[];
  blanked: string[];
}

function copySmbios(out: Archive, log: Map<string, Access>, redact: boolean, notes: string[]): SmbiosCopy | undefined {
  const ep = log.get(SMBIOS_EP)?.read;
  const table = log.get(SMBIOS_TABLE)?.read;
  if (!ep || !table) return undefined;
  let stored = table;
  let result: SmbiosCopy | undefined;
  if (redact) {
    try {
      const r = redactSmbios(ep, table);
      stored = r.table;
      result = { keptOemStrings: r.keptOemStrings, blanked: r.blanked };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      notes.push(`SMBIOS not copied: it does not decode (${e.message}), so it cannot be redacted`);
      return { keptOemStrings: [], blanked: [] };
    }
  }
  out.addFile(SMBIOS_EP, ep);
  out.addFile(SMBIOS_TABLE, stored);
  out.addFile('dmidecode.bin', dmidecodeDumpBin(ep, stored));
  return result;
}

/** Strings worth searching for after redaction: long enough to mean something, not shared with kept text. */
function secretsToCheck(blanked: string[], keptTable: Uint8Array | undefined): string[] {
  const kept = keptTable ? latin1(keptTable) : '';
  return [...new Set(blanked.map((s) => s.trim()))].filter((s) => s.length >= 4 && !kept.includes(s));
}

/** Redaction checked on the result: file names that still hold a blanked string, a MAC or a UUID. */
function leaks(entries: TarEntry[], secrets: string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.type !== 'file' || !e.data) continue;
    const text = latin1(e.data);
    const isText = redactionFor(e.path) !== 'none' && redactionFor(e.path) !== 'pci-config' && redactionFor(e.path) !== 'smbios' && e.path !== 'dmidecode.bin';
    const found = secrets.some((s) => text.includes(s)) || (isText && (new RegExp(MAC.source).test(text) || new RegExp(UUID.source).test(text)));
    if (found) out.push(e.path);
  }
  return out;
}

/** The root file system's device-mapper name often holds the host name (Debian: host--vg-root). */
function mapperRenames(log: Map<string, Access>, redact: boolean): Map<string, string> {
  const renames = new Map<string, string>();
  const mounts = log.get('proc/mounts')?.read ?? log.get('proc/self/mounts')?.read;
  const rootDev = mounts && rootMountLine(latin1(mounts))?.split(' ')[0];
  if (redact && rootDev?.startsWith('/dev/mapper/')) renames.set(rootDev.slice(1), 'dev/mapper/root');
  return renames;
}

/** Everything the reader touched, under the same paths (renamed where redaction says so). */
function copyRecorded(tree: Fs, root: string, out: Archive, log: Map<string, Access>, renames: Map<string, string>, redact: boolean): void {
  const copier = new Copier(tree, root, out);
  for (const [rel, a] of [...log.entries()].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (LOG_FILES.has(rel) || rel === SMBIOS_EP || rel === SMBIOS_TABLE) continue;
    if (a.list) copier.listing(rel);
    else if (a.exists && !a.read) copier.existing(rel);
    if (a.read) out.addFile(copier.realPath(rel), transform(rel, a.read, redact));
    // /dev/disk/by-id names carry disk serials; the zpool output kept beside them names kernel devices instead.
    if (a.link !== undefined && redact && rel.startsWith('dev/disk/')) continue;
    if (a.link !== undefined) {
      const parent = copier.realPath(dirname(rel));
      out.addLink(renames.get(rel) ?? (parent ? `${parent}/${basename(rel)}` : basename(rel)), a.link);
    }
  }
  for (const [from, to] of renames) {
    for (const m of ['proc/mounts', 'proc/self/mounts']) {
      const e = out.entries.get(m);
      if (e?.data) e.data = enc.encode(latin1(e.data).replace(`/${from} `, `/${to} `));
    }
  }
}

/** The standard formats beside the sysfs copies: acpidump text, the IOMMU lines of the kernel log, lspci. */
function addForumFormats(out: Archive, log: Map<string, Access>, dmesg: string | undefined, o: CollectOptions): void {
  let acpi = '';
  for (const sig of ['DMAR', 'IVRS']) {
    const b = log.get(`sys/firmware/acpi/tables/${sig}`)?.read;
    if (b) acpi += acpidumpText(sig, b);
  }
  if (acpi) out.addFile('acpidump.txt', enc.encode(acpi));
  // The live reader reads the log from /dev/kmsg; the capture keeps the lines about IOMMUs.
  const kept = (dmesg ?? '').split('\n').filter((l) => KEEP_LOG.test(l)).join('\n');
  if (kept) out.addFile('var/log/dmesg', enc.encode((o.redact ? redactKernelLog(kept) : kept) + '\n'));
  if (o.lspciText) out.addFile('lspci-nnvvv.txt', enc.encode(o.redact ? redactLspciText(o.lspciText) : o.lspciText));
}

export function collect(root: string, fs: Fs, o: CollectOptions): { entries: TarEntry[]; notes: string[]; manifest: CaptureManifest } {
  const tree = fs === realFs ? treeFs(root) : fs;
  const log = new Map<string, Access>();
  const facts = readLiveHost(root, recordingFs(tree, root, log));
  // What the reader could not read (not root, undecodable tables) is missing from the capture too.
  const notes: string[] = facts.notes.map((n) => `${n.code}: ${n.message}`);
  const out = new Archive();
  const renames = mapperRenames(log, o.redact);
  copyRecorded(tree, root, out, log, renames, o.redact);
  const smbios = copySmbios(out, log, o.redact, notes);
  addForumFormats(out, log, facts.dmesg, o);
  // The root pool's members, which the reader got by running zpool: the capture keeps its output.
  if (facts.zpoolStatus !== undefined) out.addFile(ZPOOL_STATUS_FILE, enc.encode(o.redact ? redactIdentifiers(facts.zpoolStatus) : facts.zpoolStatus));
  // Kept before the redaction check, which then covers it as every other file.
  if (o.conrepSave) out.addFile(CONREP_SAVE_FILE, o.conrepSave);

  let redacted = o.redact;
  if (o.redact) {
    const secrets = [...secretsToCheck(smbios?.blanked ?? [], out.entries.get(SMBIOS_TABLE)?.data), ...[...renames.keys()].map((p) => basename(p))];
    const left = leaks([...out.entries.values()], secrets);
    if (left.length > 0) {
      redacted = false;
      notes.push(`redaction incomplete: identifying text remains in ${left.join(', ')}`);
    }
  }
  const manifest: CaptureManifest = { schema: CAPTURE_SCHEMA, tool: `assignable ${o.toolVersion}`, created: o.created, redacted, notes };
  if (o.redact) manifest.keptOemStrings = smbios?.keptOemStrings ?? [];
  out.addFile(MANIFEST_NAME, enc.encode(JSON.stringify(manifest, null, 2) + '\n'));
  return { entries: [...out.entries.values()], notes, manifest };
}
