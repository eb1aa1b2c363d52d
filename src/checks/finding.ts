/**
 * Findings and the one table that turns them into verdicts.
 *
 * A finding has a stable code (public: JSON, docs/verdicts.md), a device (or null for
 * the host), a one-line message, evidence lines and a ranked fix ladder. Its effect on
 * each target — vfio (KVM/Proxmox/libvirt on this Linux host), dda (Hyper-V Discrete
 * Device Assignment on this hardware), esxi (DirectPath I/O) — comes from CATALOG only.
 */
export type Target = 'vfio' | 'dda' | 'esxi';
export const TARGETS: Target[] = ['vfio', 'dda', 'esxi'];
export type Effect = 'block' | 'warn' | 'info' | 'none';
export type Severity = 'blocker' | 'warning' | 'info';

export interface Fix {
  /** 1 = try first. */
  rank: number;
  title: string;
  risk: 'none' | 'low' | 'medium' | 'high';
  detail: string;
  commands?: string[];
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  device: string | null;
  message: string;
  evidence: string[];
  fixes: Fix[];
}

/** documented: the effect rests on the target's own documentation or source; believed: it does not (yet). */
export type Confidence = 'documented' | 'believed';

interface CatalogEntry {
  title: string;
  effect: Record<Target, Effect>;
  /** Targets whose effect is believed, not sourced, and why (shown in text and JSON). */
  believed?: Partial<Record<Target, string>>;
}

const e = (vfio: Effect, dda: Effect, esxi: Effect) => ({ vfio, dda, esxi });

/**
 * No ESXi document or source we found says how DirectPath I/O treats RMRR or IVMD devices
 * (../shared/docs/peers.md §3.6: "not studied"); users report it does not enforce them. Until
 * a source is cited the ESXi effect is a warning, marked believed.
 */
const ESXI_RESERVED = { esxi: 'Users report ESXi DirectPath I/O does not enforce firmware-reserved (RMRR/IVMD) memory; no VMware document or source confirms it.' };

/** The reset bug is reported by Linux/KVM users; no Microsoft or VMware source says how DDA or DirectPath I/O fare. */
const VENDOR_RESET_ELSEWHERE = {
  dda: 'Users report the same AMD GPU reset failure under Hyper-V DDA; no Microsoft document confirms it.',
  esxi: 'Users report the same AMD GPU reset failure under ESXi DirectPath I/O; no VMware document confirms it.',
};

/**
 * Every code, what it means, and what it does to each target's verdict.
 * block → "blocked"; warn → "warnings"; info/none → no change.
 */
export const CATALOG = {
  // Host: the IOMMU itself.
  IOMMU_ABSENT: { title: 'The firmware describes no IOMMU (no ACPI DMAR or IVRS table)', effect: e('block', 'block', 'block') },
  IOMMU_DISABLED_BY_KERNEL: { title: 'The firmware has an IOMMU but the kernel did not enable it (no IOMMU groups)', effect: e('block', 'none', 'none') },
  IOMMU_KERNEL_STATE_UNKNOWN: { title: 'Whether the kernel enabled the IOMMU is unknown (no group data in the capture)', effect: e('warn', 'none', 'none') },
  IOMMU_TABLES_UNKNOWN: { title: 'The ACPI IOMMU tables were not captured: reserved regions are unknown', effect: e('warn', 'warn', 'warn') },
  // vfio_iommu_type1 refuses to attach a group without IRQ remapping unless allow_unsafe_interrupts.
  INTERRUPT_REMAPPING_ABSENT: { title: 'No interrupt remapping: VFIO refuses devices', effect: e('block', 'block', 'warn') },
  INTERRUPT_REMAPPING_UNSAFE_ALLOWED: { title: 'No interrupt remapping; VFIO allowed anyway by allow_unsafe_interrupts', effect: e('warn', 'block', 'warn') },
  // Firmware reservations.
  RMRR_DIRECT: { title: 'Named by a DMAR RMRR the kernel will enforce', effect: e('block', 'block', 'warn'), believed: ESXI_RESERVED },
  RMRR_RELAXABLE: { title: 'Named by a DMAR RMRR the kernel treats as relaxable (USB/display)', effect: e('warn', 'block', 'warn'), believed: ESXI_RESERVED },
  RMRR_RELAXED_BY_OPTION: { title: 'Named by a DMAR RMRR, relaxed by intel_iommu=relax_rmrr', effect: e('warn', 'block', 'warn'), believed: ESXI_RESERVED },
  RMRR_NOT_ENFORCED: { title: 'Named by a DMAR RMRR; this old kernel does not enforce RMRRs', effect: e('warn', 'block', 'warn'), believed: ESXI_RESERVED },
  IVMD_UNITY_DIRECT: { title: 'Named by an AMD IVMD unity range the kernel enforces (6.6+)', effect: e('block', 'warn', 'warn'), believed: ESXI_RESERVED },
  IVMD_UNITY: { title: 'Named by an AMD IVMD unity range', effect: e('warn', 'warn', 'warn'), believed: ESXI_RESERVED },
  IVMD_EXCLUSION: { title: 'Inside an AMD IVMD exclusion range', effect: e('info', 'info', 'info'), believed: ESXI_RESERVED },
  // Isolation.
  GROUP_SHARED: { title: 'Its IOMMU group holds other devices that must go with it', effect: e('warn', 'none', 'none') },
  GROUP_HOST_CRITICAL: { title: 'Its IOMMU group holds a device the host needs', effect: e('block', 'none', 'none') },
  GROUP_UNKNOWN: { title: 'Its IOMMU group is unknown', effect: e('warn', 'none', 'none') },
  GROUP_PREDICTED_UNCERTAIN: { title: 'Predicted to have its own IOMMU group, on facts the capture lacks', effect: e('warn', 'none', 'none') },
  GROUPS_DIFFER_FROM_PREDICTION: { title: "The kernel's IOMMU groups differ from what config space predicts", effect: e('info', 'none', 'none') },
  NO_IOMMU_GROUP: { title: 'The kernel put it in no IOMMU group', effect: e('block', 'none', 'none') },
  ACS_MISSING_UPSTREAM: { title: 'A port above it lacks Access Control Services', effect: e('info', 'block', 'none') },
  // The function itself.
  BRIDGE: { title: 'A bridge or port, not a device to pass through', effect: e('block', 'block', 'block') },
  HOST_BRIDGE: { title: 'The host bridge', effect: e('block', 'block', 'block') },
  CONVENTIONAL_PCI: { title: 'Conventional PCI (not PCI Express)', effect: e('warn', 'block', 'warn') },
  LEGACY_ENDPOINT: { title: 'PCI Express legacy endpoint', effect: e('warn', 'block', 'warn') },
  LEGACY_GRAPHICS_ENDPOINT: { title: 'PCI Express legacy endpoint (graphics)', effect: e('warn', 'info', 'warn') },
  INTEGRATED_ENDPOINT: { title: 'Root-complex integrated endpoint', effect: e('info', 'info', 'none') },
  INTX_ONLY: { title: 'Line-based interrupts only (no MSI or MSI-X)', effect: e('warn', 'block', 'warn') },
  NO_RESET: { title: 'No reset method', effect: e('warn', 'warn', 'warn') },
  BUS_RESET_ONLY: { title: 'Reset only by resetting its bus', effect: e('info', 'none', 'info') },
  CAPABILITIES_UNKNOWN: { title: 'Its capabilities are unknown (config space past 64 bytes not read)', effect: e('warn', 'warn', 'warn') },
  // What the host needs.
  MANAGEMENT_CONTROLLER: { title: 'Part of the management controller (iLO/BMC)', effect: e('block', 'block', 'block') },
  HOST_BOOT_DISK: { title: 'The host boots from it', effect: e('block', 'block', 'block') },
  HOST_BOOT_DISK_UNKNOWN: { title: 'A storage controller, and which disks hold the host root file system is unknown', effect: e('warn', 'warn', 'warn') },
  HOST_CONSOLE: { title: 'The host console (boot VGA)', effect: e('warn', 'warn', 'warn') },
  HOST_NETWORK: { title: 'Carries the host default route', effect: e('warn', 'warn', 'warn') },
  SHARED_WITH_MANAGEMENT: { title: 'May be shared with the management controller', effect: e('info', 'info', 'info') },
  // For information.
  DRIVER_BOUND: { title: 'Bound to a host driver', effect: e('info', 'none', 'none') },
  MMIO: { title: 'MMIO the VM must provide', effect: e('info', 'info', 'info') },
  SRIOV: { title: 'SR-IOV capable', effect: e('info', 'info', 'info') },
  EMBEDDED: { title: 'Embedded on the system board: it has no slot', effect: e('info', 'info', 'info') },
  // Hyper-V DDA from Windows' own answers (a Windows probe capture or a SurveyDDA paste).
  DDA_RESERVED_MEMORY: { title: 'Windows reports RequiresReservedMemoryRegion (an RMRR names it)', effect: e('warn', 'block', 'warn'), believed: ESXI_RESERVED },
  DDA_FIRMWARE_KEPT_PCIE_CONTROL: { title: 'The firmware kept PCI Express control: Windows treats PCIe as PCI', effect: e('none', 'block', 'none') },
  DDA_ACS_UNKNOWN: { title: 'Windows published no ACS answer for it', effect: e('none', 'warn', 'none') },
  DDA_INTERRUPTS_UNKNOWN: { title: 'How it interrupts is unknown (Windows gave no InterruptSupport, or SurveyDDA could not tell)', effect: e('none', 'warn', 'none') },
  DDA_NOT_SERVER: { title: 'A client edition of Windows: DDA is Server-only', effect: e('none', 'block', 'none') },
  DDA_HYPERV_MISSING: { title: 'The Hyper-V role is not installed', effect: e('none', 'block', 'none') },
  DDA_IOV_REASONS: { title: 'Hyper-V gives IovSupportReasons', effect: e('none', 'info', 'none') },
  DDA_ASSIGNED: { title: 'Already dismounted or assigned with DDA', effect: e('none', 'info', 'none') },
  DDA_VM_SETTINGS: { title: 'The VM it is assigned to has settings that conflict with DDA', effect: e('none', 'warn', 'none') },
  // Seen only in the errors users paste (assignable diagnose): states a capture does not show.
  DEVICE_INACCESSIBLE: { title: 'Config space reads as all ones: powered down (D3cold), held, or gone', effect: e('block', 'block', 'block') },
  BAR_RESERVED_BY_HOST: { title: 'Part of a BAR is claimed by the host (often the boot framebuffer)', effect: e('warn', 'none', 'none') },
  BAR_UNASSIGNED: { title: 'A BAR got no address (MMIO window too small)', effect: e('warn', 'warn', 'warn') },
  ACS_VIOLATION: { title: 'A port\'s ACS blocked a request from below it (AER ACSViol)', effect: e('warn', 'warn', 'warn') },
  DDA_NO_MITIGATION_DRIVER: { title: 'Hyper-V refused the dismount: the vendor supplied no mitigation driver (-Force overrides)', effect: e('none', 'warn', 'none') },
  // Host readiness (readiness.ts): can this host run KVM guests with VFIO at all.
  HOST_IS_VIRTUAL_MACHINE: { title: 'This host is itself a virtual machine: its devices are emulated or passed through to it', effect: e('info', 'info', 'info') },
  CPU_VIRTUALIZATION_MISSING: { title: 'The CPU shows no VT-x/AMD-V (no vmx or svm flag): KVM cannot run guests', effect: e('block', 'none', 'none') },
  KVM_UNAVAILABLE: { title: '/dev/kvm is missing or cannot be opened', effect: e('block', 'none', 'none') },
  VFIO_MODULES_MISSING: { title: 'The kernel lacks a vfio module VFIO needs (vfio, vfio_iommu_type1, vfio_pci)', effect: e('block', 'none', 'none') },
  VFIO_NOT_LOADED: { title: 'The vfio modules are available but not loaded', effect: e('info', 'none', 'none') },
  // Reset (issue 10): a GPU gnif/vendor-reset supports, without it in effect.
  VENDOR_RESET_NEEDED: { title: 'A GPU users report does not reset between VM runs (AMD "reset bug"); gnif/vendor-reset supports it', effect: e('warn', 'warn', 'warn'), believed: VENDOR_RESET_ELSEWHERE },
} as const satisfies Record<string, CatalogEntry>;

export type FindingCode = keyof typeof CATALOG;

export function effectOf(code: FindingCode, t: Target): Effect {
  return CATALOG[code].effect[t];
}

/** Why the effect of `code` on `t` is only believed; undefined when it is documented. */
export function beliefOf(code: FindingCode, t: Target): string | undefined {
  return (CATALOG[code] as CatalogEntry).believed?.[t];
}

export function confidenceOf(code: FindingCode, t: Target): Confidence {
  return beliefOf(code, t) === undefined ? 'documented' : 'believed';
}

/** A finding's severity is its worst effect on any target. */
export function severityOf(code: FindingCode): Severity {
  const effects = Object.values(CATALOG[code].effect) as Effect[];
  return effects.includes('block') ? 'blocker' : effects.includes('warn') ? 'warning' : 'info';
}

export function finding(code: FindingCode, device: string | null, message: string, evidence: string[] = [], fixes: Fix[] = []): Finding {
  return { code, severity: severityOf(code), device, message, evidence, fixes };
}

export type VerdictStatus = 'assignable' | 'warnings' | 'blocked';
export interface Verdict {
  status: VerdictStatus;
  /** Codes that decided the status: the blockers, or else the warnings. */
  reasons: FindingCode[];
  /** believed when a code that decided it (or, for assignable, any code present) has a believed effect on the target. */
  confidence: Confidence;
}

/** The one rule: any block → blocked; else any warn → warnings; else assignable. */
export function verdict(findings: Finding[], t: Target): Verdict {
  const codes = (effect: Effect) => [...new Set(findings.filter((f) => effectOf(f.code, t) === effect).map((f) => f.code))];
  const confidence = (cs: FindingCode[]): Confidence => (cs.some((c) => confidenceOf(c, t) === 'believed') ? 'believed' : 'documented');
  const blocks = codes('block');
  if (blocks.length > 0) return { status: 'blocked', reasons: blocks, confidence: confidence(blocks) };
  const warns = codes('warn');
  if (warns.length > 0) return { status: 'warnings', reasons: warns, confidence: confidence(warns) };
  return { status: 'assignable', reasons: [], confidence: confidence(findings.map((f) => f.code)) };
}
