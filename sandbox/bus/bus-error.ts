/** Error codes of @azure/service-bus's ServiceBusError that the in-memory bus can raise. */
export type BusErrorCode =
  | 'MessagingEntityNotFound'
  | 'MessageLockLost'
  | 'SessionLockLost'
  | 'SessionCannotBeLocked'
  | 'ServiceTimeout'
  | 'MessageSizeExceeded'
  | 'ServiceBusy'
  | 'QuotaExceeded'
  | 'InvalidOperation';

/**
 * The codes whose errors the SDK marks `retryable`: @azure/core-amqp keeps `retryable = true`
 * only for the AMQP errors in its `retryableErrors` list (ServerBusyError → ServiceBusy;
 * OperationTimeoutError and ServiceUnavailableError → ServiceTimeout). QuotaExceededError,
 * the lock errors, SessionCannotBeLockedError, MessageTooLargeError and the rest are not.
 */
const RETRYABLE: ReadonlySet<BusErrorCode> = new Set(['ServiceBusy', 'ServiceTimeout']);

/** Shaped like ServiceBusError (name + code + retryable) so the same `isServiceBusError`-style guards work. */
export class BusError extends Error {
  override readonly name = 'ServiceBusError';
  readonly retryable: boolean;

  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
    this.retryable = RETRYABLE.has(code);
  }
}
