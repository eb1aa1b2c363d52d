/** `assignable lint`: stale and conflicting passthrough configuration of a host, a host tree or a capture. */
import { join } from 'node:path';
import { lintConfig } from '../checks/lint.js';
import { buildHost } from '../host/build.js';
import type { HostFacts } from '../host/model.js';
import { LINT_SCHEMA, lintJson, renderLint } from '../report/lint.js';
import { toJson } from '../report/json.js';
import { SourceError } from '../sources/errors.js';
import { realFs, sourceErrorFrom, treeFs, type Fs } from '../sources/fs.js';
import { readConfigTree, readLiveHost } from '../sources/live.js';
import { EXIT, type ExitCode } from './exit.js';
import { nameLookup, readFacts } from './host-commands.js';
import { UsageError, type Io } from './run.js';

export interface LintOptions {
  root?: string;
  capture?: string;
  json?: boolean;
  /** The kernel release, for a tree that does not say (a copied /etc). */
  kernel?: string;
}

function readTree(root: string, fs: Fs): HostFacts {
  let st;
  try {
    st = fs.statSync(root);
  } catch (e) {
    throw sourceErrorFrom(e, root, 'lint --root');
  }
  if (!st.isDirectory()) throw new SourceError('usage', root, `lint --root ${root}: not a directory (give the root of a host tree, e.g. a mounted system)`);
  const tree = fs === realFs ? treeFs(root) : fs;
  // With sysfs, the whole host (devices the host needs); a copied /etc alone is linted without them.
  return tree.existsSync(join(root, 'sys/bus/pci/devices')) ? readLiveHost(root, fs) : readConfigTree(root, fs);
}

export function runLint(io: Io, o: LintOptions, fs: Fs = realFs): ExitCode {
  if (o.root !== undefined && o.capture !== undefined) throw new UsageError('--root and --capture: choose one');
  if (o.kernel !== undefined && !/^\d+\.\d+[0-9A-Za-z._+~-]{0,120}$/.test(o.kernel)) throw new UsageError(`--kernel ${JSON.stringify(o.kernel.slice(0, 60))}: not a kernel release (give what \`uname -r\` prints, e.g. 6.8.12-4-pve)`);
  const facts = o.capture !== undefined ? readFacts({ capture: o.capture }, fs) : readTree(o.root ?? '/', fs);
  if (o.kernel !== undefined) {
    // The tree's own release wins over a guess; a different one is a usage error, not silently replaced.
    if (facts.kernelRelease !== undefined && facts.kernelRelease !== o.kernel) throw new UsageError(`--kernel ${o.kernel}: the tree says its kernel is ${facts.kernelRelease}`);
    facts.kernelRelease = o.kernel;
  }
  const host = buildHost(facts, o.capture !== undefined ? undefined : nameLookup({ root: o.root }, fs));
  if (host.configFiles === undefined) {
    throw new SourceError('not-found', o.capture ?? o.root ?? '/', `${host.origin.description}: no /etc in it, so no configuration to lint${o.capture !== undefined ? ' (a capture from before `assignable collect` recorded /etc/modules, modprobe.d and the boot files: collect it again)' : ''}`);
  }
  const report = lintConfig(host);
  if (o.json) io.out(toJson(LINT_SCHEMA, lintJson(host, report)) + '\n');
  else io.out(renderLint(host, report));
  return report.findings.some((f) => f.certain) ? EXIT.BLOCKED : EXIT.OK;
}
