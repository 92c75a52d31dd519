/**
 * Readiness before commands (issue 15 item 2): Entra ID shows Teams Phone long before Teams has
 * provisioned the user. plan reads Teams' user configuration through Graph and waits, with the
 * licence lag's backoff, instead of sending a command Teams refuses. Runs on both backends
 * (on-graph-backend.test.ts imports this file).
 */
import { describe, expect, it } from 'vitest';
import { zeroLatencyModel } from '../../sandbox/latency-model.js';
import { currentTeamsBackend, hrEvent, inputs, played, teamsOf, tenantWith, user } from './sandbox-fixtures.js';

const U1 = '00000000-0000-4000-8000-0000000000a1';
const joiner = hrEvent('e1', 'joiner', '2026-11-02T08:00:00Z', { employeeId: 'E1', userPrincipalName: 'lena@contoso.example', site: 'AMS', departmentId: 'DEPT001' });

describe(`readiness before commands (${currentTeamsBackend()} backend)`, () => {
  it('waits for Teams to list PhoneSystem after licensing, then provisions the joiner without a failed command', async () => {
    const tenant = tenantWith([user(U1, 'lena@contoso.example', 'E1', { teamsProvisioningLagMs: 2 * 60 * 60_000 })]);
    const { report, sandbox } = await played(inputs({ tenant, eventLines: [joiner] }), { latency: zeroLatencyModel });
    expect(report.deadLetters).toEqual([]);
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: true, lineUri: 'tel:+31201234000' });
    // One command, sent once Teams was ready: nothing failed in Teams on the way.
    expect(report.commands).toHaveLength(1);
    const history = report.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(history.filter((e) => e.stage === 'record').map((e) => e.outcome)).toEqual(['applied']);
    const waits = sandbox.logger.lines.filter((l) => l.includes('message rescheduled') && l.includes('PhoneSystem'));
    expect(waits.length).toBeGreaterThan(0);
    expect(report.metrics.simulatedMs).toBeGreaterThanOrEqual(2 * 60 * 60_000);
  });

  it('dead-letters TeamsNotProvisioned with the reason when Teams never provisions the user within the window', async () => {
    const tenant = tenantWith([user(U1, 'lena@contoso.example', 'E1', { teamsProvisioningLagMs: 48 * 60 * 60_000 })]);
    const { report } = await played(inputs({ tenant, eventLines: [joiner] }), { latency: zeroLatencyModel });
    expect(report.deadLetters.map((d) => [d.queue, d.reason])).toEqual([['user-changes', 'TeamsNotProvisioned']]);
    expect(report.deadLetters[0]?.description).toMatch(
      /^lena@contoso\.example: Entra ID shows Teams Phone, but Teams does not list the PhoneSystem feature yet \(featureTypes: Teams\); .* Still the case after \d+ attempts over \d+ hours \(window 24 hours\)\.$/,
    );
    // Nothing was sent to Teams and no number is held while waiting.
    expect(report.commands).toEqual([]);
    expect(report.numbers.filter((n) => n.userId === U1)).toEqual([]);
    expect(teamsOf(report, U1)).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
  });
});
