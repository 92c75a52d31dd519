#Requires -Version 7.0
# Dialtone's warm PowerShell host: one JSON request per stdin line, one JSON response per stdout
# line (docs/PWSH-PROTOCOL.md). It never evaluates text from a request: the cmdlet is looked up
# in the allow-list below and the parameters are splatted as data. tools/pscheck enforces that.

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

# Request cmdlet -> the parameter names it may carry. Connect-MicrosoftTeams gets -Certificate from
# the request's own certificate field, never from parameters.
$script:AllowList = @{
    'Connect-MicrosoftTeams'                  = @{ Name = 'Connect-MicrosoftTeams'; Parameters = @('ApplicationId', 'TenantId') }
    'Disconnect-MicrosoftTeams'               = @{ Name = 'Disconnect-MicrosoftTeams'; Parameters = @() }
    'Get-CsOnlineUser'                        = @{ Name = 'Get-CsOnlineUser'; Parameters = @('Identity', 'Filter', 'AccountType', 'Properties', 'ResultSize', 'SkipUserPolicies') }
    'Get-CsPhoneNumberAssignment'             = @{ Name = 'Get-CsPhoneNumberAssignment'; Parameters = @('TelephoneNumber', 'AssignedPstnTargetId', 'NumberType', 'PstnAssignmentStatus', 'ActivationState', 'CapabilitiesContain', 'IsoCountryCode', 'LocationId', 'Top', 'Skip'); Array = $true }
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
    'Get-CsBatchPolicyAssignmentOperation'    = @{ Name = 'Get-CsBatchPolicyAssignmentOperation'; Parameters = @('OperationId', 'Status') }
}

# A failure the host detects itself; the worker sees it as error.type.
class DialtoneHostException : System.Exception {
    [string] $ErrorType
    DialtoneHostException([string] $errorType, [string] $message) : base($message) { $this.ErrorType = $errorType }
}

function Write-Response {
    param([System.Collections.IDictionary] $Response)
    # -Depth 7 on the envelope gives the result the 6 levels the protocol promises.
    $line = ConvertTo-Json -InputObject $Response -Depth 7 -Compress
    $script:ProtocolOut.WriteLine($line)
    $script:ProtocolOut.Flush()
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
        $request = ConvertFrom-Json -InputObject $Line -AsHashtable -NoEnumerate
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
    $splat = @{}
    foreach ($name in $parameters.Keys) {
        # Exact names only: the binder would also accept an unambiguous prefix or a common parameter.
        if ($Spec.Parameters -notcontains $name) {
            $allowed = if ($Spec.Parameters.Count -gt 0) { $Spec.Parameters -join ', ' } else { 'none' }
            throw [DialtoneHostException]::new('Dialtone.ParameterNotAllowed', "Parameter '$name' is not allowed for $($Spec.Name); allowed: $allowed.")
        }
        $splat[$name] = $parameters[$name]
    }
    $splat
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
    param([hashtable] $Spec, [hashtable] $Splat)
    $commandInfo = Get-Command -Name $Spec.Name -CommandType Cmdlet, Function -TotalCount 1 -ErrorAction Stop
    $output = & $commandInfo @Splat -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null
    if ($Spec.ContainsKey('Array')) {
        if ($null -eq $output) { return , @() }
        return , @($output)
    }
    if ($null -eq $output) { return $null }
    , $output
}

function Invoke-Request {
    param([System.Collections.IDictionary] $Request)
    $cmdlet = $Request['cmdlet']
    if ($cmdlet -isnot [string] -or $cmdlet -eq '') { throw [DialtoneHostException]::new('Dialtone.ProtocolError', 'The request has no cmdlet: cmdlet must be a non-empty string.') }
    if ($cmdlet -eq 'Exit') { return $null }
    $spec = $script:AllowList[$cmdlet]
    if ($null -eq $spec) { throw [DialtoneHostException]::new('Dialtone.CmdletNotAllowed', "The cmdlet '$cmdlet' is not on the host's allow-list.") }
    $splat = Get-Splat -Request $Request -Spec $spec
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

if ($env:DIALTONE_PWSH_SKIP_IMPORT -ne '1') {
    try {
        Import-Module -Name MicrosoftTeams -ErrorAction Stop 3>$null 4>$null 5>$null 6>$null
    } catch {
        [Console]::Error.WriteLine("dialtone-pwsh: Import-Module MicrosoftTeams failed: $($_.Exception.Message)")
        exit 1
    }
}

Write-Response -Response ([ordered]@{ type = 'ready'; protocol = 1; host = 'dialtone-pwsh'; pid = $PID })

while ($true) {
    $line = [Console]::In.ReadLine()
    if ($null -eq $line) {
        # The worker closed stdin without Exit: leave the Teams session tidy all the same.
        Invoke-Disconnect
        break
    }
    if (Invoke-Line -Line $line) { break }
}
