/**
 * toJson writes, character for character, what V8's own JSON.stringify writes with the
 * conventions of docs/json.md applied by a replacer (64-bit values as "0x…", byte arrays as
 * lowercase hex) and a two-space indent. toJson avoids the replacer for speed; JSON.stringify
 * and Buffer's hex encoding are the oracle here, on every firmware table of the fixtures and
 * on values only JSON.stringify knows how to write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeDmar } from '../src/firmware/acpi/dmar.js';
import { decodeIvrs } from '../src/firmware/acpi/ivrs.js';
import { decodeDmidecodeText } from '../src/firmware/smbios/dmidecode-text.js';
import { decodeSmbiosFile } from '../src/firmware/smbios/index.js';
import { SCHEMAS, toJson } from '../src/report/json.js';
import { fixtureBytes, fixtureFiles, fixtureText } from './helpers.js';

function oracle(schema: string, doc: object): string {
  return JSON.stringify(
    { schema, ...doc },
    (_key, value: unknown) => (typeof value === 'bigint' ? '0x' + value.toString(16) : value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value),
    2,
  );
}

function same(schema: string, doc: object): void {
  assert.equal(toJson(schema, doc), oracle(schema, doc));
}

describe('toJson against JSON.stringify', () => {
  it('every DMAR and IVRS table of the fixtures', () => {
    const dmar = fixtureFiles('dmar', '.dat');
    const ivrs = fixtureFiles('ivrs', '.dat');
    assert.ok(dmar.length >= 50 && ivrs.length >= 15);
    for (const f of dmar) same(SCHEMAS.dmar, decodeDmar(fixtureBytes('dmar', f)));
    for (const f of ivrs) same(SCHEMAS.ivrs, decodeIvrs(fixtureBytes('ivrs', f)));
  });

  it('every SMBIOS dump, table and dmidecode text of the fixtures', () => {
    let n = 0;
    for (const dir of ['smbios/raw', 'smbios/hpe-oem']) {
      for (const f of fixtureFiles(dir, '').filter((x) => /\.(dump|bin)$/.test(x))) {
        const s = decodeSmbiosFile(fixtureBytes(dir, f));
        same(SCHEMAS.smbios, s);
        // What `smbios --type N --json` prints: the structures of one type.
        same(SCHEMAS.smbios, { ...s, structures: s.structures.filter((x) => x.type === 203) });
        n++;
      }
    }
    for (const f of fixtureFiles('smbios', '.dmidecode.txt').filter((x) => !x.startsWith('no-smbios'))) {
      same(SCHEMAS.smbios, decodeDmidecodeText(fixtureText('smbios', f)));
      n++;
    }
    assert.ok(n > 70, `${n} documents`);
  });

  it('values outside plain data: Date, Map, class instances, toJSON, null prototypes, odd numbers and strings', () => {
    class Point {
      constructor(
        readonly x: bigint,
        readonly y: Uint8Array,
      ) {}
    }
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2n;
    bare.a = 'a';
    const doc = {
      when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      map: new Map([['k', 1]]),
      set: new Set([1]),
      point: new Point(0xfeedn, Uint8Array.of(0, 0xab)),
      custom: { toJSON: (key: string) => ({ key, big: 5n }) },
      bare,
      nested: [[], {}, [undefined, () => 1, Symbol('s'), null], { u: undefined, f: () => 1, s: Symbol('s') }],
      numbers: [0, -0, 1.5, -2, 1e21, 1e-7, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER],
      strings: ['', 'plain', 'quote " and \\ backslash', 'tab\tnew\nline\u0000\u001f\u007f', 'é ü ß', '\ud800 lone', '😀', '</script>'],
      '10': 'integer-like keys come first',
      '2': 'in ascending order',
      bytes: [Uint8Array.of(), Uint8Array.of(1, 2, 255)],
      bigs: [0n, 0xffffffffffffffffn],
      boxed: [Object(1), Object('s'), Object(true)],
      typed: new Uint16Array([1, 2]),
      get lazy() {
        return 7n;
      },
    };
    same('assignable/test/v1', doc);
    same('assignable/test/v1', { inner: doc, list: [doc, doc] });
    same('assignable/test/v1', {});
    same('assignable/test/v1', { schema: 'the document may name its own schema' });
  });

  it('a cycle is the TypeError JSON.stringify gives, not a stack overflow', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = { back: a };
    assert.throws(() => toJson('assignable/test/v1', a), TypeError);
    assert.throws(() => oracle('assignable/test/v1', a), TypeError);
  });
});
