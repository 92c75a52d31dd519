import { toDialtoneError } from '../shared/domain/errors.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import { checkCertificate, loadValidCertificate, type CertificateSource, type LoadedCertificate } from './certificate.js';
import { realTimers, type Timers } from './timers.js';

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
  }

  /** Loads at start: throws CertificateInvalid with the reason when the worker must not run. */
  async start(): Promise<LoadedCertificate> {
    this.certificate = await loadValidCertificate(this.source, this.options.clock.now(), this.options.logger);
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
      const latest = this.source.latestVersion ? await this.source.latestVersion() : undefined;
      if (latest === undefined || latest === current.version) {
        checkCertificate(current, this.source.description, this.options.clock.now(), this.options.logger);
        return false;
      }
      const next = await loadValidCertificate(this.source, this.options.clock.now(), this.options.logger);
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
