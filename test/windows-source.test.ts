/**
 * The Windows probe capture → Host → DDA verdicts, on simulated hosts assembled from real data
 * (test/windows-hosts.ts). Oracles: the real DL380e Gen8 lspci (root port 00:03.2 has secondary
 * bus 09), its real dmidecode ("PCI-E Slot 2", bus address 0000:09:00.0), its real DMAR and the
 * hand-worked RMRR resolution of it; Windows' documented property semantics
 * (../shared/corpus/windows/15-pciprop-devpkeys.json); SurveyDDA's exact messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runSurvey } from '../src/checks/index.js';
import { main } from './main-validated.js';
import { EXIT } from '../src/cli/exit.js';
import { buildHost } from '../src/host/build.js';
import { windowsFactsFromProbe } from '../src/sources/windows/index.js';
import { ROOT, fixtureText } from './helpers.js';
import { gen8Probe, gen8RmrrNamed, type SimOptions } from './windows-hosts.js';

const CARD = '0000:09:00.0';

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

function write(doc: unknown, name = 'win.json', encode: (s: string) => Uint8Array = (s) => new TextEncoder().encode(s)): string {
  const dir = mkdtempSync(join(tmpdir(), 'assignable-win-'));
  const p = join(dir, name);
  writeFileSync(p, encode(typeof doc === 'string' ? doc : JSON.stringify(doc, null, 1)));
  return p;
}

const survey = (o: SimOptions = {}, edit?: (d: Record<string, any>) => void) => {
  const doc = gen8Probe(o) as Record<string, any>;
  edit?.(doc);
  return runSurvey(buildHost(windowsFactsFromProbe(JSON.parse(JSON.stringify(doc)), 'sim.json')));
};

describe('Windows probe capture: the simulated Gen8 with an HBA in slot 2', () => {
  it('survey --json: the card is blocked for dda by RequiresReservedMemoryRegion, with the RMRR, the scope path and slot 2', async () => {
    const r = await run('survey', '--capture', write(gen8Probe()), '--json', '--target', 'dda');
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    const doc = JSON.parse(r.out);
    const card = doc.devices.find((d: any) => d.address === CARD);
    assert.ok(card, 'the card is placed at 09:00.0 from BusNumber/Address');
    assert.equal(card.verdicts.dda.status, 'blocked');
    assert.ok(card.verdicts.dda.reasons.includes('DDA_RESERVED_MEMORY'));
    const f = card.findings.find((x: any) => x.code === 'DDA_RESERVED_MEMORY');
    // lspci: 00:03.2 has secondary bus 09; the extra RMRR names 00:03.2 / 00.0 with 0x7df83000-0x7df84fff.
    assert.ok(f.evidence.some((e: string) => /scope 00:03\.2 \/ 00\.0/.test(e) && /0x7df83000-0x7df84fff/.test(e)), f.evidence.join('\n'));
    // dmidecode: "PCI-E Slot 2", bus address 0000:09:00.0.
    assert.equal(card.slot.physical, 2);
    assert.equal(card.slot.hpeRmrdsSlot, 'RMRDS_Slot2');
    assert.ok(f.evidence.some((e: string) => /slot 2 \(PCI-E Slot 2\), HPE RMRDS_Slot2/.test(e)));
    assert.equal(card.locationPath, 'PCIROOT(0)#PCI(0302)#PCI(0000)');
    assert.equal(card.locationPathSource, 'windows');
    assert.equal(card.windows.requiresReservedMemoryRegion, true);
    // Windows' host answers are kept as facts, absent ones left out.
    assert.equal(doc.host.windows.os.productType, 3);
    assert.equal(doc.host.windows.rootBuses[0].nativePciExpressControl, true);
    assert.deepEqual(doc.host.windows.hyperV.iovSupportReasons, []);
  });

  it('fix gives the RMRDS_Slot2 override with the Windows conrep.exe commands', async () => {
    const r = await run('fix', '09:00.0', '--capture', write(gen8Probe()));
    assert.equal(r.code, EXIT.OK, r.err);
    assert.match(r.out, /RMRDS_Slot2 = Endpoints_Excluded/);
    assert.match(r.out, /\.\\conrep\.exe -s -x conrep_rmrds\.xml -f backup\.dat/);
    assert.match(r.out, /\.\\conrep\.exe -l -x conrep_rmrds\.xml -f override-rmrds\.xml/);
  });

  it('every function Windows flags is one the real DMAR names (hand-worked resolution), and our decode finds its RMRR', () => {
    const sv = survey();
    const named = gen8RmrrNamed();
    const flagged = sv.devices.filter((r) => r.findings.some((f) => f.code === 'DDA_RESERVED_MEMORY'));
    assert.ok(flagged.length >= 8);
    for (const r of flagged) {
      if (r.device.address !== CARD) assert.ok(named.has(r.device.address.slice(5)), r.device.address);
      assert.ok(r.device.rmrr && r.device.rmrr.length > 0, `${r.device.address}: an RMRR structure names it`);
    }
  });

  it('what Windows does not publish stays unknown: FLR, BAR sizes, reset, config bytes, IOMMU groups', () => {
    const sv = survey();
    const d = sv.devices.find((r) => r.device.address === CARD)!;
    assert.equal(d.device.configSource, 'windows-pnp');
    assert.equal(d.device.config.pcie, undefined);
    assert.equal(d.device.config.capabilities, undefined);
    assert.equal(d.device.bars, undefined);
    assert.equal(d.device.resetMethods, undefined);
    assert.equal(d.device.iommuGroup, undefined);
    assert.ok(!d.findings.some((f) => f.code === 'NO_RESET' || f.code === 'CAPABILITIES_UNKNOWN'));
    assert.ok(sv.host.notes.some((n) => n.code === 'WINDOWS_CONFIG_UNPUBLISHED'));
  });

  it('MMIO from the allocated ranges, split as Set-VM takes it (inclusive ends)', () => {
    const sv = survey();
    const f = sv.devices.find((r) => r.device.address === CARD)!.findings.find((x) => x.code === 'MMIO')!;
    // 0xF8000000-0xF800FFFF (64 KiB) + 0xF7FF0000-0xF7FF3FFF (16 KiB): 80 KiB low → 1 MB + 128; none high → 512.
    assert.deepEqual(f.fixes[0]!.commands, ['Set-VM -VMName <vm> -LowMemoryMappedIoSpace 129Mb -HighMemoryMappedIoSpace 512Mb']);
  });

  it('a PowerShell 5.1-shaped capture (scalars for one-element arrays, UTF-16LE with BOM) gives the same verdicts', async () => {
    const a = survey();
    const b = survey({ ps51Quirks: true });
    const verdicts = (sv: typeof a) => sv.devices.map((r) => `${r.device.address} ${r.verdicts.dda.status} ${r.verdicts.dda.reasons.join(',')} ${r.device.locationPath.path}`);
    assert.deepEqual(verdicts(b), verdicts(a));
    const utf16 = (s: string) => Uint8Array.from([0xff, 0xfe, ...Buffer.from(s, 'utf16le')]);
    const r = await run('survey', '--capture', write(gen8Probe({ ps51Quirks: true }), 'win.json', utf16), '--json', '--target', 'dda');
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    assert.ok(JSON.parse(r.out).devices.some((d: any) => d.address === CARD));
  });

  it('Add-Type blocked: no DMAR, so which RMRR is unknown — Windows\' answer still decides, and the probe error is a note', () => {
    const sv = survey({ addTypeBlocked: true });
    const d = sv.devices.find((r) => r.device.address === CARD)!;
    assert.equal(d.device.rmrr, undefined);
    const f = d.findings.find((x) => x.code === 'DDA_RESERVED_MEMORY')!;
    assert.ok(f.evidence.some((e) => /DMAR was not read/.test(e)));
    assert.equal(d.verdicts.dda.status, 'blocked');
    assert.ok(sv.host.notes.some((n) => n.code === 'WINDOWS_PROBE_ERROR' && /language mode/.test(n.message)));
    assert.equal(d.device.slot?.physical, 2, 'SMBIOS still came through CIM');
  });
});

describe('Windows probe capture: the firmware kept PCI Express control', () => {
  it('is ONE host finding, not one per device; no per-device ACS noise from the Empty ACS keys', () => {
    const sv = survey({ keptPcieControl: true });
    assert.equal(sv.hostFindings.filter((f) => f.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL').length, 1);
    for (const r of sv.devices) {
      assert.ok(!r.findings.some((f) => f.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL' || f.code === 'DDA_ACS_UNKNOWN' || f.code === 'ACS_MISSING_UPSTREAM'), r.device.address);
      if (!r.device.isBridge) assert.equal(r.verdicts.dda.status, 'blocked', r.device.address);
    }
    const f = sv.hostFindings.find((x) => x.code === 'DDA_FIRMWARE_KEPT_PCIE_CONTROL')!;
    assert.ok(f.evidence.some((e) => /NativePciExpressControl = false/.test(e)));
    // Windows' own words (corpus 11) are translated into the setting to look for.
    const iov = sv.hostFindings.find((x) => x.code === 'DDA_IOV_REASONS')!;
    assert.match(iov.message, /PCI Express control/);
  });
});

describe('Windows probe capture: host and VM state', () => {
  it('a client SKU (ProductType 1) and a missing Hyper-V role are host findings', () => {
    const sv = survey({}, (d) => {
      d.os.productType = 1;
      d.hyperV.vmms = null;
      d.hyperV.feature = { via: 'Get-WindowsOptionalFeature', name: 'Microsoft-Hyper-V', state: 'Disabled' };
    });
    assert.ok(sv.hostFindings.some((f) => f.code === 'DDA_NOT_SERVER'));
    assert.ok(sv.hostFindings.some((f) => f.code === 'DDA_HYPERV_MISSING'));
  });

  it('a device assigned to a VM whose settings conflict with DDA', () => {
    const vm = { name: 'gpu-vm', state: 'Off', generation: 2, automaticStopAction: 'Save', guestControlledCacheTypes: false, lowMemoryMappedIoSpace: '0', highMemoryMappedIoSpace: '536870912', dynamicMemoryEnabled: true, checkpointType: 'Standard', assignedDevices: [{ locationPath: 'PCIROOT(0)#PCI(0302)#PCI(0000)' }] };
    const sv = survey({ vms: [vm] });
    const d = sv.devices.find((r) => r.device.address === CARD)!;
    assert.ok(d.findings.some((f) => f.code === 'DDA_ASSIGNED' && /gpu-vm/.test(f.message)));
    const s = d.findings.find((f) => f.code === 'DDA_VM_SETTINGS')!;
    assert.match(s.message, /stop action Save/);
    assert.match(s.message, /dynamic memory on/);
    assert.match(s.message, /checkpoints Standard/);
    assert.match(s.message, /low MMIO/);
    assert.ok(s.fixes[0]!.commands!.includes("Set-VM -Name 'gpu-vm' -AutomaticStopAction TurnOff"));
  });

  it('AcsCompatibleUpHierarchy 4 ("Enhanced") passes like 3', () => {
    const sv = survey({}, (d) => {
      d.pciDevices.find((x: any) => /DEV_0072/.test(x.instanceId)).properties.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = 4;
    });
    const card = sv.devices.find((r) => r.device.address === CARD)!;
    assert.ok(!card.findings.some((f) => f.code === 'ACS_MISSING_UPSTREAM' || f.code === 'DDA_ACS_UNKNOWN'));
  });

  it('ACS NotSupported, ACS Empty on a native PCIe function, and an unknown InterruptSupport', () => {
    const sv = survey({}, (d) => {
      const card = d.pciDevices.find((x: any) => /DEV_0072/.test(x.instanceId));
      card.properties.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = 0;
      card.properties.DEVPKEY_PciDevice_InterruptSupport = null;
      const nic = d.pciDevices.find((x: any) => /DEV_1521/.test(x.instanceId));
      nic.properties.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy = null;
      const ehci = d.pciDevices.find((x: any) => /DEV_1D26/.test(x.instanceId));
      ehci.properties.DEVPKEY_PciDevice_InterruptSupport = 1;
    });
    const card = sv.devices.find((r) => r.device.address === CARD)!;
    const acs = card.findings.find((f) => f.code === 'ACS_MISSING_UPSTREAM')!;
    assert.match(acs.message, /Traffic from this device may be redirected/);
    assert.ok(acs.evidence.some((e) => /0000:00:03\.2: ACS capability register/.test(e)));
    assert.ok(card.findings.some((f) => f.code === 'DDA_INTERRUPTS_UNKNOWN'));
    assert.ok(sv.devices.find((r) => r.device.address === '0000:02:00.0')!.findings.some((f) => f.code === 'DDA_ACS_UNKNOWN'));
    assert.ok(sv.devices.find((r) => r.device.address === '0000:00:1d.0')!.findings.some((f) => f.code === 'INTX_ONLY'));
  });
});

describe('Windows probe capture: probe errors', () => {
  it('one note per kind of error, however many functions it concerns', () => {
    const sv = survey({}, (d) => {
      d.errors = d.pciDevices.slice(0, 3).map((x: any) => ({ step: 'pciDevices.memoryRanges', target: x.instanceId, message: 'Access denied' }));
      for (const x of d.pciDevices.slice(0, 3)) delete x.memoryRanges;
    });
    const notes = sv.host.notes.filter((n) => n.code === 'WINDOWS_PROBE_ERROR');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!.message, /pciDevices\.memoryRanges \(3: PCI\\.*, …\): Access denied/);
  });
  it('--pwsh without a Windows host to probe is a usage error', async () => {
    assert.equal((await run('survey', '--pwsh', '--capture', write(gen8Probe()))).code, EXIT.INPUT);
  });
});

describe('Windows probe capture: bad input is one line and exit 2', () => {
  const cases: Array<[string, (d: Record<string, any>) => unknown, RegExp]> = [
    ['a wrong schema', (d) => ({ ...d, schema: 'assignable/windows-probe/v9' }), /schema.*expected "assignable\/windows-probe\/v1"/],
    ['a level cut by ConvertTo-Json depth', (d) => ({ ...d, pciDevices: [{ ...d.pciDevices[0], properties: 'System.Collections.Hashtable' }] }), /pciDevices\[0\]\.properties.*depth/],
    ['a 64-bit value that lost precision', (d) => ({ ...d, pciDevices: [{ ...d.pciDevices[0], memoryRanges: [{ start: 2 ** 60, end: '1' }] }] }), /memoryRanges\[0\]\.start/],
    ['a UINT32 property that is a string', (d) => ({ ...d, pciDevices: [{ ...d.pciDevices[0], properties: { ...d.pciDevices[0].properties, DEVPKEY_PciDevice_DeviceType: 'two' } }] }), /DEVPKEY_PciDevice_DeviceType.*expected a UINT32|expected a number/],
  ];
  for (const [what, edit, re] of cases) {
    it(what, async () => {
      const p = write(edit(gen8Probe() as Record<string, any>));
      const r = await run('survey', '--capture', p);
      assert.equal(r.code, EXIT.INPUT, r.err);
      assert.equal(r.err.trim().split('\n').length, 1);
      assert.ok(r.err.includes(p), r.err);
      assert.match(r.err, re);
    });
  }
  it('JSON that does not parse', async () => {
    const p = write('{"schema": "assignable/windows-probe/v1", ');
    const r = await run('survey', '--capture', p);
    assert.equal(r.code, EXIT.INPUT);
    assert.match(r.err, /not JSON/);
  });
});

describe('Windows probe capture: the corpus texts it relies on', () => {
  it('the IovSupportReasons text of corpus 11 is what the translation keys on', () => {
    // Copied into the fixture with its provenance (test/fixtures/windows/SOURCES.md).
    const t = fixtureText('windows', '11-mastering-hyperv-2016-get-vmhostassignabledevice.txt');
    assert.match(t.replace(/\s+/g, ' '), /the system BIOS must be updated to allow Windows to control PCI Express/);
  });
});

describe('explain --target dda: the DDA procedure', () => {
  it('accepts a location path as DEVICE and prints the procedure with --vm, -Force said why, and the undo', async () => {
    const r = await run('explain', 'PCIROOT(0)#PCI(0302)#PCI(0000)', '--capture', write(gen8Probe()), '--target', 'dda', '--vm', "lab's vm");
    assert.equal(r.code, EXIT.BLOCKED, r.err);
    const lines = r.out.split('\n').map((l) => l.trim());
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.match(r.out, /^0000:09:00\.0 /m);
    assert.match(r.out, /location path PCIROOT\(0\)#PCI\(0302\)#PCI\(0000\) \(from Windows\)/);
    assert.match(r.out, /Windows: instance PCI\\VEN_1000&DEV_0072\S+, DeviceType 2 \(PciExpressEndpoint\), RequiresReservedMemoryRegion true, AcsCompatibleUpHierarchy 3, InterruptSupport 0x7/);
    const order = [
      /^Set-VM -Name 'lab''s vm' -AutomaticStopAction TurnOff$/,
      /^Set-VM -Name 'lab''s vm' -LowMemoryMappedIoSpace 129Mb -HighMemoryMappedIoSpace 512Mb$/,
      /^Disable-PnpDevice -InstanceId 'PCI\\VEN_1000&DEV_0072&SUBSYS_30801000&REV_03\\.*&0&001A' -Confirm:\$false$/,
      /^# -Force: .*has not supplied any directives/,
      /^Dismount-VMHostAssignableDevice -Force -LocationPath 'PCIROOT\(0\)#PCI\(0302\)#PCI\(0000\)'$/,
      /^Add-VMAssignableDevice -LocationPath 'PCIROOT\(0\)#PCI\(0302\)#PCI\(0000\)' -VMName 'lab''s vm'$/,
      /^Remove-VMAssignableDevice /,
      /^Mount-VMHostAssignableDevice -LocationPath 'PCIROOT\(0\)#PCI\(0302\)#PCI\(0000\)'$/,
      /^Enable-PnpDevice /,
    ].map(at);
    assert.ok(order.every((i) => i >= 0), JSON.stringify(order));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.match(r.out, /# blocked for dda \(DDA_RESERVED_MEMORY\)/);
  });

  it('on a Linux capture the procedure uses the derived path; a GPU needs no -Force', async () => {
    const r = await run('explain', '01:00.1', '--lspci', join(ROOT, 'examples/hp-proliant-dl380e-gen8/lspci-vvnn.txt'), '--target', 'dda');
    // Matrox G200EH at 01:00.1 behind 00:1c.7 (lspci: secondary=01).
    assert.match(r.out, /Dismount-VMHostAssignableDevice -LocationPath 'PCIROOT\(0\)#PCI\(1C07\)#PCI\(0001\)'/);
    assert.match(r.out, /-GuestControlledCacheTypes \$true/);
    assert.match(r.out, /location path PCIROOT\(0\)#PCI\(1C07\)#PCI\(0001\) \(derived from the topology\)/);
  });

  it('--vm is refused without --target dda, and with control characters', async () => {
    const p = write(gen8Probe());
    assert.equal((await run('explain', '09:00.0', '--capture', p, '--vm', 'x')).code, EXIT.INPUT);
    assert.equal((await run('explain', '09:00.0', '--capture', p, '--target', 'dda', '--vm', 'a\nb')).code, EXIT.INPUT);
  });
});
