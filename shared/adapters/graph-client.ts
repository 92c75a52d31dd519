import type { TokenCredential } from '@azure/identity';
import { Client } from '@microsoft/microsoft-graph-client';
import type { z } from 'zod';
import { describeZodError } from '../contracts/messages.js';
import { DialtoneError } from '../domain/errors.js';
import { toGraphDialtoneError } from './graph-errors.js';
import { BearerTokenHandler, CountingFetchHandler, type FetchLike } from './graph-middleware.js';

export const graphScope = 'https://graph.microsoft.com/.default';

/** How every Graph adapter reaches Graph (or the simulator). */
export interface GraphClientOptions {
  /** https://graph.microsoft.com/v1.0 in production, http://127.0.0.1:<port>/v1.0 for the simulator. */
  baseUrl: string;
  /** Token source in production (managed identity); scope https://graph.microsoft.com/.default. */
  credential?: TokenCredential;
  /** Token source when there is no credential (the sandbox). */
  accessToken?: () => Promise<string>;
  fetch?: FetchLike;
  /** Called once per HTTP request, for metrics. */
  onRequest?: () => void;
}

/**
 * A Graph client without the SDK's RetryHandler: nothing sleeps inside a function or the CLI;
 * throttling surfaces as an error with Retry-After and the queue retries later.
 */
export function createGraphClient(options: GraphClientOptions): { client: Client; baseUrl: string } {
  const base = parseBaseUrl(options.baseUrl);
  const version = base.pathname.replace(/^\/+|\/+$/g, '');
  const client = Client.initWithMiddleware({
    baseUrl: base.origin,
    defaultVersion: version,
    middleware: [new BearerTokenHandler(tokenSource(options), base.origin), new CountingFetchHandler(options.fetch ?? fetch, options.onRequest)],
  });
  return { client, baseUrl: options.baseUrl.replace(/\/+$/, '') };
}

function parseBaseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new DialtoneError('ConfigInvalid', `Graph baseUrl is not a URL: '${raw}'`);
  }
}

function tokenSource(options: GraphClientOptions): () => Promise<string> {
  const { credential, accessToken } = options;
  if (credential) {
    return async () => {
      const token = await credential.getToken(graphScope);
      if (!token) throw new Error(`the credential returned no token for ${graphScope}`);
      return token.token;
    };
  }
  if (accessToken) return accessToken;
  throw new DialtoneError('ConfigInvalid', 'a Graph adapter needs a credential or an accessToken function');
}

export function parseGraphBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new DialtoneError('Unexpected', `Graph returned a malformed ${what}: ${describeZodError(result.error)}`);
  }
  return result.data;
}

/**
 * One Graph request as the adapters make it: a failure becomes the usual DialtoneError (with the
 * operation's name and Retry-After), `call` also checks the body against its schema.
 */
export function graphCalls(defaultRetryAfterMs: number) {
  const request = async (operation: string, run: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await run();
    } catch (error) {
      throw toGraphDialtoneError(error, operation, defaultRetryAfterMs);
    }
  };
  const call = async <T>(operation: string, run: () => Promise<unknown>, schema: z.ZodType<T>, what: string): Promise<T> =>
    parseGraphBody(schema, await request(operation, run), what);
  /** A request whose answer is not needed. */
  const send = async (operation: string, run: () => Promise<unknown>): Promise<void> => {
    await request(operation, run);
  };
  return { call, send };
}
