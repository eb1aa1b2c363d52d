/**
 * Every JSON document the CLI prints is checked against its schema in docs/schema/ (draft
 * 2020-12, with ajv). The test helpers that run the CLI pass stdout through `validatedJson`:
 * output that is a JSON document with a "schema" field must validate, and a schema name with
 * no file is an error, so a new document kind cannot ship without its schema.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { ROOT } from './helpers.js';

export const SCHEMA_DIR = join(ROOT, 'docs/schema');

/** "assignable/survey/v2" → docs/schema/survey-v2.schema.json */
export function schemaFile(name: string): string | null {
  const m = /^assignable\/([a-z][a-z0-9-]*)\/v([0-9]+)$/.exec(name);
  return m ? join(SCHEMA_DIR, `${m[1]}-v${m[2]}.schema.json`) : null;
}

// RFC 3339 date-time, as `new Date().toISOString()` writes it and other tools may.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addFormat('date-time', DATE_TIME);
const compiled = new Map<string, ValidateFunction>();

export function validatorFor(name: string): ValidateFunction {
  const file = schemaFile(name);
  if (!file || !existsSync(file)) throw new Error(`JSON document "${name}": no schema in docs/schema/ (expected ${file ?? 'assignable/<kind>/v<N>'})`);
  let v = compiled.get(file);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
    compiled.set(file, v);
  }
  return v;
}

/** Throws when `doc` (a parsed document with a "schema" field) does not match its schema. */
export function assertValidDocument(doc: unknown, where = 'output'): void {
  if (typeof doc !== 'object' || doc === null || typeof (doc as { schema?: unknown }).schema !== 'string') return;
  const name = (doc as { schema: string }).schema;
  const v = validatorFor(name);
  if (!v(doc)) {
    const errors = (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
    throw new Error(`${where}: not a valid ${name} document (docs/schema): ${errors.join('; ')}`);
  }
}

/**
 * The run helpers call this on stdout: when it is one JSON document with a "schema" field, it
 * must validate. Anything else (text, HTML, a partial write) passes through unchecked.
 */
export function validatedJson<T extends { out: string }>(r: T): T {
  const text = r.out.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return r;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return r;
  }
  assertValidDocument(doc, 'CLI output');
  return r;
}
