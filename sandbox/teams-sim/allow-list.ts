/**
 * The pwsh host's allow-list (docs/PWSH-PROTOCOL.md) and how each cmdlet counts in the
 * metrics and latency model. Kept free of other imports: the stand-in process loads it.
 */
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
  'Exit',
] as const;
export type AllowedCmdlet = (typeof allowedCmdlets)[number];

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
