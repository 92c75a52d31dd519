/**
 * What a failure to get an Entra ID token means (issue 16): a misconfiguration that no retry
 * fixes (dead-letter it, name the AADSTS code and the fix), or a passing failure of the token
 * endpoint (network, timeout, 5xx, 429) that the message's normal transient path retries.
 *
 * Pure: it reads facts taken from the error (see `tokenFailureFacts`) and nothing else.
 *
 * @azure/identity 4's ClientCertificateCredential passes MSAL's errors through handleMsalError,
 * which keeps only MSAL's message for a ServerError / NetworkError / AuthError (an
 * AuthenticationRequiredError without status or cause): the message then carries the OAuth error
 * (`invalid_client: …`), the `Error(s): 700027` list and the `AADSTS…` description, or
 * `network_error` / `token_parsing_error`. An AuthenticationError carries `statusCode` and
 * `errorResponse.error` / `errorCodes`; a CredentialUnavailableError means the authority's
 * endpoints could not be resolved (an unreachable authority).
 */

/** Facts about one token failure, from the error and its cause chain. */
export interface TokenFailureFacts {
  /** Error names along the cause chain (AuthenticationError, CredentialUnavailableError, …). */
  names: string[];
  /** Messages along the cause chain. */
  messages: string[];
  /** The HTTP status of the token endpoint, when an error says it. */
  status?: number;
  /** The OAuth `error` (invalid_client, temporarily_unavailable, …) or MSAL error code. */
  oauthErrors: string[];
  /** Entra's error codes (`error_codes`, `AADSTS<n>` in a description). */
  errorCodes: number[];
}

export interface TokenFailureVerdict {
  transient: boolean;
  /** 429 (or a throttling code): the transient path as throttling. */
  throttled: boolean;
  /** The first AADSTS code named, as `AADSTS<n>`. */
  aadsts: string | undefined;
  /** What it means, in a few words. */
  meaning: string;
  /** What the operator should do (permanent failures); what happens next (transient ones). */
  fix: string;
}

const CONSENT = 'an administrator of the tenant must grant admin consent to the app (the Graph application permissions of docs/DEPLOYMENT.md)';
const CERT = 'upload the public certificate of the Key Vault certificate to the app registration (Certificates & secrets), then replay';
const TENANT = 'check the tenant id registered for it (dialtone tenants show)';

/** Misconfiguration codes that are common enough to explain. Any other AADSTS code is permanent too, unless transient below. */
const KNOWN_PERMANENT: Record<number, { meaning: string; fix: string }> = {
  700016: { meaning: 'the app is not known in this tenant (invalid client, or no consent yet)', fix: `${CONSENT}, and check the app id registered for the tenant` },
  7000112: { meaning: 'the app is disabled in this tenant', fix: 'an administrator of the tenant must enable the app\'s service principal' },
  700027: { meaning: 'the certificate that signed the request is not registered on the app', fix: CERT },
  700024: { meaning: 'the client assertion is not within its valid time range', fix: 'check the clock of the host, then replay' },
  7000215: { meaning: 'an invalid client secret was given', fix: 'the app signs in with a certificate: check the app id registered for the tenant' },
  7000222: { meaning: 'the client secret has expired', fix: 'the app signs in with a certificate: check the app id registered for the tenant' },
  65001: { meaning: 'admin consent is missing', fix: CONSENT },
  500011: { meaning: 'Microsoft Graph has no service principal in the tenant (consent missing)', fix: CONSENT },
  90002: { meaning: 'the tenant does not exist', fix: TENANT },
  900023: { meaning: 'the tenant id is not valid', fix: TENANT },
  90023: { meaning: 'the request is not valid for this tenant', fix: TENANT },
  53003: { meaning: 'a Conditional Access policy of the tenant blocks the app', fix: 'an administrator of the tenant must exclude the app (workload identity) from that Conditional Access policy' },
};

/** Entra codes that say "try again": transient, whatever the status. */
/** 90033: "a transient error has occurred"; 50196: the same request repeated too often (a loop guard, like throttling). */
const TRANSIENT_CODES = new Set([90033, 50196]);
const TRANSIENT_OAUTH = new Set(['temporarily_unavailable', 'server_error', 'network_error', 'token_parsing_error', 'too_many_requests', 'endpoints_resolution_error']);
const PERMANENT_OAUTH = new Set(['invalid_client', 'unauthorized_client', 'invalid_request', 'invalid_grant', 'invalid_scope', 'invalid_resource', 'access_denied', 'consent_required', 'interaction_required']);
/** Node / undici network failures, as they show in a message or an error code. */
const NETWORK = /\b(ECONNRESET|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_[A-Z_]+)\b|fetch failed|socket hang up|request timeout|timed? ?out|network request failed/i;

function firstAadsts(facts: TokenFailureFacts): number | undefined {
  return facts.errorCodes.find((c) => !TRANSIENT_CODES.has(c)) ?? facts.errorCodes[0];
}

export function classifyTokenFailure(facts: TokenFailureFacts): TokenFailureVerdict {
  const code = firstAadsts(facts);
  const aadsts = code === undefined ? undefined : `AADSTS${code}`;
  const text = facts.messages.join(' | ');
  const transient = (meaning: string, throttled = false): TokenFailureVerdict => ({
    transient: true,
    throttled,
    aadsts,
    meaning,
    fix: 'the message is retried later on its normal retry path',
  });

  const status = facts.status;
  if (status === 429 || facts.oauthErrors.includes('too_many_requests')) return transient('the token endpoint throttled the request (429)', true);
  if (status !== undefined && (status >= 500 || status === 408)) return transient(`the token endpoint failed (${status})`);
  if (facts.errorCodes.some((c) => TRANSIENT_CODES.has(c)) && (code === undefined || TRANSIENT_CODES.has(code))) {
    return transient('Entra ID reported a transient error');
  }
  if (facts.oauthErrors.some((e) => TRANSIENT_OAUTH.has(e))) return transient('the token endpoint could not be reached or answered with an error page');
  if (facts.names.includes('CredentialUnavailableError')) return transient('the sign-in endpoints could not be resolved (the authority is unreachable)');
  if (code === undefined && NETWORK.test(text)) return transient('the token endpoint could not be reached');

  const known = code === undefined ? undefined : KNOWN_PERMANENT[code];
  if (known) return { transient: false, throttled: false, aadsts, meaning: known.meaning, fix: known.fix };
  if (code !== undefined || facts.oauthErrors.some((e) => PERMANENT_OAUTH.has(e)) || (status !== undefined && status >= 400)) {
    return {
      transient: false,
      throttled: false,
      aadsts,
      meaning: 'Entra ID refused the sign-in',
      fix: `check that an administrator of that tenant consented the app and that the certificate is registered on it${aadsts ? ` (look up ${aadsts})` : ''}`,
    };
  }
  return {
    transient: false,
    throttled: false,
    aadsts: undefined,
    meaning: 'the sign-in failed',
    fix: 'check that an administrator of that tenant consented the app and that the certificate is registered on it',
  };
}

const OAUTH_ERROR_AT_START = /^([a-z]+(?:_[a-z]+)+)(?::|\s+Status code:)/;
const AADSTS = /AADSTS(\d{4,8})/g;
const ERROR_LIST = /Error\(s\):\s*([\d, ]+)/;

/** The facts of a token failure: names, messages, status, OAuth errors and Entra codes along the cause chain. */
export function tokenFailureFacts(error: unknown): TokenFailureFacts {
  const facts: TokenFailureFacts = { names: [], messages: [], oauthErrors: [], errorCodes: [] };
  const codes = new Set<number>();
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    const e = current as {
      name?: unknown;
      message?: unknown;
      statusCode?: unknown;
      status?: unknown;
      httpStatus?: unknown;
      code?: unknown;
      errorCode?: unknown;
      errorNo?: unknown;
      errorResponse?: { error?: unknown; errorDescription?: unknown; errorCodes?: unknown };
      cause?: unknown;
    };
    if (typeof e.name === 'string') facts.names.push(e.name);
    const message = typeof e.message === 'string' ? e.message : typeof current === 'string' ? current : '';
    if (message) facts.messages.push(message);
    for (const s of [e.statusCode, e.status, e.httpStatus]) {
      if (facts.status === undefined && typeof s === 'number' && s >= 100 && s <= 599) facts.status = s;
    }
    for (const o of [e.errorResponse?.error, e.errorCode, typeof e.code === 'string' && /^[a-z]+(_[a-z]+)+$/.test(e.code) ? e.code : undefined]) {
      if (typeof o === 'string' && o && o !== 'unknown' && o !== 'unknown_error') facts.oauthErrors.push(o);
    }
    if (typeof e.code === 'string' && NETWORK.test(e.code)) facts.messages.push(e.code);
    const leading = OAUTH_ERROR_AT_START.exec(message)?.[1];
    if (leading) facts.oauthErrors.push(leading);
    if (Array.isArray(e.errorResponse?.errorCodes)) for (const c of e.errorResponse.errorCodes) if (typeof c === 'number') codes.add(c);
    if (typeof e.errorNo === 'string' && /^\d+$/.test(e.errorNo)) codes.add(Number(e.errorNo));
    const list = ERROR_LIST.exec(message)?.[1];
    if (list) for (const c of list.split(/[ ,]+/)) if (/^\d+$/.test(c)) codes.add(Number(c));
    const description = typeof e.errorResponse?.errorDescription === 'string' ? e.errorResponse.errorDescription : '';
    for (const m of `${message} ${description}`.matchAll(AADSTS)) codes.add(Number(m[1]));
    current = e.cause;
  }
  facts.errorCodes = [...codes];
  return facts;
}
