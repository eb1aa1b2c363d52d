/**
 * Deterministic mutations for the fuzz run: input `i` of a reader is a pure function of
 * (reader name, i, the seed files), so any failure reproduces from its index alone.
 */

/** mulberry32: small, seedable, good enough to pick offsets. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a name, to give each reader its own stream of inputs. */
export function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

type R = () => number;
const pick = (r: R, n: number) => Math.floor(r() * n);

/** Values that land on length and count fields: zero, one, sign edges, all-ones. */
const INTERESTING = [0, 1, 2, 3, 4, 6, 8, 0x10, 0x20, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fill(n: number, byte: number): Uint8Array {
  return new Uint8Array(n).fill(byte);
}

/** Byte-level mutations, for every reader. `other` is another seed of the same reader, for splices. */
export function mutateBytes(b: Uint8Array, r: R, other: Uint8Array): { bytes: Uint8Array; kind: string } {
  const n = b.length;
  const at = n === 0 ? 0 : pick(r, n);
  switch (pick(r, 11)) {
    case 0: {
      const m = b.slice();
      for (let k = 1 + pick(r, 8); k > 0 && n > 0; k--) {
        const bit = pick(r, n * 8);
        m[bit >> 3]! ^= 1 << (bit & 7);
      }
      return { bytes: m, kind: 'bit flips' };
    }
    case 1: {
      const m = b.slice();
      for (let k = 0, len = 1 + pick(r, 8); k < len && at + k < n; k++) m[at + k] = pick(r, 256);
      return { bytes: m, kind: 'random bytes' };
    }
    case 2: {
      // A length/count field set to an edge value, little-endian, 1/2/4 bytes wide.
      const m = b.slice();
      const v = INTERESTING[pick(r, INTERESTING.length)]!;
      const width = [1, 2, 4][pick(r, 3)]!;
      const p = n === 0 ? 0 : at & ~(width - 1);
      for (let k = 0; k < width && p + k < n; k++) m[p + k] = (v >>> (8 * k)) & 0xff;
      return { bytes: m, kind: `set ${width}-byte 0x${v.toString(16)}` };
    }
    case 3:
      return { bytes: b.slice(0, at), kind: 'truncation' };
    case 4: {
      // Splice: our head, another seed's tail.
      const cut = other.length === 0 ? 0 : pick(r, other.length);
      return { bytes: concat(b.subarray(0, at), other.subarray(cut)), kind: 'splice' };
    }
    case 5: {
      const len = [16, 255, 4096, 65536][pick(r, 4)]!;
      return { bytes: concat(b.subarray(0, at), fill(len, 0xff), b.subarray(at)), kind: `insert ${len}×ff` };
    }
    case 6: {
      const len = [16, 4096][pick(r, 2)]!;
      return { bytes: concat(b.subarray(0, at), fill(len, 0), b.subarray(at)), kind: `insert ${len}×00` };
    }
    case 7: {
      // Duplicate a chunk: repeated structures, repeated lines.
      const len = 1 + pick(r, Math.min(512, Math.max(1, n - at)));
      const chunk = b.subarray(at, at + len);
      const times = 1 + pick(r, 16);
      return { bytes: concat(b.subarray(0, at + len), ...Array<Uint8Array>(times).fill(chunk), b.subarray(at + len)), kind: `repeat ${len}×${times}` };
    }
    case 8: {
      const len = 1 + pick(r, 64);
      return { bytes: concat(b.subarray(0, at), b.subarray(at + len)), kind: 'delete' };
    }
    case 9: {
      // A run of 0xff over existing bytes: erased flash, "not present" everywhere.
      const m = b.slice();
      m.fill(0xff, at, Math.min(n, at + 1 + pick(r, 64)));
      return { bytes: m, kind: 'ff run' };
    }
    default: {
      const m = b.slice();
      m.fill(0, at, Math.min(n, at + 1 + pick(r, 64)));
      return { bytes: m, kind: 'zero run' };
    }
  }
}

const enc = new TextEncoder();
// Buffer's latin1 codec is native: the text mutations are otherwise dearer than the readers.
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Text-level mutations: what pastes and editors do to text files. */
export function mutateText(b: Uint8Array, r: R): { bytes: Uint8Array; kind: string } {
  const text = latin1(b);
  let split: string[] | null = null;
  const lineList = () => (split ??= text.split('\n'));
  const lines = { get length() { return lineList().length; }, slice: () => lineList().slice(), map: (f: (l: string) => string) => lineList().map(f) };
  const li = pick(r, (text.match(/\n/g)?.length ?? 0) + 1);
  // A plain copy: a Buffer's slice() would share memory and let later mutations change the seed.
  const out = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
  switch (pick(r, 12)) {
    case 0:
      return { bytes: out(text.replace(/\n/g, '\r\n')), kind: 'CRLF' };
    case 1:
      return { bytes: out(text.replace(/\n/g, '\r')), kind: 'CR only' };
    case 2: {
      // UTF-16LE with a byte order mark, as PowerShell's `>` writes.
      const u = new Uint8Array(2 + text.length * 2);
      u[0] = 0xff;
      u[1] = 0xfe;
      for (let i = 0; i < text.length; i++) u[2 + 2 * i] = text.charCodeAt(i);
      return { bytes: u, kind: 'UTF-16LE' };
    }
    case 3: {
      const len = [1000, 100_000, 1_000_000][pick(r, 3)]!;
      const ch = ['A', ' ', '0', 'f', '<', ':', '\t'][pick(r, 7)]!;
      const l = lines.slice();
      l.splice(li, 0, ch.repeat(len));
      return { bytes: out(l.join('\n')), kind: `long line ${len}×${JSON.stringify(ch)}` };
    }
    case 4: {
      // A real line made very long: its own prefix kept, so line parsers take the bait.
      const l = lines.slice();
      // At most ~2 MB added, however long the line already is.
      const times = Math.min(1 + pick(r, 2000), Math.floor(2_000_000 / (l[li]!.length + 1)) + 1);
      l[li] = l[li]! + ' ' + (l[li]! + ' ').repeat(times);
      return { bytes: out(l.join('\n')), kind: 'line repeated within itself' };
    }
    case 5: {
      const l = lines.slice();
      l.splice(li, 1 + pick(r, 5));
      return { bytes: out(l.join('\n')), kind: 'lines dropped' };
    }
    case 6: {
      const l = lines.slice();
      const times = Math.min([2, 50, 5000][pick(r, 3)]!, Math.floor(4_000_000 / (l[li]!.length + 1)) + 1);
      l.splice(li, 0, ...Array<string>(times).fill(l[li]!));
      return { bytes: out(l.join('\n')), kind: `line duplicated ×${times}` };
    }
    case 7: {
      const l = lines.map((x) => '  ' + x);
      return { bytes: out(l.join('\n')), kind: 'indented' };
    }
    case 8: {
      const l = lines.slice();
      const j = pick(r, l.length);
      [l[li], l[j]] = [l[j]!, l[li]!];
      return { bytes: out(l.join('\n')), kind: 'lines swapped' };
    }
    case 9: {
      // Digits and hex changed: numbers out of range, huge counts.
      const l = lines.slice();
      const huge = ['99999999999999999999', 'ffffffff', '-1', '1e308', 'NaN', '0x', '&#1114112;', '&#xD800;'][pick(r, 8)]!;
      l[li] = l[li]!.replace(/[0-9A-Fa-f]+/, huge);
      return { bytes: out(l.join('\n')), kind: `number → ${huge}` };
    }
    case 10: {
      const l = lines.slice();
      const depth = 1 + pick(r, 20000);
      l.splice(li, 0, '<a>'.repeat(depth) + '</a>'.repeat(pick(r, 2) === 0 ? depth : 0));
      return { bytes: out(l.join('\n')), kind: `nesting ${depth}` };
    }
    default: {
      const inserts = ['<?xml', '<!--', '<![CDATA[', '<__proto__>x</__proto__>', '<constructor/>', '\0', '\x1b[31m', '\u00e9\u00ff', '# comment', '\\', 'Handle 0x0000, DMI type 0, 0 bytes'];
      const at = pick(r, text.length + 1);
      const s = inserts[pick(r, inserts.length)]!;
      return { bytes: concat(out(text.slice(0, at)), enc.encode(s), out(text.slice(at))), kind: `insert ${JSON.stringify(s)}` };
    }
  }
}

/**
 * Input `i` of a reader. The first `seeds.length` inputs are the seeds themselves (they
 * must decode); every later one stacks one to three mutations on a seed.
 */
export function makeInput(name: string, seeds: Uint8Array[], i: number, text: boolean): { bytes: Uint8Array; seed: number; kinds: string[] } {
  if (i < seeds.length) return { bytes: seeds[i]!, seed: i, kinds: [] };
  const r = rng(nameSeed(name) ^ Math.imul(i, 0x9e3779b1));
  const s = pick(r, seeds.length);
  let bytes = seeds[s]!;
  const kinds: string[] = [];
  for (let k = 1 + pick(r, 3); k > 0; k--) {
    const m = text && r() < 0.5 ? mutateText(bytes, r) : mutateBytes(bytes, r, seeds[pick(r, seeds.length)]!);
    bytes = m.bytes;
    kinds.push(m.kind);
    // Keep stacked growth bounded: readers see at most a few MB, as real files are.
    if (bytes.length > 8 * 1024 * 1024) break;
  }
  return { bytes, seed: s, kinds };
}
