/**
 * The ACS override, simulated, on real captures with their `IOMMU group:` lines removed.
 * Oracles: the kernel's own groups (expected.json, from the capture's `IOMMU group:` lines) for
 * the starting point; the patch's documented rules (../shared/docs/iommu-groups.md §5 table, §2.3
 * R2/R3, §6.2) applied by hand to the capture for what each override does; and the lspci text
 * itself (which functions carry an ACS capability, which are PCI Express) read here with a regex,
 * not through our decoders.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readCaptureFiles } from '../src/sources/capture-files.js';
import { buildHost } from '../src/host/build.js';
import { simulateOverrides, type OverrideSimulation } from '../src/host/grouping/override.js';
import { fixture } from './helpers.js';

const B550 = 'pci/iommu-groups/asus-prime-b550-plus-a7bcab';
const B550_KERNEL = '6.1.0-native_amd-xanmod1-1';
const DL380E = fixture('pci/hpe/hp-proliant-dl380e-gen8-cb0557.lspci-vvnn.txt');

/** The capture without the kernel's `IOMMU group:` lines, so the groups must be predicted. */
function stripped(path: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'assignable-override-')), 'lspci.txt');
  writeFileSync(out, readFileSync(path, 'latin1').split('\n').filter((l) => !/IOMMU group:/.test(l)).join('\n'), 'latin1');
  return out;
}

function b550(opts: { kernel?: string; cmdline?: string } = {}) {
  return buildHost(readCaptureFiles({ lspci: stripped(fixture(B550, 'lspci-vvnn.txt')), ivrs: fixture(B550, 'IVRS.dat'), kernel: opts.kernel ?? B550_KERNEL, cmdline: opts.cmdline }));
}

function dl380e(kernel?: string) {
  return buildHost(readCaptureFiles({ lspci: stripped(DL380E), dmar: fixture('dmar/hp-proliant-dl380e-gen8-cb0557.dat'), dmidecode: fixture('smbios/hp-proliant-dl380e-gen8-cb0557.dmidecode.txt'), kernel }));
}

/** The kernel's own group of a function, from expected.json. */
function kernelGroupOf(address: string): string[] {
  const groups = JSON.parse(readFileSync(fixture(B550, 'expected.json'), 'utf8')).groups as Record<string, string[]>;
  return Object.values(groups).find((g) => g.includes(address))!.slice().sort();
}

/** Per function of an lspci -vvnn text: its vendor:device, whether it has an ACS capability, whether it is PCI Express. */
function lspciFacts(path: string): Map<string, { id: string; acs: boolean; pcie: boolean }> {
  const out = new Map<string, { id: string; acs: boolean; pcie: boolean }>();
  let cur: { id: string; acs: boolean; pcie: boolean } | null = null;
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const h = /^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) .*\[([0-9a-f]{4}):([0-9a-f]{4})\]/.exec(line);
    if (h) {
      cur = { id: `${h[2]}:${h[3]}`, acs: false, pcie: false };
      out.set(`0000:${h[1]}`, cur);
    } else if (cur && /Access Control Services/.test(line)) cur.acs = true;
    else if (cur && /Capabilities: \[[0-9a-f]+\] Express \(/.test(line)) cur.pcie = true;
  }
  return out;
}

const params = (s: OverrideSimulation) => s.options.map((o) => o.param);
const option = (s: OverrideSimulation, param: string) => s.options.find((o) => o.param === param);

describe('pcie_acs_override on the ASUS B550 chipset switch (Promontory)', () => {
  const host = b550();
  const sim = simulateOverrides(host, '0000:07:00.0')!;

  it('starts from the kernel\'s own group: the NVMe behind the chipset shares with every chipset endpoint', () => {
    assert.deepEqual(sim.group, kernelGroupOf('0000:07:00.0'));
    assert.equal(sim.target, 'card');
    assert.deepEqual(sim.sharesWith, ['0000:02:00.0', '0000:02:00.1', '0000:06:00.0', '0000:09:00.0']);
  });

  it('names the hops that fail: the Downstream Port and the multi-function Upstream Port, both without ACS', () => {
    const up = sim.failingHops.filter((h) => h.role === 'upstream').map((h) => [h.address, h.hasAcs]);
    assert.deepEqual(up, [['0000:03:04.0', false], ['0000:02:00.2', false]]);
  });

  // By hand (§2.3 R2, §5 table): the Upstream Port 02:00.2 (1022:43e9) is multi-function without ACS, so
  // every Downstream Port's path fails there and all of the chipset joins 02:00.x. Overriding the
  // Upstream Port alone (id: or multifunction) stops the climb at the Downstream Port: group = DSP + NVMe.
  it('id: on the failing Upstream Port isolates it, behind its Downstream Port, and is the narrowest option', () => {
    const o = option(sim, 'pcie_acs_override=id:1022:43e9')!;
    assert.deepEqual(o.group, ['0000:03:04.0', '0000:07:00.0']);
    assert.equal(o.isolates, true);
    assert.deepEqual(o.changes.map((c) => c.address), ['0000:02:00.2']);
    assert.equal(o.needsPatch, true);
    assert.equal(sim.narrowest?.param, 'pcie_acs_override=id:1022:43e9');
  });

  it('multifunction alone also isolates it (the Upstream Port is a multi-function Upstream Port); downstream,multifunction leaves it alone in its group', () => {
    assert.deepEqual(option(sim, 'pcie_acs_override=multifunction')?.group, ['0000:03:04.0', '0000:07:00.0']);
    assert.deepEqual(option(sim, 'pcie_acs_override=downstream,multifunction')?.group, ['0000:07:00.0']);
  });

  it('never proposes downstream or id: on the Downstream Ports alone: the Upstream Port still fails, so nothing changes', () => {
    assert.ok(!params(sim).includes('pcie_acs_override=downstream'));
    assert.ok(!params(sim).includes('pcie_acs_override=id:1022:43ea'));
    assert.ok(sim.notApplicable.some((n) => n.param === 'pcie_acs_override=downstream' && /02:00\.2 is not a Root or Downstream Port/.test(n.why)));
  });

  it('needs the patch: with a xanmod kernel that is unknown, with a PVE kernel yes, with a Debian kernel no', () => {
    assert.equal(sim.narrowest?.available, 'unknown');
    assert.equal(sim.narrowest?.certain, false);
    const pve = simulateOverrides(b550({ kernel: '6.8.12-4-pve' }), '0000:07:00.0')!;
    assert.equal(pve.narrowest?.available, 'yes');
    assert.equal(pve.narrowestAvailable?.param, 'pcie_acs_override=id:1022:43e9');
    const debian = simulateOverrides(b550({ kernel: '6.1.0-13-amd64' }), '0000:07:00.0')!;
    assert.equal(debian.narrowest?.available, 'no');
    assert.equal(debian.narrowestAvailable, null);
  });

  it('the risk names the devices that can still reach each other by peer-to-peer DMA, and the kernel\'s warning', () => {
    const risk = sim.narrowest!.risk;
    assert.match(risk, /peer-to-peer DMA/);
    for (const d of ['0000:02:00.0', '0000:02:00.1', '0000:06:00.0', '0000:09:00.0']) assert.ok(risk.includes(d), d);
    assert.match(risk, /through 0000:03:04\.0, 0000:02:00\.2/);
  });

  it('a failing hop whose ACS capability was not captured makes the answer uncertain, not "no effect"', () => {
    const h = b550({ kernel: '6.8.12-4-pve' });
    for (const a of ['0000:03:04.0', '0000:02:00.2']) (h.byAddress.get(a)!.config as { acs: unknown }).acs = undefined;
    const s = simulateOverrides(h, '0000:07:00.0')!;
    assert.equal(s.certain, false);
    assert.ok(s.uncertain.some((u) => /03:04\.0: its ACS capability was not captured/.test(u)));
    assert.ok(!s.options.some((o) => o.isolates && o.certain), JSON.stringify(s.options.map((o) => [o.param, o.certain])));
  });

  it('conventional PCI chipset functions (FCH 00:14.x) get no option: the patch never overrides them', () => {
    const fch = simulateOverrides(host, '0000:00:14.0')!;
    assert.equal(fch.target, 'function');
    assert.deepEqual(fch.options, []);
    assert.ok(fch.notApplicable.some((n) => /00:14\.0 is conventional PCI/.test(n.why)));
  });
});

describe('no option is proposed that cannot change the result', () => {
  const cases = [
    { name: 'ASUS B550', path: fixture(B550, 'lspci-vvnn.txt'), host: () => b550() },
    { name: 'DL380e Gen8', path: DL380E, host: () => dl380e() },
    { name: 'Dell T7500', path: fixture('pci/iommu-groups/dell-precision-t7500-428b8d/lspci-vvnn.txt'), host: () => buildHost(readCaptureFiles({ lspci: stripped(fixture('pci/iommu-groups/dell-precision-t7500-428b8d/lspci-vvnn.txt')), dmar: fixture('pci/iommu-groups/dell-precision-t7500-428b8d/DMAR.dat'), kernel: '5.11.22-4-pve' })) },
    { name: 'Framework 13', path: fixture('pci/iommu-groups/framework-laptop13-mtl-717edb/lspci-vvnn.txt'), host: () => buildHost(readCaptureFiles({ lspci: stripped(fixture('pci/iommu-groups/framework-laptop13-mtl-717edb/lspci-vvnn.txt')), kernel: '6.8.5-301.fc40.x86_64' })) },
  ];
  for (const c of cases) {
    it(`${c.name}: every option changes the device's group, and no patch option names a function with an ACS capability or without PCI Express`, () => {
      const host = c.host();
      const facts = lspciFacts(c.path);
      let checked = 0;
      for (const d of host.devices) {
        const s = simulateOverrides(host, d);
        // A function no IOMMU covers (the AMD IOMMU itself) has no group to change.
        if (!s) continue;
        for (const o of s.options) {
          checked++;
          assert.notDeepEqual(o.group, s.group, `${d.address} ${o.param}`);
          if (!o.needsPatch) continue;
          for (const ch of o.changes) {
            const f = facts.get(ch.address)!;
            assert.equal(f.acs, false, `${d.address} ${o.param}: ${ch.address} has an ACS capability`);
            assert.equal(f.pcie, true, `${d.address} ${o.param}: ${ch.address} is not PCI Express`);
          }
          for (const id of [...o.param.matchAll(/id:([0-9a-f]{4}:[0-9a-f]{4})/g)].map((m) => m[1]!)) {
            for (const [addr, f] of facts) if (f.id === id) assert.equal(f.acs, false, `${o.param}: ${addr} (${id}) has an ACS capability`);
          }
        }
      }
      if (c.name === 'ASUS B550' || c.name === 'Dell T7500') assert.ok(checked > 0, `the ${c.name} has options to check`);
    });
  }
});

describe('pci=config_acs where a port with ACS is the hop that fails', () => {
  // pci=disable_acs_redir clears ReqRedir/CmpltRedir on the GPU's Root Port 00:03.1 (§6.1), so the GPU
  // climbs to it, and the port (multi-function with the 00:03.0 dummy host bridge) no longer isolates.
  const cmdline = 'pci=disable_acs_redir=0000:00:03.1';

  it('on 6.12, config_acs setting the port\'s implemented SV RR CR UF brings back the kernel\'s own group, with no patch', () => {
    const sim = simulateOverrides(b550({ kernel: '6.12.9-amd64', cmdline }), '0000:0a:00.0')!;
    assert.equal(sim.target, 'card');
    // ACSCap of 00:03.1: SrcValid+ ReqRedir+ CmpltRedir+ UpstreamFwd+ → bits 0,2,3,4 set; right-most is bit 0.
    const o = option(sim, 'pci=config_acs=xx111x1@0000:00:03.1')!;
    assert.ok(o, params(sim).join(' | '));
    assert.equal(o.needsPatch, false);
    assert.equal(o.available, 'yes');
    assert.equal(o.isolates, true);
    assert.deepEqual(o.group, kernelGroupOf('0000:0a:00.0'));
    assert.equal(sim.narrowest, o);
    assert.match(o.risk, /drop pci=disable_acs_redir for 0000:00:03\.1/);
  });

  it('no pcie_acs_override form is offered for that port: it has an ACS capability', () => {
    const sim = simulateOverrides(b550({ kernel: '6.8.12-4-pve', cmdline }), '0000:0a:00.0')!;
    assert.ok(!params(sim).some((p) => p.startsWith('pcie_acs_override=') && sim.options.find((o) => o.param === p)!.changes.some((c) => c.address === '0000:00:03.1')));
    assert.ok(!params(sim).includes('pcie_acs_override=downstream'));
    assert.ok(sim.notApplicable.some((n) => n.param === 'pcie_acs_override=downstream' && /00:03\.1 has an ACS capability/.test(n.why)));
  });

  it('before 6.11 config_acs does not exist: not offered, and said why', () => {
    const sim = simulateOverrides(b550({ kernel: '6.8.12-4-pve', cmdline }), '0000:0a:00.0')!;
    assert.ok(!sim.options.some((o) => o.kind === 'config_acs'));
    assert.ok(sim.notApplicable.some((n) => n.param.startsWith('pci=config_acs=') && /6\.11/.test(n.why)));
  });
});

describe('Dell T7500 on a Proxmox kernel: ICH10 Root Ports without ACS (not in the PCH quirk list)', () => {
  const T7500 = 'pci/iommu-groups/dell-precision-t7500-428b8d';
  const host = buildHost(readCaptureFiles({ lspci: stripped(fixture(T7500, 'lspci-vvnn.txt')), dmar: fixture(T7500, 'DMAR.dat'), kernel: '5.11.22-4-pve' }));
  const groups = JSON.parse(readFileSync(fixture(T7500, 'expected.json'), 'utf8')).groups as Record<string, string[]>;
  const sim = simulateOverrides(host, '0000:05:00.0')!;

  it('starts from the kernel\'s group: the SAS HBA behind 00:1c.0 shares with the NIC behind 00:1c.5', () => {
    assert.deepEqual(sim.group, Object.values(groups).find((g) => g.includes('0000:05:00.0'))!.slice().sort());
    assert.deepEqual(sim.sharesWith, ['0000:06:00.0']);
  });

  // By hand (§5 table, §2.3 R3): 1c.0 (8086:3a40) is a PCIe Root Port without an ACS capability, so id: on it
  // (or downstream) makes it pass; the HBA then stops at it and gets a group of its own. multifunction
  // covers endpoints and Upstream Ports only, not Root Ports: no change, never offered.
  it('id: on its own Root Port is the narrowest, and the kernel in use has the patch', () => {
    const o = sim.narrowest!;
    assert.equal(o.param, 'pcie_acs_override=id:8086:3a40');
    assert.deepEqual(o.group, ['0000:05:00.0']);
    assert.equal(o.available, 'yes');
    assert.equal(sim.narrowestAvailable, o);
    assert.deepEqual(option(sim, 'pcie_acs_override=downstream')?.group, ['0000:05:00.0']);
    assert.ok(!params(sim).includes('pcie_acs_override=multifunction'));
    assert.ok(sim.notApplicable.some((n) => n.param === 'pcie_acs_override=multifunction' && /00:1c\.0 is not a multi-function endpoint or Upstream Port/.test(n.why)));
  });

  it('id: on the sibling Root Port 1c.5 also isolates it (R3: 1c.0 then has no failing sibling to join), leaving only its bridge', () => {
    const o = option(sim, 'pcie_acs_override=id:8086:3a4a')!;
    assert.deepEqual(o.group, ['0000:00:1c.0', '0000:05:00.0']);
    assert.equal(o.isolates, true);
  });

  it('downstream flips both ICH10 Root Ports and says it applies host-wide', () => {
    const o = option(sim, 'pcie_acs_override=downstream')!;
    assert.deepEqual(o.changes.map((c) => c.address), ['0000:00:1c.0', '0000:00:1c.5']);
    assert.match(o.risk, /every Root and Downstream Port without an ACS capability/);
  });
});

describe('the DL380e Gen8 (C600 PCH Root Ports)', () => {
  it('the I350 is alone already: nothing to simulate', () => {
    const sim = simulateOverrides(dl380e(), '0000:02:00.0')!;
    assert.equal(sim.target, null);
    assert.deepEqual(sim.options, []);
  });

  // §3.3: on 6.11.0–6.11.6 the PCH enable quirk never ran, and the PCH quirk then answers "not isolated";
  // §5: the patch's row comes after the PCH quirk, so no form of it helps a listed PCH Root Port.
  it('on 6.11.3 the PCH Root Ports lose isolation, and no override is offered for them', () => {
    const sim = simulateOverrides(dl380e('6.11.3-arch1-1'), '0000:02:00.0')!;
    assert.equal(sim.target, 'card');
    assert.ok(sim.sharesWith.includes('0000:01:00.0'));
    assert.deepEqual(sim.options, []);
    assert.ok(sim.notApplicable.some((n) => n.param === 'pcie_acs_override=id:8086:1d18' && /earlier kernel quirk/.test(n.why)));
    assert.ok(sim.notApplicable.some((n) => n.param === 'pcie_acs_override=downstream'));
  });
});
