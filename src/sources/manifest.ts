/**
 * What a host tree may hold for us, one line per file: how big it can really be and how
 * `collect --redact` treats it. The live reader reads through an Fs that applies these
 * caps, and `collect` copies exactly what that reader read (recorded, not mirrored by
 * hand), applying the redaction named here — so a host and its capture read the same files.
 *
 * Adding a file to the survey: read it in the reader through the given Fs, and if it is
 * bigger than DEFAULT_MAX or says who the host is, add one line here.
 */

export type Redaction =
  /** Nothing identifying can be in it (kernel release, sysfs numbers, bus addresses). */
  | 'none'
  /** PCI config space: the Device Serial Number capability is zeroed. */
  | 'pci-config'
  /** The SMBIOS structure table (with its entry point): src/firmware/smbios/redact.ts. */
  | 'smbios'
  /** A kernel command line: identifying parameter values blanked. */
  | 'cmdline'
  /** Mount table: only the root file system's line is kept, addresses blanked. */
  | 'mounts'
  /** Routing table: only default routes are kept, gateways blanked. */
  | 'route'
  /** Free text: MAC addresses, UUIDs, IP addresses, iSCSI names blanked. */
  | 'text'
  /** /proc/cpuinfo: only the first CPU's flags line is kept (no model, microcode or serial). */
  | 'cpuinfo';

export interface ManifestEntry {
  /** Path under the host root; `*` stands for one path segment. */
  path: string;
  /** Bytes read at most: sysfs attributes are one page, /proc files report size 0. */
  max: number;
  redact: Redaction;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** One page: the most a sysfs attribute file can hold. */
const PAGE = 4 * KiB;

/** Any file not listed: big enough for a text file in /proc or /etc, small enough to be harmless. */
export const DEFAULT_MAX = 1 * MiB;
/** All files of one host tree together: a real capture is well under 10 MiB. */
export const TOTAL_MAX = 64 * MiB;
/** Entries of one directory (a host with thousands of PCI functions has a few thousand). */
export const DIR_ENTRIES_MAX = 65_536;
/** A module or boot configuration file: a few KiB in practice. */
export const CONFIG_MAX = 256 * KiB;

export const MANIFEST: readonly ManifestEntry[] = [
  // PCI config space: 256 bytes conventional, 4096 extended.
  { path: 'sys/bus/pci/devices/*/config', max: PAGE, redact: 'pci-config' },
  { path: 'sys/bus/pci/devices/*/*', max: PAGE, redact: 'none' },
  { path: 'sys/bus/pci/slots/*/address', max: PAGE, redact: 'none' },
  { path: 'sys/kernel/iommu_groups/*/reserved_regions', max: PAGE, redact: 'none' },
  // A DMAR or IVRS over a megabyte is not a real one.
  { path: 'sys/firmware/acpi/tables/DMAR', max: 1 * MiB, redact: 'none' },
  { path: 'sys/firmware/acpi/tables/IVRS', max: 1 * MiB, redact: 'none' },
  // Entry points are 31 (2.x) or 24 (3.x) bytes; tables of big servers are tens of KiB.
  { path: 'sys/firmware/dmi/tables/smbios_entry_point', max: 64, redact: 'smbios' },
  { path: 'sys/firmware/dmi/tables/DMI', max: 4 * MiB, redact: 'smbios' },
  { path: 'proc/sys/kernel/osrelease', max: PAGE, redact: 'none' },
  { path: 'proc/cmdline', max: PAGE, redact: 'cmdline' },
  // systemd-boot / proxmox-boot-tool's command line: the same parameters as /proc/cmdline.
  { path: 'etc/kernel/cmdline', max: PAGE, redact: 'cmdline' },
  // The running kernel's build configuration (boot.ts): a few hundred KiB.
  { path: 'boot/*', max: 4 * MiB, redact: 'text' },
  { path: 'proc/mounts', max: 16 * MiB, redact: 'mounts' },
  { path: 'proc/self/mounts', max: 16 * MiB, redact: 'mounts' },
  { path: 'proc/net/route', max: 4 * MiB, redact: 'route' },
  { path: 'var/log/dmesg', max: 16 * MiB, redact: 'text' },
  { path: 'dmesg.txt', max: 16 * MiB, redact: 'text' },
  // Module and boot configuration (config-files.ts), for `lint`: a few KiB each. They are kept
  // as configuration (module names, vendor:device ids, kernel options), with the free-text
  // redaction: UUIDs (root=UUID=…), IP and MAC addresses in them are blanked; hostnames are not
  // expected there (an ip= autoconfiguration line is, and its addresses are blanked).
  { path: 'etc/modules', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/modprobe.d/*', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/modules-load.d/*', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/default/grub', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/default/grub.d/*', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/initramfs-tools/modules', max: CONFIG_MAX, redact: 'text' },
  { path: 'etc/dracut.conf.d/*', max: CONFIG_MAX, redact: 'text' },
  // Host readiness (readiness.ts): a few hundred bytes per CPU, thousands of CPUs at most.
  { path: 'proc/cpuinfo', max: 8 * MiB, redact: 'cpuinfo' },
  { path: 'proc/modules', max: 1 * MiB, redact: 'none' },
  { path: 'sys/class/misc/kvm/dev', max: PAGE, redact: 'none' },
  { path: 'lib/modules/*/modules.builtin', max: 1 * MiB, redact: 'none' },
];

function matches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/').filter(Boolean);
  return p.length === s.length && p.every((x, i) => x === '*' || x === s[i]);
}

/** The manifest line for a path under the root (the first that matches), if any. */
export function manifestEntry(relPath: string): ManifestEntry | undefined {
  return MANIFEST.find((e) => matches(e.path, relPath));
}

export function maxBytesFor(relPath: string): number {
  return manifestEntry(relPath)?.max ?? DEFAULT_MAX;
}

/** Unlisted files get the free-text redaction: a new reader cannot leak by omission. */
export function redactionFor(relPath: string): Redaction {
  return manifestEntry(relPath)?.redact ?? 'text';
}
