/**
 * Issue 16: an Entra token failure of a registered tenant's ClientCertificateCredential is not
 * always a configuration error. Misconfiguration (invalid client, certificate not registered,
 * consent missing, tenant not found) stays permanent (ConfigInvalid, dead-lettered) and names the
 * AADSTS code; network errors, timeouts, 5xx and 429 from the token endpoint are transient and
 * take the normal transient path (the message is rescheduled).
 *
 * The errors below are the ones @azure/identity 4 really throws from ClientCertificateCredential:
 * MSAL's ServerError / NetworkError / AuthError go through identity's handleMsalError, which turns
 * them into an AuthenticationRequiredError carrying only MSAL's message (no status, no cause);
 * AuthenticationError (statusCode, errorResponse.error / errorCodes) and CredentialUnavailableError
 * come from identity's own token requests and endpoint resolution.
 */
import { AuthenticationError, AuthenticationRequiredError, CredentialUnavailableError, type TokenCredential } from '@azure/identity';
import { AuthError, ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { createGraphDirectory } from '../../shared/adapters/graph-directory.js';
import { tenantGraphCredentials } from '../../shared/adapters/tenant-graph-credentials.js';
import { classifyTokenFailure, tokenFailureFacts } from '../../shared/domain/token-failure.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { effectiveTenants, implicitTenant, type Tenant } from '../../shared/domain/tenants.js';
import { makeTestPfx } from '../worker/helpers/certificates.js';

const HOME = '99999999-9999-4999-8999-999999999999';
const A = '11111111-1111-4111-8111-111111111111';
const APP_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const scopes = ['https://graph.microsoft.com/.default'];

/** What identity's handleMsalError makes of an MSAL error: an AuthenticationRequiredError with its message alone. */
const viaIdentity = (msal: Error): Error => new AuthenticationRequiredError({ scopes, message: msal.message });

/** MSAL's ServerError as ResponseHandler.validateTokenResponse builds it from the token endpoint's JSON. */
function msalServerError(error: string, codes: number[], description: string, status: number): Error {
  const errString = `Error(s): ${codes.join(',')} - Timestamp: 2026-12-02 05:00:00Z - Description: ${description} - Correlation ID: c0ffee00-0000-4000-8000-000000000000 - Trace ID: 7ace0000-0000-4000-8000-000000000000`;
  return new ServerError(error, 'c0ffee00-0000-4000-8000-000000000000', errString, '', codes[0] === undefined ? undefined : String(codes[0]), status);
}

const misconfigurations = [
  { what: 'invalid client (app not in the tenant)', code: '700016', error: viaIdentity(msalServerError('unauthorized_client', [700016], `AADSTS700016: Application with identifier '${APP_A}' was not found in the directory 'Contoso'.`, 400)) },
  { what: 'certificate not registered on the app', code: '700027', error: viaIdentity(msalServerError('invalid_client', [700027], 'AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.', 401)) },
  { what: 'consent missing', code: '65001', error: viaIdentity(msalServerError('invalid_grant', [65001], "AADSTS65001: The user or administrator has not consented to use the application with ID '…'.", 400)) },
  { what: 'tenant not found', code: '90002', error: viaIdentity(msalServerError('invalid_request', [90002], `AADSTS90002: Tenant '${A}' not found.`, 400)) },
  {
    what: 'an AuthenticationError naming the code only in error_codes',
    code: '7000215',
    error: new AuthenticationError(401, { error: 'invalid_client', error_description: 'Invalid client secret provided.', error_codes: [7000215] }),
  },
];

const networkFailures = [
  { what: 'a network error (DNS, reset)', error: viaIdentity(new AuthError('network_error', '', 'Network request failed: fetch failed, additionalErrorInfo: error.name:TypeError, error.message:getaddrinfo EAI_AGAIN login.microsoftonline.com')) },
  { what: 'a timeout', error: viaIdentity(new AuthError('network_error', '', 'Request timeout')) },
  { what: 'a plain socket error', error: Object.assign(new Error('connect ECONNREFUSED 20.190.0.1:443'), { code: 'ECONNREFUSED' }) },
  { what: 'endpoints that cannot be resolved (the authority is unreachable)', error: new CredentialUnavailableError('endpoints_resolution_error: Endpoints cannot be resolved') },
];

const serviceFailures = [
  { what: '503 from the token endpoint (AuthenticationError)', status: 503, error: new AuthenticationError(503, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.', error_codes: [90033] }) },
  { what: '500 server_error via MSAL', status: 500, error: viaIdentity(msalServerError('server_error', [50000], 'AADSTS50000: There was an error issuing a token or an issue with our sign-in service.', 500)) },
  { what: '429 from the token endpoint (AuthenticationError)', status: 429, error: new AuthenticationError(429, { error: 'too_many_requests', error_description: 'Too many requests.' }) },
  { what: 'a 5xx page that is not JSON (MSAL cannot parse it)', status: 502, error: viaIdentity(new AuthError('token_parsing_error', '', 'Failed to parse response: Unexpected token < in JSON at position 0')) },
];

describe('classifyTokenFailure (pure): what a token failure of the token endpoint means', () => {
  for (const { what, code, error } of misconfigurations) {
    it(`keeps a misconfiguration permanent and names its AADSTS code: ${what}`, () => {
      const verdict = classifyTokenFailure(tokenFailureFacts(error));
      expect(verdict).toMatchObject({ transient: false, aadsts: `AADSTS${code}` });
      expect(verdict.fix.length).toBeGreaterThan(10);
    });
  }
  it('says what to fix for each kind of misconfiguration', () => {
    const fix = (i: number) => classifyTokenFailure(tokenFailureFacts(misconfigurations[i]!.error)).fix;
    expect(fix(0)).toMatch(/consent/i);
    expect(fix(1)).toMatch(/certificate.*registered|upload/i);
    expect(fix(2)).toMatch(/consent/i);
    expect(fix(3)).toMatch(/tenant id/i);
  });
  for (const { what, error } of networkFailures) {
    it(`makes a network failure of the token endpoint transient: ${what}`, () => {
      expect(classifyTokenFailure(tokenFailureFacts(error))).toMatchObject({ transient: true, throttled: false });
    });
  }
  for (const { what, status, error } of serviceFailures) {
    it(`makes a 5xx or 429 of the token endpoint transient: ${what}`, () => {
      expect(classifyTokenFailure(tokenFailureFacts(error))).toMatchObject({ transient: true, throttled: status === 429 });
    });
  }
  it('keeps an unknown failure permanent, as before, with its message', () => {
    const verdict = classifyTokenFailure(tokenFailureFacts(new Error('something else entirely')));
    expect(verdict).toMatchObject({ transient: false, aadsts: undefined });
  });
  it('reads the AADSTS code and status through the cause chain', () => {
    const wrapped = new Error('outer', { cause: new AuthenticationError(400, { error: 'invalid_client', error_description: 'AADSTS700027: Client assertion contains an invalid signature.', error_codes: [700027] }) });
    expect(classifyTokenFailure(tokenFailureFacts(wrapped))).toMatchObject({ transient: false, aadsts: 'AADSTS700027' });
  });
});

describe('a registered tenant\'s credential: permanent token failures are ConfigInvalid, transient ones take the transient path', () => {
  const tenant: Tenant = {
    tenantId: A,
    displayName: 'Contoso',
    applicationId: APP_A,
    certificateName: 'contoso-graph',
    pools: [],
    upnDomains: [],
    teamsBackend: 'powershell',
    sessionLimit: 3,
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
  };
  const tenants = effectiveTenants([tenant], implicitTenant({ tenantId: HOME }));
  const now = Date.parse('2026-11-02T08:00:00Z');
  const pfx = makeTestPfx({ commonName: 'contoso-graph', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 365 * 86_400_000) });
  const homeCredential: TokenCredential = { getToken: async () => ({ token: 'home', expiresOnTimestamp: now + 3_600_000 }) };
  const credentialsFailingWith = (error: Error) =>
    tenantGraphCredentials({
      home: { tenantId: HOME, credential: homeCredential },
      tenants: async () => tenants,
      vault: { url: 'https://kv/', secrets: { getSecret: async () => ({ value: pfx, properties: {} }) } },
      now: () => now,
      makeCredential: () => ({ getToken: async () => Promise.reject(error) }),
    });
  /** A Graph read of tenant A through the real Graph client; its fetch must never be reached. */
  async function readUser(error: Error): Promise<unknown> {
    const credential = await credentialsFailingWith(error).forTenant(A);
    const fetched: string[] = [];
    const directory = createGraphDirectory({
      baseUrl: 'https://graph.microsoft.com/v1.0',
      credential,
      fetch: async (input) => {
        fetched.push(String(input));
        return new Response('{}', { status: 500 });
      },
    });
    const outcome = await directory.getUser('someone').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(fetched).toEqual([]);
    return outcome;
  }

  it('dead-letters a misconfigured tenant\'s Graph read as ConfigInvalid naming the tenant, the app, the AADSTS code and the fix', async () => {
    for (const { code, error } of misconfigurations) {
      const failure = await readUser(error);
      expect(failure).toBeInstanceOf(DialtoneError);
      expect(failure).toMatchObject({ code: 'ConfigInvalid', transient: false });
      expect((failure as Error).message).toContain(`tenant ${A} (Contoso)`);
      expect((failure as Error).message).toContain(`app ${APP_A}`);
      expect((failure as Error).message).toContain(`AADSTS${code}`);
    }
  });

  it('makes a Graph read whose tenant token failed on the network, a timeout, a 5xx or a 429 transient (rescheduled), naming the tenant', async () => {
    for (const { error } of [...networkFailures, ...serviceFailures]) {
      const failure = await readUser(error);
      expect(failure).toBeInstanceOf(DialtoneError);
      expect(failure).toMatchObject({ transient: true });
      expect(['ServiceUnavailable', 'Throttled']).toContain((failure as DialtoneError).code);
      expect((failure as DialtoneError).retryAfterMs).toBeGreaterThan(0);
      expect((failure as Error).message).toContain(`tenant ${A} (Contoso)`);
    }
    const throttled = await readUser(serviceFailures[2]!.error);
    expect(throttled).toMatchObject({ code: 'Throttled' });
  });

  it('the credential itself throws the classified DialtoneError, and never the certificate', async () => {
    const credential = await credentialsFailingWith(networkFailures[0]!.error).forTenant(A);
    await expect(credential.getToken(scopes)).rejects.toMatchObject({ code: 'ServiceUnavailable', transient: true });
    const refused = await credentialsFailingWith(misconfigurations[1]!.error).forTenant(A);
    const error = (await refused.getToken(scopes).then(
      () => undefined,
      (e: unknown) => e,
    )) as DialtoneError;
    expect(error).toMatchObject({ code: 'ConfigInvalid', transient: false, details: { tenantId: A, aadsts: 'AADSTS700027' } });
    expect(error.message).not.toContain(pfx.slice(0, 40));
  });
});
