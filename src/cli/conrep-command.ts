/** `assignable conrep lint|diff|decode`: the conrep engine on its own. */
import { writeFileSync } from 'node:fs';
import { applySettings, imageFromFile, imageToFile, readSettings } from '../remedies/hpe-rmrds/codec.js';
import { diffSettings, lintSettings, platformOf } from '../remedies/hpe-rmrds/lint.js';
import { builtinRmrdsSchema } from '../remedies/hpe-rmrds/rmrds.js';
import { parseConrepSchema, type ConrepSchema } from '../remedies/hpe-rmrds/schema.js';
import { parseConrepSettings, writeConrepSettings } from '../remedies/hpe-rmrds/settings.js';
import { readInput } from '../sources/fs.js';
import { decodeTextInput, textEncodingOf } from '../firmware/text.js';
import { EXIT, type ExitCode } from './exit.js';
import { InputFailure, type Io } from './run.js';

/** UTF-8 as conrep writes it; a file an editor saved as UTF-16 is read too. */
const text = (path: string, what: string) => {
  const b = readInput(path, what);
  const enc = textEncodingOf(b);
  return enc === 'utf-16le' || enc === 'utf-16be' ? decodeTextInput(b) : new TextDecoder().decode(b).replace(/^\ufeff/, '');
};
function parsed<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new InputFailure(file, e);
  }
}

function schemaFrom(path: string | undefined): ConrepSchema {
  if (!path) return builtinRmrdsSchema();
  return parsed(path, () => parseConrepSchema(text(path, 'conrep schema')));
}

/** Lint: exit 0 clean, 1 with errors (warnings alone keep 0). */
export function runConrepLint(io: Io, file: string, o: { schema?: string }): ExitCode {
  const s = parsed(file, () => parseConrepSettings(text(file, 'conrep settings')));
  const issues = lintSettings(s, schemaFrom(o.schema));
  for (const i of issues) io.out(`${file}: ${i.severity}: ${i.section ? `${i.section}: ` : ''}${i.message}\n`);
  if (issues.length === 0) io.out(`${file}: ${s.sections.length} section(s), clean against ${o.schema ?? 'the built-in RMRDS definitions'}\n`);
  return issues.some((i) => i.severity === 'error') ? EXIT.BLOCKED : EXIT.OK;
}

export function runConrepDiff(io: Io, a: string, b: string): ExitCode {
  const sa = parsed(a, () => parseConrepSettings(text(a, 'conrep settings')));
  const sb = parsed(b, () => parseConrepSettings(text(b, 'conrep settings')));
  const d = diffSettings(sa, sb);
  for (const h of d.header) io.out(`header ${h.attr}: ${h.a ?? '(none)'} → ${h.b ?? '(none)'}\n`);
  for (const c of d.changed) io.out(`${c.section}: ${c.a} → ${c.b}\n`);
  for (const n of d.onlyA) io.out(`${n}: only in ${a}\n`);
  for (const n of d.onlyB) io.out(`${n}: only in ${b}\n`);
  const same = d.header.length + d.changed.length + d.onlyA.length + d.onlyB.length === 0;
  if (same) io.out('no differences\n');
  return same ? EXIT.OK : EXIT.BLOCKED;
}

/**
 * decode: an image (JSON: platform, nvram, cmos, ev — the simulator's NVRAM) to the settings
 * conrep -s would save; with --settings, those settings written into the image instead.
 */
export function runConrepDecode(io: Io, image: string, o: { schema?: string; settings?: string; output?: string }): ExitCode {
  const schema = schemaFrom(o.schema);
  const { image: img, platform } = parsed(image, () => imageFromFile(text(image, 'BIOS image')));
  if (o.settings) {
    const file = o.settings;
    const s = parsed(file, () => parseConrepSettings(text(file, 'conrep settings')));
    parsed(file, () => applySettings(img, schema, platformOf(s) ?? platform, s));
    const out = JSON.stringify(imageToFile(img, platform), null, 2) + '\n';
    if (o.output) writeFileSync(o.output, out);
    else io.out(out);
    return EXIT.OK;
  }
  const settings = readSettings(img, schema, platform, [['version', 'assignable'], ['originating_platform', platform.platform], ['originating_family', platform.family], ['originating_romdate', platform.romDate], ['originating_processor_manufacturer', platform.procMan]]);
  const out = writeConrepSettings(settings);
  if (o.output) writeFileSync(o.output, out);
  else io.out(out);
  return EXIT.OK;
}


