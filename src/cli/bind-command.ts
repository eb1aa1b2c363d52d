/**
 * `assignable bind DEVICE`: plan (default) which functions go to vfio-pci with the device;
 * --apply binds them now through sysfs; --persistent writes the boot-time files instead and
 * rebuilds the initramfs; --unbind undoes either. Nothing is written without --apply.
 */
import { runSurvey } from '../checks/index.js';
import type { Device, Host } from '../host/model.js';
import { planBind, toBind, VFIO_DRIVER, type BindPlan } from '../remedies/vfio-bind/plan.js';
import { initramfsKind, initramfsRefresh, MODPROBE_FILE, planPersistent, UDEV_FILE, type PersistentPlan } from '../remedies/vfio-bind/persist.js';
import { applyPersistent, applyRuntime, applyUnbind, BindApplyError, readRecord, recordKey, sysfsAttr, type AttrWriter, type BindContext, type BindRecord } from '../remedies/vfio-bind/apply.js';
import { findExecutable, systemRunner, type Runner } from '../remedies/runner.js';
import { acquireLock, stateDir } from '../remedies/state.js';
import { isRoot, readNoFollow, resetWriteCount, resolveWithin, StateDir } from '../remedies/write.js';
import { findDevices } from '../report/survey.js';
import { toJson } from '../report/json.js';
import { SourceError } from '../sources/errors.js';
import { realFs, type Fs } from '../sources/fs.js';
import { VERSION } from '../version.js';
import { EXIT, type ExitCode } from './exit.js';
import { loadHost, type HostSourceOptions } from './host-commands.js';
import { UsageError, type Io } from './run.js';

export interface BindOptions extends HostSourceOptions {
  apply?: boolean;
  unbind?: boolean;
  persistent?: boolean;
  stateDir?: string;
  json?: boolean;
}

const CAPTURE_KEYS = ['capture', 'surveydda', 'lspci', 'acpidump', 'dmar', 'ivrs', 'dmidecode', 'cmdline', 'kernel', 'dmesg'];
const fromFiles = (o: BindOptions) => CAPTURE_KEYS.some((k) => (o as Record<string, unknown>)[k] !== undefined);

/** Test-only: the host tree `--apply` changes (README "Testing the write path"); never a user option. */
const hostRoot = (o: BindOptions) => o.root ?? process.env.ASSIGNABLE_TEST_HOST_ROOT ?? '/';

function pick(host: Host, query: string): Device {
  const hits = findDevices(runSurvey(host), query).map((h) => h.device);
  if (hits.length === 0) throw new UsageError(`no device matches "${query}" (an address like 0000:06:00.0, a slot like slot2, or part of a name)`);
  const ends = hits.filter((d) => !d.isBridge);
  if (ends.length === 0) throw new UsageError(`"${query}" is a bridge: bridges stay with pcieport; name the device behind it`);
  if (ends.length > 1 && new Set(ends.map((d) => `${d.pci.segment}:${d.pci.bus}:${d.pci.device}`)).size > 1) throw new UsageError(`"${query}" matches ${ends.length} devices (${ends.map((d) => d.address).join(', ')}): give one address`);
  return ends[0]!;
}

/** A file of the host under the root (null: absent); links resolved inside the root. */
function readHostFile(root: string, rel: string): string | null {
  try {
    return readNoFollow(resolveWithin(root, rel)).toString('utf8');
  } catch (e) {
    if (e instanceof SourceError && e.kind === 'not-found') return null;
    throw e;
  }
}


function renderPlan(p: BindPlan, unbind: boolean, record: BindRecord | null): string[] {
  const out = [`${p.device}: ${unbind ? 'back from vfio-pci' : 'to vfio-pci'} — IOMMU group ${p.group.source === 'kernel' ? `${p.group.id} (the kernel's)` : p.group.source === 'predicted' ? `${p.group.id ?? '?'} (predicted)` : 'none'}`];
  for (const f of p.functions) {
    const now = f.driver === undefined ? 'driver unknown' : (f.driver ?? 'no driver');
    const was = record?.functions.find((r) => r.address === f.address);
    const to = f.action === 'leave-bridge'
      ? `${now}, stays (a bridge: vfio-pci does not take bridges)`
      : unbind
        ? f.action === 'already' || was
          ? `${now} → ${was ? (was.driver ?? 'no driver') : 'the driver the kernel picks (the original is not recorded)'}`
          : `${now} (not on vfio-pci)`
        : f.action === 'already'
          ? 'already on vfio-pci'
          : `${now} → ${VFIO_DRIVER}`;
    out.push(`  ${f.address}  ${f.ids}  ${f.name}: ${to}   (${f.why})`);
  }
  for (const n of p.notes) out.push(`  note: ${n}`);
  return out;
}

function renderPersistent(pp: PersistentPlan, refresh: string[][] | null): string[] {
  const out: string[] = [];
  if (pp.edits.length === 0) out.push('Boot-time files: already as they should be.');
  for (const e of pp.edits) {
    out.push(`${e.path}: ${e.before === null ? 'new' : e.after === null ? 'removed' : 'changed'}`);
    if (e.after !== null) out.push(...e.after.trimEnd().split('\n').map((l) => `    ${l}`));
  }
  for (const n of pp.notes) out.push(`  note: ${n}`);
  out.push(refresh ? `then: ${refresh.map((c) => c.join(' ')).join(' && ')}, and reboot` : "then: rebuild the initramfs with this distribution's tool (its kind is unknown: /etc/os-release was not read or names no known family), and reboot");
  return out;
}

export function runBind(io: Io, device: string, o: BindOptions, fs: Fs = realFs, runner: Runner = systemRunner, now = new Date(), attr: AttrWriter = sysfsAttr): ExitCode {
  resetWriteCount();
  if (o.apply && o.json) throw new UsageError('--json prints the plan; it cannot be combined with --apply');
  if (o.apply) {
    if (fromFiles(o) || o.root !== undefined) throw new UsageError(`--apply changes the host it runs on; it cannot be combined with ${o.root !== undefined ? '--root' : 'a capture'} (plan from it without --apply, then apply on that host)`);
    if (!isRoot()) throw new SourceError('permission', 'bind --apply', '--apply writes sysfs and boot files: run it as root (nothing was changed)');
  }
  const root = hostRoot(o);
  const files = fromFiles(o);
  const host = loadHost(root === '/' || files ? o : { ...o, root }, fs);
  const d = pick(host, device);
  const plan = planBind(host, d);
  const dir = stateDir(o.stateDir);
  let record: BindRecord | null;
  try {
    record = readRecord(StateDir.open(dir, false), recordKey(plan));
  } catch (e) {
    // --apply needs the state directory; a plan only shows the recorded drivers when it can read them.
    if (o.apply || !(e instanceof SourceError)) throw e;
    record = null;
    plan.notes.push(`the state directory could not be read (${e.message}): recorded drivers are not shown`);
  }
  const unbind = o.unbind === true;

  let pp: PersistentPlan | null = null;
  let refresh: string[][] | null = null;
  if (o.persistent) {
    const existing = files ? { modprobe: null, udev: null } : { modprobe: readHostFile(root, MODPROBE_FILE), udev: readHostFile(root, UDEV_FILE) };
    const r = planPersistent(plan, host, existing, unbind);
    if ('problem' in r) throw new SourceError('usage', MODPROBE_FILE, r.problem);
    pp = r;
    if (files) pp.notes.push("the host's /etc/modprobe.d was not read (a capture): on the host, its own files decide");
    const kind = files ? null : initramfsKind(readHostFile(root, '/etc/os-release') ?? readHostFile(root, '/usr/lib/os-release'));
    refresh = kind ? initramfsRefresh(kind, host.bootloader?.proxmoxBootTool === true) : null;
  }
  // Binding is refused for what the host needs; undoing never is.
  const refused = !unbind && plan.refused.length > 0;

  if (!o.apply) {
    if (o.json) {
      io.out(toJson('assignable/bind-plan/v1', { device: plan.device, mode: unbind ? 'unbind' : 'bind', group: plan.group, functions: plan.functions, refused: unbind ? [] : plan.refused, noIommu: plan.noIommu, notes: plan.notes, persistent: pp ? { edits: pp.edits, shared: pp.shared, notes: pp.notes, refresh } : null }) + '\n');
    } else {
      const out = renderPlan(plan, unbind, record);
      if (refused) out.push('', 'Refused:', ...plan.refused.map((r) => `  · ${r}`));
      else if (pp) out.push('', ...renderPersistent(pp, refresh));
      if (!refused) {
        const work = unbind ? plan.functions.some((f) => f.action === 'already') || (record?.functions.length ?? 0) > 0 : toBind(plan).length > 0;
        out.push('', pp ? (pp.edits.length ? `Nothing has been changed. To write these files: assignable bind ${plan.device}${unbind ? ' --unbind' : ''} --persistent --apply` : 'Nothing to do.') : work ? `Nothing has been changed. To ${unbind ? 'put them back' : 'bind them now'}: assignable bind ${plan.device}${unbind ? ' --unbind' : ''} --apply` : unbind ? 'Nothing to do: none of them is on vfio-pci.' : 'Nothing to do: every function is already on vfio-pci.');
      }
      io.out(out.join('\n') + '\n');
    }
    return refused ? (plan.noIommu ? EXIT.ABSENT : EXIT.BLOCKED) : EXIT.OK;
  }

  if (refused) {
    io.out([...renderPlan(plan, false, record), '', 'Refused (nothing was changed):', ...plan.refused.map((r) => `  · ${r}`)].join('\n') + '\n');
    return plan.noIommu ? EXIT.ABSENT : EXIT.BLOCKED;
  }
  if (pp && refresh === null) throw new SourceError('io', '/etc/os-release', 'cannot tell which initramfs tool this host uses (/etc/os-release names no Debian/Ubuntu or Fedora/RHEL/SUSE family): nothing was changed; add the files by hand and rebuild the initramfs');
  if (pp && pp.edits.length === 0) {
    io.out('Nothing to do: the boot-time files are already as they should be.\n');
    return EXIT.OK;
  }
  if (pp && refresh) {
    const missing = refresh.map((c) => c[0]!).filter((c) => findExecutable([c]) === null);
    if (missing.length) throw new SourceError('not-found', missing[0]!, `${missing.join(', ')} not found: nothing was changed`);
  }
  if (!pp && !unbind && toBind(plan).length === 0) {
    io.out(`Nothing to do: ${plan.functions.filter((f) => f.action === 'already').map((f) => f.address).join(', ')} already on vfio-pci.\n`);
    return EXIT.OK;
  }
  if (!pp && unbind && !record?.functions.length && !plan.functions.some((f) => f.action === 'already')) {
    io.out(`Nothing to do: no function of ${plan.device}'s group is on vfio-pci, and no bind is recorded.\n`);
    return EXIT.OK;
  }
  const sd = StateDir.open(dir, true)!;
  const release = acquireLock(sd);
  const ctx: BindContext = { root, sd, runner, now, attr, tool: `assignable ${VERSION}` };
  try {
    if (pp) {
      const res = applyPersistent(recordKey(plan), pp.edits, refresh!, pp.entries, ctx);
      io.out(
        [
          `Done: ${pp.edits.map((e) => `${e.path} ${e.after === null ? 'removed' : 'written'}`).join(', ')} and read back; ${refresh!.map((c) => c.join(' ')).join(' && ')} ran.`,
          ...(res.backups.length ? [`Backup: ${res.backups.join(', ')}`] : []),
          ...pp.notes.map((n) => `note: ${n}`),
          unbind ? 'After a reboot the host drivers take them again.' : `After a reboot vfio-pci takes ${pp.entries.map((e) => e.address).join(', ')}.`,
          ...(unbind ? [] : [`To undo: assignable bind ${plan.device} --unbind --persistent --apply`]),
        ].join('\n') + '\n',
      );
      return EXIT.OK;
    }
    if (unbind) {
      const res = applyUnbind(plan, readRecord(sd, recordKey(plan)), ctx);
      io.out(
        [
          ...(res.restored.length ? [`Done: ${res.restored.join(', ')} back on ${record?.functions.map((f) => f.driver ?? 'no driver').join(', ') ?? 'their drivers'} (driver_override cleared, driver link read back).`] : []),
          ...(res.probed.length ? [`Done: ${res.probed.join(', ')} off vfio-pci; no bind was recorded, so the kernel chose the driver again.`] : []),
        ].join('\n') + '\n',
      );
      return EXIT.OK;
    }
    const res = applyRuntime(plan, ctx);
    io.out([`Done: ${res.bound.join(', ')} bound to vfio-pci (driver link read back). Until the next reboot; for every boot: assignable bind ${plan.device} --persistent --apply`, `To undo: assignable bind ${plan.device} --unbind --apply`].join('\n') + '\n');
    return EXIT.OK;
  } catch (e) {
    if (e instanceof BindApplyError) {
      io.err(`assignable: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return e.state === 'unknown' ? EXIT.APPLY_UNKNOWN : EXIT.APPLY_FAILED;
    }
    throw e;
  } finally {
    release();
  }
}
