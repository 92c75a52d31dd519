import { describe, expect, it } from 'vitest';
import { runSandbox } from '../../sandbox/host/sandbox.js';
import { inputs } from './sandbox-fixtures.js';

describe('sandbox run --teams-backend graph', { timeout: 240_000 }, () => {
  it('ends the bundled sample in the same users, numbers and dead letters as the PowerShell backend, with no connect and no cmdlet', async () => {
    const pwsh = await runSandbox(inputs(), { storage: 'memory' });
    const graph = await runSandbox(inputs(), { storage: 'memory', teamsBackend: 'graph' });
    const outcome = (r: typeof pwsh.report) => ({
      users: r.users,
      numbers: r.numbers,
      deadLetters: r.deadLetters.map((d) => ({ queue: d.queue, reason: d.reason, description: d.description })),
    });
    expect(outcome(graph.report)).toEqual(outcome(pwsh.report));
    expect(graph.report.metrics).toMatchObject({ connects: 0, cmdlets: 0, writeCmdlets: 0, eventsIn: 4 });
    expect(pwsh.report.metrics.connects).toBeGreaterThan(0);
  });
});
