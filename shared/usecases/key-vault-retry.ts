import { classifyKeyVaultAnswer, throttleWaitMs } from '../domain/key-vault-errors.js';

/**
 * Runs one Key Vault call, tried again while Key Vault answers 429 (throttled): each wait what its
 * Retry-After said (shared/domain/key-vault-errors.ts bounds the tries and caps each wait). Any
 * other answer, and the last 429, is thrown as it came. The waits go through `sleep`: real time
 * in production, the sandbox clock in the sandbox.
 */
export async function retryThrottled<T>(call: () => Promise<T>, sleep: (ms: number) => Promise<void>, onWait?: (waitMs: number, tries: number) => void): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await call();
    } catch (error) {
      const answer = classifyKeyVaultAnswer(error);
      if (answer.kind !== 'throttled') throw error;
      const waitMs = throttleWaitMs(answer.retryAfterMs, tries);
      if (waitMs === undefined) throw error;
      onWait?.(waitMs, tries);
      await sleep(waitMs);
    }
  }
}
