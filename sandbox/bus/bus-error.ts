/** Error codes of @azure/service-bus's ServiceBusError that the in-memory bus can raise. */
export type BusErrorCode =
  | 'MessagingEntityNotFound'
  | 'MessageLockLost'
  | 'SessionLockLost'
  | 'SessionCannotBeLocked'
  | 'ServiceTimeout'
  | 'MessageSizeExceeded'
  | 'ServiceBusy'
  | 'InvalidOperation';

/** Shaped like ServiceBusError (name + code) so the same `isServiceBusError`-style guards work. */
export class BusError extends Error {
  override readonly name = 'ServiceBusError';
  readonly retryable: boolean;

  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
    this.retryable = code === 'ServiceTimeout' || code === 'SessionCannotBeLocked' || code === 'ServiceBusy';
  }
}
