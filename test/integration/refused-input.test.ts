import { describe, expect, it } from 'vitest';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import type { BusFaults } from '../../sandbox/bus/bus-faults.js';
import { hrEvent, inputs, played, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-0000000000d1';
const U2 = '00000000-0000-4000-8000-0000000000d2';

describe('an HR line Service Bus refuses at send is reported, never an unhandled rejection', () => {
  it('reports a 300 KB line as refused naming the line, and provisions the next person', async () => {
    const tenant = tenantWith([user(U1, 'dora@contoso.example', 'D1'), user(U2, 'eli@contoso.example', 'D2')]);
    const huge = hrEvent('huge', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'D1', site: 'AMS', departmentId: 'DEPT001', notes: 'x'.repeat(300_000) });
    const fine = hrEvent('fine', 'joiner', '2026-11-02T08:01:00Z', { employeeId: 'D2', site: 'AMS', departmentId: 'DEPT001' });
    const { report } = await played(inputs({ tenant, eventLines: [huge, fine] }));
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ queue: 'hr-events', reason: 'MessageSizeExceeded', body: { line: 1, eventId: 'huge' } });
    expect(report.deadLetters[0]?.description).toMatch(/^HR event line 1 \(huge\) was refused by Service Bus/);
    expect(report.users.find((u) => u.id === U1)?.teams.lineUri).toBeNull();
    expect(report.users.find((u) => u.id === U2)?.teams.lineUri).toMatch(/^tel:\+/);
    expect(report.metrics.eventsIn).toBe(2);
  }, 180_000);

  it('names a line whose eventId is over 128 characters, which the SDK refuses', async () => {
    const tenant = tenantWith([user(U2, 'eli@contoso.example', 'D2')]);
    const longId = hrEvent('e'.repeat(200), 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'D2', site: 'AMS', departmentId: 'DEPT001' });
    const { report } = await played(inputs({ tenant, eventLines: [longId] }));
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]?.description).toContain('HR event line 1');
    expect(report.deadLetters[0]?.description).toContain("Length of 'messageId' property");
  }, 180_000);
});

/** Plays the lines with `faults` on the bus while the sandbox, as the HR producer, sends them (and only then). */
async function playedWithSendFaults(eventLines: string[], faults: BusFaults) {
  const tenant = tenantWith([user(U1, 'dora@contoso.example', 'D1'), user(U2, 'eli@contoso.example', 'D2')]);
  const sandbox = await Sandbox.start(inputs({ tenant, eventLines }), { storage: 'memory' });
  try {
    sandbox.bus.setFaults(faults);
    await sandbox.enqueueEvents(eventLines);
    const atSend = sandbox.bus.faultCounts();
    sandbox.bus.setFaults(undefined);
    await sandbox.runUntilQuiet();
    return { report: await sandbox.report(), atSend, hrSend: sandbox.hrSendFigures(), logs: sandbox.logger.lines };
  } finally {
    await sandbox.stop();
  }
}

describe('the sandbox sends HR lines as a Service Bus producer does', () => {
  const lines = [
    hrEvent('dora-joins', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'D1', site: 'AMS', departmentId: 'DEPT001' }),
    hrEvent('eli-joins', 'joiner', '2026-11-02T08:01:00Z', { employeeId: 'D2', site: 'AMS', departmentId: 'DEPT001' }),
  ];

  it('sends a line again after ServiceBusy (retryable), and the person is provisioned once', async () => {
    const { report, atSend, hrSend, logs } = await playedWithSendFaults(lines, { rules: [{ code: 'ServiceBusy', queue: 'hr-events', operations: ['schedule'], times: 3 }] });
    expect(atSend).toEqual({ 'ServiceBusy:schedule': 3 });
    expect(hrSend).toEqual({ faults: { ServiceBusy: 3 }, retries: 3, refused: 0 });
    expect(report.deadLetters).toEqual([]);
    expect(report.users.find((u) => u.id === U1)?.teams.lineUri).toMatch(/^tel:\+/);
    expect(report.users.find((u) => u.id === U2)?.teams.lineUri).toMatch(/^tel:\+/);
    expect(logs.filter((l) => l.includes('"HR line sent again"'))).toHaveLength(3);
  }, 180_000);

  it('reports a line refused QuotaExceeded (not retryable) as a refused input naming the line, and sends the next', async () => {
    const { report, hrSend } = await playedWithSendFaults(lines, { rules: [{ code: 'QuotaExceeded', queue: 'hr-events', times: 1 }] });
    expect(hrSend).toEqual({ faults: { QuotaExceeded: 1 }, retries: 0, refused: 1 });
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ queue: 'hr-events', reason: 'QuotaExceeded', body: { line: 1, eventId: 'dora-joins' } });
    expect(report.deadLetters[0]?.description).toMatch(/^HR event line 1 \(dora-joins\) was refused by Service Bus when sent and never entered the pipeline: .*hr-events was full: send it again once it has drained\.$/);
    expect(report.users.find((u) => u.id === U1)?.teams.lineUri).toBeNull();
    expect(report.users.find((u) => u.id === U2)?.teams.lineUri).toMatch(/^tel:\+/);
  }, 180_000);

  it('gives a line up as refused, naming ServiceBusy, when Service Bus stays busy through every try', async () => {
    const { report, hrSend } = await playedWithSendFaults(lines.slice(0, 1), { rules: [{ code: 'ServiceBusy', queue: 'hr-events', operations: ['schedule'] }] });
    expect(hrSend).toEqual({ faults: { ServiceBusy: 5 }, retries: 4, refused: 1 });
    expect(report.deadLetters).toHaveLength(1);
    expect(report.deadLetters[0]).toMatchObject({ reason: 'ServiceBusy', body: { line: 1, eventId: 'dora-joins' } });
    expect(report.deadLetters[0]?.description).toMatch(/Service Bus was still busy after 5 tries: send it again\.$/);
  }, 180_000);
});
