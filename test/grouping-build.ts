/**
 * Hosts for the grouping rules, assembled from real config-space bytes: the hex lines of the
 * pciutils test dumps in test/fixtures/pci/pciutils-tests (`lspci -xxxx`, SOURCES.md). A case
 * takes a function's bytes, places it at an address of its choosing and, where the rule needs
 * it, rewrites a named field (bus numbers, an ID, the class code, the PCIe port type, the ACS
 * Capability register, the LPC RCBA dword) through `rewrite` below — nothing else; the test names each
 * rewrite. Then the bytes take the real path: decodePciConfig → HostFacts → buildHost
 * (topology from the bridges' bus numbers) → predictGroups.
 */
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { parseLspci } from '../src/firmware/pci/lspci-text.js';
import type { Ivrs } from '../src/firmware/acpi/ivrs.js';
import { formatAddress, parseAddress } from '../src/host/address.js';
import { buildHost } from '../src/host/build.js';
import { predictGroups, type Grouping } from '../src/host/grouping/index.js';
import type { FunctionFacts, Host } from '../src/host/model.js';
import { fixtureText } from './helpers.js';

const DUMPS = 'pci/pciutils-tests';
const parsed = new Map<string, Map<string, Uint8Array>>();

/** A fresh copy of one function's config bytes, as `bb:dd.f` appears in the dump file. */
export function realBytes(file: string, at: string): Uint8Array {
  let fns = parsed.get(file);
  if (!fns) {
    fns = new Map();
    for (const f of parseLspci(fixtureText(DUMPS, file)).functions) {
      const k = formatAddress(f.address);
      // An address listed twice: keep the first.
      if (f.config && !fns.has(k)) fns.set(k, f.config);
    }
    parsed.set(file, fns);
  }
  const b = fns.get(formatAddress(parseAddress(at)!));
  if (!b) throw new Error(`${file} has no bytes for ${at}`);
  return new Uint8Array(b);
}

const u16 = (b: Uint8Array, off: number) => b[off]! | (b[off + 1]! << 8);
function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >> 8) & 0xff;
}

/** PCI Express capability ID, ACS extended capability ID (PCIe Base §7.5.3, §7.7.11). */
const CAP_ID_PCIE = 0x10;
const ECAP_ID_ACS = 0x000d;
/** PCI Express Capabilities register: Device/Port Type in bits 7:4. */
const PCIE_FLAGS_TYPE_MASK = 0x00f0;
const PCIE_FLAGS_TYPE_SHIFT = 4;
/** ACS Capability register at +4. */
const ACS_CAP_REG = 4;
/** Class Code: programming interface, sub-class, base class at 0x09–0x0b. */
const CLASS_CODE = 0x09;
/** Type 1 header: primary, secondary, subordinate bus numbers. */
const PRIMARY_BUS = 0x18;
/** Intel LPC bridge RCBA dword (D31:F0 0xF0). */
const LPC_RCBA = 0xf0;

function capOffset(b: Uint8Array, what: 'pcie' | 'acs'): number {
  const c = decodePciConfig(b);
  const hit = what === 'pcie' ? c.capabilities?.find((x) => x.id === CAP_ID_PCIE) : c.extendedCapabilities?.find((x) => x.id === ECAP_ID_ACS);
  if (!hit) throw new Error(`no ${what} capability in these bytes`);
  return hit.offset;
}

/** The only edits a case may make to real bytes; each returns the same array. */
export const rewrite = {
  vendorDevice(b: Uint8Array, vendor: number, device: number): Uint8Array {
    put16(b, 0, vendor);
    put16(b, 2, device);
    return b;
  },
  deviceId(b: Uint8Array, device: number): Uint8Array {
    put16(b, 2, device);
    return b;
  },
  classCode(b: Uint8Array, cls: number): Uint8Array {
    b[CLASS_CODE] = cls & 0xff;
    b[CLASS_CODE + 1] = (cls >> 8) & 0xff;
    b[CLASS_CODE + 2] = (cls >> 16) & 0xff;
    return b;
  },
  busNumbers(b: Uint8Array, primary: number, secondary: number, subordinate: number): Uint8Array {
    b[PRIMARY_BUS] = primary;
    b[PRIMARY_BUS + 1] = secondary;
    b[PRIMARY_BUS + 2] = subordinate;
    return b;
  },
  portType(b: Uint8Array, type: number): Uint8Array {
    const at = capOffset(b, 'pcie') + 2;
    put16(b, at, (u16(b, at) & ~PCIE_FLAGS_TYPE_MASK) | (type << PCIE_FLAGS_TYPE_SHIFT));
    return b;
  },
  acsCapability(b: Uint8Array, bits: number): Uint8Array {
    put16(b, capOffset(b, 'acs') + ACS_CAP_REG, bits);
    return b;
  },
  lpcRcba(b: Uint8Array, dword: number): Uint8Array {
    put16(b, LPC_RCBA, dword & 0xffff);
    put16(b, LPC_RCBA + 2, dword >>> 16);
    return b;
  },
};

/** One function of a synthetic host: where it sits, its bytes, and (for a VF) its PF. */
export interface Placed {
  at: string;
  bytes: Uint8Array;
  vfOf?: string;
}

export interface HostOptions {
  kernel?: string;
  cmdline?: string;
  ivrs?: Ivrs | null;
}

export function hostOf(fns: readonly Placed[], o: HostOptions = {}): Host {
  const functions: FunctionFacts[] = fns.map((f) => {
    const fact: FunctionFacts = { address: parseAddress(f.at)!, config: decodePciConfig(f.bytes), configSource: 'bytes' };
    // Only VFs say so: a PF or plain function leaves physfn unknown, as an lspci capture does.
    if (f.vfOf) fact.sysfs = { physfn: formatAddress(parseAddress(f.vfOf)!) };
    return fact;
  });
  return buildHost({ origin: { kind: 'capture', description: 'synthetic host from real config bytes' }, functions, kernelRelease: o.kernel, cmdline: o.cmdline, ivrs: o.ivrs, notes: [] });
}

/** Short names back: "0000:03:00.0" → "03:00.0". */
const short = (a: string) => a.replace(/^0000:/, '');

/** The partition as sorted lists of short addresses, sorted by first member. */
export function partition(g: Grouping): string[][] {
  return g.groups.map((x) => x.members.map(short).sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

export function predict(fns: readonly Placed[], o: HostOptions = {}): Grouping {
  return predictGroups(hostOf(fns, o));
}

/** The group that holds `at`. */
export function groupOf(g: Grouping, at: string) {
  return g.byDevice.get(formatAddress(parseAddress(at)!))!.group;
}
