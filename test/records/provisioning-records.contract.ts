import { beforeEach, describe, expect, it } from 'vitest';
import { HISTORY_CAP } from '../../shared/adapters/entity-provisioning-records.js';
import type { ProvisioningHistoryEntry, ProvisioningRecord, ProvisioningRecords } from '../../shared/ports/provisioning-records.js';

export type MakeRecords = () => ProvisioningRecords | Promise<ProvisioningRecords>;

function entry(i: number, detail = `step ${i}`): ProvisioningHistoryEntry {
  return {
    at: new Date(Date.UTC(2026, 10, 2, 8, 0, i)).toISOString(),
    correlationId: `corr-${i}`,
    eventId: `evt-${i}`,
    commandId: i % 2 === 0 ? `cmd-${i}` : null,
    stage: i % 2 === 0 ? 'record' : 'plan',
    outcome: 'applied',
    detail,
  };
}

function blank(userId: string): ProvisioningRecord {
  return {
    userId,
    userPrincipalName: `${userId}@contoso.com`,
    lastApplied: null,
    lastAppliedAt: null,
    lastCommandId: null,
    lastEventAt: null,
    lastEventId: null,
    person: null,
    history: [],
  };
}

const append = (userId: string, e: ProvisioningHistoryEntry) => (current: ProvisioningRecord | undefined) => {
  const base = current ?? blank(userId);
  return { ...base, history: [...base.history, e] };
};

/** One specification of the ProvisioningRecords port, run against every adapter. */
export function provisioningRecordsContract(name: string, makeRecords: MakeRecords): void {
  describe(`ProvisioningRecords contract: ${name}`, () => {
    let records: ProvisioningRecords;
    beforeEach(async () => {
      records = await makeRecords();
    });

    it('knows nothing of a user it never saw', async () => {
      expect(await records.get('user-a')).toBeUndefined();
    });

    it('creates a record on the first update and returns it', async () => {
      const written = await records.update('user-a', append('user-a', entry(1)));
      expect(written).toEqual({ ...blank('user-a'), history: [entry(1)] });
      expect(await records.get('user-a')).toEqual(written);
    });

    it('round-trips the applied state and the HR person', async () => {
      const full: ProvisioningRecord = {
        ...blank('user-a'),
        lastApplied: { enterpriseVoiceEnabled: true, phoneNumber: '+31201234000;ext=12', phoneNumberType: 'DirectRouting', policies: { TenantDialPlan: 'NL', CallingLineIdentity: null } },
        lastAppliedAt: '2026-11-02T08:00:05.000Z',
        lastCommandId: 'cmd-1',
        lastEventAt: '2026-11-02T07:59:00.000Z',
        lastEventId: 'evt-1',
        person: { employeeId: 'E1', site: 'AMS', costCentre: 4711, contractor: false },
      };
      await records.update('user-a', () => full);
      expect(await records.get('user-a')).toEqual(full);
    });

    it('round-trips the ordering facts: lifecycle, plan and applied versions, newest directory read', async () => {
      const full: ProvisioningRecord = {
        ...blank('user-a'),
        lastEventAt: '2026-11-09T17:00:00.000Z',
        lastEventId: 'l1',
        lifecycle: { state: 'left', at: '2026-11-09T17:00:00.000Z', eventId: 'l1' },
        planVersion: 3,
        plannedCommandId: 'cmd-3',
        appliedVersion: 2,
        directoryReadAt: '2026-11-09T17:00:01.000Z',
      };
      await records.update('user-a', () => full);
      expect(await records.get('user-a')).toEqual(full);
    });

    it("round-trips a history line's source and a collapsed line's count and first time", async () => {
      const lines: ProvisioningHistoryEntry[] = [
        { ...entry(1), stage: 'plan', outcome: 'skipped', source: 'hr' },
        { ...entry(3), stage: 'plan', outcome: 'skipped', source: 'resync', repeats: 12, firstAt: entry(2).at },
      ];
      await records.update('user-a', () => ({ ...blank('user-a'), history: lines }));
      expect((await records.get('user-a'))?.history).toEqual(lines);
    });

    it('hands the current record to the update', async () => {
      await records.update('user-a', append('user-a', entry(1)));
      await records.update('user-a', append('user-a', entry(2)));
      expect((await records.get('user-a'))?.history.map((h) => h.eventId)).toEqual(['evt-1', 'evt-2']);
    });

    it('loses no write when 40 updates race for one user', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => records.update('user-a', append('user-a', entry(i)))));
      const history = (await records.get('user-a'))?.history ?? [];
      expect(history.map((h) => h.eventId).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `evt-${i}`).sort());
    });

    it(`keeps the newest ${HISTORY_CAP} history entries`, async () => {
      const many = Array.from({ length: HISTORY_CAP + 20 }, (_, i) => entry(i));
      const written = await records.update('user-a', () => ({ ...blank('user-a'), history: many }));
      expect(written.history).toEqual(many.slice(20));
      expect((await records.get('user-a'))?.history).toEqual(many.slice(20));
    });

    it('stores a history larger than one property holds, shortening huge details', async () => {
      const long = Array.from({ length: HISTORY_CAP }, (_, i) => entry(i, `${'x'.repeat(1_990)}${i}`));
      await records.update('user-a', () => ({ ...blank('user-a'), history: long }));
      const read = (await records.get('user-a'))?.history ?? [];
      expect(read).toEqual(long);
      expect(JSON.stringify(read).length).toBeGreaterThan(150_000);
      const huge = await records.update('user-b', () => ({ ...blank('user-b'), history: [entry(1, 'y'.repeat(100_000))] }));
      expect(huge.history[0]?.detail).toBe(`${'y'.repeat(1_999)}…`);
    });

    it('keeps user ids with characters that table keys forbid', async () => {
      const odd = 'odd/user#1?\\';
      await records.update(odd, append(odd, entry(1)));
      expect((await records.get(odd))?.userId).toBe(odd);
      expect(await records.get('odd')).toBeUndefined();
    });

    it('lists every record', async () => {
      await records.update('user-a', append('user-a', entry(1)));
      await records.update('user-b', append('user-b', entry(2)));
      expect((await records.list()).map((r) => r.userId).sort()).toEqual(['user-a', 'user-b']);
    });
  });
}
