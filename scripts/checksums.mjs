#!/usr/bin/env node
/**
 * `npm run checksums`: dist/SHA256SUMS over the release files that exist — the bundle, the single
 * executable, the .deb and any npm tarball at the top — in `sha256sum -c` format.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const files = [
  join(DIST, 'assignable.mjs'),
  join(DIST, 'sea/assignable'),
  ...(existsSync(join(DIST, 'deb')) ? readdirSync(join(DIST, 'deb')).filter((f) => f.endsWith('.deb')).map((f) => join(DIST, 'deb', f)) : []),
  ...readdirSync(ROOT).filter((f) => f.endsWith('.tgz')).map((f) => join(ROOT, f)),
].filter((f) => existsSync(f));
const lines = files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${relative(DIST, f)}\n`);
writeFileSync(join(DIST, 'SHA256SUMS'), lines.join(''));
process.stdout.write(lines.join('') + `checksums: ${relative(ROOT, join(DIST, 'SHA256SUMS'))} (check with: cd dist && sha256sum -c SHA256SUMS)\n`);
