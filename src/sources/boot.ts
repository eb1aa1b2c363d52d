/**
 * How this host boots and what its kernel was built with: the bootloader (for the one
 * command that changes its command line), the running kernel's IOMMU build options, and
 * vfio_iommu_type1's allow_unsafe_interrupts. Read under a root ("/" or a host tree); a
 * file that is missing leaves the fact unknown.
 */
import { join } from 'node:path';
import type { Bootloader, HostFacts, KernelConfig } from '../host/model.js';
import type { Fs } from './fs.js';
import { optional, readText } from './tree-read.js';

/** The files this module reads, relative to the root (the capture must include them). */
export const BOOT_FILES = {
  kernelCmdline: 'etc/kernel/cmdline',
  efi: 'sys/firmware/efi',
  proxmoxBootTool: 'usr/sbin/proxmox-boot-tool',
  proxmoxBootUuids: 'etc/kernel/proxmox-boot-uuids',
  defaultGrub: 'etc/default/grub',
  grubCfg: 'boot/grub/grub.cfg',
  unsafeInterrupts: 'sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts',
  kernelConfig: (release: string) => `boot/config-${release}`,
} as const;

/** A kernel config is a few hundred KB; anything far bigger is not one. */
const MAX_CONFIG_BYTES = 4 << 20;
/** A module parameter file: "Y\n" or "N\n". */
const MODULE_PARAM_MAX = 16;
/** The options the IOMMU advice may quote. */
const IOMMU_OPTION = /^(CONFIG_(?:INTEL_IOMMU|AMD_IOMMU|IOMMU_DEFAULT|IRQ_REMAP|VFIO)[A-Z0-9_]*)/;

/** `CONFIG_X=y` and `# CONFIG_X is not set` lines of the IOMMU options. */
export function parseKernelConfig(path: string, text: string): KernelConfig {
  const options: Record<string, string | null> = {};
  for (const line of text.split('\n')) {
    const unset = /^# (CONFIG_[A-Z0-9_]+) is not set$/.exec(line);
    if (unset && IOMMU_OPTION.test(unset[1]!)) options[unset[1]!] = null;
    const set = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (set && IOMMU_OPTION.test(set[1]!)) options[set[1]!] = set[2]!.replace(/^"|"$/g, '');
  }
  return { path, options };
}

/** systemd-boot when EFI-booted with /etc/kernel/cmdline; GRUB when its files are there; else unknown. */
export function readBootloader(fs: Fs, root: string): Bootloader | undefined {
  const has = (p: string) => fs.existsSync(join(root, p));
  const pbt = has(BOOT_FILES.proxmoxBootTool) && has(BOOT_FILES.proxmoxBootUuids);
  const pbtEvidence = pbt ? [`/${BOOT_FILES.proxmoxBootUuids} and /${BOOT_FILES.proxmoxBootTool} present`] : [];
  if (has(BOOT_FILES.kernelCmdline) && has(BOOT_FILES.efi)) {
    return { kind: 'systemd-boot', proxmoxBootTool: pbt, evidence: [`/${BOOT_FILES.kernelCmdline} present`, `EFI boot (/${BOOT_FILES.efi})`, ...pbtEvidence] };
  }
  const grub = [BOOT_FILES.defaultGrub, BOOT_FILES.grubCfg].filter(has);
  if (grub.length === 0) return undefined; // a tree without boot files says nothing about the bootloader
  const why = has(BOOT_FILES.kernelCmdline) ? `/${BOOT_FILES.kernelCmdline} present but not an EFI boot` : `no /${BOOT_FILES.kernelCmdline}`;
  return { kind: 'grub', proxmoxBootTool: pbt, evidence: [...grub.map((g) => `/${g} present`), why, ...pbtEvidence] };
}

/** The boot facts of a host tree: bootloader, kernel build options, allow_unsafe_interrupts. */
export function readBootFacts(fs: Fs, root: string, kernelRelease: string | undefined): Pick<HostFacts, 'bootloader' | 'kernelConfig' | 'vfioAllowUnsafeInterrupts'> {
  const out: Pick<HostFacts, 'bootloader' | 'kernelConfig' | 'vfioAllowUnsafeInterrupts'> = {};
  const bootloader = readBootloader(fs, root);
  if (bootloader) out.bootloader = bootloader;
  if (kernelRelease && !kernelRelease.includes('/')) {
    const rel = BOOT_FILES.kernelConfig(kernelRelease);
    const text = optional(() => readText(fs, join(root, rel), MAX_CONFIG_BYTES));
    if (text !== undefined) out.kernelConfig = parseKernelConfig(`/${rel}`, text);
  }
  // A bool module parameter reads "Y" or "N"; absent when the module is not loaded.
  // Read, not stat: a sysfs attribute reports 4096 bytes whatever it holds.
  const v = optional(() => readText(fs, join(root, BOOT_FILES.unsafeInterrupts), MODULE_PARAM_MAX))?.trim();
  if (v === 'Y' || v === 'N') out.vfioAllowUnsafeInterrupts = v === 'Y';
  return out;
}
