import { toDialtoneError } from '../shared/domain/errors.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import { checkCertificate, loadValidCertificate, type CertificateSource, type LoadedCertificate } from './certificate.js';
import { throttleWaitMs } from '../shared/domain/key-vault-errors.js';
import { realTimers, sleep, type Timers } from './timers.js';
import type { Sleeper } from '../shared/ports/sleeper.js';

export interface CertificateProviderOptions {
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  /** How often to look for a new version (0: never). */
  reloadIntervalMs: number;
  /** Called after a new version was loaded: new sessions must use it, old ones retire. */
  onRotate?: (certificate: LoadedCertificate) => void;
}

/**
 * Holds the validated certificate in memory and swaps it when the source reports a new version.
 * A new version that fails validation is refused and the current one kept, loudly.
 */
export class CertificateProvider {
  private certificate: LoadedCertificate | undefined;
  private timer: unknown;
  private stopped = false;
  private readonly timers: Timers;

  constructor(
    private readonly source: CertificateSource,
    private readonly options: CertificateProviderOptions,
  ) {
    this.timers = options.timers ?? realTimers;
    this.throttled = this.waitingOn({ sleep: (ms) => sleep(this.timers, ms) });
  }

  /** The source as the reload reads it: a 429 waited out on `timers`. */
  private readonly throttled: CertificateSource;

  /**
   * The source, waited out on `wait` while it is throttled (Key Vault 429: its Retry-After, a few
   * tries, each wait capped; shared/domain/key-vault-errors.ts); any other failure is thrown at once.
   */
  private waitingOn(wait: Sleeper): CertificateSource {
    const source = this.source;
    const latestVersion = source.latestVersion?.bind(source);
    return {
      description: source.description,
      load: () => this.untilNotThrottled(() => source.load(), wait),
      ...(latestVersion ? { latestVersion: () => this.untilNotThrottled(latestVersion, wait) } : {}),
    };
  }

  private async untilNotThrottled<T>(call: () => Promise<T>, wait: Sleeper): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await call();
      } catch (error) {
        const e = toDialtoneError(error);
        const waitMs = e.code === 'Throttled' && e.transient ? throttleWaitMs(e.retryAfterMs, tries) : undefined;
        if (waitMs === undefined || this.stopped) throw error;
        this.options.logger.warn('Key Vault throttled the certificate read; waiting before trying again', { waitMs, tries, reason: e.message });
        await wait.sleep(waitMs);
      }
    }
  }

  /**
   * Loads at start: throws CertificateInvalid with the reason when the worker must not run. A 429
   * is waited out on `wait` when given (the process's start: the sandbox waits on its clock inside
   * its tracked restart, as systemd's RestartSec), else on `timers`.
   */
  async start(wait?: Sleeper): Promise<LoadedCertificate> {
    this.certificate = await loadValidCertificate(wait ? this.waitingOn(wait) : this.throttled, this.options.clock.now(), this.options.logger);
    this.schedule();
    return this.certificate;
  }

  current(): LoadedCertificate {
    if (!this.certificate) throw new Error('CertificateProvider.start() has not completed');
    return this.certificate;
  }

  /** True when a new version was loaded. */
  async checkForRotation(): Promise<boolean> {
    const current = this.current();
    try {
      const latest = this.throttled.latestVersion ? await this.throttled.latestVersion() : undefined;
      if (latest === undefined || latest === current.version) {
        checkCertificate(current, this.source.description, this.options.clock.now(), this.options.logger);
        return false;
      }
      const next = await loadValidCertificate(this.throttled, this.options.clock.now(), this.options.logger);
      this.certificate = next;
      this.options.logger.info('certificate rotated', { from: current.thumbprint, to: next.thumbprint, version: next.version });
      this.options.onRotate?.(next);
      return true;
    } catch (error) {
      const e = toDialtoneError(error);
      this.options.logger.error('certificate check failed; keeping the current certificate', { code: e.code, reason: e.message });
      return false;
    }
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.options.reloadIntervalMs <= 0) return;
    this.timer = this.timers.setTimeout(() => {
      void this.checkForRotation().finally(() => this.schedule());
    }, this.options.reloadIntervalMs);
  }
}
