import { describe, expect, it } from 'vitest';
import { judgeCertificate, judgeGraphPermissions, judgePools, requiredGraphPermissions, judgeTeamsRole, TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID } from '../../shared/domain/doctor.js';
import { runDoctor, type DoctorProbes } from '../../shared/usecases/doctor.js';
import { dialtone } from '../helpers/cli.js';
import { deadLetterPeek } from '../../cli/doctor-probes.js';
import { MemoryBus } from '../../sandbox/bus/memory-bus.js';
import { SimClock } from '../../sandbox/clock.js';

const now = new Date('2026-11-23T12:00:00Z');
const cert = { name: 'dialtone-worker', expiresOn: new Date('2027-11-23T12:00:00Z'), notBefore: new Date('2026-01-01T00:00:00Z'), exportable: true, contentType: 'application/x-pkcs12', enabled: true };

describe('doctor judgements', () => {
  it('accepts a valid, exportable PFX certificate', () => {
    expect(judgeCertificate(cert, now)).toEqual({ check: "Key Vault certificate 'dialtone-worker'", status: 'ok', detail: 'valid until 2027-11-23T12:00:00.000Z (365 days)' });
  });

  it('warns 30 days before expiry', () => {
    expect(judgeCertificate({ ...cert, expiresOn: new Date('2026-12-10T12:00:00Z') }, now)).toMatchObject({
      status: 'warn',
      detail: 'expires in 17 days (2026-12-10T12:00:00.000Z): rotate it now',
    });
  });

  it('fails an expired certificate', () => {
    expect(judgeCertificate({ ...cert, expiresOn: new Date('2026-11-01T00:00:00Z') }, now).status).toBe('fail');
  });

  it('fails a certificate whose key cannot be exported', () => {
    expect(judgeCertificate({ ...cert, exportable: false }, now).detail).toBe(
      'its key is not exportable, so the secret holds no private key for Connect-MicrosoftTeams',
    );
  });

  it('finds each required permission among the app role assignments on Graph, by the role id Graph lists', () => {
    const facts = {
      principalId: 'p',
      graphServicePrincipalId: 'g',
      appRoles: [{ id: 'r', value: 'User.Read.All' }],
      assignments: [{ appRoleId: 'R', resourceId: 'G' }],
    };
    const required = requiredGraphPermissions('powershell', 'off');
    expect(judgeGraphPermissions(facts, required, 'powershell').map((c) => c.status)).toEqual(['ok']);
    expect(judgeGraphPermissions({ ...facts, assignments: [{ appRoleId: 'r', resourceId: 'other' }] }, required, 'powershell')[0]?.status).toBe('fail');
  });

  it('needs TeamsUserConfiguration.Read.All for readiness with either backend, and the number and policy permissions with graph', () => {
    const names = (b: 'powershell' | 'graph', r: 'graph' | 'off') => requiredGraphPermissions(b, r).map((p) => p.permission);
    expect(names('powershell', 'off')).toEqual(['User.Read.All']);
    expect(names('powershell', 'graph')).toEqual(['User.Read.All', 'TeamsUserConfiguration.Read.All']);
    expect(names('graph', 'off')).toEqual(['User.Read.All', 'TeamsUserConfiguration.Read.All', 'TeamsTelephoneNumber.ReadWrite.All', 'TeamsPolicyUserAssign.ReadWrite.All']);
  });

  it('reports each missing permission on its own line, with what fails without it and the command that grants it', () => {
    const appRoles = requiredGraphPermissions('graph', 'graph').map((p, i) => ({ id: `role-${i}`, value: p.permission }));
    const facts = { principalId: 'fn-id', graphServicePrincipalId: 'g', appRoles, assignments: [{ appRoleId: 'role-0', resourceId: 'g' }, { appRoleId: 'role-1', resourceId: 'g' }] };
    const checks = judgeGraphPermissions(facts, requiredGraphPermissions('graph', 'graph'), 'graph');
    expect(checks.map((c) => [c.check, c.status])).toEqual([
      ['Graph application permission User.Read.All (Function App identity)', 'ok'],
      ['Graph application permission TeamsUserConfiguration.Read.All (Function App identity)', 'ok'],
      ['Graph application permission TeamsTelephoneNumber.ReadWrite.All (Function App identity)', 'fail'],
      ['Graph application permission TeamsPolicyUserAssign.ReadWrite.All (Function App identity)', 'fail'],
    ]);
    expect(checks[2]?.detail).toBe(
      'not granted to fn-id (needed: graphVoice assigns and unassigns numbers): run dialtone setup --function-principal-id fn-id --teams-backend graph (or scripts/grant-graph-permissions.sh --function-principal-id fn-id --teams-backend graph)',
    );
  });

  it('requires the Teams Communications Administrator role for the worker', () => {
    expect(judgeTeamsRole('w', [TEAMS_COMMUNICATIONS_ADMINISTRATOR_ROLE_ID]).status).toBe('ok');
    expect(judgeTeamsRole('w', []).detail).toBe('not assigned to w: Teams cmdlets will fail; run dialtone setup (or scripts/grant-graph-permissions.sh)');
  });

  it('warns when a pool runs low on free numbers', () => {
    const counts = { free: 5, reserved: 0, assigned: 95, quarantined: 0, blocked: 0 };
    expect(judgePools([{ pool: 'ams', quarantineDays: 90, counts, total: 100 }])).toEqual({
      check: 'Number pools',
      status: 'warn',
      detail: 'ams 5/100 free; running low: ams',
    });
  });
});

describe('runDoctor', () => {
  it('turns a probe that throws into a failed check with its message, and lists the skipped ones', async () => {
    const probes: DoctorProbes = {
      settingsProblems: [],
      queues: { names: ['hr-events', 'user-changes'], deadLetters: async (q) => (q === 'hr-events' ? 0 : 3) },
      certificate: async () => {
        throw new Error('Forbidden: caller lacks certificates/get');
      },
      skipped: [{ check: 'Teams role of the worker app', setting: 'DIALTONE_WORKER_PRINCIPAL_ID' }],
    };
    const results = await runDoctor(probes, now);
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['Configuration', 'ok'],
      ['Queue hr-events', 'ok'],
      ['Queue user-changes', 'warn'],
      ['Key Vault certificate', 'fail'],
      ['Teams role of the worker app', 'skip'],
    ]);
    expect(results[3]?.detail).toBe('Forbidden: caller lacks certificates/get');
  });
});

describe('doctor while Service Bus answers ServiceBusy to peeks', () => {
  async function busWithDeadLetters() {
    const bus = new MemoryBus(new SimClock('2026-11-02T08:00:00Z'), [{ name: 'hr-events', requiresSession: false }]);
    await bus.createSender('hr-events').sendMessages([{ body: 'a', messageId: 'a' }, { body: 'b', messageId: 'b' }]);
    const receiver = bus.createReceiver('hr-events');
    for (const m of await receiver.receiveMessages(2)) await receiver.deadLetterMessage(m, { deadLetterReason: 'InvalidMessage', deadLetterErrorDescription: 'x' });
    return bus;
  }

  it('counts the dead letters through a throttled peek, and the same count twice on one client', async () => {
    const bus = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'], times: 2 }] });
    const waits: number[] = [];
    const probes: DoctorProbes = { settingsProblems: [], queues: { names: ['hr-events'], deadLetters: deadLetterPeek(bus, { sleeper: { sleep: async (ms) => void waits.push(ms) } }) }, skipped: [] };
    const first = await runDoctor(probes, now);
    expect(first[1]).toEqual({ check: 'Queue hr-events', status: 'warn', detail: 'reachable, 2 dead letters: dialtone dlq list --queue hr-events' });
    expect(waits).toEqual([1000, 2000]);
    expect((await runDoctor(probes, now))[1]?.detail).toBe('reachable, 2 dead letters: dialtone dlq list --queue hr-events');
  });

  it('fails the queue check with the answer when every peek is refused, and goes on to the next check', async () => {
    const bus = await busWithDeadLetters();
    bus.setFaults({ rules: [{ code: 'ServiceBusy', operations: ['peek'] }] });
    const probes: DoctorProbes = {
      settingsProblems: [],
      queues: { names: ['hr-events'], deadLetters: deadLetterPeek(bus, { sleeper: { sleep: async () => undefined } }) },
      pools: async () => [],
      skipped: [],
    };
    const results = await runDoctor(probes, now);
    expect(results[1]).toEqual({
      check: 'Queue hr-events',
      status: 'fail',
      detail: 'Service Bus answered ServiceBusy to 4 peeks of the dead letters of hr-events over 7 s; nothing was read or changed. Run the command again in a minute.',
    });
    expect(results.map((r) => r.check)).toContain('Number pools');
  });
});

describe('dialtone doctor', () => {
  it('exits 1 when a check fails and prints JSON for scripts', async () => {
    const { out, code } = await dialtone(['doctor', '--json'], { doctor: async () => ({ settingsProblems: ['DIALTONE_TABLES_ENDPOINT: Invalid URL'], skipped: [] }) });
    expect(code).toBe(1);
    expect(JSON.parse(out)).toEqual({
      status: 'fail',
      checks: [{ check: 'Configuration', status: 'fail', detail: 'DIALTONE_TABLES_ENDPOINT: Invalid URL' }],
    });
  });
});
