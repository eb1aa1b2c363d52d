<#
.SYNOPSIS
  assignable's Windows probe: records what this host's Windows says about its PCI devices, firmware tables and
  Hyper-V, as one JSON document (schema assignable/windows-probe/v1).

.DESCRIPTION
  Read-only: it changes nothing on the host. It makes no decisions either: `assignable survey --capture FILE`
  judges the document, anywhere. Runs unchanged on Windows PowerShell 5.1 and PowerShell 7 (Server 2016 and
  later). Run it elevated: the Hyper-V cmdlets need it.

    powershell -NoProfile -ExecutionPolicy Bypass -File assignable-probe.ps1 -OutFile host.json

  What it reads: every PCI function's PnP identity and device properties (one batched Get-PnpDeviceProperty
  call), their allocated memory ranges (CIM associations), the raw ACPI DMAR/IVRS and SMBIOS tables
  (GetSystemFirmwareTable; SMBIOS from CIM when Add-Type is blocked), the OS edition and build, the Hyper-V
  role, host and VMs. Whatever it could not read is left out of the document, and errors[] says why.
  It records no host name and no user name (SMBIOS may still hold serial numbers).

.PARAMETER OutFile
  Write the document to this file as UTF-8 without a BOM. Without it, the document goes to standard output
  (pure ASCII: every other character is written as a \u escape, so the console code page cannot garble it).
#>
[CmdletBinding()]
param(
  [string]$OutFile
)

$ProbeVersion = '0.1.0'
$Schema = 'assignable/windows-probe/v1'

# Property sets (pciprop.h / devpkey.h), asked by '{fmtid} pid'; Windows may answer with either form.
$PciDeviceFmtid = '{3AB22E31-8264-4B4E-9AF5-A8D2D8E33E62}'
$PciRootBusFmtid = '{D817FC28-793E-4B9E-9970-469D8BE63073}'
$DeviceFmtid = '{A45C254E-DF1C-4EFD-8020-67D146A850E0}'
$DeviceRelationsFmtid = '{4340A6C5-93FA-4706-972C-7B648008A5A7}'
$DriverFmtid = '{A8B865DD-2E3D-4094-AD97-E593A70C75D6}'

$PciDeviceNames = @{
  1 = 'DeviceType'; 2 = 'CurrentSpeedAndMode'; 3 = 'BaseClass'; 4 = 'SubClass'; 5 = 'ProgIf'
  6 = 'CurrentPayloadSize'; 7 = 'MaxPayloadSize'; 8 = 'MaxReadRequestSize'; 9 = 'CurrentLinkSpeed'
  10 = 'CurrentLinkWidth'; 11 = 'MaxLinkSpeed'; 12 = 'MaxLinkWidth'; 13 = 'ExpressSpecVersion'
  14 = 'InterruptSupport'; 15 = 'InterruptMessageMaximum'; 16 = 'BarTypes'; 17 = 'AERCapabilityPresent'
  18 = 'FirmwareErrorHandling'; 19 = 'Uncorrectable_Error_Mask'; 20 = 'Uncorrectable_Error_Severity'
  21 = 'Correctable_Error_Mask'; 22 = 'ECRC_Errors'; 23 = 'Error_Reporting'; 24 = 'RootError_Reporting'
  25 = 'S0WakeupSupported'; 26 = 'SriovSupport'; 27 = 'Label_Id'; 28 = 'Label_String'; 29 = 'AcsSupport'
  30 = 'AriSupport'; 31 = 'AcsCompatibleUpHierarchy'; 32 = 'AcsCapabilityRegister'; 33 = 'AtsSupport'
  34 = 'RequiresReservedMemoryRegion'; 35 = 'AtomicsSupported'; 36 = 'SupportedLinkSubState'
  37 = 'OnPostPath'; 38 = 'D3ColdSupport'
}
$PciRootBusNames = @{
  1 = 'SecondaryInterface'; 6 = 'ExtendedConfigAvailable'; 8 = 'ASPMSupport'; 10 = 'PCISegmentGroupsSupport'
  11 = 'MSISupport'; 12 = 'PCIExpressNativeHotPlugControl'; 13 = 'SHPCNativeHotPlugControl'
  14 = 'PCIExpressNativePMEControl'; 15 = 'PCIExpressAERControl'; 16 = 'PCIExpressCapabilityControl'
  17 = 'NativePciExpressControl'; 18 = 'SystemMsiSupport'
}
# The Device keys, each with its '{fmtid} pid' (devpkey.h), so an answer in either form maps back to the name.
$DeviceKeys = [ordered]@{
  'DEVPKEY_Device_Parent' = "$DeviceRelationsFmtid 8"
  'DEVPKEY_Device_LocationPaths' = "$DeviceFmtid 37"
  'DEVPKEY_Device_HardwareIds' = "$DeviceFmtid 3"
  'DEVPKEY_Device_CompatibleIds' = "$DeviceFmtid 4"
  'DEVPKEY_Device_BusNumber' = "$DeviceFmtid 23"
  'DEVPKEY_Device_Address' = "$DeviceFmtid 30"
  'DEVPKEY_Device_LocationInfo' = "$DeviceFmtid 15"
  'DEVPKEY_Device_Service' = "$DeviceFmtid 6"
  'DEVPKEY_Device_ProblemCode' = "$DeviceRelationsFmtid 3"
  'DEVPKEY_Device_DriverInfPath' = "$DriverFmtid 5"
}
# STRING_LIST keys: always written as an array, even of one (5.1 may hand back a lone string).
$ListKeys = @('DEVPKEY_Device_LocationPaths', 'DEVPKEY_Device_HardwareIds', 'DEVPKEY_Device_CompatibleIds')

# GetSystemFirmwareTable provider and table ids: the four signature bytes read as a little-endian UINT32.
$AcpiProvider = [uint32]0x41435049   # 'ACPI'
$RsmbProvider = [uint32]0x52534D42   # 'RSMB'
$DmarTableId = [uint32]0x52414D44    # 'DMAR'
$IvrsTableId = [uint32]0x53525649    # 'IVRS'

# C# 5 only: Windows PowerShell 5.1 compiles Add-Type sources with the .NET Framework's CodeDom compiler.
$FirmwareSource = @'
using System;
using System.ComponentModel;
using System.Runtime.InteropServices;

namespace AssignableProbe
{
    public static class FirmwareTables
    {
        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern uint EnumSystemFirmwareTables(uint provider, byte[] buffer, uint size);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern uint GetSystemFirmwareTable(uint provider, uint tableId, byte[] buffer, uint size);

        // The table ids the provider lists; an empty list is an answer, a failure throws.
        public static uint[] Enumerate(uint provider)
        {
            uint size = EnumSystemFirmwareTables(provider, null, 0);
            if (size == 0)
            {
                int error = Marshal.GetLastWin32Error();
                if (error == 0) return new uint[0];
                throw new Win32Exception(error);
            }
            byte[] buffer = new byte[size];
            uint got = EnumSystemFirmwareTables(provider, buffer, size);
            if (got == 0 || got > size) throw new Win32Exception(Marshal.GetLastWin32Error());
            uint[] ids = new uint[got / 4];
            for (int i = 0; i < ids.Length; i++) ids[i] = BitConverter.ToUInt32(buffer, i * 4);
            return ids;
        }

        // The table's bytes exactly as the firmware gave them.
        public static byte[] Read(uint provider, uint tableId)
        {
            uint size = GetSystemFirmwareTable(provider, tableId, null, 0);
            if (size == 0) throw new Win32Exception(Marshal.GetLastWin32Error());
            byte[] buffer = new byte[size];
            uint got = GetSystemFirmwareTable(provider, tableId, buffer, size);
            if (got == 0) throw new Win32Exception(Marshal.GetLastWin32Error());
            if (got > size) throw new InvalidOperationException("the table grew between two calls");
            if (got < size) Array.Resize(ref buffer, (int)got);
            return buffer;
        }
    }
}
'@

$ProbeErrors = New-Object System.Collections.ArrayList

function Add-ProbeError {
  param([string]$Step, [string]$Target, $ErrorRecord, [string]$Message)
  $entry = [ordered]@{ step = $Step }
  if ($Target) { $entry.target = $Target }
  if ($ErrorRecord) {
    $text = $null
    if ($ErrorRecord.Exception) { $text = $ErrorRecord.Exception.Message }
    if (-not $text) { $text = [string]$ErrorRecord }
    $entry.message = [string]$text
    if ($ErrorRecord.FullyQualifiedErrorId) { $entry.errorId = [string]$ErrorRecord.FullyQualifiedErrorId }
  } else {
    $entry.message = $Message
  }
  [void]$ProbeErrors.Add($entry)
}

# Non-terminating errors a call wrote (collected with -ErrorVariable) go to errors[] too.
function Add-ProbeErrorList {
  param([string]$Step, [string]$Target, $Records)
  foreach ($r in @($Records)) {
    if ($null -ne $r) { Add-ProbeError -Step $Step -Target $Target -ErrorRecord $r }
  }
}

function Test-CommandPresent {
  param([string]$Name)
  return [bool](Get-Command -Name $Name -ErrorAction SilentlyContinue)
}

# '{fmtid} pid' with the GUID upper-cased and one space, so answers in any spelling compare equal.
function Get-CanonicalKey {
  param([string]$Key)
  $m = [regex]::Match($Key, '^\s*(\{[0-9A-Fa-f-]{36}\})\s*,?\s*(\d+)\s*$')
  if ($m.Success) { return ($m.Groups[1].Value.ToUpperInvariant() + ' ' + [int]$m.Groups[2].Value) }
  return $Key
}

$KeyNameByCanonical = @{}
$AskKeys = New-Object System.Collections.ArrayList
foreach ($keyPid in ($PciDeviceNames.Keys | Sort-Object)) {
  $k = "$PciDeviceFmtid $keyPid"
  $KeyNameByCanonical[$k] = 'DEVPKEY_PciDevice_' + $PciDeviceNames[$keyPid]
  [void]$AskKeys.Add($k)
}
foreach ($keyPid in ($PciRootBusNames.Keys | Sort-Object)) {
  $k = "$PciRootBusFmtid $keyPid"
  $KeyNameByCanonical[$k] = 'DEVPKEY_PciRootBus_' + $PciRootBusNames[$keyPid]
  [void]$AskKeys.Add($k)
}
foreach ($name in $DeviceKeys.Keys) {
  $KeyNameByCanonical[(Get-CanonicalKey $DeviceKeys[$name])] = $name
  [void]$AskKeys.Add($DeviceKeys[$name])
}

# Answers repeat the same few key spellings thousands of times: each is worked out once.
$PropertyNameCache = @{}
function Get-PropertyName {
  param([string]$KeyName)
  if ($PropertyNameCache.ContainsKey($KeyName)) { return $PropertyNameCache[$KeyName] }
  $canonical = Get-CanonicalKey $KeyName
  $name = $KeyName
  if ($KeyNameByCanonical.ContainsKey($canonical)) { $name = $KeyNameByCanonical[$canonical] }
  $PropertyNameCache[$KeyName] = $name
  return $name
}

# Property answers as the document wants them: lists as arrays (5.1 may hand back a lone string), Empty as
# null, UINT32 as numbers, booleans as such. One loop, no call per property: a host answers thousands.
function Add-Properties {
  param($Target, $Results, [string]$SkipPrefix)
  foreach ($p in $Results) {
    if ($null -eq $p) { continue }
    $kn = [string]$p.KeyName
    if ($PropertyNameCache.ContainsKey($kn)) { $name = $PropertyNameCache[$kn] } else { $name = Get-PropertyName $kn }
    if ($SkipPrefix -and $name.StartsWith($SkipPrefix)) { continue }
    $data = $p.Data
    if ($null -eq $data) {
      $value = $null
    } elseif ($ListKeys -contains $name -or $data -is [array]) {
      $value = [object[]]@(foreach ($d in @($data)) { [string]$d })
    } elseif ($data -is [bool] -or $data -is [string]) {
      $value = $data
    } elseif ($data -is [byte] -or $data -is [int16] -or $data -is [uint16] -or $data -is [int32] -or $data -is [uint32]) {
      $value = [long]$data
    } else {
      $value = [string]$data
    }
    $Target[$name] = $value
  }
}

# ---------------------------------------------------------------------------------------------------------
$startedAt = [DateTime]::UtcNow.ToString('o')
$doc = [ordered]@{ schema = $Schema }
$probe = [ordered]@{ version = $ProbeVersion; startedAt = $startedAt }
$doc.probe = $probe
try {
  $identity = [Security.Principal.WindowsIdentity]::GetCurrent()
  $principal = New-Object Security.Principal.WindowsPrincipal($identity)
  $probe.elevated = [bool]$principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
} catch {
  Add-ProbeError -Step 'probe.elevated' -ErrorRecord $_
}

$ps = [ordered]@{}
if ($PSVersionTable.PSEdition) { $ps.edition = [string]$PSVersionTable.PSEdition }
$ps.version = [string]$PSVersionTable.PSVersion
if ($PSVersionTable.CLRVersion) { $ps.clrVersion = [string]$PSVersionTable.CLRVersion }
$ps.languageMode = [string]$ExecutionContext.SessionState.LanguageMode
$doc.powershell = $ps

# --- OS and machine -----------------------------------------------------------------------------------
$os = [ordered]@{}
try {
  $w = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
  if ($null -ne $w.Caption) { $os.caption = [string]$w.Caption }
  if ($null -ne $w.Version) { $os.version = [string]$w.Version }
  if ($null -ne $w.BuildNumber) { $os.buildNumber = [string]$w.BuildNumber }
  if ($null -ne $w.ProductType) { $os.productType = [long]$w.ProductType }
  if ($null -ne $w.OperatingSystemSKU) { $os.operatingSystemSku = [long]$w.OperatingSystemSKU }
} catch {
  Add-ProbeError -Step 'os' -Target 'Win32_OperatingSystem' -ErrorRecord $_
}
try {
  $cv = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorAction Stop
  if ($null -ne $cv.EditionID) { $os.editionId = [string]$cv.EditionID }
  if ($null -ne $cv.InstallationType) { $os.installationType = [string]$cv.InstallationType }
  if ($null -ne $cv.UBR) { $os.ubr = [long]$cv.UBR }
} catch {
  Add-ProbeError -Step 'os' -Target 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' -ErrorRecord $_
}
$doc.os = $os

$cs = [ordered]@{}
try {
  $c = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
  if ($null -ne $c.Manufacturer) { $cs.manufacturer = [string]$c.Manufacturer }
  if ($null -ne $c.Model) { $cs.model = [string]$c.Model }
} catch {
  Add-ProbeError -Step 'computerSystem' -Target 'Win32_ComputerSystem' -ErrorRecord $_
}
$doc.computerSystem = $cs

# --- firmware tables ------------------------------------------------------------------------------------
$tables = [ordered]@{}
$haveFirmwareType = $false
try {
  Add-Type -TypeDefinition $FirmwareSource -Language CSharp -ErrorAction Stop
  $haveFirmwareType = $true
} catch {
  Add-ProbeError -Step 'firmwareTables' -Target 'Add-Type' -ErrorRecord $_
}

function Read-AcpiTable {
  param([string]$Name, [uint32]$TableId, $Listed)
  try {
    if ($null -ne $Listed -and -not ($Listed -contains $TableId)) { return @{ value = $null } }
    $bytes = [AssignableProbe.FirmwareTables]::Read($AcpiProvider, $TableId)
    return @{ value = [ordered]@{ via = 'GetSystemFirmwareTable'; base64 = [Convert]::ToBase64String($bytes) } }
  } catch {
    Add-ProbeError -Step ('firmwareTables.' + $Name.ToLowerInvariant()) -Target $Name -ErrorRecord $_
    return $null
  }
}

if ($haveFirmwareType) {
  $acpiIds = $null
  try {
    $acpiIds = @([AssignableProbe.FirmwareTables]::Enumerate($AcpiProvider))
  } catch {
    # Without the list, each table is still asked for; a missing one then shows as an error, not as null.
    Add-ProbeError -Step 'firmwareTables' -Target 'EnumSystemFirmwareTables(ACPI)' -ErrorRecord $_
  }
  $r = Read-AcpiTable -Name 'DMAR' -TableId $DmarTableId -Listed $acpiIds
  if ($null -ne $r) { $tables.dmar = $r.value }
  $r = Read-AcpiTable -Name 'IVRS' -TableId $IvrsTableId -Listed $acpiIds
  if ($null -ne $r) { $tables.ivrs = $r.value }
  try {
    $bytes = [AssignableProbe.FirmwareTables]::Read($RsmbProvider, [uint32]0)
    $tables.smbios = [ordered]@{ via = 'GetSystemFirmwareTable'; base64 = [Convert]::ToBase64String($bytes) }
  } catch {
    Add-ProbeError -Step 'firmwareTables.smbios' -Target 'RSMB' -ErrorRecord $_
  }
}
if (-not $tables.Contains('smbios')) {
  # No compiler needed: WMI serves the same table; its header fields rebuild RawSMBIOSData's 8-byte header.
  try {
    $raw = @(Get-CimInstance -Namespace 'root/wmi' -ClassName MSSmBios_RawSMBiosTables -ErrorAction Stop)
    if ($raw.Count -eq 0) {
      $tables.smbios = $null
    } else {
      $t = $raw[0]
      $data = [byte[]]$t.SMBiosData
      $header = New-Object byte[] 8
      $header[0] = [byte]([bool]$t.Used20CallingMethod)
      $header[1] = [byte]$t.SmbiosMajorVersion
      $header[2] = [byte]$t.SmbiosMinorVersion
      $header[3] = [byte]$t.DmiRevision
      [Array]::Copy([BitConverter]::GetBytes([uint32]$data.Length), 0, $header, 4, 4)
      $all = New-Object byte[] (8 + $data.Length)
      [Array]::Copy($header, 0, $all, 0, 8)
      [Array]::Copy($data, 0, $all, 8, $data.Length)
      $tables.smbios = [ordered]@{ via = 'MSSmBios_RawSMBiosTables'; base64 = [Convert]::ToBase64String($all) }
    }
  } catch {
    Add-ProbeError -Step 'firmwareTables.smbios' -Target 'MSSmBios_RawSMBiosTables' -ErrorRecord $_
  }
}
$doc.firmwareTables = $tables

# --- PCI functions and root buses -------------------------------------------------------------------------
$pnp = $null
try {
  $pnp = @(Get-PnpDevice -ErrorAction Stop)
} catch {
  Add-ProbeError -Step 'pciDevices' -Target 'Get-PnpDevice' -ErrorRecord $_
}

if ($null -ne $pnp) {
  $pciList = @($pnp | Where-Object { ([string]$_.InstanceId) -like 'PCI\*' -or ([string]$_.InstanceId) -like 'PCIP\*' })
  # Root buses are the parents that are not PCI functions; ACPI's PCI host bridge IDs name them up front,
  # so their properties come in the same batched call.
  $bridgeList = @($pnp | Where-Object { ([string]$_.InstanceId) -like 'ACPI\PNP0A08\*' -or ([string]$_.InstanceId) -like 'ACPI\PNP0A03\*' })
  $ids = @(@($pciList) + @($bridgeList) | ForEach-Object { [string]$_.InstanceId })

  $propsById = @{}
  $answered = @{}
  if ($ids.Count -gt 0) {
    $batchFailed = $false
    $ev = $null
    $results = $null
    try {
      $results = @(Get-PnpDeviceProperty -InstanceId $ids -KeyName ([string[]]$AskKeys.ToArray()) -ErrorAction SilentlyContinue -ErrorVariable ev)
      Add-ProbeErrorList -Step 'pciDevices.properties' -Target 'Get-PnpDeviceProperty' -Records $ev
    } catch {
      $batchFailed = $true
      Add-ProbeError -Step 'pciDevices.properties' -Target 'Get-PnpDeviceProperty (batched; falling back to one call per device)' -ErrorRecord $_
    }
    if ($batchFailed) {
      $collected = New-Object System.Collections.ArrayList
      foreach ($id in $ids) {
        $ev = $null
        try {
          $one = @(Get-PnpDeviceProperty -InstanceId $id -KeyName ([string[]]$AskKeys.ToArray()) -ErrorAction SilentlyContinue -ErrorVariable ev)
          Add-ProbeErrorList -Step 'pciDevices.properties' -Target $id -Records $ev
          foreach ($x in $one) { [void]$collected.Add($x) }
        } catch {
          Add-ProbeError -Step 'pciDevices.properties' -Target $id -ErrorRecord $_
        }
      }
      $results = $collected.ToArray()
    }
    foreach ($p in @($results)) {
      if ($null -eq $p) { continue }
      $id = [string]$p.InstanceId
      if (-not $propsById.ContainsKey($id)) { $propsById[$id] = New-Object System.Collections.ArrayList }
      [void]$propsById[$id].Add($p)
    }
  }

  $devices = New-Object System.Collections.ArrayList
  foreach ($d in $pciList) {
    $id = [string]$d.InstanceId
    $entry = [ordered]@{ instanceId = $id }
    if ($null -ne $d.Present) { $entry.present = [bool]$d.Present }
    if ($null -ne $d.Status) { $entry.status = [string]$d.Status }
    if ($null -ne $d.Class) { $entry.class = [string]$d.Class }
    if ($null -ne $d.FriendlyName) { $entry.friendlyName = [string]$d.FriendlyName }
    if ($propsById.ContainsKey($id)) {
      $props = [ordered]@{}
      # A PCI function carries Device and PciDevice keys; PciRootBus keys asked of it are noise.
      Add-Properties -Target $props -Results $propsById[$id] -SkipPrefix 'DEVPKEY_PciRootBus_'
      $entry.properties = $props
    }
    # Allocated memory: only a present device has any; for the others the probe does not ask.
    if ($d.Present -eq $true) {
      try {
        $ranges = @(Get-CimAssociatedInstance -InputObject $d -ResultClassName Win32_DeviceMemoryAddress -ErrorAction Stop)
        $entry.memoryRanges = [object[]]@(foreach ($m in $ranges) {
          [ordered]@{ start = [string][uint64]$m.StartingAddress; end = [string][uint64]$m.EndingAddress }
        })
      } catch {
        Add-ProbeError -Step 'pciDevices.memoryRanges' -Target $id -ErrorRecord $_
      }
    }
    [void]$devices.Add($entry)
  }
  $doc.pciDevices = [object[]]$devices.ToArray()

  # Parents that are neither PCI functions nor among the bridges read above: one more batched call.
  $pciIds = @{}
  foreach ($d in $pciList) { $pciIds[[string]$d.InstanceId] = $true }
  $parentIds = New-Object System.Collections.ArrayList
  foreach ($d in $devices) {
    if (-not $d.Contains('properties')) { continue }
    if (-not $d.properties.Contains('DEVPKEY_Device_Parent')) { continue }
    $parent = $d.properties['DEVPKEY_Device_Parent']
    if ($null -eq $parent -or $pciIds.ContainsKey([string]$parent)) { continue }
    if (-not $parentIds.Contains([string]$parent)) { [void]$parentIds.Add([string]$parent) }
  }
  $missing = @($parentIds | Where-Object { -not $propsById.ContainsKey($_) })
  if ($missing.Count -gt 0) {
    $ev = $null
    try {
      $more = @(Get-PnpDeviceProperty -InstanceId ([string[]]$missing) -KeyName ([string[]]$AskKeys.ToArray()) -ErrorAction SilentlyContinue -ErrorVariable ev)
      Add-ProbeErrorList -Step 'rootBuses.properties' -Target 'Get-PnpDeviceProperty' -Records $ev
      foreach ($p in $more) {
        if ($null -eq $p) { continue }
        $id = [string]$p.InstanceId
        if (-not $propsById.ContainsKey($id)) { $propsById[$id] = New-Object System.Collections.ArrayList }
        [void]$propsById[$id].Add($p)
      }
    } catch {
      Add-ProbeError -Step 'rootBuses.properties' -Target 'Get-PnpDeviceProperty' -ErrorRecord $_
    }
  }
  $buses = New-Object System.Collections.ArrayList
  foreach ($id in $parentIds) {
    $entry = [ordered]@{ instanceId = [string]$id }
    if ($propsById.ContainsKey($id)) {
      $props = [ordered]@{}
      # A root bus carries Device and PciRootBus keys; PciDevice keys asked of it are noise.
      Add-Properties -Target $props -Results $propsById[$id] -SkipPrefix 'DEVPKEY_PciDevice_'
      $entry.properties = $props
    }
    [void]$buses.Add($entry)
  }
  # Without any function's Parent the root buses are unknown (absent), not "none".
  $anyParent = $false
  foreach ($d in $devices) { if ($d.Contains('properties') -and $d.properties.Contains('DEVPKEY_Device_Parent')) { $anyParent = $true } }
  if ($anyParent -or $devices.Count -eq 0) { $doc.rootBuses = [object[]]$buses.ToArray() }
}

# --- Hyper-V --------------------------------------------------------------------------------------------
$hv = [ordered]@{}
try {
  $svc = Get-Service -Name vmms -ErrorAction Stop
  $hv.vmms = [ordered]@{ status = [string]$svc.Status; startType = [string]$svc.StartType }
} catch {
  if ([string]$_.FullyQualifiedErrorId -like 'NoServiceFoundForGivenName*') {
    $hv.vmms = $null
  } else {
    Add-ProbeError -Step 'hyperV.vmms' -Target 'Get-Service vmms' -ErrorRecord $_
  }
}
try {
  if (Test-CommandPresent 'Get-WindowsFeature') {
    $f = Get-WindowsFeature -Name Hyper-V -ErrorAction Stop
    if ($null -eq $f) {
      $hv.feature = $null
    } else {
      $hv.feature = [ordered]@{ via = 'Get-WindowsFeature'; name = [string]$f.Name; state = [string]$f.InstallState }
    }
  } elseif (Test-CommandPresent 'Get-WindowsOptionalFeature') {
    $f = Get-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -ErrorAction Stop
    if ($null -eq $f) {
      $hv.feature = $null
    } else {
      $hv.feature = [ordered]@{ via = 'Get-WindowsOptionalFeature'; name = [string]$f.FeatureName; state = [string]$f.State }
    }
  } else {
    Add-ProbeError -Step 'hyperV.feature' -Message 'neither Get-WindowsFeature nor Get-WindowsOptionalFeature is available'
  }
} catch {
  Add-ProbeError -Step 'hyperV.feature' -ErrorRecord $_
}
$hvModule = $false
try {
  $hvModule = [bool](Get-Module -ListAvailable -Name Hyper-V -ErrorAction Stop)
  $hv.module = $hvModule
} catch {
  Add-ProbeError -Step 'hyperV.module' -Target 'Get-Module -ListAvailable Hyper-V' -ErrorRecord $_
}
if ($hvModule) {
  try {
    $h = Get-VMHost -ErrorAction Stop
    $vh = [ordered]@{}
    if ($null -ne $h.IovSupport) { $vh.iovSupport = [bool]$h.IovSupport }
    if ($null -eq $h.IovSupportReasons) { $vh.iovSupportReasons = $null }
    else { $vh.iovSupportReasons = [object[]]@(foreach ($x in @($h.IovSupportReasons)) { [string]$x }) }
    $hv.vmHost = $vh
  } catch {
    Add-ProbeError -Step 'hyperV.vmHost' -Target 'Get-VMHost' -ErrorRecord $_
  }
  try {
    $pool = @(Get-VMHostAssignableDevice -ErrorAction Stop)
    $hv.assignableDevices = [object[]]@(foreach ($a in $pool) {
      if ($null -ne $a) { [ordered]@{ instanceId = [string]$a.InstanceID; locationPath = [string]$a.LocationPath } }
    })
  } catch {
    Add-ProbeError -Step 'hyperV.assignableDevices' -Target 'Get-VMHostAssignableDevice' -ErrorRecord $_
  }
  try {
    $vmList = @(Get-VM -ErrorAction Stop)
    $vms = New-Object System.Collections.ArrayList
    foreach ($vm in $vmList) {
      if ($null -eq $vm) { continue }
      $v = [ordered]@{ name = [string]$vm.Name }
      if ($null -ne $vm.Id) { $v.id = [string]$vm.Id }
      if ($null -ne $vm.State) { $v.state = [string]$vm.State }
      if ($null -ne $vm.Generation) { $v.generation = [long]$vm.Generation }
      if ($null -ne $vm.AutomaticStopAction) { $v.automaticStopAction = [string]$vm.AutomaticStopAction }
      if ($null -ne $vm.GuestControlledCacheTypes) { $v.guestControlledCacheTypes = [bool]$vm.GuestControlledCacheTypes }
      if ($null -ne $vm.LowMemoryMappedIoSpace) { $v.lowMemoryMappedIoSpace = [string][uint64]$vm.LowMemoryMappedIoSpace }
      if ($null -ne $vm.HighMemoryMappedIoSpace) { $v.highMemoryMappedIoSpace = [string][uint64]$vm.HighMemoryMappedIoSpace }
      if ($null -ne $vm.DynamicMemoryEnabled) { $v.dynamicMemoryEnabled = [bool]$vm.DynamicMemoryEnabled }
      if ($null -ne $vm.CheckpointType) { $v.checkpointType = [string]$vm.CheckpointType }
      try {
        $assigned = @(Get-VMAssignableDevice -VM $vm -ErrorAction Stop)
        $v.assignedDevices = [object[]]@(foreach ($a in $assigned) {
          if ($null -ne $a) { [ordered]@{ instanceId = [string]$a.InstanceID; locationPath = [string]$a.LocationPath } }
        })
      } catch {
        Add-ProbeError -Step 'hyperV.vms.assignedDevices' -Target ([string]$vm.Name) -ErrorRecord $_
      }
      [void]$vms.Add($v)
    }
    $hv.vms = [object[]]$vms.ToArray()
  } catch {
    Add-ProbeError -Step 'hyperV.vms' -Target 'Get-VM' -ErrorRecord $_
  }
}
$doc.hyperV = $hv

$probe.finishedAt = [DateTime]::UtcNow.ToString('o')
$doc.errors = [object[]]$ProbeErrors.ToArray()

# Windows PowerShell 5.1 gives System.Array an extended Count, so a wrapped array would serialise as
# {"value":[...],"Count":n}: that type data is set aside while serialising, then put back.
$arrayTypeData = Get-TypeData -TypeName System.Array
if ($arrayTypeData) { Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue }
try {
  $json = ConvertTo-Json -InputObject $doc -Depth 12
} finally {
  if ($arrayTypeData) { Update-TypeData -TypeData $arrayTypeData -Force -ErrorAction SilentlyContinue }
}
# ASCII only: any other character as a \u escape, so no console code page or redirection can garble it.
$json = [regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })

if ($OutFile) {
  # Relative to PowerShell's location, not the process's current directory (.NET's idea of it).
  $outPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
  [IO.File]::WriteAllText($outPath, $json, (New-Object System.Text.UTF8Encoding $false))
} else {
  Write-Output $json
}
