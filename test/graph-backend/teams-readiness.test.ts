import { afterEach, describe, expect, it } from 'vitest';
import { judgeTeamsReadiness } from '../../shared/domain/teams-readiness.js';
import type { TeamsUserConfiguration } from '../../shared/ports/teams-admin.js';
import { tenantFile } from '../teams-sim/fixtures.js';
import { ANNA, CEES, startGraphBackend, type GraphBackendFixture } from './fixtures.js';

let fx: GraphBackendFixture | undefined;
afterEach(async () => {
  await fx?.sim.close();
  fx = undefined;
});

const config = (featureTypes: string[]): TeamsUserConfiguration => ({
  id: ANNA,
  userPrincipalName: 'anna@contoso.example',
  featureTypes,
  isEnterpriseVoiceEnabled: false,
  telephoneNumbers: [],
  effectivePolicyAssignments: [],
});

describe('readiness before commands (pure)', () => {
  it('is ready for voice once Teams lists the PhoneSystem feature, whatever its case', () => {
    expect(judgeTeamsReadiness(config(['Teams', 'phoneSystem']), { voice: true }, 'anna')).toEqual({ ready: true });
  });

  it('waits while Teams does not know the user at all, even for policies alone', () => {
    const r = judgeTeamsReadiness(null, { voice: false }, 'anna@contoso.example');
    expect(r).toMatchObject({ ready: false, message: expect.stringMatching(/^anna@contoso\.example: Teams does not know the user yet/) as unknown });
  });

  it('waits for PhoneSystem before voice, naming the features Teams does list', () => {
    const r = judgeTeamsReadiness(config(['Teams', 'AudioConferencing']), { voice: true }, 'anna');
    expect(r).toMatchObject({ ready: false, message: expect.stringContaining('featureTypes: Teams, AudioConferencing') as unknown });
  });

  it('does not wait for PhoneSystem when the command only sets policies', () => {
    expect(judgeTeamsReadiness(config(['Teams']), { voice: false }, 'anna')).toEqual({ ready: true });
  });
});

describe('the Graph simulator models Teams provisioning lag after licensing', () => {
  it("lists PhoneSystem in a newly licensed user's featureTypes only after the provisioning lag", async () => {
    const file = tenantFile();
    // Cees gets his licence after 30 s; Teams provisions him 10 minutes after that.
    file.users = file.users.map((u) => (u.id === CEES ? { ...u, teamsProvisioningLagMs: 10 * 60_000 } : u));
    fx = await startGraphBackend({ file });
    fx.clock.advance(30_000);
    expect((await fx.admin.userConfiguration(CEES))?.featureTypes).toEqual(['Teams']);
    fx.clock.advance(10 * 60_000 - 1);
    expect((await fx.admin.userConfiguration(CEES))?.featureTypes).not.toContain('PhoneSystem');
    fx.clock.advance(1);
    expect((await fx.admin.userConfiguration(CEES))?.featureTypes).toContain('PhoneSystem');
  });

  it('refuses a number while the user is not provisioned yet, as Teams does', async () => {
    const file = tenantFile();
    file.teamsSimulator = { provisioningLagMs: 60 * 60_000 };
    fx = await startGraphBackend({ file, operationMs: 1_000 });
    const { operationId } = await fx.admin.assignNumber({ telephoneNumber: '+31201234001', assignmentTargetId: ANNA, numberType: 'directRouting' });
    fx.clock.advance(1_000);
    expect(await fx.admin.operation(operationId)).toMatchObject({ status: 'failed' });
  });

  it('counts the lag again from a licence given back by a directory change', async () => {
    const file = tenantFile();
    file.directoryChanges = [
      { atMs: 60_000, userId: ANNA, set: { servicePlans: ['TEAMS1'] } },
      { atMs: 120_000, userId: ANNA, set: { servicePlans: ['TEAMS1', 'MCOEV'] } },
    ];
    file.users = file.users.map((u) => (u.id === ANNA ? { ...u, teamsProvisioningLagMs: 30_000 } : u));
    fx = await startGraphBackend({ file });
    fx.clock.advance(30_000);
    expect((await fx.admin.userConfiguration(ANNA))?.featureTypes).toContain('PhoneSystem');
    fx.clock.advance(100_000); // 130 s: licence back at 120 s, lag until 150 s
    expect((await fx.admin.userConfiguration(ANNA))?.featureTypes).not.toContain('PhoneSystem');
    fx.clock.advance(20_000);
    expect((await fx.admin.userConfiguration(ANNA))?.featureTypes).toContain('PhoneSystem');
  });
});
