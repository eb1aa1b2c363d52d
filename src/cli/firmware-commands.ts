/** `assignable dmar`, `ivrs`, `smbios`: decode a file, or this host's tables. */
import { decodeDmarTable, describeDmar } from '../firmware/acpi/dmar.js';
import { acpiTableFromBytes } from '../firmware/acpi/input.js';
import { decodeIvrsTable, describeIvrs } from '../firmware/acpi/ivrs.js';
import { parseAcpiTable, type AcpiTable } from '../firmware/acpi/table.js';
import { looksLikeText } from '../firmware/acpi/acpidump.js';
import { DecodeError } from '../firmware/errors.js';
import { decodeTextInput } from '../firmware/text.js';
import { decodeDmidecodeText } from '../firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile, decodeSmbiosSysfs, type Smbios } from '../firmware/smbios/index.js';
import { SourceError } from '../sources/errors.js';
import { hostHasAcpiTable, readHostAcpiTable, readHostSmbios } from '../sources/firmware.js';
import { readInput, realFs, type Fs } from '../sources/fs.js';
import { renderFields } from '../report/format.js';
import { renderDmar, renderIvrs, renderSmbios } from '../report/firmware-text.js';
import { SCHEMAS, toJson } from '../report/json.js';
import { EXIT, type ExitCode } from './exit.js';
import { InputFailure, UsageError, type Io } from './run.js';

export interface FirmwareOptions {
  json?: boolean;
  fields?: boolean;
  root?: string;
  type?: string;
}

function loadAcpi(signature: 'DMAR' | 'IVRS', file: string | undefined, root: string, fs: Fs): AcpiTable {
  if (file !== undefined) {
    const bytes = readInput(file, signature, fs);
    try {
      return acpiTableFromBytes(bytes, signature);
    } catch (e) {
      throw new InputFailure(file, e);
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = readHostAcpiTable(root, signature, fs);
  } catch (e) {
    if (e instanceof SourceError && e.kind === 'absent') {
      const other = signature === 'DMAR' ? 'IVRS' : 'DMAR';
      const hint = hostHasAcpiTable(root, other, fs)
        ? `; it has ${other} instead (${other === 'IVRS' ? 'AMD-Vi' : 'Intel VT-d'}): try \`assignable ${other.toLowerCase()}\``
        : `: no ${signature === 'DMAR' ? 'Intel VT-d' : 'AMD-Vi'} IOMMU is described (disabled in the BIOS setup, not supported, or a virtual machine without a virtual IOMMU)`;
      throw new SourceError('absent', e.path, e.message + hint);
    }
    throw e;
  }
  try {
    return parseAcpiTable(bytes, signature);
  } catch (e) {
    throw new InputFailure(`${root.replace(/\/$/, '')}/sys/firmware/acpi/tables/${signature}`, e);
  }
}

export function runDmar(io: Io, file: string | undefined, o: FirmwareOptions, fs: Fs = realFs): ExitCode {
  if (o.json && o.fields) throw new UsageError('--json and --fields are two different outputs; choose one');
  const t = loadAcpi('DMAR', file, o.root ?? '/', fs);
  const d = wrap(file, () => decodeDmarTable(t));
  if (o.json) io.out(toJson(SCHEMAS.dmar, d) + '\n');
  else if (o.fields) io.out(renderFields(describeDmar(t, d)));
  else io.out(renderDmar(d, t.view.length));
  return EXIT.OK;
}

export function runIvrs(io: Io, file: string | undefined, o: FirmwareOptions, fs: Fs = realFs): ExitCode {
  if (o.json && o.fields) throw new UsageError('--json and --fields are two different outputs; choose one');
  const t = loadAcpi('IVRS', file, o.root ?? '/', fs);
  const d = wrap(file, () => decodeIvrsTable(t));
  if (o.json) io.out(toJson(SCHEMAS.ivrs, d) + '\n');
  else if (o.fields) io.out(renderFields(describeIvrs(t, d)));
  else io.out(renderIvrs(d, t.view.length));
  return EXIT.OK;
}

function wrap<T>(file: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw file !== undefined ? new InputFailure(file, e) : e;
  }
}

/** A file is a dmidecode text, a --dump-bin dump, an RSMB blob or a bare table. */
export function loadSmbiosFile(file: string, fs: Fs = realFs): Smbios {
  const bytes = readInput(file, 'SMBIOS', fs);
  if (looksLikeText(bytes) && /No SMBIOS nor DMI entry point found/.test(decodeTextInput(bytes))) {
    throw new SourceError('absent', file, `${file}: dmidecode found no SMBIOS on that machine ("No SMBIOS nor DMI entry point found")`);
  }
  if (bytes.length === 0) throw new InputFailure(file, new DecodeError('SMBIOS', 0, 'input', 'the file is empty (expected dmidecode output or a dmidecode --dump-bin file)'));
  return wrap(file, () => (looksLikeText(bytes) ? decodeDmidecodeText(decodeTextInput(bytes)) : decodeSmbiosFile(bytes)));
}

export function loadHostSmbios(root: string, fs: Fs = realFs): Smbios {
  const h = readHostSmbios(root, fs);
  return wrap(h.tablePath, () => decodeSmbiosSysfs(h.entryPoint, h.table));
}

export function runSmbios(io: Io, file: string | undefined, o: FirmwareOptions, fs: Fs = realFs): ExitCode {
  let type: number | null = null;
  if (o.type !== undefined) {
    if (!/^\d+$/.test(o.type) || Number(o.type) > 255) throw new UsageError(`--type ${o.type}: an SMBIOS structure type is a number from 0 to 255`);
    type = Number(o.type);
  }
  const s = file !== undefined ? loadSmbiosFile(file, fs) : loadHostSmbios(o.root ?? '/', fs);
  if (o.json) {
    const doc = type === null ? s : { ...s, structures: s.structures.filter((x) => x.type === type) };
    io.out(toJson(SCHEMAS.smbios, doc) + '\n');
  } else {
    io.out(renderSmbios(s, type));
  }
  return EXIT.OK;
}
