/**
 * Errors exactly as the pwsh host reports them (docs/PWSH-PROTOCOL.md): the PowerShell
 * exception type, message, category and FullyQualifiedErrorId. Messages follow what the
 * MicrosoftTeams module prints, because the worker classifies errors by them.
 */
export interface HostError {
  type: string;
  message: string;
  category?: string;
  fullyQualifiedErrorId?: string;
}

export class CmdletError extends Error {
  override readonly name = 'CmdletError';
  constructor(readonly hostError: HostError) {
    super(hostError.message);
  }
}

export const REST_EXCEPTION = 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException';
const PARAMETER_BINDING = 'System.Management.Automation.ParameterBindingException';

function rest(status: string, cmdlet: string, message: string): CmdletError {
  return new CmdletError({ type: REST_EXCEPTION, message, category: 'InvalidOperation', fullyQualifiedErrorId: `${status},${cmdlet}` });
}

function binding(id: string, cmdlet: string, message: string, type = PARAMETER_BINDING): CmdletError {
  return new CmdletError({ type, message, category: 'InvalidArgument', fullyQualifiedErrorId: `${id},${cmdlet}` });
}

export const teamsErrors = {
  notConnected: (cmdlet: string) =>
    new CmdletError({
      type: 'System.UnauthorizedAccessException',
      message: 'Run Connect-MicrosoftTeams before running cmdlets.',
      category: 'AuthenticationError',
      fullyQualifiedErrorId: `System.UnauthorizedAccessException,${cmdlet}`,
    }),
  notFound: (cmdlet: string, identity: string) => rest('NotFound', cmdlet, `Management object not found for identity "${identity}".`),
  numberTaken: (cmdlet: string, number: string) =>
    rest('BadRequest', cmdlet, `Telephone Number '${number}' has already been assigned to another user`),
  numberNotInTenant: (cmdlet: string, number: string, tenantId: string) =>
    rest('BadRequest', cmdlet, `Telephone Number '${number}' is not found from tenant '${tenantId}'`),
  numberNotAssignedToUser: (cmdlet: string, number: string, userId: string) =>
    rest('BadRequest', cmdlet, `Telephone Number '${number}' is not assigned to user '${userId}'`),
  telUriRefused: (cmdlet: string, number: string) =>
    rest(
      'BadRequest',
      cmdlet,
      `Telephone Number '${number}' is not valid: pass the number in E.164 format such as +31201234567 (optionally ;ext=1234) without the 'tel:' prefix`,
    ),
  invalidNumber: (cmdlet: string, number: string) =>
    rest('BadRequest', cmdlet, `Telephone Number '${number}' is not valid: pass the number in E.164 format such as +31201234567 (optionally ;ext=1234)`),
  notLicensed: (cmdlet: string, userId: string, what: string) =>
    rest('BadRequest', cmdlet, `User '${userId}' lacks appropriate licenses to ${what}: the user is not voice-capable (no Teams Phone / MCOEV)`),
  policyNotFound: (cmdlet: string, policyType: string, name: string) =>
    rest('NotFound', cmdlet, `Cannot find policy "${name}" of type ${policyType} in scope "Tag"`),
  operationNotFound: (cmdlet: string, id: string) => rest('NotFound', cmdlet, `Batch operation '${id}' was not found`),
  throttled: (cmdlet: string) => rest('TooManyRequests', cmdlet, 'Too many requests. Please retry after some time.'),
  unavailable: (cmdlet: string) => rest('ServiceUnavailable', cmdlet, 'Service is unavailable. Please try again'),
  /** The tenant's concurrent-session limit (about 10 per tenant, FIELD-NOTES), worded as the field reports it. */
  sessionBusy: (cmdlet: string) => rest('SessionBusy', cmdlet, 'The request could not be served: session availability is Busy.'),
  unauthorized: (cmdlet: string) =>
    new CmdletError({
      type: REST_EXCEPTION,
      message: 'Unauthorized: Invalid credential. The access token has expired or is not valid; run Connect-MicrosoftTeams again.',
      category: 'AuthenticationError',
      fullyQualifiedErrorId: `Unauthorized,${cmdlet}`,
    }),
  parameterSet: (cmdlet: string) =>
    binding(
      'AmbiguousParameterSet',
      cmdlet,
      'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.',
    ),
  parameterAlreadyBound: (cmdlet: string, name: string) =>
    binding(
      'ParameterAlreadyBound',
      cmdlet,
      `Cannot bind parameter because parameter '${name}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`,
    ),
  missingParameter: (cmdlet: string, names: string[]) =>
    binding('MissingMandatoryParameter', cmdlet, `Cannot process command because of one or more missing mandatory parameters: ${names.join(' ')}.`),
  unknownParameter: (cmdlet: string, name: string) =>
    binding('NamedParameterNotFound', cmdlet, `A parameter cannot be found that matches parameter name '${name}'.`),
  badArgument: (cmdlet: string, name: string, detail: string) =>
    new CmdletError({
      type: 'System.Management.Automation.ParameterBindingValidationException',
      message: `Cannot validate argument on parameter '${name}'. ${detail}`,
      category: 'InvalidData',
      fullyQualifiedErrorId: `ParameterArgumentValidationError,${cmdlet}`,
    }),
  connectFailed: (message: string, type = 'Microsoft.Identity.Client.MsalServiceException') =>
    new CmdletError({ type, message, category: 'AuthenticationError', fullyQualifiedErrorId: 'Connect-MicrosoftTeams' }),
  notAllowedInScope: (cmdlet: string, scope: string) =>
    new CmdletError({
      type: 'Dialtone.CmdletNotAllowed',
      message:
        scope === 'TenantSetup'
          ? `The cmdlet '${cmdlet}' is not allowed in the TenantSetup scope; nothing was run.`
          : `The cmdlet '${cmdlet}' is allowed only in a host started with -Scope TenantSetup (dialtone tenant); nothing was run.`,
    }),
  // Refusals of worker/pwsh/host.ps1 itself (Dialtone.* types carry no category): same wording.
  parameterNotAllowed: (cmdlet: string, name: string, allowed: readonly string[]) =>
    new CmdletError({
      type: 'Dialtone.ParameterNotAllowed',
      message: `Parameter '${name}' is not allowed for ${cmdlet}; allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'}.`,
    }),
  caseDuplicate: (cmdlet: string, first: string, second: string) =>
    new CmdletError({
      type: 'Dialtone.ProtocolError',
      message: `Parameters '${first}' and '${second}' of ${cmdlet} differ only in case; send each parameter once.`,
    }),
  /** `builder`: the cmdlet that builds a hashtable[] parameter's entries; `listModifier`: a hashtable parameter. */
  looseValue: (cmdlet: string, name: string, shape: { listModifier?: boolean; builder?: string } = {}) =>
    new CmdletError({
      type: 'Dialtone.ProtocolError',
      message: `Parameter '${name}' of ${cmdlet} must be ${
        shape.listModifier
          ? 'a string, number, boolean, null, an array of those, or an object of Add, Remove or Replace holding those'
          : shape.builder !== undefined
            ? `an array of objects of ${shape.builder} parameters`
            : 'a string, number, boolean, null or an array of those; an object is never passed on'
      }.`,
    }),
  identityRequired: (cmdlet: string) =>
    new CmdletError({
      type: 'Dialtone.IdentityRequired',
      message: `${cmdlet} needs a non-empty -Identity: without it the policy would be granted to the whole tenant (Global). Nothing was run.`,
    }),
  notAllowed: (cmdlet: string) =>
    new CmdletError({ type: 'Dialtone.CmdletNotAllowed', message: `The cmdlet '${cmdlet}' is not in the host's allow-list; nothing was run.` }),
};
