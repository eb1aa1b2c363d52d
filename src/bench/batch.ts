/**
 * Benchmark worker: decode and render every file given, in one process, the way
 * `assignable dmar` would. Prints the in-process time so start-up can be told apart.
 * Usage: node dist/bench/batch.js dmar|ivrs|survey FILE...
 */
import { readFileSync } from 'node:fs';
import { decodeDmarTable } from '../firmware/acpi/dmar.js';
import { decodeIvrsTable } from '../firmware/acpi/ivrs.js';
import { parseAcpiTable } from '../firmware/acpi/table.js';
import { renderDmar, renderIvrs } from '../report/firmware-text.js';
import { runSurvey } from '../checks/index.js';
import { buildHost } from '../host/build.js';
import { renderSurvey } from '../report/survey.js';
import { functionsFromLspci } from '../sources/capture-files.js';

const [kind, ...files] = process.argv.slice(2);
const start = process.hrtime.bigint();
let bytes = 0;
let chars = 0;
for (const f of files) {
  const b = new Uint8Array(readFileSync(f));
  bytes += b.length;
  if (kind === 'survey') {
    // The whole survey of a pciutils dump: parse, decode config space, build the host, check, print.
    const text = new TextDecoder('latin1').decode(b);
    const host = buildHost({ origin: { kind: 'capture', description: f }, functions: functionsFromLspci(text), notes: [] });
    chars += renderSurvey(runSurvey(host), 'vfio', true, { color: false }).length;
  } else if (kind === 'dmar') {
    const t = parseAcpiTable(b, 'DMAR');
    chars += renderDmar(decodeDmarTable(t), t.view.length).length;
  } else {
    const t = parseAcpiTable(b, 'IVRS');
    chars += renderIvrs(decodeIvrsTable(t), t.view.length).length;
  }
}
const ns = process.hrtime.bigint() - start;
process.stdout.write(JSON.stringify({ files: files.length, bytes, chars, inProcessMs: Number(ns) / 1e6 }) + '\n');
