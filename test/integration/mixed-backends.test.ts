/**
 * Two tenants side by side, each on its own Teams administration backend (issue 16, a tenant's
 * `teamsBackend`): a graph deployment that keeps the hybrid worker (graphWithWorker) for its
 * powershell tenant. One tenant's commands are applied by graphVoice through its own Graph
 * (/admin/teams), the other's go to voice-commands-pwsh and are applied by the worker in a Teams
 * PowerShell session of that tenant. Both on Graph: on-graph-backend.test.ts runs the parametrised
 * suites (tenant-worlds.ts) in two tenants on the graph backend.
 */
import { describe, expect, it } from 'vitest';
import { queueNames, type VoiceCommand } from '../../shared/contracts/messages.js';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { ANNA, BRAM, inputs } from './sandbox-fixtures.js';
import { deadLettersOf, expectNoCrossing, playedIn, TENANT_A, TENANT_B, teamsIn } from './tenant-worlds.js';

// The deployment's own tenant on Graph, a registered customer tenant on PowerShell (one case: each costs a sample run).
describe.each([{ powershell: TENANT_B, graph: TENANT_A }])('one tenant on PowerShell ($powershell), the other on Graph ($graph)', ({ powershell, graph }) => {
  it('applies each tenant\'s commands on its own backend and ends both as the one-tenant sample does', async () => {
    const { report, sandbox, tenants } = await playedIn('two tenants', inputs(), { teamsBackend: 'graph', tenantBackends: { [powershell]: 'powershell' }, latency: zeroLatencyModel });
    for (const t of tenants) {
      // The sample: Anna moved to Rotterdam (the Amsterdam number quarantined), Bram never licensed.
      expect(teamsIn(report, t, ANNA)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: t.lineUri('+31101234500'), policies: { CallingLineIdentity: 'CLI-Support' } });
      expect(report.numbers.find((n) => n.number === t.number('+31201234000'))).toMatchObject({ state: 'quarantined', userId: t.id(ANNA) });
      expect(teamsIn(report, t, BRAM)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
      expect(deadLettersOf(report, t).map((d) => d.reason)).toEqual(['NotLicensed']);
      // Each tenant's commands went to its own backend's queue only.
      const commands = sandbox.sent.filter((s) => s.queue.startsWith('voice-commands') && (s.message.body as VoiceCommand).tenantId === t.tenantId);
      expect(commands.length).toBeGreaterThan(0);
      expect(new Set(commands.map((c) => c.queue))).toEqual(new Set([t.tenantId === powershell ? queueNames.voiceCommandsPowerShell : queueNames.voiceCommands]));
      const teamsAdminWrites = Object.entries(t.graph.metrics().byRoute).filter(([route]) => /^(POST|PATCH|PUT|DELETE) .*\/admin\/teams/.test(route)).reduce((n, [, c]) => n + c, 0);
      if (t.tenantId === graph) expect(teamsAdminWrites).toBeGreaterThan(0);
      else expect(teamsAdminWrites).toBe(0);
    }
    // The worker connected Teams PowerShell, for the powershell tenant only.
    expect(report.metrics.connects).toBeGreaterThan(0);
    expect(report.metrics.writeCmdlets).toBeGreaterThan(0);
    await expectNoCrossing(sandbox, tenants);
  }, 240_000);
});
