import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSandboxTenantFile, parseSandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';
import { tenantFile } from './fixtures.js';

const EXAMPLE = fileURLToPath(new URL('../../sandbox/data/tenant.json', import.meta.url));

describe('the sandbox tenant file', () => {
  it('reads the example tenant shipped with the sandbox', async () => {
    const file = await loadSandboxTenantFile(EXAMPLE);
    expect(file.users.map((u) => u.userPrincipalName)).toEqual(['anna.devries@contoso.example', 'bram.jansen@contoso.example']);
  });

  it('keeps fields it does not know, for the other simulators', async () => {
    const json = JSON.parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const file = parseSandboxTenantFile({ ...json, graphSimulator: { latencyMs: 5 } });
    expect((file as Record<string, unknown>).graphSimulator).toEqual({ latencyMs: 5 });
  });

  it('keeps directory changes and simulator settings', () => {
    const file = parseSandboxTenantFile({
      ...tenantFile(),
      directoryChanges: [{ atMs: 3_600_000, userId: tenantFile().users[0]!.id, set: { department: 'Support', accountEnabled: false }, notify: false }],
      teamsSimulator: { latencyMs: { write: 5 }, faults: [{ kind: 'throttle', cmdlet: 'Set-CsPhoneNumberAssignment', times: 2 }], seed: 7 },
    });
    expect(file.directoryChanges?.[0]?.set).toEqual({ department: 'Support', accountEnabled: false });
    expect(file.teamsSimulator?.faults?.[0]?.times).toBe(2);
  });

  it('names the field path of a bad value', () => {
    const file = tenantFile();
    (file.users[1] as Record<string, unknown>).teams = { lineUri: '020 123 4567' };
    expect(() => parseSandboxTenantFile(file, 'tenant.json')).toThrow(
      'tenant.json: users[1].teams.lineUri: must be tel:+E.164 or +E.164, optionally with ;ext=',
    );
  });

  it('refuses a user policy the tenant does not define', () => {
    const file = tenantFile();
    file.users[0]!.teams = { policies: { OnlineVoiceRoutingPolicy: 'VRP-XX' } };
    expect(() => parseSandboxTenantFile(file)).toThrow(
      'tenant file: users[0].teams.policies.OnlineVoiceRoutingPolicy: no OnlineVoiceRoutingPolicy named VRP-XX in policies.OnlineVoiceRoutingPolicy',
    );
  });

  it('refuses a number held twice', () => {
    const file = tenantFile();
    file.externalAssignments = [{ number: '+31201234010', assignedTo: 'someone' }];
    expect(() => parseSandboxTenantFile(file)).toThrow('externalAssignments[0].number: number +31201234010 is already held by users.4.teams.lineUri');
  });

  it('refuses a directory change for an unknown user', () => {
    const file = { ...tenantFile(), directoryChanges: [{ atMs: 0, userId: 'ghost', set: {} }] };
    expect(() => parseSandboxTenantFile(file)).toThrow('directoryChanges[0].userId: no user with id ghost');
  });

  it('names a missing required field', () => {
    const { tenantId: _dropped, ...rest } = tenantFile();
    expect(() => parseSandboxTenantFile(rest)).toThrow(/^tenant file: tenantId: /);
  });
});
