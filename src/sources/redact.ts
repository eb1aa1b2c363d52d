/**
 * Redaction of the text and PCI files of a capture (`collect --redact`). Pure: text or
 * bytes in, the same with identifying values blanked. What each file gets is named in
 * manifest.ts; SMBIOS has its own module (firmware/smbios/redact.ts).
 */
import { decodePciConfig } from '../firmware/pci/config.js';

export const MAC = /\b(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}\b/g;
/** Infiniband / long link-layer addresses (20 bytes in /sys/class/net/ib0/address). */
const LONG_HWADDR = /\b(?:[0-9a-fA-F]{2}:){7,19}[0-9a-fA-F]{2}\b/g;
export const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
/** IPv6 with "::" or with six or more groups: a PCI address (0000:00:1f.0) has two colons. */
const IPV6 = /(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?|(?:[0-9a-fA-F]{1,4}:){5,7}[0-9a-fA-F]{1,4})(?![\w:])/g;
/** iSCSI names (RFC 3720 §3.2.6.3): iqn.YYYY-MM.reversed.domain[:id], eui.<16 hex>. */
const ISCSI = /\b(?:iqn\.\d{4}-\d{2}\.[^\s,;"']+|eui\.[0-9a-fA-F]{16})/gi;
const HIDDEN = 'REDACTED';

/** MAC addresses, UUIDs, IP addresses and iSCSI names in free text. */
export function redactIdentifiers(text: string): string {
  return text
    .replace(ISCSI, HIDDEN)
    .replace(UUID, 'XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX')
    .replace(LONG_HWADDR, HIDDEN)
    .replace(MAC, 'XX:XX:XX:XX:XX:XX')
    .replace(IPV4, 'X.X.X.X')
    .replace(IPV6, 'X::X');
}

/**
 * Kernel parameters whose value names this machine, its disks, network or storage targets
 * (kernel-parameters.txt, dracut.cmdline(7), nfsroot.txt).
 */
const IDENTIFYING_PARAMS = new Set([
  'root', 'resume', 'ip', 'nfsroot', 'nfsaddrs', 'hostname', 'BOOTIF', 'ifname', 'bootdev', 'bond', 'vlan', 'bridge',
  'netroot', 'rd.iscsi.initiator', 'rd.iscsi.target.name', 'rd.iscsi.target.ip', 'iscsi_initiator', 'iscsi_target_name',
  'iscsi_target_ip', 'rd.luks.uuid', 'rd.luks.name', 'rd.luks', 'rd.md.uuid', 'rd.lvm.lv', 'rd.lvm.vg', 'cryptdevice',
  'cryptkey', 'zfs', 'rd.zfs.pool', 'rd.neednet', 'nameserver', 'rd.peerdns', 'rd.route', 'boot', 'systemd.hostname',
]);
/** Value prefixes that say what kind of reference it is, kept: "root=UUID=REDACTED". */
const VALUE_SCHEME = /^(UUID|PARTUUID|LABEL|PARTLABEL|ZFS)=/i;

export function redactCmdline(cmdline: string): string {
  const out = cmdline.replace(/(^|\s)([^\s=]+)=("[^"]*"|\S*)/g, (m, lead: string, key: string, value: string) => {
    if (!IDENTIFYING_PARAMS.has(key)) return m;
    const scheme = VALUE_SCHEME.exec(value.replace(/^"/, ''))?.[0] ?? '';
    return `${lead}${key}=${scheme}${HIDDEN}`;
  });
  return redactIdentifiers(out);
}

/** The mount table reduced to the root file system's line (all the survey reads). */
/** The mount of `/` the reader uses (boot-disk.ts rootMount): the last one, mounted over the others. */
export function rootMountLine(mounts: string): string | undefined {
  return mounts.split('\n').filter((l) => l.split(' ')[1] === '/' && l.split(' ')[2] !== 'rootfs').at(-1);
}

/** A network root (server:/export) names the server: blank it; option addresses too. */
export function redactMountLine(line: string): string {
  const f = line.split(' ');
  if (f[0]?.includes(':') && !f[0].startsWith('/')) f[0] = `${HIDDEN}:/`;
  return redactIdentifiers(f.join(' '));
}

/** /proc/net/route reduced to its header and default routes (destination 0). */
export function defaultRoutes(route: string): string {
  const lines = route.split('\n');
  return [lines[0] ?? '', ...lines.slice(1).filter((l) => l.trim().split(/\s+/)[1] === '00000000')].join('\n') + '\n';
}

/** The gateway column (the third) zeroed: it is this network's router address. */
export function redactRoutes(route: string): string {
  return route
    .split('\n')
    .map((l, i) => {
      if (i === 0 || l.trim() === '') return l;
      const f = l.split('\t');
      if (f.length > 2) f[2] = '00000000';
      return f.join('\t');
    })
    .join('\n');
}

/** The kernel log: the command line it repeats, the "(user@host)" of the version line, identifiers. */
export function redactKernelLog(log: string): string {
  return log
    .split('\n')
    .map((l) => {
      const c = /^(.*?(?:Kernel )?[Cc]ommand line: )(.*)$/.exec(l);
      if (c) return c[1]! + redactCmdline(c[2]!);
      return redactIdentifiers(l.replace(/(Linux version \S+ )\([^)]*\)/, `$1(${HIDDEN})`));
    })
    .join('\n');
}

/** lspci -vvv text: Device Serial Numbers, VPD serial/asset/vendor/system fields, identifiers. */
export function redactLspciText(text: string): string {
  return redactIdentifiers(
    text
      .replace(/(Device Serial Number )\S+/g, '$1XX-XX-XX-XX-XX-XX-XX-XX')
      // PCI VPD keywords (PCI Local Bus 3.0 §I.3): SN serial number, Vx vendor-specific, Yx system-specific (YA asset tag).
      .replace(/^(\s*\[(?:SN|V[0-9A-Z]|Y[0-9A-Z])\][^:\n]*:).*$/gm, `$1 ${HIDDEN}`),
  );
}

/** PCI capability IDs (PCI Code and ID Assignment §2, §3). */
const CAP_VPD = 0x03;
const EXT_CAP_DSN = 0x0003;

/** Config space with the Device Serial Number and the VPD data register (last VPD dword read) zeroed. */
export function redactPciConfig(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 64) return bytes;
  const c = decodePciConfig(bytes);
  const out = bytes.slice();
  const dsn = c.extendedCapabilities?.find((x) => x.id === EXT_CAP_DSN);
  if (dsn) out.fill(0, dsn.offset + 4, Math.min(out.length, dsn.offset + 12));
  const vpd = c.capabilities?.find((x) => x.id === CAP_VPD);
  if (vpd) out.fill(0, vpd.offset + 4, Math.min(out.length, vpd.offset + 8));
  return out;
}
