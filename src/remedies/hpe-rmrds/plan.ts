/** What `fix` proposes for an RMRR-blocked device on an HPE ProLiant: the RMRDS slot switch. */
import type { DeviceReport, Survey } from '../../checks/index.js';
import type { RmrrHit } from '../../host/model.js';
import { EXCLUDED, rmrdsBit } from './rmrds.js';
import { overrideFile } from './settings.js';

export interface RmrdsPlan {
  kind: 'hpe-rmrds';
  device: string;
  deviceName: string;
  slot: number;
  designation: string | null;
  section: string;
  value: typeof EXCLUDED;
  nvram: { address: number; mask: number };
  generation: number | null;
  /** True when nothing below applies: a Gen8/Gen9 server, a card that is not storage. */
  verified: boolean;
  /** Why this plan is "unverified here", each with the report it rests on; --apply then needs --force. */
  unverified: string[];
  /** The partial settings file to load. */
  override: string;
  /** Every function in that slot is excluded together ("all endpoints in slot"). */
  slotFunctions: string[];
  cost: string[];
  linux: string[];
  windows: string[];
  rmrr: RmrrHit[];
}

/** PCI base class 01h: mass storage controllers (SAS/SATA HBAs, RAID, NVMe). */
const STORAGE_BASE_CLASS = 0x01;

const DEEP_DIVE = 'kiler129/relax-intel-rmrr deep-dive.md';

/** What is known about RMRDS on this server and card (sources: docs/hpe-rmrr.md §2, §4 of the research). */
export function unverifiedReasons(product: string | null, generation: number | null, classCode: number): string[] {
  const out: string[] = [];
  if (generation === null) out.push(`the ProLiant generation of ${product ?? 'this server'} is unknown; HPE's advisory c04781229 covers Gen8 and Gen9`);
  else if (generation >= 10) out.push(`Gen${generation}: HPE has said nothing found on whether Gen10 and later still put slots in RMRRs, and conrep's 5.48 schema has no RMRDS sections`);
  else if (generation < 8) out.push(`Gen${generation}: HPE's advisory c04781229 covers Gen8 and Gen9 only`);
  if (product && /microserver/i.test(product) && generation === 8) out.push(`the slot switch is reported not to work on the ProLiant MicroServer Gen8 (${DEEP_DIVE}; community.hpe.com thread td-p/6947461); users there turn to relax_rmrr`);
  if (classCode >>> 16 === STORAGE_BASE_CLASS) out.push(`HBAs and storage controllers: ${DEEP_DIVE} says the switch works for NICs but not other cards such as HBAs, while one user (silvenga.com, HP H220 HBA on a DL380p Gen8) excluded one and assigned it`);
  return out;
}

export function planRmrds(sv: Survey, r: DeviceReport): RmrdsPlan | null {
  const d = r.device;
  if (!sv.host.system?.isHpeProliant || !d.slot?.hpeRmrdsSlot || d.slot.physical === null) return null;
  const slot = d.slot.physical;
  const section = d.slot.hpeRmrdsSlot;
  const gen = sv.host.system.hpeGeneration;
  const override = overrideFile([{ name: section, value: EXCLUDED }]);
  const { nvram, mask } = rmrdsBit(slot);
  const unverified = unverifiedReasons(sv.host.system.product, gen, d.classCode);
  const slotFunctions = sv.host.devices.filter((x) => x.slot?.physical === slot && !x.slot.embedded && !x.isBridge).map((x) => x.address);
  return {
    kind: 'hpe-rmrds',
    device: d.address,
    deviceName: d.name,
    slot,
    designation: d.slot.designation,
    section,
    value: EXCLUDED,
    nvram: { address: nvram, mask },
    generation: gen,
    verified: unverified.length === 0,
    unverified,
    override,
    slotFunctions,
    cost: [
      `iLO stops monitoring slot ${slot}: no temperature, health or inventory data for ${slotFunctions.length > 1 ? 'the cards' : 'the card'} in it.`,
      'The change takes effect at the next boot; until then the RMRR still names the device.',
      ...(slotFunctions.length > 1 ? [`It applies to every function in the slot: ${slotFunctions.join(', ')}.`] : []),
    ],
    linux: [
      '# HPE Scripting Toolkit (package hp-scripting-tools) and conrep_rmrds.xml from HPE:',
      '#   https://downloads.hpe.com/pub/softlib2/software1/pubsw-linux/p1472592088/v95853/conrep_rmrds.xml',
      'conrep -s -x conrep_rmrds.xml -f backup.dat',
      `echo '${override}' > override-rmrds.xml`,
      'conrep -l -x conrep_rmrds.xml -f override-rmrds.xml',
      `conrep -s -x conrep_rmrds.xml -f verify.dat && grep '${section}"' verify.dat   # must say ${EXCLUDED}`,
      'reboot',
    ],
    windows: [
      '# Elevated PowerShell, with HPEBIOSCmdlets-x64.msi installed; $cd is its Tools\\ConfigurationData folder.',
      'Copy-Item "$cd\\winpe50\\hpsstkio\\hpsstkio.sys" "$env:WINDIR\\System32\\drivers\\"',
      'Set-Location $cd',
      '.\\conrep.exe -s -x conrep_rmrds.xml -f backup.dat',
      `'${override}' | Out-File -Encoding ascii override-rmrds.xml`,
      '.\\conrep.exe -l -x conrep_rmrds.xml -f override-rmrds.xml',
      `.\\conrep.exe -s -x conrep_rmrds.xml -f verify.dat; Select-String -Path verify.dat -Pattern '${section}"'   # must say ${EXCLUDED}`,
      'Restart-Computer',
    ],
    rmrr: d.rmrr ?? [],
  };
}
