/**
 * Graph per tenant in the Functions (docs/MULTI-TENANT.md, "Graph per tenant"). The Function App's
 * managed identity reaches only its home tenant's directory; every other registered tenant is
 * reached with the deployment's multi-tenant app as that tenant knows it: the tenant's
 * `applicationId` and the certificate its registry entry names (`certificateName`), read from Key
 * Vault, in an @azure/identity ClientCertificateCredential for that tenant id.
 *
 * Each tenant's credential is made from that tenant's entry only and cached per tenant; a tenant
 * whose credential cannot be made fails with a DialtoneError naming it and the fix, for its own
 * messages only (permanent: dead-lettered with the reason; transient: rescheduled).
 */
import { ClientCertificateCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import { classifyTokenFailure, tokenFailureFacts } from '../domain/token-failure.js';
import type { EffectiveTenant } from '../domain/tenants.js';
import { perTenant, type PerTenant } from '../ports/per-tenant.js';
import { pfxToPem } from './pfx-pem.js';
import { notValidYet } from '../domain/certificate-clock.js';

/** The part of @azure/keyvault-secrets' SecretClient used here. */
export interface TenantSecretReader {
  getSecret(name: string): Promise<{ value?: string; properties: { version?: string; contentType?: string } }>;
}

export interface TenantGraphCredentialOptions {
  /** The home tenant (DIALTONE_TENANT_ID) and the Function App's identity, which reaches it. */
  home: { tenantId: string | undefined; credential: TokenCredential };
  /** The tenants in force (the registry, cached; the implicit tenant alone when nothing is registered). */
  tenants: () => Promise<readonly EffectiveTenant[]>;
  /** The Key Vault holding the tenants' certificates (DIALTONE_KEYVAULT_URL); undefined when not configured. */
  vault: { url: string; secrets: TenantSecretReader } | undefined;
  now: () => number;
  /** How to make a tenant's credential (default: ClientCertificateCredential). */
  makeCredential?: (tenantId: string, clientId: string, pem: string) => TokenCredential;
  /** A credential that could not be made is tried again after this long (default 60 s), not on every message. */
  retryRefusedMs?: number;
  /** The certificate is read again after this long, so a rotation is picked up (default 1 h). */
  reloadMs?: number;
}

/** How long a message waits after a transient token failure (the token endpoint sends no Retry-After MSAL keeps). */
const TOKEN_RETRY_AFTER_MS = 30_000;

interface Cached {
  at: number;
  credential?: Promise<TokenCredential>;
  refused?: DialtoneError;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** One token credential per tenant: the home identity for the home tenant, a certificate credential for each other one. */
export function tenantGraphCredentials(options: TenantGraphCredentialOptions): PerTenant<TokenCredential> {
  const cache = new Map<string, Cached>();
  const retryMs = options.retryRefusedMs ?? 60_000;
  const reloadMs = options.reloadMs ?? 60 * 60_000;
  const home = options.home.tenantId?.toLowerCase();
  const make = options.makeCredential ?? ((tenantId, clientId, pem) => new ClientCertificateCredential(tenantId, clientId, { certificate: pem }));

  const build = async (tenant: EffectiveTenant): Promise<TokenCredential> => {
    const who = `tenant ${tenant.tenantId} (${tenant.displayName})`;
    if (!options.vault) {
      throw new DialtoneError('ConfigInvalid', `${who}: its directory is reached with its certificate '${tenant.certificateName}' from Key Vault, and DIALTONE_KEYVAULT_URL is not set on the Function App. Set it (and give the Function App's identity Key Vault Secrets User), then replay.`, { details: { tenantId: tenant.tenantId } });
    }
    const what = `Key Vault ${options.vault.url} certificate '${tenant.certificateName}' of ${who}`;
    let secret: Awaited<ReturnType<TenantSecretReader['getSecret']>>;
    try {
      secret = await options.vault.secrets.getSecret(tenant.certificateName);
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) throw new DialtoneError('CertificateInvalid', `${what} does not exist: import it (dialtone tenants show ${tenant.tenantId} names it), then replay.`, { details: { tenantId: tenant.tenantId } });
      if (status === 401 || status === 403) {
        throw new DialtoneError('CertificateInvalid', `${what} cannot be read: the Function App's identity needs Key Vault Secrets User on the vault; then replay.`, { details: { tenantId: tenant.tenantId } });
      }
      throw new DialtoneError('CertificateInvalid', `${what} cannot be read now: ${error instanceof Error ? error.message : String(error)}`, { transient: true, details: { tenantId: tenant.tenantId } });
    }
    if (!secret.value) throw new DialtoneError('CertificateInvalid', `${what} has no value.`, { details: { tenantId: tenant.tenantId } });
    if (secret.properties.contentType !== undefined && secret.properties.contentType !== 'application/x-pkcs12') {
      throw new DialtoneError('CertificateInvalid', `${what} is stored as ${secret.properties.contentType}; set the certificate policy's content type to application/x-pkcs12.`, { details: { tenantId: tenant.tenantId } });
    }
    const cert = pfxToPem(secret.value, null, what);
    const now = options.now();
    if (notValidYet(cert.notBefore, now)) throw new DialtoneError('CertificateInvalid', `${what} (${cert.thumbprint}) is not valid before ${cert.notBefore.toISOString()}.`, { details: { tenantId: tenant.tenantId } });
    if (now >= cert.notAfter.getTime()) throw new DialtoneError('CertificateInvalid', `${what} (${cert.thumbprint}) expired on ${cert.notAfter.toISOString()}: renew it in Key Vault, then replay.`, { details: { tenantId: tenant.tenantId } });
    return explainTokenFailures(make(tenant.tenantId, tenant.applicationId, cert.pem), tenant);
  };

  return perTenant(async (tenantId) => {
    const id = tenantId?.toLowerCase();
    if (id === undefined || id === home) return options.home.credential;
    const tenant = (await options.tenants()).find((t) => t.tenantId === id);
    if (!tenant) {
      throw new DialtoneError('ConfigInvalid', `tenant ${id} is not a tenant of this deployment (dialtone tenants list); add it, then replay.`, { details: { tenantId: id } });
    }
    // The implicit tenant of a deployment without a registry is the home tenant.
    if (tenant.source === 'implicit') return options.home.credential;
    const now = options.now();
    const cached = cache.get(id);
    if (cached?.refused && now - cached.at < retryMs) throw cached.refused;
    if (cached?.credential && now - cached.at < reloadMs) return cached.credential;
    const entry: Cached = { at: now, credential: build(tenant) };
    cache.set(id, entry);
    try {
      return await entry.credential!;
    } catch (error) {
      const refused = isDialtoneError(error) ? error : new DialtoneError('CertificateInvalid', `tenant ${id}: ${error instanceof Error ? error.message : String(error)}`);
      // A transient refusal (Key Vault unavailable) is asked again with the message's next retry.
      if (refused.transient) cache.delete(id);
      else cache.set(id, { at: now, refused });
      throw refused;
    }
  });
}

/**
 * A tenant's token refused by Entra ID says which tenant and app, and what usually fixes it: a
 * misconfiguration (invalid client, certificate not registered, consent missing, tenant not found)
 * is ConfigInvalid naming the AADSTS code; a network error, timeout, 5xx or 429 of the token
 * endpoint is transient (ServiceUnavailable / Throttled), so the message takes its normal retry path.
 */
function explainTokenFailures(inner: TokenCredential, tenant: EffectiveTenant): TokenCredential {
  return {
    async getToken(scopes: string | string[], getTokenOptions?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await inner.getToken(scopes, getTokenOptions);
      } catch (error) {
        throw tokenFailure(error, tenant);
      }
    },
  };
}

function tokenFailure(error: unknown, tenant: EffectiveTenant): DialtoneError {
  if (isDialtoneError(error)) return error;
  const verdict = classifyTokenFailure(tokenFailureFacts(error));
  const reason = error instanceof Error ? error.message : String(error);
  const who = `tenant ${tenant.tenantId} (${tenant.displayName}): app ${tenant.applicationId}`;
  const details = { tenantId: tenant.tenantId, applicationId: tenant.applicationId, ...(verdict.aadsts ? { aadsts: verdict.aadsts } : {}) };
  if (verdict.transient) {
    return new DialtoneError(verdict.throttled ? 'Throttled' : 'ServiceUnavailable', `${who} could not get a token now: ${verdict.meaning}; ${verdict.fix}. (${reason})`, {
      transient: true,
      retryAfterMs: TOKEN_RETRY_AFTER_MS,
      details,
      cause: error,
    });
  }
  return new DialtoneError(
    'ConfigInvalid',
    `${who} could not sign in with certificate '${tenant.certificateName}'${verdict.aadsts ? ` (${verdict.aadsts}: ${verdict.meaning})` : ''}: ${reason}. Fix: ${verdict.fix}.`,
    { details, cause: error },
  );
}

/** A Graph adapter per tenant, made once per tenant credential (cached while the credential is). */
export function perTenantGraph<T>(credentials: PerTenant<TokenCredential>, make: (credential: TokenCredential) => T): PerTenant<T> {
  const made = new WeakMap<TokenCredential, T>();
  return perTenant(async (tenantId) => {
    const credential = await credentials.forTenant(tenantId);
    let adapter = made.get(credential);
    if (adapter === undefined) {
      adapter = make(credential);
      made.set(credential, adapter);
    }
    return adapter;
  });
}
