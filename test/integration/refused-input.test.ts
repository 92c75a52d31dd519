import { describe, expect, it } from 'vitest';
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
