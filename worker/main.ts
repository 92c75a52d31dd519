/**
 * The hybrid worker process (`npm run worker`): settings from the environment, Service Bus and
 * Key Vault through the host's managed identity (DefaultAzureCredential), warm pwsh sessions.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { createServiceBusClient } from '../shared/adapters/service-bus-client.js';
import { loadTelemetrySettings } from '../shared/config/telemetry-settings.js';
import { loadWorkerSettings, type WorkerSettings } from '../shared/config/worker-settings.js';
import { isDialtoneError } from '../shared/domain/errors.js';
import { createJsonLogger } from '../shared/logging/logger.js';
import type { BusClient } from '../shared/ports/bus.js';
import { systemClock } from '../shared/ports/clock.js';
import type { Telemetry } from '../shared/ports/telemetry.js';
import { startAzureMonitor } from '../shared/telemetry/azure-monitor.js';
import { hostname } from 'node:os';
import { createEntitySessionSlots } from '../shared/adapters/entity-session-slots.js';
import { createEntityWorkerReports } from '../shared/adapters/entity-worker-reports.js';
import { azureEntityTable, createTableClient } from '../shared/adapters/table-client.js';
import { certificateSource, pwshCommand, registryTenants } from './host-setup.js';
import { createWorker } from './worker.js';

async function main(): Promise<number> {
  let settings: WorkerSettings;
  let telemetry: Telemetry;
  try {
    settings = loadWorkerSettings();
    // Before the Service Bus client exists, so the distro instruments it.
    telemetry = startAzureMonitor(loadTelemetrySettings(), { name: 'dialtone-worker', credential: new DefaultAzureCredential() });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 78;
  }
  const logger = createJsonLogger({ level: settings.logLevel, base: { service: 'dialtone-worker' } });
  const credential = new DefaultAzureCredential();
  const bus: BusClient = createServiceBusClient(settings.serviceBus, credential);
  let worker;
  try {
    const tenants = await registryTenants(settings, credential, logger);
    worker = await createWorker({
      bus,
      certificates: certificateSource(settings, credential, logger),
      tenants,
      pwsh: pwshCommand(settings),
      settings: {
        tenantId: settings.tenantId,
        applicationId: settings.applicationId,
        ...settings.pool,
        concurrentSessions: settings.concurrentSessions,
        bulk: settings.bulk,
        maxDeliveryCount: settings.maxDeliveryCount,
        tenantDeferral: settings.tenantDeferral,
        commandsQueue: settings.commandsQueue,
        shutdownGraceMs: settings.shutdownGraceMs,
        certificateReloadMs: settings.certificate.kind === 'keyVault' ? settings.certificate.reloadIntervalMs : 0,
      },
      clock: systemClock,
      logger,
      telemetry,
      ...(settings.tenantSessions.tablesEndpoint
        ? {
            // The certificate this worker uses, for `dialtone cert rotate` (same table, own partition).
            reports: {
              workerId: `${hostname()}:${process.pid}`,
              reports: createEntityWorkerReports(azureEntityTable(createTableClient({ endpoint: settings.tenantSessions.tablesEndpoint, credential }, 'sessionslots'))),
            },
            slots: {
              holderId: `${hostname()}:${process.pid}`,
              slots: createEntitySessionSlots({
                table: azureEntityTable(createTableClient({ endpoint: settings.tenantSessions.tablesEndpoint, credential }, 'sessionslots')),
                clock: systemClock,
                limit: settings.tenantSessions.limit,
                leaseMs: settings.tenantSessions.leaseMs,
              }),
            },
          }
        : {}),
    });
  } catch (error) {
    logger.error('worker refused to start', { code: isDialtoneError(error) ? error.code : 'Unexpected', reason: error instanceof Error ? error.message : String(error) });
    await bus.close().catch(() => undefined);
    return 1;
  }
  if (!settings.tenantSessions.tablesEndpoint) {
    logger.warn('DIALTONE_TABLES_ENDPOINT is not set: the tenant session limit is not shared, only this worker limits its sessions');
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
