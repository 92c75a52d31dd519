/** Structured log fields; `correlationId` follows a person from HR event to Teams result. */
export type LogFields = Record<string, unknown> & { correlationId?: string; userId?: string };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}
