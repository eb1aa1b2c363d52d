/**
 * A read-only file system over the members of a capture archive, with symbolic links
 * resolved inside it. The live-host reader runs on it unchanged: a capture is read by the
 * same code as the host it came from. Links that would leave the archive resolve to nothing.
 */
import type { TarEntry } from './tar.js';
import { SourceError } from './errors.js';
import type { Fs } from './fs.js';

type Node = { kind: 'file'; data: Uint8Array } | { kind: 'dir'; children: Map<string, Node> } | { kind: 'symlink'; target: string };

/** As the kernel's MAXSYMLINKS. */
const MAX_HOPS = 40;

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

export function memFs(entries: TarEntry[]): Fs {
  const root: Node = { kind: 'dir', children: new Map() };
  const dirAt = (parts: string[]): Map<string, Node> => {
    let cur = root;
    for (const p of parts) {
      let next = cur.children.get(p);
      if (!next || next.kind !== 'dir') {
        next = { kind: 'dir', children: new Map() };
        cur.children.set(p, next);
      }
      cur = next;
    }
    return cur.children;
  };
  for (const e of entries) {
    const parts = e.path.split('/').filter(Boolean);
    const name = parts.pop();
    if (name === undefined) continue;
    const dir = dirAt(parts);
    if (e.type === 'dir') {
      if (!dir.has(name)) dir.set(name, { kind: 'dir', children: new Map() });
    } else if (e.type === 'file') dir.set(name, { kind: 'file', data: e.data ?? new Uint8Array() });
    else dir.set(name, { kind: 'symlink', target: e.linkname ?? '' });
  }

  /**
   * Walk a path; follow links in every component (and the last one unless `noFollow`).
   * The directories walked through are kept on a stack, so ".." is one step, not a new
   * walk from the top; links are followed at most MAX_HOPS times per lookup.
   */
  const walk = (stack: string[], trail: Node[], hops: number, noFollow: boolean): { trail: Node[]; hops: number } | undefined => {
    while (stack.length > 0) {
      const part = stack.pop()!;
      if (part === '..') {
        if (trail.length === 1) return undefined; // escaping the archive
        trail.pop();
        continue;
      }
      const node = trail.at(-1)!;
      if (node.kind !== 'dir') return undefined;
      const next = node.children.get(part);
      if (!next) return undefined;
      if (next.kind === 'symlink' && (stack.length > 0 || !noFollow)) {
        if (++hops > MAX_HOPS || next.target.startsWith('/')) return undefined;
        const parts = next.target.split('/').filter((p) => p !== '' && p !== '.');
        for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
        continue;
      }
      trail.push(next);
    }
    return { trail, hops };
  };
  const components = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.').reverse();
  /**
   * The walk to a directory, kept: a capture is read file by file, dozens per sysfs device
   * directory reached through its link, and the archive never changes.
   */
  const dirs = new Map<string, { trail: Node[]; hops: number } | undefined>();
  const dirWalk = (dir: string) => {
    if (dirs.has(dir)) return dirs.get(dir);
    const w = walk(components(dir), [root], 0, false);
    dirs.set(dir, w);
    return w;
  };
  const lookup = (path: string, noFollow = false): Node | undefined => {
    const slash = path.lastIndexOf('/');
    const last = path.slice(slash + 1);
    let w;
    if (slash > 0 && last !== '' && last !== '.' && last !== '..') {
      const d = dirWalk(path.slice(0, slash));
      // The same walk as from the top: the directory's trail and hop count, then the last name.
      w = d && walk([last], [...d.trail], d.hops, noFollow);
    } else w = walk(components(path), [root], 0, noFollow);
    return w?.trail.at(-1);
  };

  const read = (path: string, n: Node, max: number) => {
    if (n.kind !== 'file') throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
    if (n.data.length > max) throw new SourceError('too-large', path, `${path}: more than ${max} bytes, more than such a file can really hold`);
    return n.data;
  };

  return {
    readFileSync(path, max = Infinity) {
      const n = lookup(path);
      if (!n) throw enoent(path);
      return read(path, n, max);
    },
    readIfPresent(path, max = Infinity) {
      const n = lookup(path);
      return n ? read(path, n, max) : undefined;
    },
    statSync(path) {
      const n = lookup(path);
      if (!n) throw enoent(path);
      return { isFile: () => n.kind === 'file', isDirectory: () => n.kind === 'dir', size: n.kind === 'file' ? n.data.length : 0 };
    },
    readdirSync(path) {
      const n = lookup(path);
      if (!n || n.kind !== 'dir') throw enoent(path);
      return [...n.children.keys()].sort();
    },
    readlinkSync(path) {
      const n = lookup(path, true);
      if (!n || n.kind !== 'symlink') throw Object.assign(new Error(`EINVAL: ${path}`), { code: 'EINVAL' });
      return n.target;
    },
    linkIfPresent(path) {
      const n = lookup(path, true);
      return n?.kind === 'symlink' ? n.target : undefined;
    },
    existsSync(path) {
      return lookup(path) !== undefined;
    },
  };
}
