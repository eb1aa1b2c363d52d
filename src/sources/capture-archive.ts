/** `survey --capture FILE|DIR`: a capture written by `assignable collect`, read by the live-host reader. */
import { gunzipSync } from 'node:zlib';
import { DecodeError } from '../firmware/errors.js';
import type { HostFacts } from '../host/model.js';
import { InputFailure } from '../cli/run.js';
import { SourceError } from './errors.js';
import { readInput, realFs, sourceErrorFrom, type Fs } from './fs.js';
import { readLiveHost } from './live.js';
import { memFs } from './memfs.js';
import { readTar } from './tar.js';

const MAX_UNPACKED = 512 * 1024 * 1024;

export function readCapture(path: string, fs: Fs = realFs): HostFacts {
  let st;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, 'capture');
  }
  let facts: HostFacts;
  if (st.isDirectory()) {
    if (!fs.existsSync(`${path}/sys/bus/pci/devices`)) throw new SourceError('usage', path, `${path}: not a capture directory (no sys/bus/pci/devices inside; make one with \`assignable collect\`)`);
    facts = readLiveHost(path, fs);
  } else {
    let bytes = readInput(path, 'capture', fs);
    try {
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED }));
    } catch (e) {
      throw new InputFailure(path, new DecodeError('capture archive (gzip)', 0, 'gzip stream', (e as Error).message));
    }
    let mfs: Fs;
    try {
      mfs = memFs(readTar(bytes));
    } catch (e) {
      throw new InputFailure(path, e);
    }
    if (!mfs.existsSync('/sys/bus/pci/devices')) throw new SourceError('usage', path, `${path}: not an assignable capture (no sys/bus/pci/devices inside)`);
    facts = readLiveHost('/', mfs);
  }
  facts.origin = { kind: 'capture', description: `capture ${path}` };
  return facts;
}
