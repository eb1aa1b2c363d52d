/**
 * Oracle-side reader of `lspci -t` trees: which bridge (or root bus) each function hangs
 * from, using only the drawing. Children of a bridge sit on its secondary bus, the first
 * number in "-[ss-ee]"; continuation lines put their branch ("+-", "\-") in the column
 * of the first child.
 */
interface Ctx {
  segment: number;
  bus: number;
  parent: string | null;
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

export function treeParents(text: string): Map<string, string | null> {
  const parents = new Map<string, string | null>();
  const byColumn = new Map<number, Ctx>();
  const ELEMENT = /\[([0-9a-f]{4}):([0-9a-f]{2})\]|([0-9a-f]{2})\.([0-7])(?:-\[([0-9a-f]{2})(?:-[0-9a-f]{2})?\])?/g;
  for (const line of text.split('\n')) {
    // The drawing ends where the first device name starts (two spaces after a function).
    const nameAt = /[0-9a-f]{2}\.[0-7] {2}/.exec(line);
    const drawing = nameAt ? line.slice(0, nameAt.index + 4) : line;
    let ctx: Ctx | null = null;
    for (const m of drawing.matchAll(ELEMENT)) {
      const col = m.index!;
      if (m[1] !== undefined) {
        ctx = { segment: parseInt(m[1], 16), bus: parseInt(m[2]!, 16), parent: null };
        continue;
      }
      // First element on a continuation line: its branch is two columns to the left.
      const here: Ctx | undefined = ctx ?? byColumn.get(col - 2);
      if (!here) throw new Error(`tree: no parent for "${m[0]}" at column ${col} in: ${line}`);
      if (ctx) byColumn.set(col - 2, ctx);
      const address: string = `${here.segment.toString(16).padStart(4, '0')}:${hex2(here.bus)}:${m[3]}.${m[4]}`;
      parents.set(address, here.parent);
      ctx = m[5] !== undefined ? { segment: here.segment, bus: parseInt(m[5], 16), parent: address } : null;
    }
  }
  return parents;
}
