/** `survey --capture FILE|DIR`: a capture written by `assignable collect`, read by the live-host reader. */
import { gunzipSync } from 'node:zlib';
import { DecodeError } from '../firmware/errors.js';
import { describeText } from '../firmware/text.js';
import type { HostFacts } from '../host/model.js';
import { InputFailure, SourceError } from './errors.js';
import { readInput, realFs, sourceErrorFrom, treeFs, type Fs } from './fs.js';
import { readLiveHost } from './live.js';
import { memFs } from './memfs.js';
import { readTar } from './tar.js';

/**
 * A capture unpacked: the biggest real host we have (53 functions with 4 KiB config each,
 * lspci text, SMBIOS, DMAR) collects to well under 1 MiB; a 1000-function host stays under
 * 8 MiB. Inflation stops at this size, so a gzip bomb never allocates more.
 */
export const MAX_UNPACKED = 16 * 1024 * 1024;
/** Archive members: a few per function and per IOMMU group. */
export const MAX_MEMBERS = 100_000;
/** A .tar.gz on disk: it never needs to be bigger than what it unpacks to. */
const MAX_PACKED = MAX_UNPACKED;

/** Bytes of a capture file: gunzipped (bounded) when gzip. */
export function unpackCapture(path: string, bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail = code === 'ERR_BUFFER_TOO_LARGE' ? `unpacks to more than ${MAX_UNPACKED} bytes, more than any capture holds` : (e as Error).message;
    throw new InputFailure(path, new DecodeError('capture archive (gzip)', 0, 'gzip stream', detail));
  }
}

export function readCapture(path: string, fs: Fs = realFs): HostFacts {
  let st;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw sourceErrorFrom(e, path, 'capture');
  }
  let facts: HostFacts;
  if (st.isDirectory()) {
    const tree = fs === realFs ? treeFs(path) : fs;
    if (!tree.existsSync(`${path}/sys/bus/pci/devices`)) throw new SourceError('usage', path, `${path}: not a capture directory (no sys/bus/pci/devices inside; make one with \`assignable collect\`)`);
    facts = readLiveHost(path, tree);
  } else {
    const bytes = unpackCapture(path, readInput(path, 'capture', fs, MAX_PACKED));
    if (bytes.length > MAX_UNPACKED) throw new SourceError('too-large', path, `capture: ${path}: ${bytes.length} bytes, more than any capture holds (${MAX_UNPACKED})`);
    let mfs: Fs;
    // Neither gzip nor tar (ustar magic at 257): say what it is instead of a tar field error.
    if (bytes.length < 512 || new TextDecoder('latin1').decode(bytes.subarray(257, 262)) !== 'ustar') {
      throw new SourceError('usage', path, `${path}: not a capture (expected a .tar.gz or .tar from \`assignable collect\`, or its directory): ${describeText(new TextDecoder().decode(bytes.subarray(0, 64 * 1024)))}`);
    }
    try {
      mfs = memFs(readTar(bytes, MAX_MEMBERS));
    } catch (e) {
      throw new InputFailure(path, e);
    }
    if (!mfs.existsSync('/sys/bus/pci/devices')) throw new SourceError('usage', path, `${path}: not an assignable capture (no sys/bus/pci/devices inside)`);
    facts = readLiveHost('/', mfs);
  }
  facts.origin = { kind: 'capture', description: `capture ${path}` };
  return facts;
}
