/**
 * The hybrid worker process (`npm run worker`): settings from the environment, Service Bus and
 * Key Vault through the host's managed identity (DefaultAzureCredential), warm pwsh sessions.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { ServiceBusClient } from '@azure/service-bus';
import { loadWorkerSettings, type WorkerSettings } from '../shared/config/worker-settings.js';
import { isDialtoneError } from '../shared/domain/errors.js';
import { createJsonLogger } from '../shared/logging/logger.js';
import type { BusClient } from '../shared/ports/bus.js';
import { systemClock } from '../shared/ports/clock.js';
import type { Logger } from '../shared/ports/logger.js';
import type { CertificateSource } from './certificate.js';
import { fileCertificateSource, keyVaultCertificateSource } from './certificate-sources.js';
import { createWorker } from './worker.js';

function certificateSource(settings: WorkerSettings, credential: DefaultAzureCredential, logger: Logger): CertificateSource {
  const c = settings.certificate;
  if (c.kind === 'file') return fileCertificateSource({ path: c.path, ...(c.passwordFile ? { passwordFile: c.passwordFile } : {}), logger });
  return keyVaultCertificateSource({
    vaultUrl: c.vaultUrl,
    name: c.name,
    secrets: new SecretClient(c.vaultUrl, credential),
    certificates: new CertificateClient(c.vaultUrl, credential),
  });
}

async function main(): Promise<number> {
  let settings: WorkerSettings;
  try {
    settings = loadWorkerSettings();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 78;
  }
  const logger = createJsonLogger({ level: settings.logLevel, base: { service: 'dialtone-worker' } });
  const credential = new DefaultAzureCredential();
  const bus: BusClient = new ServiceBusClient(settings.serviceBusNamespace, credential);
  let worker;
  try {
    worker = await createWorker({
      bus,
      certificates: certificateSource(settings, credential, logger),
      pwsh: { command: settings.pwsh.path, args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', settings.pwsh.script] },
      settings: {
        tenantId: settings.tenantId,
        applicationId: settings.applicationId,
        ...settings.pool,
        concurrentSessions: settings.concurrentSessions,
        maxDeliveryCount: settings.maxDeliveryCount,
        commandsQueue: settings.commandsQueue,
        shutdownGraceMs: settings.shutdownGraceMs,
        certificateReloadMs: settings.certificate.kind === 'keyVault' ? settings.certificate.reloadIntervalMs : 0,
      },
      clock: systemClock,
      logger,
    });
  } catch (error) {
    logger.error('worker refused to start', { code: isDialtoneError(error) ? error.code : 'Unexpected', reason: error instanceof Error ? error.message : String(error) });
    await bus.close().catch(() => undefined);
    return 1;
  }
  const started = worker;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      logger.info('stopping', { signal });
      void started.stop().finally(resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  started.start();
  await stopped;
  await bus.close().catch(() => undefined);
  return 0;
}

process.exitCode = await main();
