/**
 * The probe and the reader agree: what the real PowerShell probe wrote on each simulated host
 * (test/fixtures/windows-probe/out, see its README) is read by `--capture` into the expected facts
 * and verdicts — the JSON format of docs/windows-probe.md from both ends.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { loadHost } from '../src/cli/host-commands.js';
import { fixture } from './helpers.js';

const OUT = 'windows-probe/out';
const files = readdirSync(fixture(OUT)).filter((f) => f.endsWith('.json')).sort();

/** The probe's own list of PCI functions, read from its output (UTF-16 for the 5.1-shaped run). */
function probeFunctions(f: string): number {
  const b = readFileSync(fixture(OUT, f));
  const text = b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString('utf16le') : b.toString('utf8');
  const doc = JSON.parse(text) as { pciDevices: Array<{ instanceId: string }> };
  return doc.pciDevices.filter((d) => /^PCI\\/i.test(d.instanceId)).length;
}

describe('probe outputs read back through --capture', () => {
  it('five simulated hosts', () => assert.equal(files.length, 5));
  for (const f of files) {
    it(`${f}: every PCI function the probe listed becomes a device`, () => {
      const host = loadHost({ capture: fixture(OUT, f) });
      assert.equal(host.devices.length, probeFunctions(f));
      assert.ok(host.devices.every((d) => d.configSource === 'windows-pnp'));
    });
  }
  it('gen8-slot2-rmrr.json: the slot-2 HBA is blocked for dda by its RMRR, named by our DMAR decode, with RMRDS_Slot2', () => {
    const sv = runSurvey(loadHost({ capture: fixture(OUT, 'gen8-slot2-rmrr.json') }));
    const hba = sv.devices.find((r) => r.device.address === '0000:09:00.0')!;
    assert.equal(hba.verdicts.dda.status, 'blocked');
    const f = hba.findings.find((x) => x.code === 'DDA_RESERVED_MEMORY')!;
    assert.ok(f, hba.findings.map((x) => x.code).join(' '));
    assert.match(JSON.stringify(f), /RMRDS_Slot2/);
    assert.equal(hba.device.locationPath?.path, 'PCIROOT(0)#PCI(0302)#PCI(0000)');
  });
  it('consumer-bios-kept-pcie.json: the firmware kept PCIe control — one host finding', () => {
    const sv = runSurvey(loadHost({ capture: fixture(OUT, 'consumer-bios-kept-pcie.json') }));
    assert.equal(sv.hostFindings.filter((x) => x.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL').length, 1);
    assert.ok(sv.devices.every((r) => !r.findings.some((x) => x.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL')));
  });
});

describe('the probe outputs follow their schema (docs/schema/windows-probe-v1.schema.json)', () => {
  it('each of the five validates; a document without pciDevices does not', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const schema = JSON.parse(readFileSync(fixture('..', '..', 'docs', 'schema', 'windows-probe-v1.schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: true }).compile(schema);
    for (const f of files) {
      const b = readFileSync(fixture(OUT, f));
      const doc = JSON.parse(b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString('utf16le') : b.toString('utf8'));
      assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`);
    }
    assert.equal(validate({ schema: 'assignable/windows-probe/v1', errors: [] }), false);
  });
});
