/**
 * The pwsh host's allow-list (docs/PWSH-PROTOCOL.md) and how each cmdlet counts in the
 * metrics and latency model. Kept free of other imports: the stand-in process loads it.
 */
/** The tenant-wide set-up cmdlets, run only by a host started with `-Scope TenantSetup`. */
const tenantSetupOnly = [
  'Get-CsOnlinePstnUsage',
  'Set-CsOnlinePstnUsage',
  'Get-CsOnlineVoiceRoute',
  'New-CsOnlineVoiceRoute',
  'Set-CsOnlineVoiceRoute',
  'New-CsOnlineVoiceRoutingPolicy',
  'Set-CsOnlineVoiceRoutingPolicy',
  'New-CsTenantDialPlan',
  'Set-CsTenantDialPlan',
  'New-CsVoiceNormalizationRule',
  'New-CsCallingLineIdentity',
  'Set-CsCallingLineIdentity',
  'Remove-CsCallingLineIdentity',
  'Remove-CsTenantDialPlan',
  'Remove-CsOnlineVoiceRoutingPolicy',
  'Remove-CsOnlineVoiceRoute',
] as const;

export const allowedCmdlets = [
  'Connect-MicrosoftTeams',
  'Disconnect-MicrosoftTeams',
  'Get-CsOnlineUser',
  'Get-CsPhoneNumberAssignment',
  'Set-CsPhoneNumberAssignment',
  'Remove-CsPhoneNumberAssignment',
  'Grant-CsCallingLineIdentity',
  'Grant-CsOnlineVoiceRoutingPolicy',
  'Grant-CsTenantDialPlan',
  'Grant-CsTeamsCallingPolicy',
  'Grant-CsOnlineVoicemailPolicy',
  'Grant-CsTeamsEmergencyCallRoutingPolicy',
  'Get-CsCallingLineIdentity',
  'Get-CsOnlineVoiceRoutingPolicy',
  'Get-CsTenantDialPlan',
  'New-CsBatchPolicyAssignmentOperation',
  'Get-CsBatchPolicyAssignmentOperation',
  ...tenantSetupOnly,
  'Exit',
] as const;
export type AllowedCmdlet = (typeof allowedCmdlets)[number];

/**
 * The host's scopes (docs/PWSH-PROTOCOL.md): the worker's host (`Worker`, the default) runs the
 * per-person cmdlets; a host started with `-Scope TenantSetup` (only by `dialtone tenant …`) runs
 * the tenant-wide set-up cmdlets. Neither runs the other's: a voice command can never change the
 * tenant's routing, and tenant set-up never touches a person.
 */
export type HostScope = 'Worker' | 'TenantSetup';
export const hostScopes: readonly HostScope[] = ['Worker', 'TenantSetup'];

const bothScopes: readonly AllowedCmdlet[] = [
  'Connect-MicrosoftTeams',
  'Disconnect-MicrosoftTeams',
  'Exit',
  'Get-CsCallingLineIdentity',
  'Get-CsOnlineVoiceRoutingPolicy',
  'Get-CsTenantDialPlan',
];
export const tenantSetupCmdlets: readonly AllowedCmdlet[] = tenantSetupOnly;
/** Run only by the host itself, to build a parameter's objects from data (NormalizationRules); never a request. */
export const buildOnlyCmdlets: readonly AllowedCmdlet[] = ['New-CsVoiceNormalizationRule'];

export function allowedInScope(cmdlet: AllowedCmdlet, scope: HostScope): boolean {
  if (bothScopes.includes(cmdlet)) return true;
  return tenantSetupCmdlets.includes(cmdlet) === (scope === 'TenantSetup');
}

export type CmdletKind = 'connect' | 'session' | 'read' | 'write';

/** PowerShell resolves command names case-insensitively; the allow-list does too. */
export function canonicalCmdlet(name: string): AllowedCmdlet | undefined {
  const lower = name.toLowerCase();
  return allowedCmdlets.find((c) => c.toLowerCase() === lower);
}

export function cmdletKind(cmdlet: AllowedCmdlet): CmdletKind {
  if (cmdlet === 'Connect-MicrosoftTeams') return 'connect';
  if (cmdlet === 'Disconnect-MicrosoftTeams' || cmdlet === 'Exit') return 'session';
  return /^(Set|Remove|Grant|New)-/.test(cmdlet) ? 'write' : 'read';
}
