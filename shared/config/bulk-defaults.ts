/** People the worker keeps in flight on its bulk path by default (DIALTONE_BULK_USERS); `dialtone sandbox run` runs with the same. */
export const DEFAULT_BULK_USERS = 500;
