/**
 * The Windows probe (windows/assignable-probe.ps1), run for real under PowerShell 7 on simulated hosts:
 * every Windows-only command is a test double (test/fixtures/windows-probe/simulate.ps1) answering from a
 * host file built from real data (make-hosts.ts). The oracle is that host file and the real table files it
 * names — what Windows would have answered — never the probe's own output. The document must follow
 * ../shared's format (assignable/windows-probe/v1), carry every fact Windows gave, leave out what it could
 * not read (with an errors[] entry), and come out the same shape under the Windows PowerShell 5.1 quirks.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPwsh, runSimulatedMany, decodeCapture, pwshRunAsync, PROBE, PROBE_FIXTURES, type ProbeRun } from './windows-probe-run.js';

const pwsh = findPwsh();
const SKIP = pwsh ? false : 'pwsh (PowerShell 7) is not installed: .ci/run installs it with `dotnet tool install --global PowerShell`';

const HOSTS = ['gen8-slot2-rmrr', 'gen8-addtype-blocked', 'gen8-ps51', 'g7like', 'consumer-bios-kept-pcie'] as const;
type HostName = (typeof HOSTS)[number];

const spec = (h: HostName) => JSON.parse(readFileSync(join(PROBE_FIXTURES, 'hosts', `${h}.json`), 'utf8'));
const hostBytes = (f: string) => readFileSync(join(PROBE_FIXTURES, 'hosts', f));
const LIST_KEYS = new Set(['DEVPKEY_Device_LocationPaths', 'DEVPKEY_Device_HardwareIds', 'DEVPKEY_Device_CompatibleIds']);
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Everything the format file says about shapes; returns the problems found, with their JSON paths. */
function formatProblems(doc: any): string[] {
  const p: string[] = [];
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown, at: string) => { if (typeof v !== 'string') p.push(`${at}: not a string`); };
  const optStr = (o: any, k: string, at: string) => { if (k in o) str(o[k], `${at}.${k}`); };
  // No 5.1 leftovers anywhere: array wrappers, truncated depth, .NET dates.
  const walk = (v: unknown, at: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}[${i}]`));
    else if (isObj(v)) {
      const keys = Object.keys(v as object);
      if (keys.length === 2 && keys.includes('value') && keys.includes('Count')) p.push(`${at}: a 5.1 {value,Count} array wrapper`);
      for (const k of keys) walk((v as any)[k], `${at}.${k}`);
    } else if (typeof v === 'string') {
      if (/^System\.(Collections|Object|Management)/.test(v)) p.push(`${at}: a truncated object ("${v}")`);
      if (v.startsWith('/Date(')) p.push(`${at}: a .NET date`);
    }
  };
  walk(doc, '$');
  if (doc.schema !== 'assignable/windows-probe/v1') p.push('$.schema');
  if (!isObj(doc.probe)) p.push('$.probe');
  else {
    str(doc.probe.version, '$.probe.version');
    for (const k of ['startedAt', 'finishedAt']) if (!ISO.test(doc.probe[k])) p.push(`$.probe.${k}: not ISO 8601 UTC`);
    if ('elevated' in doc.probe && typeof doc.probe.elevated !== 'boolean') p.push('$.probe.elevated');
  }
  if (!isObj(doc.powershell)) p.push('$.powershell');
  else for (const k of ['edition', 'version', 'clrVersion', 'languageMode']) optStr(doc.powershell, k, '$.powershell');
  if (isObj(doc.os)) {
    for (const k of ['caption', 'version', 'buildNumber', 'editionId', 'installationType']) optStr(doc.os, k, '$.os');
    for (const k of ['productType', 'operatingSystemSku', 'ubr']) if (k in doc.os && !Number.isInteger(doc.os[k])) p.push(`$.os.${k}: not a number`);
  }
  if (!isObj(doc.firmwareTables)) p.push('$.firmwareTables');
  else for (const [k, v] of Object.entries<any>(doc.firmwareTables)) {
    if (!['dmar', 'ivrs', 'smbios'].includes(k)) p.push(`$.firmwareTables.${k}: unknown`);
    if (v === null) continue;
    if (!isObj(v) || !['GetSystemFirmwareTable', 'MSSmBios_RawSMBiosTables'].includes(v.via) || !/^[A-Za-z0-9+/]+=*$/.test(v.base64)) p.push(`$.firmwareTables.${k}`);
  }
  const props = (o: any, at: string) => {
    if (!isObj(o)) { p.push(`${at}: not an object`); return; }
    for (const [k, v] of Object.entries<any>(o)) {
      if (!/^DEVPKEY_[A-Za-z]+_[A-Za-z0-9_]+$/.test(k) && !/^\{[0-9A-F-]{36}\} \d+$/i.test(k)) p.push(`${at}.${k}: not a key name`);
      if (LIST_KEYS.has(k) && v !== null && (!Array.isArray(v) || v.some((x: unknown) => typeof x !== 'string'))) p.push(`${at}.${k}: not an array of strings`);
      if (v !== null && !['number', 'boolean', 'string'].includes(typeof v) && !Array.isArray(v)) p.push(`${at}.${k}: not a property value`);
    }
  };
  if ('pciDevices' in doc) {
    if (!Array.isArray(doc.pciDevices)) p.push('$.pciDevices: not an array');
    else doc.pciDevices.forEach((d: any, i: number) => {
      const at = `$.pciDevices[${i}]`;
      if (!/^PCIP?\\/.test(d.instanceId)) p.push(`${at}.instanceId`);
      if ('present' in d && typeof d.present !== 'boolean') p.push(`${at}.present`);
      for (const k of ['status', 'class', 'friendlyName']) optStr(d, k, at);
      if ('properties' in d) props(d.properties, `${at}.properties`);
      if ('memoryRanges' in d) {
        if (!Array.isArray(d.memoryRanges)) p.push(`${at}.memoryRanges: not an array`);
        else for (const r of d.memoryRanges) if (!DECIMAL.test(r.start) || !DECIMAL.test(r.end) || BigInt(r.end) < BigInt(r.start)) p.push(`${at}.memoryRanges: ${JSON.stringify(r)}`);
      }
    });
  }
  if ('rootBuses' in doc) {
    if (!Array.isArray(doc.rootBuses)) p.push('$.rootBuses: not an array');
    else doc.rootBuses.forEach((b: any, i: number) => {
      if (typeof b.instanceId !== 'string' || /^PCIP?\\/.test(b.instanceId)) p.push(`$.rootBuses[${i}].instanceId`);
      if ('properties' in b) props(b.properties, `$.rootBuses[${i}].properties`);
    });
  }
  const hv = doc.hyperV;
  if (!isObj(hv)) p.push('$.hyperV');
  else {
    if ('vmms' in hv && hv.vmms !== null) { str(hv.vmms.status, '$.hyperV.vmms.status'); str(hv.vmms.startType, '$.hyperV.vmms.startType'); }
    if ('module' in hv && typeof hv.module !== 'boolean') p.push('$.hyperV.module');
    if ('vmHost' in hv) {
      if ('iovSupport' in hv.vmHost && typeof hv.vmHost.iovSupport !== 'boolean') p.push('$.hyperV.vmHost.iovSupport');
      if (hv.vmHost.iovSupportReasons !== null && !Array.isArray(hv.vmHost.iovSupportReasons)) p.push('$.hyperV.vmHost.iovSupportReasons');
    }
    const pair = (a: any, at: string) => { str(a.instanceId, `${at}.instanceId`); str(a.locationPath, `${at}.locationPath`); };
    if ('assignableDevices' in hv) { if (!Array.isArray(hv.assignableDevices)) p.push('$.hyperV.assignableDevices'); else hv.assignableDevices.forEach((a: any, i: number) => pair(a, `$.hyperV.assignableDevices[${i}]`)); }
    if ('vms' in hv) {
      if (!Array.isArray(hv.vms)) p.push('$.hyperV.vms');
      else hv.vms.forEach((v: any, i: number) => {
        const at = `$.hyperV.vms[${i}]`;
        for (const k of ['name', 'id', 'state', 'automaticStopAction', 'checkpointType']) optStr(v, k, at);
        for (const k of ['lowMemoryMappedIoSpace', 'highMemoryMappedIoSpace']) if (k in v && !DECIMAL.test(v[k])) p.push(`${at}.${k}: not a decimal string`);
        for (const k of ['guestControlledCacheTypes', 'dynamicMemoryEnabled']) if (k in v && typeof v[k] !== 'boolean') p.push(`${at}.${k}`);
        if ('generation' in v && !Number.isInteger(v.generation)) p.push(`${at}.generation`);
        if ('assignedDevices' in v) { if (!Array.isArray(v.assignedDevices)) p.push(`${at}.assignedDevices`); else v.assignedDevices.forEach((a: any, j: number) => pair(a, `${at}.assignedDevices[${j}]`)); }
      });
    }
  }
  if (!Array.isArray(doc.errors)) p.push('$.errors: not an array');
  else doc.errors.forEach((e: any, i: number) => { str(e.step, `$.errors[${i}].step`); str(e.message, `$.errors[${i}].message`); optStr(e, 'target', `$.errors[${i}]`); optStr(e, 'errorId', `$.errors[${i}]`); });
  return p;
}

/** The properties the document must carry for one simulated device: the host file's, Empty ones as null. */
function expectProperty(docProps: Record<string, unknown>, specProps: Record<string, unknown>, at: string) {
  for (const [k, v] of Object.entries(specProps)) {
    if (k.startsWith('DEVPKEY_PciRootBus_') && !at.includes('rootBus')) continue;
    assert.ok(k in docProps, `${at}: ${k} missing`);
    assert.deepEqual(docProps[k], v, `${at}: ${k}`);
  }
  // What Windows answered Empty for (pci.sys did not set it) is null, not left out and not a default.
  for (const k of ['DEVPKEY_PciDevice_AcsCompatibleUpHierarchy', 'DEVPKEY_PciDevice_SriovSupport']) {
    if (!(k in specProps) && !at.includes('rootBus')) assert.equal(docProps[k], null, `${at}: ${k} must be null (Empty)`);
  }
}

const runs = new Map<HostName, ProbeRun>();
/** The probe on bare Linux (no doubles): its own PowerShell process, run while the simulated hosts run. */
let bareDir = '';
let bare: ReturnType<typeof pwshRunAsync> | undefined;

describe('the Windows probe on simulated hosts', { skip: SKIP }, () => {
  before(async () => {
    bareDir = mkdtempSync(join(tmpdir(), 'assignable-outfile-'));
    bare = pwshRunAsync(pwsh!, ['-Command', `Set-Location -LiteralPath '${bareDir}'; & '${PROBE}' -OutFile 'rel.json'`]);
    // Not left unhandled while the hosts run: the test reads it.
    bare.catch(() => {});
    // The hosts, one PowerShell process for all (each in a runspace of its own).
    const done = await runSimulatedMany(pwsh!, HOSTS.map((h) => `${h}.json`));
    HOSTS.forEach((h, i) => runs.set(h, done[i]!));
    // ASSIGNABLE_WRITE_PROBE_OUT=DIR refreshes the committed outputs (test/fixtures/windows-probe/out).
    const outDir = process.env.ASSIGNABLE_WRITE_PROBE_OUT;
    if (outDir) {
      mkdirSync(outDir, { recursive: true });
      for (const [h, r] of runs) writeFileSync(join(outDir, `${h}.json`), r.raw);
    }
  });

  for (const h of HOSTS) {
    test(`${h}: one valid document in the shared format, ASCII only`, () => {
      const r = runs.get(h)!;
      const text = decodeCapture(r.raw);
      assert.ok(/^[\x00-\x7f]*$/.test(text), 'every non-ASCII character is \\u-escaped');
      assert.deepEqual(formatProblems(r.doc), []);
    });

    test(`${h}: one batched Get-PnpDeviceProperty call, no WMI cmdlets`, () => {
      const { calls } = runs.get(h)!;
      assert.equal(calls['Get-PnpDeviceProperty'], 1);
      assert.equal(calls['Get-PnpDevice'], 1);
      assert.equal(calls['Get-WmiObject'], undefined);
      assert.equal(calls.gwmi, undefined);
    });

    test(`${h}: every PCI function with Windows' identity and properties, as the host gave them`, () => {
      const { doc } = runs.get(h)!;
      const s = spec(h);
      const pci = s.pnp.filter((d: any) => /^PCIP?\\/.test(d.InstanceId));
      assert.equal(doc.pciDevices.length, pci.length);
      const byId = new Map(doc.pciDevices.map((d: any) => [d.instanceId, d]));
      for (const d of pci) {
        const got: any = byId.get(d.InstanceId);
        assert.ok(got, d.InstanceId);
        assert.equal(got.present, d.Present);
        assert.equal(got.status, d.Status);
        assert.equal(got.class, d.Class);
        assert.equal(got.friendlyName, d.FriendlyName);
        expectProperty(got.properties, d.props, d.InstanceId);
        for (const k of Object.keys(got.properties)) assert.ok(!k.startsWith('DEVPKEY_PciRootBus_'), `${d.InstanceId}: ${k} is a root-bus key`);
        // Memory: what WMI gave, as decimal strings; absent, with an error naming the device, when it failed;
        // not asked for a device that is not present.
        if (!d.Present) {
          assert.ok(!('memoryRanges' in got));
          assert.ok(!doc.errors.some((e: any) => e.target === d.InstanceId));
        } else if (d.memoryError) {
          assert.ok(!('memoryRanges' in got), `${d.InstanceId}: memoryRanges must be absent`);
          assert.ok(doc.errors.some((e: any) => e.step === 'pciDevices.memoryRanges' && e.target === d.InstanceId && e.message.includes(d.memoryError)));
        } else {
          assert.deepEqual(got.memoryRanges, (d.memory ?? []).map(([start, end]: string[]) => ({ start, end })));
        }
      }
    });

    test(`${h}: the root buses above the functions, with their PCIe control`, () => {
      const { doc } = runs.get(h)!;
      const s = spec(h);
      const parents = new Set<string>(s.pnp.filter((d: any) => /^PCIP?\\/.test(d.InstanceId)).map((d: any) => d.props.DEVPKEY_Device_Parent).filter((p: string) => !/^PCIP?\\/.test(p)));
      assert.deepEqual(new Set(doc.rootBuses.map((b: any) => b.instanceId)), parents);
      for (const b of doc.rootBuses) {
        const sb = s.pnp.find((d: any) => d.InstanceId === b.instanceId);
        expectProperty(b.properties, sb.props, `rootBus ${b.instanceId}`);
        for (const k of Object.keys(b.properties)) assert.ok(!k.startsWith('DEVPKEY_PciDevice_'), `${b.instanceId}: ${k}`);
      }
    });

    test(`${h}: OS, machine and Hyper-V as Windows answered, enums as names`, () => {
      const { doc } = runs.get(h)!;
      const s = spec(h);
      assert.deepEqual(doc.os, {
        caption: s.os.Caption, version: s.os.Version, buildNumber: s.os.BuildNumber, productType: s.os.ProductType,
        operatingSystemSku: s.os.OperatingSystemSKU, editionId: s.registry.EditionID, installationType: s.registry.InstallationType, ubr: s.registry.UBR,
      });
      assert.deepEqual(doc.computerSystem, { manufacturer: s.computerSystem.Manufacturer, model: s.computerSystem.Model });
      const hv = doc.hyperV;
      assert.deepEqual(hv.vmms, s.hyperV.vmms);
      assert.deepEqual(hv.feature, { via: 'Get-WindowsFeature', name: 'Hyper-V', state: s.hyperV.windowsFeature.state });
      assert.equal(hv.module, true);
      if (s.hyperV.vmHost.error) {
        assert.ok(!('vmHost' in hv));
        assert.ok(doc.errors.some((e: any) => e.step === 'hyperV.vmHost' && e.message === s.hyperV.vmHost.error));
      } else assert.deepEqual(hv.vmHost, s.hyperV.vmHost);
      assert.deepEqual(hv.assignableDevices, s.hyperV.pool);
      assert.deepEqual(hv.vms, s.hyperV.vms.map(({ assigned, ...v }: any) => ({ ...v, assignedDevices: assigned })));
    });
  }

  test('Gen8 with the slot-2 HBA: the RMRR flag, its location path, the DMAR and the SMBIOS bytes exactly as read', () => {
    const { doc } = runs.get('gen8-slot2-rmrr')!;
    const hba = doc.pciDevices.find((d: any) => d.properties.DEVPKEY_Device_LocationInfo === 'PCI bus 9, device 0, function 0');
    assert.ok(hba, 'the card at 09:00.0');
    assert.equal(hba.properties.DEVPKEY_PciDevice_RequiresReservedMemoryRegion, true);
    assert.deepEqual(hba.properties.DEVPKEY_Device_LocationPaths, ['PCIROOT(0)#PCI(0302)#PCI(0000)']);
    assert.equal(hba.properties.DEVPKEY_PciDevice_BaseClass, 1);
    assert.deepEqual(doc.firmwareTables.dmar, { via: 'GetSystemFirmwareTable', base64: hostBytes('gen8-dmar-with-slot2-card.dat').toString('base64') });
    assert.deepEqual(doc.firmwareTables.smbios, { via: 'GetSystemFirmwareTable', base64: hostBytes('gen8.rsmb.bin').toString('base64') });
    // IVRS: not in the firmware's ACPI table list, so Windows' answer is "no such table".
    assert.equal(doc.firmwareTables.ivrs, null);
    // Nothing else failed but what was not simulated: elevation cannot be read off Windows, and no real source
    // gives the card's memory ranges (both absent, and said so).
    assert.deepEqual(doc.errors.map((e: any) => [e.step, e.target]), [['probe.elevated', undefined], ['pciDevices.memoryRanges', hba.instanceId]]);
    assert.ok(!('elevated' in doc.probe));
  });

  test('Add-Type blocked: no DMAR/IVRS (absent, errors say why), SMBIOS from CIM with the RSMB header rebuilt byte for byte', () => {
    const { doc, calls } = runs.get('gen8-addtype-blocked')!;
    assert.ok(!('dmar' in doc.firmwareTables) && !('ivrs' in doc.firmwareTables));
    assert.deepEqual(doc.firmwareTables.smbios, { via: 'MSSmBios_RawSMBiosTables', base64: hostBytes('gen8.rsmb.bin').toString('base64') });
    assert.equal(calls['Get-CimInstance MSSmBios_RawSMBiosTables'], 1);
    const e = doc.errors.find((x: any) => x.target === 'Add-Type');
    assert.ok(e && e.step === 'firmwareTables' && /CannotDefineNewType/.test(e.errorId), JSON.stringify(doc.errors));
  });

  test('PowerShell 5.1 shapes: UTF-16LE as 5.1 redirects it, {fmtid} pid answers mapped to names, lone strings made lists, no {value,Count}', () => {
    const r = runs.get('gen8-ps51')!;
    assert.deepEqual([...r.raw.subarray(0, 2)], [0xff, 0xfe], 'the simulated `>` of 5.1 wrote UTF-16LE with a BOM');
    const lp = r.doc.pciDevices.map((d: any) => d.properties.DEVPKEY_Device_LocationPaths);
    assert.ok(lp.length > 100 && lp.every((x: unknown) => Array.isArray(x) && x.length === 1));
    assert.ok(r.doc.pciDevices.every((d: any) => Object.keys(d.properties).every((k) => k.startsWith('DEVPKEY_'))));
    assert.ok(!decodeCapture(r.raw).includes('"Count"'));
    assert.equal(r.doc.hyperV.vms[0].automaticStopAction, 'TurnOff');
    assert.equal(r.doc.firmwareTables.dmar.base64, hostBytes('gen8-dmar-as-captured.dat').toString('base64'));
  });

  test('G7-like topology: the dismounted GPU as a PCIP\\ device and a VM\'s assigned device; refusals of a non-elevated run are errors, not defaults', () => {
    const { doc } = runs.get('g7like')!;
    const s = spec('g7like');
    const pcip = doc.pciDevices.filter((d: any) => d.instanceId.startsWith('PCIP\\'));
    assert.equal(pcip.length, 1);
    const gone = doc.pciDevices.find((d: any) => d.instanceId === pcip[0].instanceId.replace(/^PCIP/, 'PCI'));
    assert.equal(gone.present, false);
    assert.deepEqual(doc.hyperV.vms[0].assignedDevices, [{ instanceId: pcip[0].instanceId, locationPath: 'PCIROOT(0)#PCI(0700)#PCI(0000)' }]);
    // The switch: the HBA four levels down keeps the full path (windows-dda.md §3).
    const hba = doc.pciDevices.find((d: any) => d.properties.DEVPKEY_Device_LocationInfo === 'PCI bus 4, device 0, function 0');
    assert.deepEqual(hba.properties.DEVPKEY_Device_LocationPaths, ['PCIROOT(0)#PCI(0300)#PCI(0000)#PCI(0000)#PCI(0000)']);
    assert.ok(!('smbios' in doc.firmwareTables));
    assert.deepEqual(doc.errors.filter((e: any) => e.step === 'firmwareTables.smbios').map((e: any) => e.target), ['RSMB', 'MSSmBios_RawSMBiosTables']);
    const present = s.pnp.filter((d: any) => /^PCIP?\\/.test(d.InstanceId) && d.Present).length;
    assert.equal(doc.errors.filter((e: any) => e.step === 'pciDevices.memoryRanges').length, present);
    assert.equal(doc.firmwareTables.dmar.base64, hostBytes('g7like-dmar-hp-z400.dat').toString('base64'));
  });

  test('consumer board, firmware kept PCIe control: DeviceType 5 on the GPU functions, NativePciExpressControl false, no ACS answers', () => {
    const { doc } = runs.get('consumer-bios-kept-pcie')!;
    const gpu = doc.pciDevices.filter((d: any) => d.properties.DEVPKEY_Device_BusNumber === 1);
    assert.equal(gpu.length, 4);
    for (const d of gpu) {
      assert.equal(d.properties.DEVPKEY_PciDevice_DeviceType, 5);
      assert.equal(d.properties.DEVPKEY_PciDevice_AcsCompatibleUpHierarchy, null);
      assert.equal(d.properties.DEVPKEY_PciDevice_AcsCapabilityRegister, null);
    }
    assert.deepEqual(doc.rootBuses.map((b: any) => b.properties.DEVPKEY_PciRootBus_NativePciExpressControl), [false]);
    const rmrr = doc.pciDevices.filter((d: any) => d.properties.DEVPKEY_PciDevice_RequiresReservedMemoryRegion).map((d: any) => d.friendlyName).sort();
    assert.deepEqual(rmrr, ['Intel(R) Host Bridge/DRAM Registers - 3E30', 'Intel(R) USB 3.1 eXtensible Host Controller - 1.10 (Microsoft)']);
    assert.equal(doc.hyperV.vmHost.iovSupport, false);
    assert.match(doc.hyperV.vmHost.iovSupportReasons[0], /allow Windows to control PCI Express/);
    assert.equal(doc.firmwareTables.smbios.base64, hostBytes('consumer-surface-laptop-3.rsmb.bin').toString('base64'));
  });

  test('-OutFile is relative to PowerShell\'s location (not .NET\'s current directory), UTF-8 without BOM; bare Linux: every Windows call an error, nothing defaulted', async () => {
    const dir = bareDir;
    try {
      const r = await bare!;
      assert.equal(r.status, 0, r.stderr);
      const raw = readFileSync(join(dir, 'rel.json'));
      assert.notEqual(raw[0], 0xef, 'no BOM');
      const doc = JSON.parse(raw.toString('utf8'));
      assert.deepEqual(formatProblems(doc), []);
      // Nothing Windows answers was there: each part is absent, none holds a made-up value.
      assert.deepEqual(doc.os, {});
      assert.deepEqual(doc.firmwareTables, {});
      assert.ok(!('pciDevices' in doc) && !('rootBuses' in doc));
      assert.deepEqual(doc.hyperV, { module: false });
      for (const step of ['os', 'firmwareTables.dmar', 'firmwareTables.smbios', 'pciDevices', 'hyperV.vmms']) assert.ok(doc.errors.some((e: any) => e.step === step), step);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  after(() => {
    if (bareDir) rmSync(bareDir, { recursive: true, force: true });
  });

  test('the committed outputs (test/fixtures/windows-probe/out, for the Windows source\'s round trip) are what the probe writes now', () => {
    for (const h of HOSTS) {
      const f = join(PROBE_FIXTURES, 'out', `${h}.json`);
      assert.ok(existsSync(f), `${f}: run with ASSIGNABLE_WRITE_PROBE_OUT=test/fixtures/windows-probe/out`);
      const committed = JSON.parse(decodeCapture(readFileSync(f)));
      const fresh = runs.get(h)!.doc;
      for (const d of [committed, fresh]) { delete d.probe.startedAt; delete d.probe.finishedAt; }
      assert.deepEqual(committed, fresh, h);
    }
  });
});
