# Stand-ins for the MicrosoftTeams cmdlets, for pscheck's protocol test: each records what was
# bound to it so the test can assert what host.ps1 splatted. Not shipped, not statically checked.

$script:Calls = [System.Collections.Generic.List[object]]::new()

function Register-StubCall {
    param([string] $Cmdlet, [System.Collections.IDictionary] $Bound)
    $copy = @{}
    foreach ($key in $Bound.Keys) { $copy[$key] = $Bound[$key] }
    $script:Calls.Add([pscustomobject]@{ Cmdlet = $Cmdlet; Parameters = $copy })
}

function Get-StubCall { $script:Calls.ToArray() }

function New-StubError {
    param([string] $Message, [string] $ErrorId, [System.Management.Automation.ErrorCategory] $Category)
    [System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new($Message), $ErrorId, $Category, $null)
}

function Connect-MicrosoftTeams {
    [CmdletBinding()]
    param(
        [string] $ApplicationId,
        [string] $TenantId,
        [System.Security.Cryptography.X509Certificates.X509Certificate2] $Certificate
    )
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
    # The real module prints to the console and writes warnings; none of it may reach stdout.
    [Console]::Out.WriteLine('stub: connected (console write)')
    $PSCmdlet.WriteWarning('stub: a warning')
    $PSCmdlet.WriteInformation([System.Management.Automation.InformationRecord]::new('stub: information', 'Connect-MicrosoftTeams'))
    [pscustomobject]@{ Account = $ApplicationId; TenantId = $TenantId; Thumbprint = $Certificate.Thumbprint }
}

function Disconnect-MicrosoftTeams {
    [CmdletBinding()]
    param()
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
}

function Get-CsOnlineUser {
    [CmdletBinding()]
    param([string] $Identity, [int] $ResultSize)
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
    if ($Identity -eq 'missing') {
        # Non-terminating, as some module versions report it: -ErrorAction Stop must turn it into a failure.
        $PSCmdlet.WriteError((New-StubError -Message "Management object not found for identity '$Identity'." -ErrorId 'NotFound' -Category ObjectNotFound))
        return
    }
    [pscustomobject]@{
        Identity                 = $Identity
        UserPrincipalName        = 'zoe.muller@contoso.example'
        DisplayName              = 'Zoë Müller'
        LineURI                  = 'tel:+31201234001'
        EnterpriseVoiceEnabled   = $true
        FeatureTypes             = @('PhoneSystem')
        OnlineVoiceRoutingPolicy = [pscustomobject]@{ Authority = 'Tenant'; Name = 'VRP-NL' }
        TenantDialPlan           = $null
    }
}

function Get-CsPhoneNumberAssignment {
    [CmdletBinding()]
    param([string] $TelephoneNumber, [string] $AssignedPstnTargetId, [int] $Top, [int] $Skip)
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
    if ($AssignedPstnTargetId -eq 'nobody') { return }
    [pscustomobject]@{ TelephoneNumber = '+31201234001'; NumberType = 'DirectRouting'; AssignedPstnTargetId = $AssignedPstnTargetId; PstnAssignmentStatus = 'UserAssigned' }
}

function Set-CsPhoneNumberAssignment {
    [CmdletBinding()]
    param([string] $Identity, [string] $PhoneNumber, [string] $PhoneNumberType, $LocationId, [bool] $EnterpriseVoiceEnabled)
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
    if ($PhoneNumber -eq '+31201234003') {
        $PSCmdlet.ThrowTerminatingError((New-StubError -Message "Telephone Number '$PhoneNumber' has already been assigned to another user" -ErrorId 'BadRequest' -Category InvalidOperation))
    }
}

function Remove-CsPhoneNumberAssignment {
    [CmdletBinding()]
    param([string] $Identity, [string] $PhoneNumber, [string] $PhoneNumberType, [switch] $RemoveAll)
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
}

function Grant-CsTenantDialPlan {
    [CmdletBinding()]
    # Untyped so that the test sees $null itself: a [string] function parameter would turn it into ''.
    param([string] $Identity, [AllowNull()] $PolicyName)
    Register-StubCall -Cmdlet $MyInvocation.MyCommand.Name -Bound $PSBoundParameters
}

Export-ModuleMember -Function Get-StubCall, Connect-MicrosoftTeams, Disconnect-MicrosoftTeams, Get-CsOnlineUser,
    Get-CsPhoneNumberAssignment, Set-CsPhoneNumberAssignment, Remove-CsPhoneNumberAssignment, Grant-CsTenantDialPlan
