/** Small named values that survive between timer runs (the Graph delta link). */
export interface SyncState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}
