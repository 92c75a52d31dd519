import { z } from 'zod';
import { StoredHrPersonSchema, UserChangeSourceSchema, type HrPerson } from '../contracts/messages.js';
import { DialtoneError } from '../domain/errors.js';
import { DesiredVoiceStateSchema } from '../domain/voice-state.js';
import type { Lifecycle } from '../domain/ordering.js';
import type { ProvisioningHistoryEntry, ProvisioningRecord, ProvisioningRecords } from '../ports/provisioning-records.js';
import { type EntityTable, escapeKey, isEntityConflict, type Props, type Row } from './entity-table.js';

/**
 * Provisioning records, one row per user: PK <user id> (escaped), RK `record`.
 * Scalars are properties; lastApplied and person are JSON strings; the history is JSON split over
 * history0…historyN (≤ 30,000 characters each: a property holds at most 64 KiB of UTF-16), the
 * newest HISTORY_CAP entries and at most HISTORY_MAX_CHARS in all, so a row stays under 1 MiB.
 */

const ROW_KEY = 'record';
export const HISTORY_CAP = 100;
export const HISTORY_MAX_CHARS = 360_000;
const CHUNK_CHARS = 30_000;
const DETAIL_MAX_CHARS = 2_000;
const MAX_ATTEMPTS = 50;

/** Jittered, growing pause after a lost race, so racing writers fall out of step. */
const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));

const LifecycleSchema: z.ZodType<Lifecycle> = z.object({ state: z.enum(['active', 'left']), at: z.string(), eventId: z.string() });

const HistoryEntrySchema = z.object({
  at: z.string(),
  correlationId: z.string(),
  eventId: z.string(),
  commandId: z.string().nullable(),
  stage: z.enum(['plan', 'record', 'replay']),
  outcome: z.string(),
  detail: z.string(),
  source: UserChangeSourceSchema.optional(),
  repeats: z.number().int().min(2).optional(),
  firstAt: z.string().optional(),
});

const RowSchema = z.object({
  userId: z.string(),
  tenantId: z.string().optional(),
  userPrincipalName: z.string(),
  lastApplied: z.string().optional(),
  lastAppliedAt: z.string().optional(),
  lastCommandId: z.string().optional(),
  lastEventAt: z.string().optional(),
  lastEventId: z.string().optional(),
  person: z.string().optional(),
  lifecycle: z.string().optional(),
  planVersion: z.number().int().positive().optional(),
  plannedCommandId: z.string().optional(),
  appliedVersion: z.number().int().positive().optional(),
  directoryReadAt: z.string().optional(),
  historyChunks: z.number().int().nonnegative(),
});

function parseJson<T>(schema: z.ZodType<T>, text: string, where: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(where, 'is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(`${where}${issue?.path.length ? `.${issue.path.join('.')}` : ''}`, issue?.message ?? 'is invalid');
  }
  return parsed.data;
}

function malformed(where: string, what: string): DialtoneError {
  return new DialtoneError('Unexpected', `provisioning record ${where} ${what}`);
}

export function fromRow(row: Row): ProvisioningRecord {
  const parsed = RowSchema.safeParse(row.props);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(`${row.partitionKey}.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'is invalid');
  }
  const p = parsed.data;
  let historyText = '';
  for (let i = 0; i < p.historyChunks; i++) historyText += String(row.props[`history${i}`] ?? '');
  return {
    userId: p.userId,
    ...(p.tenantId !== undefined ? { tenantId: p.tenantId } : {}),
    userPrincipalName: p.userPrincipalName,
    lastApplied: p.lastApplied ? parseJson(DesiredVoiceStateSchema, p.lastApplied, `${p.userId}.lastApplied`) : null,
    lastAppliedAt: p.lastAppliedAt ?? null,
    lastCommandId: p.lastCommandId ?? null,
    lastEventAt: p.lastEventAt ?? null,
    lastEventId: p.lastEventId ?? null,
    person: p.person ? (parseJson(StoredHrPersonSchema, p.person, `${p.userId}.person`) as HrPerson) : null,
    // The ordering fields came later: a row written before them reads as it was written.
    ...(p.lifecycle ? { lifecycle: parseJson(LifecycleSchema, p.lifecycle, `${p.userId}.lifecycle`) } : {}),
    ...(p.planVersion !== undefined ? { planVersion: p.planVersion } : {}),
    ...(p.plannedCommandId !== undefined ? { plannedCommandId: p.plannedCommandId } : {}),
    ...(p.appliedVersion !== undefined ? { appliedVersion: p.appliedVersion } : {}),
    ...(p.directoryReadAt !== undefined ? { directoryReadAt: p.directoryReadAt } : {}),
    history: historyText ? parseJson(z.array(HistoryEntrySchema), historyText, `${p.userId}.history`) : [],
  };
}

/** The newest entries that fit, details shortened: what a row can hold. */
export function capHistory(history: ProvisioningHistoryEntry[]): ProvisioningHistoryEntry[] {
  const kept = history.slice(-HISTORY_CAP).map((e) => (e.detail.length > DETAIL_MAX_CHARS ? { ...e, detail: `${e.detail.slice(0, DETAIL_MAX_CHARS - 1)}…` } : e));
  while (kept.length > 0 && JSON.stringify(kept).length > HISTORY_MAX_CHARS) kept.shift();
  return kept;
}

export function toProps(record: ProvisioningRecord): Props {
  const history = JSON.stringify(record.history);
  const chunks: string[] = [];
  for (let i = 0; i < history.length; i += CHUNK_CHARS) chunks.push(history.slice(i, i + CHUNK_CHARS));
  const props: Props = {
    userId: record.userId,
    tenantId: record.tenantId ?? null,
    userPrincipalName: record.userPrincipalName,
    lastApplied: record.lastApplied ? JSON.stringify(record.lastApplied) : null,
    lastAppliedAt: record.lastAppliedAt,
    lastCommandId: record.lastCommandId,
    lastEventAt: record.lastEventAt,
    lastEventId: record.lastEventId,
    person: record.person ? JSON.stringify(record.person) : null,
    lifecycle: record.lifecycle ? JSON.stringify(record.lifecycle) : null,
    planVersion: record.planVersion ?? null,
    plannedCommandId: record.plannedCommandId ?? null,
    appliedVersion: record.appliedVersion ?? null,
    directoryReadAt: record.directoryReadAt ?? null,
    historyChunks: chunks.length,
  };
  chunks.forEach((chunk, i) => (props[`history${i}`] = chunk));
  return props;
}

export function createEntityProvisioningRecords(table: EntityTable): ProvisioningRecords {
  let ready: Promise<void> | undefined;
  const ensure = (): Promise<void> => {
    ready ??= table.ensure().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  return {
    async get(userId) {
      await ensure();
      const row = await table.get(escapeKey(userId), ROW_KEY);
      return row ? fromRow(row) : undefined;
    },
    async update(userId, update) {
      await ensure();
      const partitionKey = escapeKey(userId);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const row = await table.get(partitionKey, ROW_KEY);
        const current = row ? fromRow(row) : undefined;
        const proposed = update(current);
        if (proposed.userId !== userId) {
          throw new DialtoneError('Unexpected', `provisioning record update for ${userId} returned a record for ${proposed.userId}`);
        }
        const next = { ...proposed, history: capHistory(proposed.history) };
        try {
          await table.transact(partitionKey, [
            row ? { kind: 'replace', rowKey: ROW_KEY, props: toProps(next), etag: row.etag } : { kind: 'create', rowKey: ROW_KEY, props: toProps(next) },
          ]);
          return next;
        } catch (error) {
          if (!isEntityConflict(error)) throw error;
        }
        await backoff(attempt);
      }
      throw new DialtoneError('Throttled', `could not update the provisioning record of ${userId}: lost ${MAX_ATTEMPTS} concurrent-update races in a row; try again`, {
        transient: true,
      });
    },
    async list() {
      await ensure();
      const rows = await table.query({});
      return rows.filter((r) => r.rowKey === ROW_KEY).map(fromRow);
    },
  };
}
