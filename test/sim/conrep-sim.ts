/**
 * A conrep-compatible simulator: a virtual ProLiant's NVRAM, CMOS and BIOS environment
 * variables kept in a JSON file, `-s` and `-l` with `-x`/`-f` implemented by the schema's
 * rules (the same codec as `assignable conrep decode`), output like conrep 5.2, and the real
 * failure modes on demand.
 *
 *   CONREP_SIM_STATE  the image file ({ platform, nvram, cmos, ev }) — required
 *   CONREP_SIM_FAIL   comma list of: abort-exit0   (load prints "ASM values not set! aborting", exits 0, writes nothing)
 *                                    exit-nonzero  (load fails with exit 1, writes nothing)
 *                                    no-driver     (every command: driver not loaded, exit 1)
 *                                    crash-halfway (load writes, also garbles the next NVRAM byte, dies by SIGSEGV)
 *                                    bad-schema    (the schema cannot be parsed)
 *                                    load-once     (after the first load, every load fails: restores fail)
 *                                    save-after-load-fails (the read-back after a load fails)
 *                                    hang-load     (the first load ignores SIGTERM, starts a child that ignores it
 *                                                   too — its pid appended to CONREP_SIM_LOG.pids — and hangs)
 *   CONREP_SIM_WATCH  at each load, append "<loaded file>\t<this file's contents or ABSENT>" as one JSON line to
 *                     CONREP_SIM_LOG.watch: what the caller had on disk at the moment of the load
 *   CONREP_SIM_DELAY_MS  hold this long before acting (to overlap two runs)
 *   CONREP_SIM_LOG    append one line per invocation (argv) to this file
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { applySettings, imageFromFile, imageToFile, readSettings } from '../../src/remedies/hpe-rmrds/codec.js';
import { parseConrepSchema } from '../../src/remedies/hpe-rmrds/schema.js';
import { parseConrepSettings, writeConrepSettings } from '../../src/remedies/hpe-rmrds/settings.js';

const VERSION = '5.2.0.0';
const argv = process.argv.slice(2);
const env = process.env;
const fail = new Set((env.CONREP_SIM_FAIL ?? '').split(',').filter(Boolean));
if (env.CONREP_SIM_LOG) appendFileSync(env.CONREP_SIM_LOG, argv.join(' ') + '\n');

function opt(flag: string, dflt: string): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1] ?? dflt;
    if (a.startsWith(flag) && a.length > flag.length) return a.slice(flag.length);
  }
  return dflt;
}

const save = argv.includes('-s');
const load = argv.includes('-l');
const schemaFile = opt('-x', 'conrep.xml');
const dataFile = opt('-f', 'conrep.dat');
const stateFile = env.CONREP_SIM_STATE;
// Straight to fd 1: process.stdout would load Node's stream and net modules at every one of the
// hundreds of calls the tests make.
const say = (s: string) => void writeSync(1, s + '\n');

if (!stateFile) {
  say('conrep-sim: CONREP_SIM_STATE is not set');
  process.exit(64);
}
if (env.CONREP_SIM_DELAY_MS) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(env.CONREP_SIM_DELAY_MS));

const stateText = readFileSync(stateFile, 'utf8');
const state = JSON.parse(stateText) as { calls?: number; loads?: number };
const { image, platform } = imageFromFile(stateText);
const counters = { calls: (state.calls ?? 0) + 1, loads: state.loads ?? 0 };
const persist = () => writeFileSync(stateFile, JSON.stringify({ ...imageToFile(image, platform), ...counters }, null, 2) + '\n');

say(`conrep ${VERSION} - HPE Scripting Toolkit Configuration Replication Program`);
say('(c) Copyright 2013,2017 Hewlett Packard Enterprise Development LP');
say('');
if (fail.has('no-driver')) {
  say('ERROR: Unable to open the HPE System Management driver (hpsstkio). Is the driver loaded?');
  say('');
  say('Conrep Return Code: 1');
  persist();
  process.exit(1);
}
say(`\tSystem Type:\t\t\t${platform.platform}`);
say(`\tROM Date   :\t\t\t${platform.romDate}`);
say(`\tROM Family :\t\t\t${platform.family}`);
say(`\tProcessor Manufacturer :\t${platform.procMan}`);
say('');
say(`XML System Configuration: ${schemaFile}`);
say(`Hardware   Configuration: ${dataFile}`);

/**
 * The schema of this text, parsed once per bundle: the tests hand the simulator the same few
 * schema texts at hundreds of calls, and parsing one cold costs more than the rest of a call.
 * The cache file beside the bundle holds the whole text it was parsed from and is used only
 * for that exact text; it is written to a temporary name then renamed (calls may race).
 */
function schemaOf(text: string): ReturnType<typeof parseConrepSchema> {
  let h = 0x811c9dc5; // FNV-1a over the UTF-16 units: names the file, the text itself decides
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const file = join(dirname(__filename), `.conrep-sim-schema-${text.length}-${h.toString(16)}.json`);
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as { text: string; schema: ReturnType<typeof parseConrepSchema> };
    if (c.text === text) return c.schema;
  } catch {
    // Not parsed yet (or unreadable): parsed below.
  }
  const parsed = parseConrepSchema(text);
  try {
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify({ text, schema: parsed }));
    renameSync(`${file}.${process.pid}.tmp`, file);
  } catch {
    // A read-only directory: the next call parses again.
  }
  return parsed;
}

let schema;
try {
  if (fail.has('bad-schema')) throw new Error('simulated');
  schema = schemaOf(readFileSync(schemaFile, 'utf8'));
} catch {
  say(`ERROR: Unable to parse the XML file ${schemaFile}`);
  say('');
  say('Conrep Return Code: 1');
  persist();
  process.exit(1);
}
say(`\tGlobal Restriction: [${(schema.minimumConrepVersion ?? '').padEnd(14)}]     OK`);
say('');

if (save && !load) {
  if (fail.has('save-after-load-fails') && counters.loads > 0) {
    say(`ERROR: Unable to read NVRAM`);
    say('');
    say('Conrep Return Code: 1');
    persist();
    process.exit(1);
  }
  say(`Saving configuration data to ${dataFile}`);
  const header: Array<[string, string]> = [
    ['version', VERSION],
    ['originating_platform', platform.platform],
    ['originating_family', platform.family],
    ['originating_romdate', platform.romDate],
    ['originating_processor_manufacturer', platform.procMan],
  ];
  writeFileSync(dataFile, writeConrepSettings(readSettings(image, schema, platform, header, [`generated by conrep version ${VERSION}`])));
  say('');
  say('Conrep Return Code: 0');
  persist();
  process.exit(0);
}

if (load && !save) {
  counters.loads++;
  say(`Loading configuration data from ${dataFile}`);
  if (env.CONREP_SIM_WATCH && env.CONREP_SIM_LOG) {
    const w = env.CONREP_SIM_WATCH;
    appendFileSync(env.CONREP_SIM_LOG + '.watch', JSON.stringify({ loaded: dataFile, watched: existsSync(w) ? readFileSync(w, 'utf8') : null }) + '\n');
  }
  if (fail.has('hang-load') && counters.loads === 1) {
    persist();
    process.on('SIGTERM', () => undefined);
    // Loaded here only: node:child_process (and what it loads) would cost every other call.
    const { spawn } = createRequire(__filename)('node:child_process') as typeof import('node:child_process');
    const child = spawn('sh', ['-c', 'trap "" TERM; sleep 600'], { stdio: 'ignore' });
    if (env.CONREP_SIM_LOG) appendFileSync(env.CONREP_SIM_LOG + '.pids', `${child.pid}\n`);
    setInterval(() => undefined, 1000);
  } else {
  if (fail.has('load-once') && counters.loads > 1) {
    say('ERROR: NVRAM write failed');
    say('');
    say('Conrep Return Code: 1');
    persist();
    process.exit(1);
  }
  if (fail.has('abort-exit0') && counters.loads === 1) {
    // conrep 3.00's documented behaviour: it aborts and still reports 0.
    say('ASM values not set! aborting');
    say('');
    say('CONREP Return code: 0');
    persist();
    process.exit(0);
  }
  if (fail.has('exit-nonzero') && counters.loads === 1) {
    say('ERROR: NVRAM write failed');
    say('');
    say('Conrep Return Code: 1');
    persist();
    process.exit(1);
  }
  const settings = parseConrepSettings(readFileSync(dataFile, 'utf8'));
  applySettings(image, schema, platform, settings);
  if (fail.has('crash-halfway') && counters.loads === 1) {
    // Torn write: the next NVRAM byte gets garbage, then the process dies.
    const sec = schema.sections.find((s) => s.name === settings.sections[0]?.name);
    if (sec?.storage.kind === 'nvram') image.nvram[sec.storage.address + 1] = image.nvram[sec.storage.address + 1]! ^ 0x5a;
    persist();
    process.kill(process.pid, 'SIGSEGV');
  }
  say('');
  say('Conrep Return Code: 0');
  persist();
  process.exit(0);
  }
} else {
say('usage: conrep -s|-l [-x schema.xml] [-f data.dat]');
process.exit(2);
}
