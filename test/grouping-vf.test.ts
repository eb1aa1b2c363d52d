/**
 * SR-IOV Virtual Functions in a paste: lspci does not mark VFs, so the PF's SR-IOV capability
 * (First VF Offset, VF Stride, NumVFs, VF Device ID) places them; the kernel never treats a VF as
 * multi-function (drivers/pci/iov.c), so each VF is its own isolation point — also the VFs that
 * spill onto the next bus, which has no bridge of its own (a virtual bus).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePciConfig } from '../src/firmware/pci/config.js';
import { buildHost } from '../src/host/build.js';
import { virtualFunctions } from '../src/host/grouping/index.js';
import type { FunctionFacts } from '../src/host/model.js';
import { functionsFromLspci } from '../src/sources/capture-files.js';
import { fixtureText } from './helpers.js';

/** Cavium ThunderX NIC PF, lspci: "Number of VFs: 128 … VF offset: 1, stride: 1, Device ID: a034". */
const [REAL_PF] = functionsFromLspci(fixtureText('pci/pciutils-tests', 'pciutils-cap-ea-1.dump.txt'));
/** SR-IOV extended capability ID, and its First VF Offset register (SR-IOV §9.3.3.9). */
const SRIOV_ECAP = 0x0010;
const FIRST_VF_OFFSET = 0x14;
/** The one rewrite: First VF Offset 1 → 200, so 128 VFs run past the PF's bus onto bus 02. */
const SPILL_OFFSET = 200;
const PF = ((): FunctionFacts => {
  const b = new Uint8Array(REAL_PF!.lspci!.config!);
  const at = REAL_PF!.config.extendedCapabilities!.find((c) => c.id === SRIOV_ECAP)!.offset + FIRST_VF_OFFSET;
  b[at] = SPILL_OFFSET;
  b[at + 1] = 0;
  return { ...REAL_PF!, config: decodePciConfig(b), lspci: undefined };
})();
const VF_DEVICE_ID = 0xa034;
const HEADER_TYPE = 0x0e;
const MULTI_FUNCTION = 0x80;

/** A VF as lspci shows it: the PF's bytes with the VF Device ID and a single-function header. */
function vfAt(rid: number): FunctionFacts {
  const b = new Uint8Array(REAL_PF!.lspci!.config!);
  b[2] = VF_DEVICE_ID & 0xff;
  b[3] = VF_DEVICE_ID >> 8;
  b[HEADER_TYPE]! &= ~MULTI_FUNCTION;
  return { address: { segment: 2, bus: rid >> 8, device: (rid >> 3) & 0x1f, function: rid & 7 }, config: decodePciConfig(b), configSource: 'bytes' };
}

test('VFs from the PF\'s SR-IOV capability each get a group of their own, on its bus and on the virtual bus after it', () => {
  assert.ok(REAL_PF!.config.sriov && REAL_PF!.config.sriov.numVfs === 128 && REAL_PF!.config.sriov.vfOffset === 1 && REAL_PF!.config.sriov.vfStride === 1);
  assert.equal(PF.config.sriov!.vfOffset, SPILL_OFFSET);
  const pfRid = (PF.address.bus << 8) | (PF.address.device << 3) | PF.address.function;
  const vfs = Array.from({ length: 128 }, (_, n) => vfAt(pfRid + SPILL_OFFSET + n));
  const host = buildHost({ origin: { kind: 'capture', description: 'PF + VFs' }, functions: [PF, ...vfs], notes: [], kernelRelease: '6.8.0' });
  const found = virtualFunctions(host.devices);
  assert.equal(found.size, 128);
  assert.ok(found.has('0002:02:00.0'), 'the 128th VF is on bus 02, which no bridge leads to');
  assert.ok(!found.has('0002:01:00.0'), 'the PF is not a VF');
  // VFs 01:19.0–01:19.7 share a slot number: were they multi-function (the function-number
  // inference for pasted lspci), the kernel would put them, without ACS, in one group.
  for (const a of ['0002:01:19.0', '0002:01:19.1', '0002:01:1f.7', '0002:02:00.0', '0002:02:08.7']) {
    assert.deepEqual(host.predicted.byDevice.get(a)!.group.members, [a], a);
  }
  assert.equal(host.predicted.groups.length, 129);
});
