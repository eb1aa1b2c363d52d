/** `vm-config DEVICE --for proxmox|libvirt|qemu|hyperv`: the VM configuration for a device. */
import { runSurvey } from '../checks/index.js';
import { toJson } from '../report/json.js';
import { findDevices } from '../report/survey.js';
import { VM_CONFIG_SCHEMA, VM_TARGETS, renderRefusal, renderVmConfig, vmConfig, vmConfigJson, type VmTarget } from '../report/vm-config/index.js';
import { deviceKey } from '../host/address.js';
import { realFs, type Fs } from '../sources/fs.js';
import { EXIT, type ExitCode } from './exit.js';
import { loadHost, type HostSourceOptions } from './host-commands.js';
import { UsageError, type Io } from './run.js';

export interface VmConfigCliOptions extends HostSourceOptions {
  for?: string;
  vm?: string;
  node?: string;
  force?: boolean;
  json?: boolean;
}

/** Proxmox VMIDs (qemu-server's pve-vmid): 100 to 999999999. */
const VMID = /^[1-9][0-9]{2,8}$/;
/** A Proxmox node name is a DNS label. */
const NODE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function checkOptions(o: VmConfigCliOptions): VmTarget {
  const t = o.for as VmTarget | undefined;
  if (t === undefined) throw new UsageError(`vm-config needs --for ${VM_TARGETS.join('|')}`);
  if (!VM_TARGETS.includes(t)) throw new UsageError(`--for ${o.for}: choose ${VM_TARGETS.join(', ')}`);
  if (o.vm !== undefined) {
    if (t === 'proxmox' && !VMID.test(o.vm)) throw new UsageError(`--vm ${JSON.stringify(o.vm.slice(0, 40))}: a Proxmox VMID is a number from 100 to 999999999`);
    // The name goes into shell, XML and PowerShell lines (quoted there): no control characters, no quotes for XML/shell.
    if (o.vm.trim() === '' || /[\x00-\x1f\x7f'"<>&]/.test(o.vm)) throw new UsageError('--vm: give the VM name as the hypervisor shows it (no quotes, <, >, & or control characters)');
    if (t === 'qemu') throw new UsageError('--vm: a QEMU command line names no VM; use it with --for proxmox, libvirt or hyperv');
  }
  if (o.node !== undefined && (t !== 'proxmox' || !NODE.test(o.node))) throw new UsageError(t !== 'proxmox' ? '--node is the Proxmox cluster node of the resource mapping: use it with --for proxmox' : `--node ${JSON.stringify(o.node.slice(0, 70))}: not a node name`);
  return t;
}

export function runVmConfig(io: Io, query: string, o: VmConfigCliOptions, fs: Fs = realFs): ExitCode {
  const t = checkOptions(o);
  const sv = runSurvey(loadHost(o, fs));
  const found = findDevices(sv, query);
  const hits = found.filter((r) => !r.device.isBridge && !r.device.isHostBridge);
  if (hits.length === 0 && found.length > 0) throw new UsageError(`${found[0]!.device.address} is a bridge: bridges stay with the host; give the device behind it (\`assignable survey\` lists them)`);
  if (hits.length === 0) throw new UsageError(`no device matches "${query}" (give an address like 0000:06:00.0 or 06:00, a slot like slot2, or part of a name; \`assignable survey\` lists them)`);
  // Several functions of one device (06:00, a slot): the device is its lowest function.
  const keys = [...new Set(hits.map((r) => deviceKey(r.device.pci)))];
  if (keys.length > 1) throw new UsageError(`"${query}" matches ${keys.length} devices (${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', …' : ''}): give one address`);
  const c = vmConfig(sv, hits[0]!, t, o);
  if (o.json) io.out(toJson(VM_CONFIG_SCHEMA, vmConfigJson(c)) + '\n');
  if (c.plan.status === 'refused') {
    if (!o.json) io.err(renderRefusal(c));
    return c.plan.blockers.some((b) => b.code === 'IOMMU_ABSENT') ? EXIT.ABSENT : EXIT.BLOCKED;
  }
  if (!o.json) io.out(renderVmConfig(c));
  return EXIT.OK;
}
