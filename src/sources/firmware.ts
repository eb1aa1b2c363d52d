/**
 * Firmware tables of a live host, read under a root directory ("/" for this machine,
 * a directory of real data in tests): the same code path for both.
 */
import { join } from 'node:path';
import { SourceError } from './errors.js';
import { realFs, sourceErrorFrom, treeFs, type Fs } from './fs.js';

export const ACPI_TABLES_DIR = 'sys/firmware/acpi/tables';
export const DMI_TABLES_DIR = 'sys/firmware/dmi/tables';

/** Raw bytes of /sys/firmware/acpi/tables/<signature> under `root`. */
export function readHostAcpiTable(root: string, signature: string, fs: Fs = realFs): Uint8Array {
  const path = join(root, ACPI_TABLES_DIR, signature);
  try {
    return (fs === realFs ? treeFs(root) : fs).readFileSync(path);
  } catch (e) {
    const err = sourceErrorFrom(e, path, signature);
    if (err.kind === 'not-found') {
      throw new SourceError('absent', path, `this host's firmware exposes no ${signature} table (${path} does not exist)`);
    }
    if (err.kind === 'permission') {
      throw new SourceError('permission', path, `cannot read ${path}: permission denied; the ACPI tables are readable by root only (run as root, e.g. with sudo)`);
    }
    throw err;
  }
}

export function hostHasAcpiTable(root: string, signature: string, fs: Fs = realFs): boolean {
  return fs.existsSync(join(root, ACPI_TABLES_DIR, signature));
}

export interface HostSmbiosBytes {
  entryPoint: Uint8Array;
  table: Uint8Array;
  entryPointPath: string;
  tablePath: string;
}

/** /sys/firmware/dmi/tables/{smbios_entry_point,DMI} under `root`. */
export function readHostSmbios(root: string, fs: Fs = realFs): HostSmbiosBytes {
  const entryPointPath = join(root, DMI_TABLES_DIR, 'smbios_entry_point');
  const tablePath = join(root, DMI_TABLES_DIR, 'DMI');
  // Read inside the root only, bounded (a tree's links must not lead out of it).
  const tree = fs === realFs ? treeFs(root) : fs;
  const read = (path: string) => {
    try {
      return tree.readFileSync(path);
    } catch (e) {
      const err = sourceErrorFrom(e, path, 'SMBIOS');
      if (err.kind === 'not-found') {
        throw new SourceError('absent', path, `this host exposes no SMBIOS tables (${path} does not exist; virtual machines often have none)`);
      }
      if (err.kind === 'permission') {
        throw new SourceError('permission', path, `cannot read ${path}: permission denied; the SMBIOS tables are readable by root only (run as root, e.g. with sudo)`);
      }
      throw err;
    }
  };
  return { entryPoint: read(entryPointPath), table: read(tablePath), entryPointPath, tablePath };
}
