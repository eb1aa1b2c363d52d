/**
 * A read-only file system over the members of a capture archive, with symbolic links
 * resolved inside it. The live-host reader runs on it unchanged: a capture is read by the
 * same code as the host it came from. Links that would leave the archive resolve to nothing.
 */
import type { TarEntry } from './tar.js';
import type { Fs } from './fs.js';

type Node = { kind: 'file'; data: Uint8Array } | { kind: 'dir'; children: Map<string, Node> } | { kind: 'symlink'; target: string };

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

  /** Walk a path; follow links in every component (and the last one unless `noFollow`). */
  const lookup = (path: string, noFollow = false): Node | undefined => {
    const stack = path.split('/').filter((p) => p !== '' && p !== '.');
    const here: string[] = [];
    let node: Node = root;
    let hops = 0;
    while (stack.length > 0) {
      const part = stack.shift()!;
      if (part === '..') {
        if (here.length === 0) return undefined; // escaping the archive
        here.pop();
        node = root;
        for (const p of here) {
          const n: Node | undefined = node.kind === 'dir' ? node.children.get(p) : undefined;
          if (!n) return undefined;
          node = n;
        }
        continue;
      }
      if (node.kind !== 'dir') return undefined;
      const next = node.children.get(part);
      if (!next) return undefined;
      if (next.kind === 'symlink' && (stack.length > 0 || !noFollow)) {
        if (++hops > 40 || next.target.startsWith('/')) return undefined;
        stack.unshift(...next.target.split('/').filter((p) => p !== '' && p !== '.'));
        continue;
      }
      here.push(part);
      node = next;
    }
    return node;
  };

  return {
    readFileSync(path) {
      const n = lookup(path);
      if (!n) throw enoent(path);
      if (n.kind !== 'file') throw Object.assign(new Error(`EISDIR: ${path}`), { code: 'EISDIR' });
      return n.data;
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
    existsSync(path) {
      return lookup(path) !== undefined;
    },
  };
}
