import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';
import { traceIdForCorrelation } from '../../shared/telemetry/trace-context.js';
import { ANNA, inputs, played } from '../integration/sandbox-fixtures.js';

async function statusOf(args: string[]) {
  let result = { out: '', err: '', code: 0 };
  await played(inputs(), {}, async (sandbox) => {
    result = await dialtone(['status', ...args], { records: async () => sandbox.records, inventory: async () => sandbox.inventory });
  });
  return result;
}

describe('dialtone status', () => {
  it('finds a person by UPN and shows what was applied, the numbers and the history with correlation ids', async () => {
    const { out } = await statusOf(['anna.devries@contoso.example', '--json']);
    const { record, numbers } = JSON.parse(out) as {
      record: { userId: string; lastApplied: { phoneNumber: string }; history: { correlationId: string; eventId: string }[] };
      numbers: { number: string; state: string }[];
    };
    expect(record.userId).toBe(ANNA);
    expect(record.lastApplied.phoneNumber).toBe('+31101234500');
    expect(numbers.map((n) => [n.number, n.state]).sort()).toEqual([
      ['+31101234500', 'assigned'],
      ['+31201234000', 'quarantined'],
    ]);
    expect(record.history.filter((h) => h.eventId === 'evt-0003').every((h) => h.correlationId === 'evt-0003')).toBe(true);
  });

  it('prints the Application Insights operation id of the latest flow, on one line', async () => {
    const { out } = await statusOf(['anna.devries@contoso.example']);
    const lines = out.split('\n').filter((l) => l.includes('operation id'));
    expect(lines).toEqual([`  operation id: ${traceIdForCorrelation('evt-0003')} (paste into Application Insights > Transaction search; correlation id evt-0003)`]);
  });

  it("shows the daily resync's no-op re-plans between two HR events as one line with their count and first and last time", async () => {
    const { out } = await statusOf(['anna.devries@contoso.example']);
    const noops = out.split('\n').filter((l) => l.includes('nothing to send'));
    // One run before the mover evt-0003 (another command applied after it), one after.
    expect(noops).toHaveLength(2);
    for (const line of noops) expect(line).toMatch(/nothing to send ×\d+, 2026-11-\d\dT[\d:.]+Z … 2026-11-\d\dT[\d:.]+Z/);
    expect(out).toContain('evt-0001');
    expect(out).toContain('evt-0003');
  });

  it('says so, and exits 1, for someone Dialtone never planned', async () => {
    const { err, code } = await statusOf(['nobody@contoso.example']);
    expect(code).toBe(1);
    expect(err).toBe(
      "dialtone: No person 'nobody@contoso.example' in Entra ID or Dialtone's records (give a UPN, an object id, an employee id or a mail address; directory sync can lag).",
    );
  });
});
