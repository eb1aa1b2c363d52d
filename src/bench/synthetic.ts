/**
 * Synthetic big hosts from real config-space bytes, for `npm run bench` and its test.
 *
 * A host of N PCI functions is built from functions captured on real machines (the
 * pciutils test dumps in test/fixtures/pci/pciutils-tests, 4 KiB of config space each):
 * root ports with ACS (four functions per device, as the CPU they come from has them); of
 * every eight, six hold an SR-IOV NIC with its 128 VFs enabled (SR-IOV is how real hosts
 * reach thousands of functions), one a plain NIC, and one a PCIe switch without ACS
 * (upstream port, eight downstream ports) whose slots hold multifunction GPUs and NICs.
 *
 * Only these bytes differ from the captured function they were copied from:
 *  - bridges: Primary, Secondary and Subordinate Bus Number (0x18, 0x19, 0x1a), so the
 *    bus ranges nest;
 *  - the SR-IOV PF: NumVFs (SR-IOV capability + 0x10, 2 bytes), the VFs this host enables;
 *  - each VF, derived from its PF per the PF's SR-IOV capability (SR-IOV 1.1 §3.3.3): the
 *    Device ID (0x02, 2 bytes) is the capability's VF Device ID, as the kernel reports a
 *    VF's ID (the VF's own register reads FFFFh), and the SR-IOV capability is unlinked
 *    from the extended capability list (the Next Capability Offset of the capability
 *    before it, bytes +2 and +3 of that header; its version nibble kept), since a VF has
 *    none. The VF's address is the PF's Routing ID + First VF Offset + i × VF Stride.
 * Nothing carries an `IOMMU group`, so the groups must be predicted. Deterministic; pure:
 * the fixture texts come in as arguments.
 */
import { decodePciConfig } from '../firmware/pci/config.js';
import { parseLspci, type LspciFunction } from '../firmware/pci/lspci-text.js';

export type TemplateName = 'rootPort' | 'nic' | 'switchUp' | 'switchDown' | 'sriovPf' | 'gpu' | 'gpuAudio';

/** Where each template function was captured (file under test/fixtures/pci/pciutils-tests, address). */
export const TEMPLATES: Record<TemplateName, { file: string; address: string; what: string }> = {
  rootPort: { file: 'pciutils-cap-aer-root.dump.txt', address: '0000:00:02.0', what: 'Intel Haswell-E PCIe Root Port 2 [8086:2f04], ACS enabled' },
  nic: { file: 'pciutils-cap-aer-root.dump.txt', address: '0000:03:00.0', what: 'Mellanox ConnectX-3 Pro [15b3:1007]' },
  switchUp: { file: 'asus-p6t6-pciutils-tree.dump.txt', address: '0000:02:00.0', what: 'NVIDIA NF200 switch Upstream Port [10de:05b1]' },
  switchDown: { file: 'asus-p6t6-pciutils-tree.dump.txt', address: '0000:03:00.0', what: 'NVIDIA NF200 switch Downstream Port [10de:05b1], no ACS' },
  sriovPf: { file: 'pciutils-cap-ea-1.dump.txt', address: '0002:01:00.0', what: 'Cavium ThunderX NIC PF [177d:a01e], SR-IOV 128 VFs' },
  gpu: { file: 'asus-p6t6-pciutils-tree.dump.txt', address: '0000:06:00.0', what: 'NVIDIA GT218 [10de:0a65], function 0 of a multifunction card' },
  gpuAudio: { file: 'asus-p6t6-pciutils-tree.dump.txt', address: '0000:06:00.1', what: 'NVIDIA GT218 HD Audio [10de:0be3], function 1' },
};

/** Type 1 header (PCI-to-PCI Bridge Architecture 1.2 §3.2.5.2–4). */
export const PRIMARY_BUS = 0x18;
export const SECONDARY_BUS = 0x19;
export const SUBORDINATE_BUS = 0x1a;
const DEVICE_ID = 0x02;
/** SR-IOV extended capability (ID 0010h) and the registers used, from its header. */
const ECAP_SRIOV = 0x0010;
export const SRIOV_NUM_VFS = 0x10;
/** Extended capability header: Next Capability Offset is bits 31:20, version 19:16. */
const ECAP_NEXT_SHIFT = 20;
const ECAP_VERSION_MASK = 0x000f0000;
const ECAP_ID_VERSION_MASK = 0x000fffff;

const DOWNSTREAM_PORTS_PER_SWITCH = 8;
/** Root ports sit at 00:01.0 up to 00:1f.3 (the template is function 0 of a multifunction device, header type 81h). */
const FIRST_ROOT_PORT_DEVICE = 1;
const ROOT_PORTS_PER_DEVICE = 4;
const MAX_ROOT_PORT_DEVICE = 0x1f;
const MAX_BUS = 0xff;

export type Role = 'root-port' | 'switch-upstream' | 'switch-downstream' | 'endpoint' | 'sriov-pf' | 'sriov-vf';

export interface SyntheticFunction {
  /** "ssss:bb:dd.f". */
  address: string;
  bus: number;
  device: number;
  function: number;
  template: TemplateName;
  role: Role;
  /** The config space as written to the dump (4096 bytes). */
  bytes: Uint8Array;
  /** Offsets whose byte may differ from the template's, and why (see the module comment). */
  rewritten: number[];
  /** Text after the address on the record's first line. */
  header: string;
}

export interface SyntheticHost {
  functions: SyntheticFunction[];
  /** Bridges: address → their bus numbers as written. */
  bridges: Map<string, { primary: number; secondary: number; subordinate: number }>;
}

/** The template texts by file name (the fixture files' contents). */
export type TemplateTexts = Record<string, string>;

interface Template {
  bytes: Uint8Array;
  header: string;
}

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
const addressText = (bus: number, device: number, fn: number) => `0000:${hex(bus, 2)}:${hex(device, 2)}.${fn}`;

function loadTemplates(texts: TemplateTexts): Record<TemplateName, Template> {
  const parsed = new Map<string, LspciFunction[]>();
  const out = {} as Record<TemplateName, Template>;
  for (const [name, t] of Object.entries(TEMPLATES) as Array<[TemplateName, (typeof TEMPLATES)[TemplateName]]>) {
    const text = texts[t.file];
    if (text === undefined) throw new Error(`synthetic host: template file ${t.file} not given`);
    if (!parsed.has(t.file)) parsed.set(t.file, parseLspci(text).functions);
    const f = parsed.get(t.file)!.find((x) => `${hex(x.address.segment, 4)}:${hex(x.address.bus, 2)}:${hex(x.address.device, 2)}.${x.address.function}` === t.address);
    if (!f?.config || f.config.length !== 4096) throw new Error(`synthetic host: ${t.file} has no 4096-byte config space for ${t.address}`);
    out[name] = { bytes: f.config, header: lineText(text, f.line) };
  }
  return out;
}

/** The record's first line after the address, as lspci wrote it. */
function lineText(text: string, line: number): string {
  let at = 0;
  for (let i = 1; i < line; i++) at = text.indexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  const l = text.slice(at, end < 0 ? undefined : end).replace(/\r$/, '');
  return l.slice(l.indexOf(' ') + 1);
}

/** What the PF's SR-IOV capability says about its VFs, and how to unlink it for a VF. */
interface SriovLayout {
  at: number;
  /** Offset of the extended capability header before SR-IOV (its Next pointer leads there). */
  previous: number;
  next: number;
  totalVfs: number;
  vfOffset: number;
  vfStride: number;
  vfDeviceId: number;
}

function sriovLayout(pf: Uint8Array): SriovLayout {
  const cfg = decodePciConfig(pf);
  const caps = cfg.extendedCapabilities ?? [];
  const i = caps.findIndex((c) => c.id === ECAP_SRIOV);
  if (i < 1 || !cfg.sriov) throw new Error('synthetic host: the SR-IOV template needs an SR-IOV capability that is not the first extended capability');
  const s = cfg.sriov;
  const view = new DataView(pf.buffer, pf.byteOffset, pf.byteLength);
  return { at: caps[i]!.offset, previous: caps[i - 1]!.offset, next: view.getUint32(caps[i]!.offset, true) >>> ECAP_NEXT_SHIFT, totalVfs: s.totalVfs, vfOffset: s.vfOffset, vfStride: s.vfStride, vfDeviceId: s.vfDeviceId };
}

/**
 * A host of exactly `n` functions (1 ≤ n ≤ about 12 000, when bus numbers run out).
 * Throws when the layout would run out of bus numbers or root-port slots.
 */
export function syntheticHost(n: number, texts: TemplateTexts): SyntheticHost {
  if (!Number.isInteger(n) || n < 1) throw new Error(`synthetic host: ${n} functions asked for`);
  const t = loadTemplates(texts);
  const sriov = sriovLayout(t.sriovPf.bytes);
  const functions: SyntheticFunction[] = [];
  const bridges: SyntheticHost['bridges'] = new Map();
  let remaining = n;
  let nextBus = 1;

  const add = (template: TemplateName, role: Role, bus: number, device: number, fn: number, bytes: Uint8Array, rewritten: number[], header = t[template].header): SyntheticFunction => {
    const f: SyntheticFunction = { address: addressText(bus, device, fn), bus, device, function: fn, template, role, bytes, rewritten, header };
    functions.push(f);
    remaining--;
    return f;
  };
  /** A bridge whose secondary bus is the next free one; its subordinate covers what `below` adds. */
  const bridge = (template: TemplateName, role: Role, bus: number, device: number, fn: number, below: (secondary: number) => void) => {
    if (nextBus > MAX_BUS) throw new Error(`synthetic host: ${n} functions need more than ${MAX_BUS} buses`);
    const bytes = t[template].bytes.slice();
    const f = add(template, role, bus, device, fn, bytes, [PRIMARY_BUS, SECONDARY_BUS, SUBORDINATE_BUS]);
    const secondary = nextBus++;
    below(secondary);
    const subordinate = nextBus - 1;
    bytes[PRIMARY_BUS] = bus;
    bytes[SECONDARY_BUS] = secondary;
    bytes[SUBORDINATE_BUS] = subordinate;
    bridges.set(f.address, { primary: bus, secondary, subordinate });
  };
  const sriovCard = (bus: number) => {
    const vfs = Math.min(sriov.totalVfs, remaining - 1);
    const pf = t.sriovPf.bytes.slice();
    new DataView(pf.buffer).setUint16(sriov.at + SRIOV_NUM_VFS, vfs, true);
    add('sriovPf', 'sriov-pf', bus, 0, 0, pf, [sriov.at + SRIOV_NUM_VFS, sriov.at + SRIOV_NUM_VFS + 1]);
    const vfTemplate = pf.slice();
    const v = new DataView(vfTemplate.buffer);
    v.setUint16(DEVICE_ID, sriov.vfDeviceId, true);
    const prevHeader = v.getUint32(sriov.previous, true);
    v.setUint32(sriov.previous, ((prevHeader & ECAP_ID_VERSION_MASK) | (sriov.next << ECAP_NEXT_SHIFT)) >>> 0, true);
    if ((prevHeader & ECAP_VERSION_MASK) !== (v.getUint32(sriov.previous, true) & ECAP_VERSION_MASK)) throw new Error('unreachable: version nibble changed');
    const vfRewritten = [DEVICE_ID, DEVICE_ID + 1, sriov.previous + 2, sriov.previous + 3, sriov.at + SRIOV_NUM_VFS, sriov.at + SRIOV_NUM_VFS + 1];
    const pfHeader = t.sriovPf.header;
    // lspci's words for an ID pci.ids does not name: "<class>: <vendor> Device <id>".
    const vfHeader = pfHeader.replace(/^([^:]+: [^,]+, [^ ]+) .*?( \(rev [0-9a-f]+\))?$/, `$1 Device ${hex(sriov.vfDeviceId, 4)}$2`);
    const pfRid = bus << 8;
    for (let i = 0; i < vfs; i++) {
      const rid = pfRid + sriov.vfOffset + i * sriov.vfStride;
      if (rid >> 8 !== bus) throw new Error('synthetic host: a VF would land on another bus, which this layout does not model');
      add('sriovPf', 'sriov-vf', bus, (rid >> 3) & 0x1f, rid & 7, vfTemplate.slice(), vfRewritten, vfHeader);
    }
  };
  const gpuCard = (bus: number) => {
    add('gpu', 'endpoint', bus, 0, 0, t.gpu.bytes.slice(), []);
    if (remaining > 0) add('gpuAudio', 'endpoint', bus, 0, 1, t.gpuAudio.bytes.slice(), []);
  };

  for (let k = 0; remaining > 0; k++) {
    // Root ports as the template's CPU has them: functions 0–3 of devices 01h, 02h, …
    const device = FIRST_ROOT_PORT_DEVICE + Math.floor(k / ROOT_PORTS_PER_DEVICE);
    if (device > MAX_ROOT_PORT_DEVICE) throw new Error(`synthetic host: ${n} functions need more than ${(MAX_ROOT_PORT_DEVICE - FIRST_ROOT_PORT_DEVICE + 1) * ROOT_PORTS_PER_DEVICE} root ports`);
    bridge('rootPort', 'root-port', 0, device, k % ROOT_PORTS_PER_DEVICE, (bus) => {
      if (remaining === 0) return;
      // Of every eight root ports: one holds a plain NIC, one a switch, six an SR-IOV NIC.
      // Only the root port forwards ARI (the VFs sit at device numbers 0–16); the switch's
      // downstream ports do not, so its slots hold device-0 cards.
      if (k % 8 === 3) add('nic', 'endpoint', bus, 0, 0, t.nic.bytes.slice(), []);
      else if (k % 8 === 7) {
        bridge('switchUp', 'switch-upstream', bus, 0, 0, (internal) => {
          for (let d = 0; d < DOWNSTREAM_PORTS_PER_SWITCH && remaining > 0; d++) {
            bridge('switchDown', 'switch-downstream', internal, d, 0, (slot) => {
              if (remaining === 0) return;
              if (d % 2 === 0) gpuCard(slot);
              else add('nic', 'endpoint', slot, 0, 0, t.nic.bytes.slice(), []);
            });
          }
        });
      } else sriovCard(bus);
    });
  }
  functions.sort((a, b) => a.bus - b.bus || a.device - b.device || a.function - b.function);
  return { functions, bridges };
}

const HEX_DIGITS = '0123456789abcdef';

/**
 * The host as `lspci -xxxx` prints it: a header line per function, then 256 lines of 16
 * bytes, a blank line after each. ASCII bytes, written in place: a host of 8192 functions is
 * over 100 MB of text, too slow to build as strings.
 */
export function syntheticDump(host: SyntheticHost): Uint8Array {
  const headers = host.functions.map((f) => Buffer.from(`${f.address.slice(5)} ${f.header}\n`, 'latin1'));
  let size = 0;
  for (let i = 0; i < host.functions.length; i++) {
    const len = host.functions[i]!.bytes.length;
    // "xx:" or "xxx:", 16 × " hh", newline; then the blank line.
    size += headers[i]!.length + (len / 16) * 52 + Math.max(0, len - 0x100) / 16 + 1;
  }
  const out = new Uint8Array(size);
  let p = 0;
  const digit = (n: number) => HEX_DIGITS.charCodeAt(n);
  for (let i = 0; i < host.functions.length; i++) {
    const f = host.functions[i]!;
    out.set(headers[i]!, p);
    p += headers[i]!.length;
    for (let off = 0; off < f.bytes.length; off += 16) {
      if (off >= 0x100) out[p++] = digit(off >> 8);
      out[p++] = digit((off >> 4) & 0xf);
      out[p++] = digit(off & 0xf);
      out[p++] = 0x3a;
      for (let k = 0; k < 16; k++) {
        const b = f.bytes[off + k]!;
        out[p++] = 0x20;
        out[p++] = digit(b >> 4);
        out[p++] = digit(b & 0xf);
      }
      out[p++] = 0x0a;
    }
    out[p++] = 0x0a;
  }
  if (p !== size) throw new Error(`unreachable: dump size ${p} ≠ ${size}`);
  return out;
}
