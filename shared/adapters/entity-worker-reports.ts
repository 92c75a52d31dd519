import { z } from 'zod';
import type { WorkerCertificateReport, WorkerReports } from '../ports/worker-reports.js';
import { escapeKey, type EntityTable } from './entity-table.js';

/**
 * Worker reports in Table Storage: the `sessionslots` table the worker may already write (the
 * Bicep grants it Data Contributor on that one table), partition `~workers` (a tenant id, the
 * slots' partition key, never starts with `~`), one row per worker id and tenant (a worker
 * reports the certificate of each tenant it serves), upserted.
 */
const PARTITION = '~workers';
const ReportSchema = z.object({
  workerId: z.string().min(1).max(256),
  tenantId: z.string().max(64),
  thumbprint: z.string().regex(/^[0-9A-F]{40}$/),
  version: z.string().max(128),
  notAfter: z.string().max(40),
  reportedAt: z.string().max(40),
});

export function createEntityWorkerReports(table: EntityTable): WorkerReports {
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> =>
    (ready ??= table.ensure().catch((error: unknown) => {
      // The worker may not create tables (403 means the table exists: use it).
      if ((error as { statusCode?: unknown }).statusCode === 403) return;
      ready = undefined;
      throw error;
    }));
  return {
    async report(report) {
      const valid = ReportSchema.parse(report);
      await ensure();
      await table.transact(PARTITION, [{ kind: 'upsert', rowKey: escapeKey(`${valid.workerId}|${valid.tenantId.toLowerCase()}`), props: { ...valid } }]);
    },
    async list(): Promise<WorkerCertificateReport[]> {
      await ensure();
      const rows = await table.query({ partitionKey: PARTITION });
      return rows.flatMap((r) => {
        const parsed = ReportSchema.safeParse(r.props);
        return parsed.success ? [parsed.data] : [];
      });
    },
  };
}
