/**
 * The library entry point (`import … from 'assignable'`), documented in docs/library.md.
 *
 * Listed name by name on purpose: what is exported here is the supported surface, and
 * anything else under dist/ is an internal that may change between releases.
 */

export { VERSION } from './version.js';

// Errors: decoders throw DecodeError (table, offset, field); readers throw SourceError (kind, path).
export { DecodeError } from './firmware/errors.js';
export { SourceError, type SourceErrorKind } from './sources/errors.js';

// Firmware decoders: pure, bytes or text in, typed objects out.
export { parseAcpiTable, type AcpiTable, type AcpiHeader } from './firmware/acpi/table.js';
export { parseAcpidumpText, type TextTable } from './firmware/acpi/acpidump.js';
export { acpiTableFromBytes } from './firmware/acpi/input.js';
export {
  decodeDmar,
  decodeDmarTable,
  DMAR_FLAGS,
  type Dmar,
  type DmarStructure,
  type DmarStructureType,
  type Drhd,
  type Rmrr,
  type Atsr,
  type Rhsa,
  type Andd,
  type Satc,
  type Sidp,
  type DeviceScope,
  type PciPathElement,
} from './firmware/acpi/dmar.js';
export { decodeIvrs, decodeIvrsTable, type Ivrs, type IvrsBlock, type Ivhd, type IvhdEntry, type Ivmd } from './firmware/acpi/ivrs.js';
export { decodeSmbiosFile, decodeSmbiosSysfs, decodeSmbiosTable, type Smbios, type SmbiosSource } from './firmware/smbios/index.js';
export type { EntryPoint } from './firmware/smbios/entry.js';
export type {
  SmbiosStructure,
  SystemInformation,
  BaseboardInformation,
  BiosInformation,
  SystemSlot,
  OnboardDevice,
  HpeDeviceCorrelation,
} from './firmware/smbios/types.js';
export { decodeDmidecodeText } from './firmware/smbios/dmidecode-text.js';
export { decodePciConfig, ACS_BITS, type PciConfig, type AcsBit, type CapabilityEntry, type Bar } from './firmware/pci/config.js';
export { parseLspci, configFromLspci, type LspciCapture, type LspciFunction, type LspciRegion, type PciAddress } from './firmware/pci/lspci-text.js';

// Sources: the readers that turn a host, a capture or loose files into HostFacts.
export { readLiveHost } from './sources/live.js';
export { readCapture } from './sources/capture-archive.js';
export { readCaptureFiles, functionsFromLspci, type CaptureFileOptions } from './sources/capture-files.js';
export { realFs, type Fs } from './sources/fs.js';
// Windows: a probe capture (docs/windows-probe.md) and SurveyDDA's printed text.
export { windowsFactsFromProbe, parseProbeBytes, readSurveyDda, PROBE_SCHEMA } from './sources/windows/index.js';
export { surveyDdaFacts } from './sources/windows/surveydda.js';

// The host model: HostFacts → Host.
export { buildHost, type NameLookup } from './host/build.js';
export { pciIdsLookup } from './host/pciids.js';
export { locationPathOf, parseLocationPath } from './host/location-path.js';
export type { Host, HostFacts, HostNote, Device, FunctionFacts, SlotInfo, KernelFacts, RmrrHit, IvmdHit } from './host/model.js';

// The survey: checks and verdicts.
export { runSurvey, type Survey, type SurveyOptions, type DeviceReport } from './checks/index.js';
export type { IommuState } from './checks/iommu.js';
export {
  CATALOG,
  TARGETS,
  effectOf,
  severityOf,
  verdict,
  type FindingCode,
  type Finding,
  type Fix,
  type Target,
  type Effect,
  type Severity,
  type Verdict,
  type VerdictStatus,
} from './checks/finding.js';

// The survey as the JSON document `assignable survey --json` prints (docs/json.md).
export { surveyJson, SURVEY_SCHEMA } from './report/survey.js';
export { toJson } from './report/json.js';

// `assignable lint`: stale and conflicting passthrough configuration (docs/verdicts.md, "Configuration lint").
export { lintConfig, LINT_CODES, type LintCode, type LintFinding, type LintReport } from './checks/lint.js';
export { lintJson, LINT_SCHEMA } from './report/lint.js';
// diagnose: the passthrough errors in pasted log text, with their codes; joined to a Survey when given.
export { diagnose, recognize, MESSAGES, type Diagnosis, type DiagnosedError, type KnownMessage } from './checks/diagnose/index.js';
export { diagnosisJson, DIAGNOSE_SCHEMA } from './report/diagnose.js';
// Host readiness (the first lines of `survey`) and whether the host is itself a virtual machine.
export { readiness, type Readiness, type ReadinessItem, type ReadinessStatus } from './checks/readiness.js';
export { virtualMachine, type VirtualMachine } from './checks/virtual-machine.js';
// vm-config: the VM configuration for a device (docs/json.md, assignable/vm-config/v1).
export { vmConfig, vmConfigJson, renderVmConfig, VM_CONFIG_SCHEMA, VM_TARGETS, type VmConfig, type VmConfigOptions, type VmPlan, type VmTarget } from './report/vm-config/index.js';
// `bind`'s plan: which functions go to vfio-pci with a device, and why not (pure, from a Host).
export { planBind, type BindPlan, type BindFunction } from './remedies/vfio-bind/plan.js';
// Reset: the methods for one function and where they come from; the kernel's rows and vendor-reset's table.
export { analyzeReset, type ResetAnalysis, type HotReset } from './checks/reset.js';
export { KERNEL_RESET_ROWS, VENDOR_RESET_FAMILIES, vendorResetFamily, type KernelResetRow, type VendorResetFamily } from './checks/reset-quirks.js';
