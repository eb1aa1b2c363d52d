/**
 * Loose capture files — what users paste into forums — into HostFacts. Any subset may be
 * given; whatever is missing stays unknown and says so in a note.
 */
import { looksLikeText, parseAcpidumpFile } from '../firmware/acpi/acpidump.js';
import { decodeDmarTable, type Dmar } from '../firmware/acpi/dmar.js';
import { acpiTableFromBytes } from '../firmware/acpi/input.js';
import { decodeIvrsTable, type Ivrs } from '../firmware/acpi/ivrs.js';
import { parseAcpiTable } from '../firmware/acpi/table.js';
import { decodePciConfig } from '../firmware/pci/config.js';
import { configFromLspci, lspciCaptureKind, parseLspci, parseLspciInput, type LspciCapture } from '../firmware/pci/lspci-text.js';
import { decodeTextInput, describeText } from '../firmware/text.js';
import { DecodeError } from '../firmware/errors.js';
import { decodeDmidecodeText } from '../firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile, type Smbios } from '../firmware/smbios/index.js';
import type { FunctionFacts, GroupFacts, HostFacts, HostNote } from '../host/model.js';
import { InputFailure } from './errors.js';
import { readInput, realFs, type Fs } from './fs.js';

export interface CaptureFileOptions {
  lspci?: string;
  acpidump?: string;
  dmar?: string;
  ivrs?: string;
  dmidecode?: string;
  cmdline?: string;
  kernel?: string;
  dmesg?: string;
}

function wrap<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new InputFailure(file, e);
  }
}

// UTF-16, CRLF and CR-only files read as the LF text the parsers expect.
const text = (b: Uint8Array) => decodeTextInput(b);

/** lspci output (text and/or -xxx hex) → function facts. */
export function functionsFromLspci(t: string): FunctionFacts[] {
  return functionsFromCapture(parseLspci(t));
}

export function functionsFromCapture(cap: LspciCapture): FunctionFacts[] {
  const kind = lspciCaptureKind(cap.functions);
  return cap.functions.map((fn) => {
    // 256+ bytes of hex hold the capability list: decode the bytes themselves.
    if (fn.config && fn.config.length >= 256) return { address: fn.address, config: decodePciConfig(fn.config), configSource: 'bytes' as const, lspci: fn };
    const fromText = configFromLspci(fn, kind);
    if (fn.config && fn.config.length >= 64) {
      // 64 bytes: the header from the bytes, the capabilities from lspci's words.
      const head = decodePciConfig(fn.config);
      return { address: fn.address, config: { ...head, capabilities: fromText.capabilities, extendedCapabilities: fromText.extendedCapabilities, pm: fromText.pm, msi: fromText.msi, msix: fromText.msix, pcie: fromText.pcie, acs: fromText.acs, ari: fromText.ari, ats: fromText.ats, sriov: fromText.sriov, aer: fromText.aer }, configSource: 'bytes' as const, lspci: fn };
    }
    return { address: fn.address, config: fromText, configSource: 'lspci-text' as const, lspci: fn };
  });
}

/** "Linux version 6.8.12-4-pve (…)" and "Command line: …" lines of a kernel log. */
export function kernelFromDmesg(dmesg: string): { release?: string; cmdline?: string } {
  const out: { release?: string; cmdline?: string } = {};
  const v = /Linux version (\S+)/.exec(dmesg);
  if (v) out.release = v[1]!;
  const c = /Command line: (.*)$/m.exec(dmesg);
  if (c) out.cmdline = c[1]!.trim();
  return out;
}

/** dmesg ("[    0.000000] …", "<6>[…"), journalctl -k ("… kernel: …") or the banner lines. */
function looksLikeKernelLog(t: string): boolean {
  return /^(?:<\d+>)?\[ *\d+\.\d+\] |^[A-Z][a-z]{2} [ \d]\d [\d:]{8} \S+ kernel: |Linux version \d|Command line: /m.test(t);
}

export function readCaptureFiles(o: CaptureFileOptions, fs: Fs = realFs): HostFacts {
  const notes: HostNote[] = [];
  const used: string[] = [];
  let functions: FunctionFacts[] = [];
  let iommuGroups: GroupFacts[] | undefined;
  if (o.lspci) {
    const t = text(readInput(o.lspci, 'lspci', fs));
    const input = wrap(o.lspci, () => parseLspciInput(t));
    functions = wrap(o.lspci, () => functionsFromCapture(input.capture));
    // An IOMMU group listing is the kernel's own partition.
    if (input.groups) iommuGroups = [...input.groups].map(([id, devices]): GroupFacts => ({ id, devices }));
    if (input.kind !== 'lspci') notes.push({ code: 'LSPCI_NO_CONFIG', message: `${o.lspci} is ${input.kind === 'iommu-listing' ? 'an IOMMU group listing' : 'lspci -mm output'}: names, classes${input.groups ? ' and the kernel\'s groups' : ''} only, so capabilities (FLR, ACS, MSI, port types) are unknown; lspci -nnvvv (as root) gives them` });
    used.push(`lspci ${o.lspci}`);
    if (functions.length === 0) throw new InputFailure(o.lspci, new Error('no PCI function in this file (expected lspci -vvv or -xxx output)'));
    if (functions.some((f) => f.lspci?.capabilitiesDenied)) notes.push({ code: 'CAPS_DENIED', message: 'lspci ran without root ("Capabilities: <access denied>"): FLR, ACS, MSI and PCIe port types are unknown for those functions' });
  } else {
    notes.push({ code: 'NO_PCI_DATA', message: 'no lspci capture given (--lspci): there are no devices to judge' });
  }

  let dmar: Dmar | null | undefined;
  let ivrs: Ivrs | null | undefined;
  if (o.acpidump) {
    const bytes = readInput(o.acpidump, 'acpidump', fs);
    used.push(`acpidump ${o.acpidump}`);
    wrap(o.acpidump, () => {
      if (!looksLikeText(bytes)) {
        // A single raw table given as "acpidump": take it for what its signature says.
        const t = parseAcpiTable(bytes);
        if (t.header.signature === 'DMAR') dmar = decodeDmarTable(parseAcpiTable(bytes, 'DMAR'));
        else if (t.header.signature === 'IVRS') ivrs = decodeIvrsTable(parseAcpiTable(bytes, 'IVRS'));
        return;
      }
      const tables = parseAcpidumpFile(text(bytes));
      const sigs = new Set(tables.map((t) => t.signature));
      // A full dump without the table means the firmware has none.
      dmar = sigs.has('DMAR') ? decodeDmarTable(acpiTableFromBytes(bytes, 'DMAR')) : null;
      ivrs = sigs.has('IVRS') ? decodeIvrsTable(acpiTableFromBytes(bytes, 'IVRS')) : null;
    });
  }
  if (o.dmar) {
    const f = o.dmar;
    dmar = wrap(f, () => decodeDmarTable(acpiTableFromBytes(readInput(f, 'DMAR', fs), 'DMAR')));
    used.push(`DMAR ${f}`);
  }
  if (o.ivrs) {
    const f = o.ivrs;
    ivrs = wrap(f, () => decodeIvrsTable(acpiTableFromBytes(readInput(f, 'IVRS', fs), 'IVRS')));
    used.push(`IVRS ${f}`);
  }

  let smbios: Smbios | null | undefined;
  if (o.dmidecode) {
    const f = o.dmidecode;
    const bytes = readInput(f, 'dmidecode', fs);
    if (bytes.length === 0) throw new InputFailure(f, new DecodeError('dmidecode', 0, 'input', 'the file is empty (expected dmidecode output or a dmidecode --dump-bin file)'));
    // dmidecode says so when the firmware has no SMBIOS (common in virtual machines).
    if (looksLikeText(bytes) && /No SMBIOS nor DMI entry point found/.test(text(bytes))) smbios = null;
    else smbios = wrap(f, () => (looksLikeText(bytes) ? decodeDmidecodeText(text(bytes)) : decodeSmbiosFile(bytes)));
    used.push(`dmidecode ${f}`);
  }

  let dmesg: string | undefined;
  let kernelRelease = o.kernel;
  let cmdline = o.cmdline;
  if (o.dmesg) {
    dmesg = text(readInput(o.dmesg, 'dmesg', fs));
    if (!looksLikeKernelLog(dmesg)) throw new InputFailure(o.dmesg, new DecodeError('kernel log', 1, 'line', `no kernel log lines: ${describeText(dmesg)} (expected dmesg or journalctl -k output)`, 'line'));
    used.push(`dmesg ${o.dmesg}`);
    const k = kernelFromDmesg(dmesg);
    kernelRelease ??= k.release;
    cmdline ??= k.cmdline;
  }

  const facts: HostFacts = {
    origin: { kind: 'capture', description: used.join(', ') || 'no files' },
    functions,
    notes,
  };
  if (iommuGroups !== undefined) facts.iommuGroups = iommuGroups;
  if (dmar !== undefined) facts.dmar = dmar;
  if (ivrs !== undefined) facts.ivrs = ivrs;
  if (smbios !== undefined) facts.smbios = smbios;
  if (kernelRelease !== undefined) facts.kernelRelease = kernelRelease;
  if (cmdline !== undefined) facts.cmdline = cmdline;
  if (dmesg !== undefined) facts.dmesg = dmesg;
  return facts;
}
