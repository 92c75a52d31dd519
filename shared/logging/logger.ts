import type { LogFields, Logger } from '../ports/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values never reach a log line, whatever nests them. */
const SECRET_KEY =
  /pfx|password|passwd|pwd|secret|certificate|privatekey|private_key|token|authorization|cookie|connectionstring|clientstate|accountkey|sharedaccess|apikey|api_key|signature|credential/i;

/** Deeper than this, nothing is logged: an unknown shape is not trusted (fail closed). */
export const MAX_LOG_DEPTH = 8;
const MAX_STRING = 8_192;

/**
 * Secrets inside string values, whatever the key: bearer tokens and JWTs, PEM blocks, long
 * base64 runs (a PFX or key), secrets in connection strings and in URL query strings (the
 * webhook's function key), and `Password=` style pairs. Each is replaced, the rest is kept.
 */
const VALUE_PATTERNS: [RegExp, string][] = [
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, '[redacted PEM]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, '$1 [redacted]'],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted JWT]'],
  [/[A-Za-z0-9+/]{120,}={0,2}/g, '[redacted base64]'],
  [
    /\b(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret|client_secret|sig|code|access_token|refresh_token|token|clientState|secret|key)=([^;&\s"']+)/gi,
    '$1=[redacted]',
  ],
];

export function scrub(text: string, known: readonly string[] = []): string {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…[truncated]` : text;
  for (const secret of known) if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  for (const [pattern, replacement] of VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * What may be logged of a value: secret keys redacted whatever their depth, secrets inside
 * strings scrubbed, binary data never written, and anything deeper than MAX_LOG_DEPTH or
 * circular replaced by a marker instead of being passed through.
 */
export function redact(value: unknown, known: readonly string[] = [], depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrub(value, known);
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? `[${typeof value}]` : value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes redacted]`;
  if (depth >= MAX_LOG_DEPTH) return '[redacted: nested too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: scrub(value.message, known),
      ...(code !== undefined ? { code: redact(code, known, depth + 1, seen) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, known, depth + 1, seen));
  if (value instanceof Map) return redact(Object.fromEntries(value), known, depth + 1, seen);
  if (value instanceof Set) return redact([...value], known, depth + 1, seen);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(inner, known, depth + 1, seen);
  }
  return out;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
  base?: LogFields;
  /** Values known to be secret (the Graph clientState): scrubbed wherever they appear. */
  secrets?: readonly string[];
}

/** One JSON object per line, secrets redacted by key and by value; fails closed on unknown shapes. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const base = options.base ?? {};
  const known = options.secrets ?? [];
  const emit = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (order[at] < order[level]) return;
    const record = redact({ ...base, ...fields }, known) as Record<string, unknown>;
    write(JSON.stringify({ time: now().toISOString(), level: at, message: scrub(message, known), ...record }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}
/** A logger that keeps its lines in memory (tests and the sandbox report). */
export function createMemoryLogger(level: LogLevel = 'debug', onLine?: (line: string) => void): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createJsonLogger({
    level,
    write: (line) => {
      lines.push(line);
      onLine?.(line);
    },
  });
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
