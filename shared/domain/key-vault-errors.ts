/**
 * What a Key Vault answer means for Dialtone, read off the RestError the Azure SDK throws
 * (@azure/keyvault-secrets, @azure/keyvault-certificates; the sandbox's simulator throws the same
 * shape): `statusCode`, `code`, the Retry-After header of a 429, and the body's inner error code.
 *
 * - 429 Throttled (Key Vault's service limits): transient; wait what Retry-After says. The SDK's
 *   own retry policy already retried it a few times, so what reaches Dialtone has lasted.
 * - 403 ForbiddenByRbac ("Caller is not authorized to perform action on resource"): the caller's
 *   role assignment on the vault is missing; permanent until someone restores it, so the message
 *   names the role to assign. A 403 for a disabled version (inner code SecretDisabled) is not that.
 */
export type KeyVaultAnswer =
  | { kind: 'throttled'; retryAfterMs: number | undefined }
  | { kind: 'forbiddenByRbac'; action: string | undefined }
  | { kind: 'disabled' }
  | { kind: 'otherForbidden' }
  | { kind: 'notFound' }
  | { kind: 'other'; statusCode: number | undefined };

interface RestErrorLike {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { headers?: { get?: (name: string) => string | undefined | null } };
  details?: { error?: { code?: unknown; innererror?: { code?: unknown }; innerError?: { code?: unknown } } };
}

/** Retry-After as Key Vault sends it: seconds, or an HTTP date. */
export function retryAfterMsOf(error: unknown, nowMs: number = Date.now()): number | undefined {
  const raw = (error as RestErrorLike | undefined)?.response?.headers?.get?.('retry-after');
  if (raw === undefined || raw === null || raw.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function classifyKeyVaultAnswer(error: unknown): KeyVaultAnswer {
  const e = (error ?? {}) as RestErrorLike;
  const statusCode = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (statusCode === 429) return { kind: 'throttled', retryAfterMs: retryAfterMsOf(error) };
  if (statusCode === 404) return { kind: 'notFound' };
  if (statusCode === 401 || statusCode === 403) {
    const inner = e.details?.error?.innererror?.code ?? e.details?.error?.innerError?.code;
    const message = typeof e.message === 'string' ? e.message : '';
    if (inner === 'SecretDisabled' || inner === 'CertificateDisabled' || /disabled (secret|certificate)/i.test(message)) return { kind: 'disabled' };
    if (statusCode === 401 || inner === 'ForbiddenByRbac' || e.code === 'ForbiddenByRbac' || /not authorized to perform action|ForbiddenByRbac/i.test(message)) {
      return { kind: 'forbiddenByRbac', action: /Action: '([^']+)'/.exec(message)?.[1] };
    }
    return { kind: 'otherForbidden' };
  }
  return { kind: 'other', statusCode };
}

/** How long to wait before the next try of a throttled call, or undefined to give up: bounded tries, each wait capped. */
export const keyVaultThrottlePolicy = { maxTries: 4, minWaitMs: 1000, maxWaitMs: 60_000, defaultWaitMs: 5000 } as const;

export function throttleWaitMs(retryAfterMs: number | undefined, tries: number, policy: typeof keyVaultThrottlePolicy = keyVaultThrottlePolicy): number | undefined {
  if (tries >= policy.maxTries) return undefined;
  return Math.min(policy.maxWaitMs, Math.max(policy.minWaitMs, retryAfterMs ?? policy.defaultWaitMs * 2 ** (tries - 1)));
}

/** "on the vault https://…": the vault the role is missing on. */
export const onTheVault = (vaultUrl: string): string => `on the vault ${vaultUrl.replace(/\/$/, '')}`;

/**
 * The actionable sentence for a 403 ForbiddenByRbac: who needs which role where. Never the error's
 * own text beyond the data action (it names the caller's ids, not a secret, but adds nothing).
 */
export function missingRoleMessage(what: string, who: string, role: string, vaultUrl: string, action: string | undefined): string {
  return `${what}: Key Vault refused it (403 ForbiddenByRbac${action ? `, ${action}` : ''}): ${who} needs the ${role} role ${onTheVault(vaultUrl)} (a role assignment can take up to 10 minutes to take effect).`;
}
