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

  it('says so, and exits 1, for someone Dialtone never planned', async () => {
    const { err, code } = await statusOf(['nobody@contoso.example']);
    expect(code).toBe(1);
    expect(err).toBe(
      "dialtone: No person 'nobody@contoso.example' in Entra ID or Dialtone's records (give a UPN, an object id, an employee id or a mail address; directory sync can lag).",
    );
  });
});
