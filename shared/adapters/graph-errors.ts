import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import { throttledTokenErrorName, tokenErrorName, transientTokenErrorName } from './graph-middleware.js';

/** The parts of the Graph SDK's GraphError this module reads. */
interface GraphErrorLike {
  statusCode: number;
  code: string | null;
  message: string;
  requestId?: string | null;
  headers?: { get(name: string): string | null };
}

function isGraphErrorLike(value: unknown): value is GraphErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { statusCode?: unknown }).statusCode === 'number';
}

/** Retry-After in seconds or as an HTTP date (measured against the response's Date header). */
export function retryAfterMs(headers: GraphErrorLike['headers'], fallbackMs: number): number {
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return fallbackMs;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  const sent = Date.parse(headers?.get('date') ?? '');
  if (Number.isNaN(at) || Number.isNaN(sent)) return fallbackMs;
  return Math.max(0, at - sent);
}

/**
 * Turns whatever the Graph client threw into a DialtoneError: throttling and outages are
 * transient with the delay Graph asked for; other refusals are permanent and carry Graph's code.
 */
export function toGraphDialtoneError(error: unknown, operation: string, defaultRetryAfterMs: number): DialtoneError {
  if (isDialtoneError(error)) return error;
  if (!isGraphErrorLike(error)) {
    return new DialtoneError('Unexpected', `Graph ${operation} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const status = error.statusCode;
  const details = { operation, status, graphCode: error.code ?? undefined, requestId: error.requestId ?? undefined };
  if (status === 429) {
    return new DialtoneError('Throttled', `Graph throttled ${operation}: ${describe(error)}`, {
      transient: true,
      retryAfterMs: retryAfterMs(error.headers, defaultRetryAfterMs),
      details,
    });
  }
  if (status >= 500 || status === 408) {
    return new DialtoneError('ServiceUnavailable', `Graph ${operation} failed: ${describe(error)}`, {
      transient: true,
      retryAfterMs: retryAfterMs(error.headers, defaultRetryAfterMs),
      details,
    });
  }
  if (status === -1 && (error.code === transientTokenErrorName || error.code === throttledTokenErrorName)) {
    return new DialtoneError(error.code === throttledTokenErrorName ? 'Throttled' : 'ServiceUnavailable', `Graph ${operation}: ${error.message}`, {
      transient: true,
      retryAfterMs: defaultRetryAfterMs,
      details,
    });
  }
  if (status === -1 && error.code === tokenErrorName) {
    return new DialtoneError('ConfigInvalid', error.message, { details });
  }
  if (status === -1 && error.code === 'DialtoneError') {
    return new DialtoneError('Unexpected', `Graph ${operation} failed: ${error.message}`, { details });
  }
  if (status === -1) {
    return new DialtoneError('ServiceUnavailable', `Graph ${operation} could not reach Graph: ${error.message}`, {
      transient: true,
      retryAfterMs: defaultRetryAfterMs,
      details,
    });
  }
  return new DialtoneError('Unexpected', `Graph ${operation} failed: ${describe(error)}`, { details });
}

function describe(error: GraphErrorLike): string {
  const head = `${error.statusCode}${error.code ? ` ${error.code}` : ''}`;
  return error.message ? `${head}: ${error.message}` : head;
}
