#Requires -Version 7.5
# Dialtone's warm PowerShell host: one JSON request per stdin line, one JSON response per stdout
# line (docs/PWSH-PROTOCOL.md). It never evaluates text from a request: the cmdlet is looked up
# in the allow-list below and the parameters are splatted as data. tools/pscheck enforces that.

# -Scope Worker (the default, what the hybrid worker starts) runs the per-person cmdlets only;
# -Scope TenantSetup (started only by `dialtone tenant …`) runs the tenant-wide set-up cmdlets only.
param(
    [ValidateSet('Worker', 'TenantSetup')]
    [string] $Scope = 'Worker'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$InformationPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'
$DebugPreference = 'SilentlyContinue'
# Nobody can answer a confirmation prompt: it would hang the request until the worker's deadline.
$ConfirmPreference = 'None'

# Names are not ASCII-only, and on Windows the console default is an OEM code page. Set only when
# needed (setting one makes .NET reopen Console.In/Out); a process without a console cannot set
# its code page, which is reported rather than fatal.
$utf8 = [System.Text.UTF8Encoding]::new($false)
try {
    if ([Console]::InputEncoding.CodePage -ne 65001) { [Console]::InputEncoding = $utf8 }
} catch {
    [Console]::Error.WriteLine("dialtone-pwsh: stdin stays $([Console]::InputEncoding.WebName): $($_.Exception.Message)")
}
try {
    if ([Console]::OutputEncoding.CodePage -ne 65001) { [Console]::OutputEncoding = $utf8 }
} catch {
    [Console]::Error.WriteLine("dialtone-pwsh: stdout stays $([Console]::OutputEncoding.WebName): $($_.Exception.Message)")
}

# stdout belongs to the protocol alone: keep its writer and point everything else that writes to
# the console (a cmdlet's Console.WriteLine, the host UI) at stderr, which the worker never parses.
$script:ProtocolOut = [Console]::Out
[Console]::SetOut([Console]::Error)
# stdin too: keep its reader and give the console an empty one, so that a prompt (a missing
# mandatory parameter when pwsh was started without -NonInteractive) reads end-of-input and fails
# instead of taking the next request line as its answer.
$script:ProtocolIn = [Console]::In
[Console]::SetIn([System.IO.TextReader]::Null)

# A result deeper than this is an error, never silently flattened into text.
$script:MaxResultDepth = 6

# Request cmdlet -> the parameter names it may carry. Connect-MicrosoftTeams gets -Certificate from
# the request's own certificate field, never from parameters. Hashtable: the parameters
# shared/teams/module-cmdlets.json types `hashtable` (PSListModifiers); Build: those it types
# `hashtable[]` (test/pwsh/host-allow-list.test.ts keeps both equal to the file). Every other
# parameter takes plain values only.
$script:AllowList = @{
    'Connect-MicrosoftTeams'                  = @{ Name = 'Connect-MicrosoftTeams'; Parameters = @('ApplicationId', 'TenantId') }
    'Disconnect-MicrosoftTeams'               = @{ Name = 'Disconnect-MicrosoftTeams'; Parameters = @() }
    'Get-CsOnlineUser'                        = @{ Name = 'Get-CsOnlineUser'; Parameters = @('Identity', 'Filter', 'AccountType', 'Properties', 'ResultSize', 'SkipUserPolicies') }
    'Get-CsPhoneNumberAssignment'             = @{ Name = 'Get-CsPhoneNumberAssignment'; Parameters = @('TelephoneNumber', 'AssignedPstnTargetId', 'NumberType', 'PstnAssignmentStatus', 'ActivationState', 'CapabilitiesContain', 'IsoCountryCode', 'LocationId', 'Filter', 'Top', 'Skip'); Array = $true }
    'Set-CsPhoneNumberAssignment'             = @{ Name = 'Set-CsPhoneNumberAssignment'; Parameters = @('Identity', 'TelephoneNumber', 'PhoneNumber', 'NumberType', 'PhoneNumberType', 'LocationId', 'NetworkSiteId', 'AssignmentCategory', 'EnterpriseVoiceEnabled') }
    'Remove-CsPhoneNumberAssignment'          = @{ Name = 'Remove-CsPhoneNumberAssignment'; Parameters = @('Identity', 'TelephoneNumber', 'PhoneNumber', 'NumberType', 'PhoneNumberType', 'RemoveAll') }
    'Grant-CsCallingLineIdentity'             = @{ Name = 'Grant-CsCallingLineIdentity'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Grant-CsOnlineVoiceRoutingPolicy'        = @{ Name = 'Grant-CsOnlineVoiceRoutingPolicy'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Grant-CsTenantDialPlan'                  = @{ Name = 'Grant-CsTenantDialPlan'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Grant-CsTeamsCallingPolicy'              = @{ Name = 'Grant-CsTeamsCallingPolicy'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Grant-CsOnlineVoicemailPolicy'           = @{ Name = 'Grant-CsOnlineVoicemailPolicy'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Grant-CsTeamsEmergencyCallRoutingPolicy' = @{ Name = 'Grant-CsTeamsEmergencyCallRoutingPolicy'; Parameters = @('Identity', 'PolicyName'); RequireIdentity = $true }
    'Get-CsCallingLineIdentity'               = @{ Name = 'Get-CsCallingLineIdentity'; Parameters = @('Identity', 'Filter') }
    'Get-CsOnlineVoiceRoutingPolicy'          = @{ Name = 'Get-CsOnlineVoiceRoutingPolicy'; Parameters = @('Identity', 'Filter') }
    'Get-CsTenantDialPlan'                    = @{ Name = 'Get-CsTenantDialPlan'; Parameters = @('Identity', 'Filter') }
    'New-CsBatchPolicyAssignmentOperation'    = @{ Name = 'New-CsBatchPolicyAssignmentOperation'; Parameters = @('PolicyType', 'PolicyName', 'Identity', 'OperationName') }
    'Get-CsBatchPolicyAssignmentOperation'    = @{ Name = 'Get-CsBatchPolicyAssignmentOperation'; Parameters = @('Identity', 'OperationId', 'Status') }
    # Tenant set-up (docs/TENANT.md): only in a host started with -Scope TenantSetup. The PSTN usage
    # list is tenant-wide: -Usage takes @{Add=...} or @{Remove=...} of named usages, never Replace.
    'Get-CsOnlinePstnUsage'                   = @{ Name = 'Get-CsOnlinePstnUsage'; Parameters = @('Identity'); Scope = 'TenantSetup' }
    'Set-CsOnlinePstnUsage'                   = @{ Name = 'Set-CsOnlinePstnUsage'; Parameters = @('Identity', 'Usage'); Scope = 'TenantSetup'; NoReplace = @('Usage'); Hashtable = @('Usage') }
    'Get-CsOnlineVoiceRoute'                  = @{ Name = 'Get-CsOnlineVoiceRoute'; Parameters = @('Identity'); Scope = 'TenantSetup'; Array = $true }
    'New-CsOnlineVoiceRoute'                  = @{ Name = 'New-CsOnlineVoiceRoute'; Parameters = @('Identity', 'NumberPattern', 'OnlinePstnGatewayList', 'OnlinePstnUsages', 'Priority', 'Description'); Scope = 'TenantSetup'; Hashtable = @('OnlinePstnGatewayList', 'OnlinePstnUsages') }
    'Set-CsOnlineVoiceRoute'                  = @{ Name = 'Set-CsOnlineVoiceRoute'; Parameters = @('Identity', 'NumberPattern', 'OnlinePstnGatewayList', 'OnlinePstnUsages', 'Priority', 'Description'); Scope = 'TenantSetup'; Hashtable = @('OnlinePstnGatewayList', 'OnlinePstnUsages') }
    'New-CsOnlineVoiceRoutingPolicy'          = @{ Name = 'New-CsOnlineVoiceRoutingPolicy'; Parameters = @('Identity', 'OnlinePstnUsages', 'Description'); Scope = 'TenantSetup'; Hashtable = @('OnlinePstnUsages') }
    'Set-CsOnlineVoiceRoutingPolicy'          = @{ Name = 'Set-CsOnlineVoiceRoutingPolicy'; Parameters = @('Identity', 'OnlinePstnUsages', 'Description'); Scope = 'TenantSetup'; Hashtable = @('OnlinePstnUsages') }
    'New-CsTenantDialPlan'                    = @{ Name = 'New-CsTenantDialPlan'; Parameters = @('Identity', 'Description', 'SimpleName', 'NormalizationRules'); Scope = 'TenantSetup'; Build = @{ NormalizationRules = 'New-CsVoiceNormalizationRule' } }
    'Set-CsTenantDialPlan'                    = @{ Name = 'Set-CsTenantDialPlan'; Parameters = @('Identity', 'Description', 'SimpleName', 'NormalizationRules'); Scope = 'TenantSetup'; Build = @{ NormalizationRules = 'New-CsVoiceNormalizationRule' } }
    # Never a request: the host runs it with -InMemory to turn each NormalizationRules entry into a rule object.
    'New-CsVoiceNormalizationRule'            = @{ Name = 'New-CsVoiceNormalizationRule'; Parameters = @('Parent', 'Name', 'Pattern', 'Translation', 'IsInternalExtension', 'Description'); Scope = 'TenantSetup'; BuildOnly = $true }
    # `dialtone tenant unlink`: each removes one named item; without -Identity there is nothing to remove.
    'Remove-CsCallingLineIdentity'            = @{ Name = 'Remove-CsCallingLineIdentity'; Parameters = @('Identity'); Scope = 'TenantSetup' }
    'Remove-CsTenantDialPlan'                 = @{ Name = 'Remove-CsTenantDialPlan'; Parameters = @('Identity'); Scope = 'TenantSetup' }
    'Remove-CsOnlineVoiceRoutingPolicy'       = @{ Name = 'Remove-CsOnlineVoiceRoutingPolicy'; Parameters = @('Identity'); Scope = 'TenantSetup' }
    'Remove-CsOnlineVoiceRoute'               = @{ Name = 'Remove-CsOnlineVoiceRoute'; Parameters = @('Identity'); Scope = 'TenantSetup' }
    'New-CsCallingLineIdentity'               = @{ Name = 'New-CsCallingLineIdentity'; Parameters = @('Identity', 'Description', 'CallingIDSubstitute', 'ResourceAccount', 'CompanyName', 'EnableUserOverride', 'BlockIncomingPstnCallerID'); Scope = 'TenantSetup' }
    'Set-CsCallingLineIdentity'               = @{ Name = 'Set-CsCallingLineIdentity'; Parameters = @('Identity', 'Description', 'CallingIDSubstitute', 'ResourceAccount', 'CompanyName', 'EnableUserOverride', 'BlockIncomingPstnCallerID'); Scope = 'TenantSetup' }
}
# The keys of a PSListModifier, the only object a Hashtable parameter takes.
$script:ListModifierKeys = @('Add', 'Remove', 'Replace')
# Allowed in both scopes: the session itself and the policy reads (tenant set-up reads what it keeps).
$script:BothScopes = @('Connect-MicrosoftTeams', 'Disconnect-MicrosoftTeams', 'Get-CsCallingLineIdentity', 'Get-CsOnlineVoiceRoutingPolicy', 'Get-CsTenantDialPlan')

# A failure the host detects itself; the worker sees it as error.type.
class DialtoneHostException : System.Exception {
    [string] $ErrorType
    DialtoneHostException([string] $errorType, [string] $message) : base($message) { $this.ErrorType = $errorType }
}

function Write-Response {
    param([System.Collections.IDictionary] $Response)
    # The result is plain data already (ConvertTo-ProtocolValue), at most $script:MaxResultDepth deep.
    $line = ConvertTo-Json -InputObject $Response -Depth 100 -Compress -EnumsAsStrings
    $script:ProtocolOut.WriteLine($line)
    $script:ProtocolOut.Flush()
}

# Turns a cmdlet's output into plain data: dictionaries, arrays, strings, numbers, booleans, null.
# Enums become their names, dates ISO 8601 strings; a property whose getter throws and an object
# deeper than the limit are errors, where ConvertTo-Json would write null or "@{...}" and say ok.
function ConvertTo-ProtocolValue {
    param($Value, [int] $Depth, [string] $Path)
    if ($null -eq $Value) { return $null }
    $base = $Value.psobject.BaseObject
    if ($base -is [string] -or $base -is [bool] -or $base -is [int] -or $base -is [long] -or $base -is [double] -or $base -is [decimal] -or
        $base -is [int16] -or $base -is [byte] -or $base -is [sbyte] -or $base -is [uint16] -or $base -is [uint32] -or $base -is [uint64] -or $base -is [single]) {
        return $base
    }
    if ($base -is [char] -or $base -is [enum] -or $base -is [guid] -or $base -is [uri] -or $base -is [version] -or $base -is [timespan]) { return $base.ToString() }
    if ($base -is [datetime] -or $base -is [datetimeoffset]) { return $base.ToString('o', [System.Globalization.CultureInfo]::InvariantCulture) }
    if ($base -is [System.Management.Automation.SwitchParameter]) { return $base.IsPresent }
    if ($Depth -ge $script:MaxResultDepth) {
        throw [DialtoneHostException]::new('Dialtone.ResultTooDeep', "The result is deeper than $($script:MaxResultDepth) levels at $Path; it is refused rather than flattened into text.")
    }
    if ($base -is [System.Collections.IDictionary]) {
        $map = [ordered]@{}
        foreach ($key in $base.Keys) { $map[[string] $key] = ConvertTo-ProtocolValue -Value $base[$key] -Depth ($Depth + 1) -Path "$Path.$key" }
        return $map
    }
    if ($base -is [System.Collections.IEnumerable]) {
        $list = [System.Collections.Generic.List[object]]::new()
        $index = 0
        foreach ($item in $base) {
            $list.Add((ConvertTo-ProtocolValue -Value $item -Depth ($Depth + 1) -Path "$Path[$index]"))
            $index += 1
        }
        return , $list.ToArray()
    }
    $map = [ordered]@{}
    foreach ($property in $Value.psobject.Properties) {
        if (-not $property.IsGettable) { continue }
        $map[$property.Name] = ConvertTo-ProtocolValue -Value (Get-PropertyValue -Base $base -Property $property -Path $Path) -Depth ($Depth + 1) -Path "$Path.$($property.Name)"
    }
    $map
}

# PowerShell's member access swallows a getter's exception and yields $null; read so that it cannot.
function Get-PropertyValue {
    param($Base, [System.Management.Automation.PSPropertyInfo] $Property, [string] $Path)
    $failure = $null
    if ($Property -is [System.Management.Automation.PSProperty]) {
        # A .NET property: its getter through reflection, which lets the exception through.
        $info = $null
        try { $info = $Base.GetType().GetProperty($Property.Name) } catch { $info = $null }
        if ($null -ne $info -and $info.GetIndexParameters().Count -eq 0) {
            try {
                # The comma keeps an array value whole (a one-element array must not become its element).
                return , $info.GetValue($Base)
            } catch {
                $failure = $_.Exception
                if ($null -ne $failure.InnerException) { $failure = $failure.InnerException }
                if ($null -ne $failure.InnerException) { $failure = $failure.InnerException }
            }
        }
    }
    if ($null -eq $failure) {
        # A script property's exception is swallowed too, but recorded in $Error.
        $Error.Clear()
        $value = $Property.Value
        if ($Error.Count -eq 0) { return , $value }
        $failure = $Error[0].Exception
        $Error.Clear()
    }
    throw [DialtoneHostException]::new('Dialtone.ResultNotSerializable', "Reading property $Path.$($Property.Name) of the result failed: $($failure.Message)")
}

function New-ErrorResponse {
    param($Id, [long] $DurationMs, [string] $Type, [string] $Message, $Category, $FullyQualifiedErrorId)
    $errorInfo = [ordered]@{ type = $Type; message = $Message }
    if ($null -ne $Category) { $errorInfo['category'] = [string] $Category }
    if ($null -ne $FullyQualifiedErrorId) { $errorInfo['fullyQualifiedErrorId'] = [string] $FullyQualifiedErrorId }
    [ordered]@{ id = $Id; ok = $false; durationMs = $DurationMs; error = $errorInfo }
}

function Read-Request {
    param([string] $Line)
    if ([string]::IsNullOrWhiteSpace($Line)) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'The request line is empty.') }
    try {
        # -DateKind String: an ISO-8601-looking value stays the string it was, never a DateTime.
        $request = ConvertFrom-Json -InputObject $Line -AsHashtable -NoEnumerate -DateKind String
    } catch {
        throw [DialtoneHostException]::new('Dialtone.ProtocolError', "The request line is not JSON: $($_.Exception.Message)")
    }
    if ($request -isnot [System.Collections.IDictionary]) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'The request must be a JSON object.') }
    $request
}

function Get-RequestId {
    param([System.Collections.IDictionary] $Request)
    $id = $Request['id']
    if ($id -isnot [string] -or $id -eq '') { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'The request has no id: id must be a non-empty string.') }
    $id
}

function Get-Splat {
    param([System.Collections.IDictionary] $Request, [hashtable] $Spec)
    $parameters = $Request['parameters']
    if ($null -eq $parameters) { return @{} }
    if ($parameters -isnot [System.Collections.IDictionary]) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'parameters must be a JSON object.') }
    # Ordered, so the binder sees the parameters in the request's order (its errors name the same
    # parameter every run); keys compare case-insensitively, as the binder does.
    $splat = [ordered]@{}
    foreach ($name in $parameters.Keys) {
        # Exact names only: the binder would also accept an unambiguous prefix or a common parameter.
        if ($Spec.Parameters -notcontains $name) {
            $allowed = if ($Spec.Parameters.Count -gt 0) { $Spec.Parameters -join ', ' } else { 'none' }
            throw [DialtoneHostException]::new('Dialtone.ParameterNotAllowed', "Parameter '$name' is not allowed for $($Spec.Name); allowed: $allowed.")
        }
        foreach ($earlier in $splat.Keys) {
            if ($earlier -eq $name) {
                throw [DialtoneHostException]::new('Dialtone.ProtocolError', "Parameters '$earlier' and '$name' of $($Spec.Name) differ only in case; send each parameter once.")
            }
        }
        $value = $parameters[$name]
        if (-not (Test-ParameterValue -Spec $Spec -Name $name -Value $value)) {
            $rule = if ($Spec.ContainsKey('Hashtable') -and $Spec.Hashtable -contains $name) {
                'a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those'
            } elseif ($Spec.ContainsKey('Build') -and $Spec.Build.ContainsKey($name)) {
                "an array of objects of $($Spec.Build[$name]) parameters"
            } else {
                'a string, number, boolean, null or an array of those; an object is never passed on'
            }
            throw [DialtoneHostException]::new('Dialtone.ProtocolError', "Parameter '$name' of $($Spec.Name) must be $rule.")
        }
        $splat[$name] = $value
    }
    if ($Spec.ContainsKey('RequireIdentity')) {
        # Without -Identity a Grant-Cs* cmdlet changes the tenant's Global policy.
        $identity = $splat['Identity']
        if ($identity -isnot [string] -or [string]::IsNullOrWhiteSpace($identity)) {
            throw [DialtoneHostException]::new('Dialtone.IdentityRequired', "$($Spec.Name) needs a non-empty -Identity: without it the policy would be granted to the whole tenant (Global). Nothing was run.")
        }
    }
    $splat
}

function Assert-Scope {
    param([hashtable] $Spec)
    if ($script:BothScopes -contains $Spec.Name) { return }
    $wanted = if ($Spec.ContainsKey('Scope')) { $Spec.Scope } else { 'Worker' }
    if ($Spec.ContainsKey('BuildOnly')) {
        throw [DialtoneHostException]::new('Dialtone.CmdletNotAllowed', "The cmdlet '$($Spec.Name)' is run only by the host to build a parameter; it is not a request.")
    }
    if ($wanted -ne $Scope) {
        throw [DialtoneHostException]::new('Dialtone.CmdletNotAllowed', "The cmdlet '$($Spec.Name)' is allowed only in a host started with -Scope $wanted; this host runs -Scope $Scope.")
    }
}

function Assert-NoReplace {
    param([hashtable] $Spec, [System.Collections.IDictionary] $Splat)
    if (-not $Spec.ContainsKey('NoReplace')) { return }
    foreach ($name in $Spec.NoReplace) {
        if (-not $Splat.Contains($name)) { continue }
        $value = $Splat[$name]
        # @(...) around the if: an if statement's output of one key would be that key, not a list.
        $keys = @(if ($value -is [System.Collections.IDictionary]) { $value.Keys })
        if ($keys.Count -ne 1 -or ($keys[0] -ne 'Add' -and $keys[0] -ne 'Remove')) {
            throw [DialtoneHostException]::new('Dialtone.ParameterNotAllowed', "$($Spec.Name) -$name takes only @{Add=...} or @{Remove=...} of named entries: the list is tenant-wide, and Dialtone never replaces it.")
        }
    }
}

# A parameter whose objects another allow-listed cmdlet makes (NormalizationRules): each entry of the
# request's list is splatted, as data, to that cmdlet with -InMemory, and the objects are passed on.
function Build-Parameters {
    param([hashtable] $Spec, [System.Collections.IDictionary] $Splat)
    if (-not $Spec.ContainsKey('Build')) { return }
    foreach ($name in @($Spec.Build.Keys)) {
        if (-not $Splat.Contains($name)) { continue }
        $entries = $Splat[$name]
        if ($entries -isnot [System.Collections.IList]) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', "$name must be a list of objects.") }
        $builder = $script:AllowList[$Spec.Build[$name]]
        $built = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in $entries) {
            if ($entry -isnot [System.Collections.IDictionary]) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', "Each $name entry must be an object of $($builder.Name) parameters.") }
            $entrySplat = Get-Splat -Request @{ parameters = $entry } -Spec $builder
            $entrySplat['InMemory'] = $true
            $built.Add((Invoke-AllowedCmdlet -Spec $builder -Splat $entrySplat))
        }
        $Splat[$name] = $built.ToArray()
    }
}

# A JSON scalar, null, or an array of those: a dictionary would reach a string parameter as its type name.
function Test-PlainValue {
    param($Value)
    if ($null -eq $Value) { return $true }
    if ($Value -is [System.Collections.IDictionary]) { return $false }
    if ($Value -is [string]) { return $true }
    if ($Value -is [System.Collections.IList]) {
        foreach ($item in $Value) {
            if ($item -is [System.Collections.IDictionary] -or ($item -is [System.Collections.IList])) { return $false }
        }
    }
    $true
}

# A parameter module-cmdlets.json types as hashtable (a PSListModifier: Hashtable in the allow-list)
# takes a plain value or a flat object of Add/Remove/Replace with plain values; one typed hashtable[]
# (Build in the allow-list) takes a list of objects, each splatted to its builder by Build-Parameters.
function Test-ParameterValue {
    param([hashtable] $Spec, [string] $Name, $Value)
    if ($Spec.ContainsKey('Hashtable') -and $Spec.Hashtable -contains $Name -and $Value -is [System.Collections.IDictionary]) {
        if ($Value.Count -eq 0) { return $false }
        $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
        foreach ($key in $Value.Keys) {
            if (-not $seen.Add([string] $key)) { return $false }
            if ($script:ListModifierKeys -notcontains $key) { return $false }
            if (-not (Test-PlainValue -Value $Value[$key])) { return $false }
        }
        return $true
    }
    if ($Spec.ContainsKey('Build') -and $Spec.Build.ContainsKey($Name)) {
        if ($Value -isnot [System.Collections.IList]) { return $false }
        foreach ($entry in $Value) {
            if ($entry -isnot [System.Collections.IDictionary]) { return $false }
        }
        return $true
    }
    Test-PlainValue -Value $Value
}

function New-Certificate {
    param([System.Collections.IDictionary] $Request)
    $certificate = $Request['certificate']
    if ($certificate -isnot [System.Collections.IDictionary] -or $certificate['pfxBase64'] -isnot [string] -or $certificate['pfxBase64'] -eq '') {
        throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'Connect-MicrosoftTeams needs certificate.pfxBase64 (base64 PKCS#12).')
    }
    $password = $certificate['password']
    if ($null -ne $password -and $password -isnot [string]) { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'certificate.password must be a string or null.') }
    $bytes = $null
    try {
        $bytes = [Convert]::FromBase64String($certificate['pfxBase64'])
        $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::EphemeralKeySet
        [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($bytes, $password, $flags)
    } finally {
        if ($null -ne $bytes) { [Array]::Clear($bytes, 0, $bytes.Length) }
        $Request.Remove('certificate')
    }
}

function Invoke-AllowedCmdlet {
    param([hashtable] $Spec, [System.Collections.IDictionary] $Splat)
    $commandInfo = Get-Command -Name $Spec.Name -CommandType Cmdlet, Function -TotalCount 1 -ErrorAction Stop
    $output = & $commandInfo @Splat -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null
    if ($Spec.ContainsKey('Array')) {
        if ($null -eq $output) { return , @() }
        return , (ConvertTo-ProtocolValue -Value @($output) -Depth 0 -Path 'result')
    }
    if ($null -eq $output) { return $null }
    , (ConvertTo-ProtocolValue -Value $output -Depth 0 -Path 'result')
}

function Invoke-Request {
    param([System.Collections.IDictionary] $Request)
    $cmdlet = $Request['cmdlet']
    if ($cmdlet -isnot [string] -or $cmdlet -eq '') { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'The request has no cmdlet: cmdlet must be a non-empty string.') }
    if ($cmdlet -eq 'Exit') { return $null }
    $spec = $script:AllowList[$cmdlet]
    if ($null -eq $spec) { throw [DialtoneHostException]::new('Dialtone.CmdletNotAllowed', "The cmdlet '$cmdlet' is not on the host's allow-list.") }
    Assert-Scope -Spec $spec
    $splat = Get-Splat -Request $Request -Spec $spec
    Assert-NoReplace -Spec $spec -Splat $splat
    Build-Parameters -Spec $spec -Splat $splat
    if ($spec.Name -eq 'Connect-MicrosoftTeams') {
        $splat['Certificate'] = New-Certificate -Request $Request
        # Whatever Connect-MicrosoftTeams prints about the account stays out of the response.
        $null = Invoke-AllowedCmdlet -Spec $spec -Splat $splat
        return $null
    }
    Invoke-AllowedCmdlet -Spec $spec -Splat $splat
}

function Invoke-Disconnect {
    try {
        $null = Invoke-AllowedCmdlet -Spec $script:AllowList['Disconnect-MicrosoftTeams'] -Splat @{}
    } catch {
        [Console]::Error.WriteLine("dialtone-pwsh: Disconnect-MicrosoftTeams failed: $($_.Exception.Message)")
    }
}

function Invoke-Line {
    param([string] $Line)
    $stopwatch = [System.Diagnostics.Stopwatch]::StartNew()
    $id = $null
    $exit = $false
    try {
        $request = Read-Request -Line $Line
        $id = Get-RequestId -Request $request
        $exit = $request['cmdlet'] -is [string] -and $request['cmdlet'] -eq 'Exit'
        if ($exit) { Invoke-Disconnect }
        $result = Invoke-Request -Request $request
        $response = [ordered]@{ id = $id; ok = $true; result = $result; durationMs = $stopwatch.ElapsedMilliseconds }
    } catch [DialtoneHostException] {
        $response = New-ErrorResponse -Id $id -DurationMs $stopwatch.ElapsedMilliseconds -Type $_.Exception.ErrorType -Message $_.Exception.Message
    } catch {
        # A failing .NET call (the certificate constructor) arrives wrapped; the worker classifies the cause.
        $exception = $_.Exception
        if ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) { $exception = $exception.InnerException }
        $response = New-ErrorResponse -Id $id -DurationMs $stopwatch.ElapsedMilliseconds -Type $exception.GetType().FullName `
            -Message $exception.Message -Category $_.CategoryInfo.Category -FullyQualifiedErrorId $_.FullyQualifiedErrorId
    }
    try {
        Write-Response -Response $response
    } catch {
        # A result ConvertTo-Json cannot handle must still answer the request.
        Write-Response -Response (New-ErrorResponse -Id $id -DurationMs $stopwatch.ElapsedMilliseconds -Type 'Dialtone.ResultNotSerializable' `
                -Message "The result could not be converted to JSON: $($_.Exception.Message)")
    }
    $exit
}

# What the installed module offers, for the worker to map its parameters onto (docs/PWSH-PROTOCOL.md,
# "Start-up"): per allow-listed cmdlet its parameters, their aliases and their parameter sets.
function Get-ModuleReport {
    $common = @([System.Management.Automation.Cmdlet]::CommonParameters) + @([System.Management.Automation.Cmdlet]::OptionalCommonParameters)
    $names = [string[]] @($script:AllowList.Keys)
    [Array]::Sort($names)
    $report = [ordered]@{}
    foreach ($name in $names) {
        $commandInfo = Get-Command -Name $name -CommandType Cmdlet, Function -TotalCount 1 -ErrorAction SilentlyContinue
        if ($null -eq $commandInfo) {
            $report[$name] = $null
            continue
        }
        $parameters = [System.Collections.Generic.List[object]]::new()
        foreach ($parameter in $commandInfo.Parameters.Values) {
            if ($common -contains $parameter.Name) { continue }
            $sets = [ordered]@{}
            foreach ($setName in $parameter.ParameterSets.Keys) {
                $label = if ($setName -eq '__AllParameterSets') { '*' } else { $setName }
                $sets[$label] = [bool] $parameter.ParameterSets[$setName].IsMandatory
            }
            $parameters.Add([ordered]@{ name = $parameter.Name; aliases = [string[]] @($parameter.Aliases); sets = $sets })
        }
        $default = $commandInfo.DefaultParameterSet
        if ($default -eq '__AllParameterSets') { $default = $null }
        $report[$name] = [ordered]@{ defaultParameterSet = $default; parameters = $parameters.ToArray() }
    }
    $report
}

$script:Module = $null
if ($env:DIALTONE_PWSH_SKIP_IMPORT -ne '1') {
    try {
        $imported = @(Import-Module -Name MicrosoftTeams -PassThru -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null)
        if ($imported.Count -gt 0) { $script:Module = $imported[0] }
    } catch {
        [Console]::Error.WriteLine("dialtone-pwsh: Import-Module MicrosoftTeams failed: $($_.Exception.Message)")
        exit 1
    }
}

$moduleInfo = if ($null -eq $script:Module) { $null } else { [ordered]@{ name = $script:Module.Name; version = $script:Module.Version.ToString() } }
Write-Response -Response ([ordered]@{
        type = 'ready'; protocol = 1; host = 'dialtone-pwsh'; pid = $PID
        pwsh = $PSVersionTable.PSVersion.ToString(); module = $moduleInfo; cmdlets = Get-ModuleReport
    })

while ($true) {
    $line = $script:ProtocolIn.ReadLine()
    if ($null -eq $line) {
        # The worker closed stdin without Exit: leave the Teams session tidy all the same.
        Invoke-Disconnect
        break
    }
    if (Invoke-Line -Line $line) { break }
}
