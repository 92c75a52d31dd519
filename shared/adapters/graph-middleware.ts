import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Raised inside the middleware chain; the Graph client wraps it, so it is recognised by name. */
export const tokenErrorName = 'GraphTokenError';
/** The same for a token failure its credential called transient (a DialtoneError with `transient`): network, timeout, 5xx. */
export const transientTokenErrorName = 'GraphTokenTransientError';
/** … and for one the token endpoint throttled (429). */
export const throttledTokenErrorName = 'GraphTokenThrottledError';

/**
 * Puts the bearer token on every request. Unlike the SDK's AuthenticationHandler it also works
 * for the loopback simulator (plain http), and it refuses to send the token to any other origin
 * than the configured Graph endpoint (a nextLink pointing elsewhere).
 */
export class BearerTokenHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly getToken: () => Promise<string>,
    private readonly origin: string,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    if (new URL(url).origin !== this.origin) {
      throw new DialtoneError('Unexpected', `Refusing to send the Graph token to ${new URL(url).origin}`);
    }
    let token: string;
    try {
      token = await this.getToken();
    } catch (error) {
      const failure = new Error(`Could not get a Microsoft Graph access token: ${error instanceof Error ? error.message : String(error)}`);
      // The Graph client keeps only the name and message of what a middleware throws.
      failure.name = isDialtoneError(error) && error.transient ? (error.code === 'Throttled' ? throttledTokenErrorName : transientTokenErrorName) : tokenErrorName;
      throw failure;
    }
    const headers = new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set('Authorization', `Bearer ${token}`);
    context.options = { ...context.options, headers };
    if (!this.next) throw new Error('BearerTokenHandler needs a next middleware');
    await this.next.execute(context);
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * The last link: one fetch per request and nothing else. There is deliberately no RetryHandler
 * before it: Dialtone retries by rescheduling the message, honouring Retry-After, so no request
 * ever sleeps in process.
 */
export class CountingFetchHandler implements Middleware {
  constructor(
    private readonly fetchImpl: FetchLike,
    private readonly onRequest: (() => void) | undefined,
  ) {}

  async execute(context: Context): Promise<void> {
    this.onRequest?.();
    context.response = await this.fetchImpl(context.request as string | Request, context.options as RequestInit | undefined);
  }
}
