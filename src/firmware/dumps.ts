/**
 * Standard dump formats other tools read, written from raw tables: `acpidump` text
 * (for acpixtract / iasl) and a `dmidecode --dump-bin` file (for dmidecode --from-dump).
 */

/** One table in acpidump's text layout: "DMAR @ 0x…" then 16 bytes per line with ASCII. */
export function acpidumpText(signature: string, bytes: Uint8Array, address = 0n): string {
  const out = [`${signature} @ 0x${address.toString(16).padStart(16, '0')}`];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hexs = Array.from(row, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(`    ${off.toString(16).toUpperCase().padStart(4, '0')}: ${hexs.padEnd(47)}  ${ascii}`);
  }
  return out.join('\n') + '\n\n';
}

function checksum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s = (s + x) & 0xff;
  return (0x100 - s) & 0xff;
}

/**
 * dmidecode's dump format: the entry point at offset 0 with its table address rewritten to
 * 0x20 (and checksums fixed), the table at 0x20 — what `dmidecode --dump-bin` writes.
 */
export function dmidecodeDumpBin(entryPoint: Uint8Array, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(0x20 + table.length);
  const ep = entryPoint.slice(0, Math.min(entryPoint.length, 0x20));
  out.set(ep, 0);
  out.set(table, 0x20);
  const dv = new DataView(out.buffer);
  const anchor = String.fromCharCode(...ep.subarray(0, 5));
  if (anchor === '_SM3_') {
    dv.setBigUint64(16, 0x20n, true);
    const len = out[6]!;
    out[5] = 0;
    out[5] = checksum(out.subarray(0, len));
  } else if (anchor.startsWith('_SM_')) {
    dv.setUint32(24, 0x20, true);
    out[21] = 0;
    out[21] = checksum(out.subarray(16, 31));
    const len = out[5]!;
    out[4] = 0;
    out[4] = checksum(out.subarray(0, len));
  }
  return out;
}
