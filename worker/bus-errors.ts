/**
 * Errors from @azure/service-bus (and the in-memory bus, which shapes its errors the same way),
 * told apart by `name` and `code` as the SDK's isServiceBusError does, not by instanceof.
 */
export type BusErrorAction = 'noSession' | 'busy' | 'lockLost' | 'other';

export function busErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'ServiceBusError' && typeof code === 'string' ? code : undefined;
}

export function busErrorAction(error: unknown): BusErrorAction {
  switch (busErrorCode(error)) {
    case 'SessionCannotBeLocked':
    case 'ServiceTimeout':
      return 'noSession';
    case 'ServiceBusy':
    case 'QuotaExceeded':
      return 'busy';
    case 'SessionLockLost':
    case 'MessageLockLost':
      return 'lockLost';
    default:
      return 'other';
  }
}
