import { describe, expect, it } from 'vitest';
import { formatReport, type SandboxReport } from '../../sandbox/host/report.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { HISTORY_LIMIT } from '../../shared/domain/history.js';
import { hrEvent, inputs, tenantWith, user } from './sandbox-fixtures.js';

const DAY = 24 * 3_600_000;
const U1 = '00000000-0000-4000-8000-0000000000d1';
const person = { employeeId: 'E1', userPrincipalName: 'dana@contoso.example', site: 'AMS', departmentId: 'DEPT001' };

/**
 * The graphResync timer re-plans every provisioned person once a day (the full round); for a
 * quiet person each of those re-plans sends nothing. The history keeps the newest 50 entries, so
 * one line per round would push the person's HR lines out after seven weeks.
 */
describe('a quiet person through two months of daily full resync rounds', { timeout: 300_000 }, () => {
  it('keeps their HR lines (a no-op HR mover too) and has a bounded number of resync lines', async () => {
    const tenant = tenantWith([user(U1, person.userPrincipalName, person.employeeId)], {
      // An Entra change that does not change the voice state: a Graph no-op between the resync ones.
      directoryChanges: [{ atMs: 20 * DAY, userId: U1, set: { jobTitle: 'Account Director' }, notify: true }],
    });
    const events = [
      hrEvent('j1', 'joiner', '2026-11-02T08:00:00Z', person),
      // HR sends the same person again: a mover that changes nothing, with its own line.
      hrEvent('c2-move', 'mover', '2026-11-03T08:00:00Z', person),
    ];
    const sandbox = await Sandbox.start(inputs({ tenant, eventLines: events }), { storage: 'memory' });
    let report: SandboxReport;
    try {
      await sandbox.enqueueEvents(events);
      await sandbox.runFor(60 * DAY);
      await sandbox.runUntilQuiet();
      report = await sandbox.report();
    } finally {
      await sandbox.stop();
    }
    const entries = report.history.find((h) => h.userId === U1)?.entries ?? [];
    const eventIds = entries.map((e) => e.eventId);
    expect(eventIds).toContain('j1');
    expect(entries.filter((e) => e.eventId === 'c2-move')).toEqual([expect.objectContaining({ stage: 'plan', outcome: 'skipped', source: 'hr' })]);
    expect(entries.some((e) => e.eventId === 'j1' && e.stage === 'record' && e.outcome === 'applied')).toBe(true);

    const directory = entries.filter((e) => e.source === 'resync' || e.source === 'graph');
    expect(directory.length).toBeGreaterThan(0);
    expect(directory.length).toBeLessThanOrEqual(2);
    // The rounds did run: one line per re-plan would have overflowed the history.
    const replans = directory.reduce((n, e) => n + (e.repeats ?? 1), 0);
    expect(replans).toBeGreaterThan(HISTORY_LIMIT);
    expect(sandbox.graph.metrics().notifications.deliveries).toBeGreaterThan(0);

    // The report a person reads shows the run as one line with its count and its first and last time.
    const text = formatReport(report);
    const noopLines = text.split('\n').filter((l) => l.includes('nothing to send'));
    expect(noopLines.length).toBe(directory.length + 1);
    expect(noopLines.some((l) => /nothing to send ×\d+, 2026-11-\d\d \d\d:\d\d UTC … 2026-12-\d\d \d\d:\d\d UTC$/.test(l))).toBe(true);
  });
});
