/**
 * Host readiness facts, as virt-host-validate checks them: the CPU's virtualization flags,
 * /dev/kvm, the vfio modules. Each stays undefined when the tree does not say (an older
 * capture, loose files), never guessed.
 */
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import type { HostFacts } from '../host/model.js';
import { SourceError } from './errors.js';
import type { Fs } from './fs.js';
import { listDir, readText } from './tree-read.js';

/** The flags that matter here: Intel VT-x, AMD-V, and the CPUID "running under a hypervisor" bit. */
export const READINESS_CPU_FLAGS = ['vmx', 'svm', 'hypervisor'] as const;

/** Modules of interest: the vfio family and kvm (names as the kernel lists them, "-" as "_"). */
const MODULE = /^(vfio|kvm)/;
/** A module file: vfio-pci.ko, vfio.ko.zst, vfio_iommu_type1.ko.xz. */
const MODULE_FILE = /^([A-Za-z0-9_-]+)\.ko(?:\.(?:xz|zst|gz))?$/;

const modName = (n: string) => n.replace(/-/g, '_');

/** The vfio module files of a kernel release, under kernel/drivers/vfio (vfio-pci in its pci/ folder). */
const VFIO_FILES: Array<[string, string]> = [['vfio', 'vfio'], ['vfio_iommu_type1', 'vfio_iommu_type1'], ['vfio_pci', 'pci/vfio-pci']];
const MODULE_SUFFIXES = ['.ko', '.ko.zst', '.ko.xz', '.ko.gz'];

/**
 * The set readiness flags of the first CPU in /proc/cpuinfo (its first "flags" line);
 * undefined when there is none (not x86, or not read). Exported for collect's redaction.
 */
export function cpuinfoFlags(text: string): string[] | undefined {
  const line = /^flags\s*:(.*)$/m.exec(text);
  if (!line) return undefined;
  const set = new Set(line[1]!.trim().split(/\s+/));
  return READINESS_CPU_FLAGS.filter((f) => set.has(f));
}

/** What may leave the host of /proc/cpuinfo: the first CPU's flags line and nothing else (no model, microcode, serial). */
export function cpuinfoKept(text: string): string {
  const line = /^flags\s*:.*$/m.exec(text);
  return line ? `processor\t: 0\n${line[0]}\n` : '';
}

/** Do not let a permission error end the survey: the fact stays unknown. */
function optional<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof SourceError && e.kind === 'permission') return undefined;
    throw e;
  }
}

/**
 * /dev/kvm: the kernel registers the misc device (sys/class/misc/kvm) when kvm is loaded;
 * on the live host the node itself is opened read-write, as QEMU opens it.
 */
function readKvm(fs: Fs, root: string): HostFacts['kvm'] {
  const misc = join(root, 'sys/class/misc');
  const registered = optional(() => readText(fs, join(misc, 'kvm/dev')));
  let state: NonNullable<HostFacts['kvm']>;
  if (registered !== undefined) state = { state: 'present', detail: `/sys/class/misc/kvm/dev = ${registered.trim()}` };
  else if (fs.existsSync(misc)) state = { state: 'absent', detail: '/sys/class/misc has no kvm: the kvm module is not loaded' };
  else return undefined;
  if (root !== '/' || fs.live !== true) return state;
  try {
    const st = nodeFs.statSync('/dev/kvm');
    if (!st.isCharacterDevice()) return { state: 'unusable', detail: '/dev/kvm is not a character device' };
    nodeFs.closeSync(nodeFs.openSync('/dev/kvm', nodeFs.constants.O_RDWR));
    return { state: 'usable', detail: '/dev/kvm opened read-write' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return state.state === 'absent' ? state : { state: 'unusable', detail: '/dev/kvm does not exist although the kernel registered it' };
    return { state: 'unusable', detail: `/dev/kvm: ${code} on open read-write${code === 'EACCES' ? ' (not in the kvm group?)' : ''}` };
  }
}

function readModules(fs: Fs, root: string, release: string | undefined): HostFacts['vfioModules'] {
  const out: NonNullable<HostFacts['vfioModules']> = {};
  // /proc/modules: loadable modules now loaded; /sys/module also has built-in ones.
  const proc = optional(() => readText(fs, join(root, 'proc/modules')));
  const sys = listDir(fs, join(root, 'sys/module'));
  if (proc !== undefined || sys !== undefined) {
    const names = [...(proc ?? '').split('\n').map((l) => l.split(' ')[0] ?? ''), ...(sys ?? [])].map(modName).filter((n) => MODULE.test(n));
    out.loaded = [...new Set(names)].sort();
  }
  if (release && !release.includes('/')) {
    const dir = join(root, 'lib/modules', release);
    const builtin = optional(() => readText(fs, join(dir, 'modules.builtin')));
    if (builtin !== undefined) {
      out.builtin = [...new Set(builtin.split('\n').map((l) => MODULE_FILE.exec(l.trim().split('/').pop() ?? '')?.[1]).filter((n): n is string => n !== undefined).map(modName).filter((n) => MODULE.test(n)))].sort();
    }
    // Each file asked for by name (not listed), so that collect records the answer either way.
    if (fs.existsSync(dir)) {
      out.files = VFIO_FILES.filter(([, rel]) => MODULE_SUFFIXES.some((x) => fs.existsSync(join(dir, 'kernel/drivers/vfio', rel + x)))).map(([name]) => name);
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function readReadiness(fs: Fs, root: string, release: string | undefined): Pick<HostFacts, 'cpuFlags' | 'kvm' | 'vfioModules'> {
  const out: Pick<HostFacts, 'cpuFlags' | 'kvm' | 'vfioModules'> = {};
  const cpuinfo = optional(() => readText(fs, join(root, 'proc/cpuinfo')));
  const flags = cpuinfo === undefined ? undefined : cpuinfoFlags(cpuinfo);
  if (flags) out.cpuFlags = flags;
  const kvm = readKvm(fs, root);
  if (kvm) out.kvm = kvm;
  const modules = readModules(fs, root, release);
  if (modules) out.vfioModules = modules;
  return out;
}
