/**
 * Oracle-side reader of dmidecode output: only splits "Handle …" blocks into their
 * tab-indented key/value lines and sub-lists. It shares no code with the product's
 * dmidecode-text reader, so a test can hold our binary decoder against dmidecode's
 * own words.
 */
export interface OracleBlock {
  handle: number;
  type: number;
  length: number;
  title: string;
  kv: Map<string, string>;
  list: Map<string, string[]>;
}

export function oracleBlocks(text: string): OracleBlock[] {
  const out: OracleBlock[] = [];
  for (const chunk of text.split(/\n(?=Handle 0x)/)) {
    const lines = chunk.split('\n');
    const m = /^Handle 0x([0-9A-F]{4}), DMI type (\d+), (\d+) bytes$/.exec(lines[0] ?? '');
    if (!m) continue;
    const b: OracleBlock = { handle: parseInt(m[1]!, 16), type: Number(m[2]), length: Number(m[3]), title: lines[1] ?? '', kv: new Map(), list: new Map() };
    let key = '';
    for (const l of lines.slice(2)) {
      if (l.startsWith('\t\t')) {
        b.list.get(key)?.push(l.slice(2));
      } else if (l.startsWith('\t')) {
        const i = l.indexOf(':');
        key = l.slice(1, i);
        const value = l.slice(i + 1).trim();
        if (value === '') b.list.set(key, []);
        else if (!b.kv.has(key)) b.kv.set(key, value);
      }
    }
    out.push(b);
  }
  return out;
}
