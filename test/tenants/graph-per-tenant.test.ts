/**
 * Issue 16: Graph per tenant in the Functions. correlate, plan and graphVoice ask only the
 * directory / Teams administration of the message's own tenant; the production resolver makes each
 * registered tenant's credential from its own app id and Key Vault certificate (the home tenant
 * keeps the managed identity), caches it, and a tenant whose credential fails fails only its own
 * messages.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createStaticPolicyCatalog } from '../../shared/adapters/file-policy-catalog.js';
import { createMemoryNumberInventory } from '../../shared/adapters/memory-number-inventory.js';
import { createMemoryProvisioningRecords } from '../../shared/adapters/memory-provisioning-records.js';
import { tenantGraphCredentials, perTenantGraph } from '../../shared/adapters/tenant-graph-credentials.js';
import { MCOEV_SERVICE_PLAN_ID, type DirectoryUser, type UserChange } from '../../shared/contracts/messages.js';
import { DialtoneError } from '../../shared/domain/errors.js';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import { defaultRetryPolicy } from '../../shared/domain/settlement.js';
import { effectiveTenants, implicitTenant } from '../../shared/domain/tenants.js';
import { createCorrelateHandler } from '../../shared/handlers/stages.js';
import { silentLogger } from '../../shared/logging/logger.js';
import type { BusSender } from '../../shared/ports/bus.js';
import type { CorrelationStrategy, Directory } from '../../shared/ports/directory.js';
import { perTenant } from '../../shared/ports/per-tenant.js';
import type { TeamsUserConfiguration } from '../../shared/ports/teams-admin.js';
import { planVoice } from '../../shared/usecases/plan-voice.js';
import { SimClock } from '../../sandbox/clock.js';
import { samplePools } from '../integration/sandbox-fixtures.js';
import { recordingActions } from '../helpers/fake-actions.js';
import { recordingSender } from '../helpers/recording-sender.js';
import { makeTestPfx } from '../worker/helpers/certificates.js';
import { registeredTenant } from './fixtures.js';

const HOME = '99999999-9999-4999-8999-999999999999';
const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const APP_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const APP_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const registered = (tenantId: string, name: string, applicationId: string) =>
  registeredTenant(tenantId, name, { applicationId, certificateName: `${name.toLowerCase()}-graph`, teamsBackend: 'powershell' });
const tenants = effectiveTenants([registered(A, 'Contoso', APP_A), registered(B, 'Fabrikam', APP_B)], implicitTenant({ tenantId: HOME }));
const clock = new SimClock('2026-11-02T08:00:00Z');
const licensed = (id: string, upn: string, employeeId: string): DirectoryUser => ({
  id,
  userPrincipalName: upn,
  employeeId,
  accountEnabled: true,
  officeLocation: 'AMS',
  assignedPlans: [{ servicePlanId: MCOEV_SERVICE_PLAN_ID, capabilityStatus: 'Enabled' }],
});

/** A directory of one tenant that counts what it was asked. */
function tenantDirectory(users: DirectoryUser[]) {
  const asked = { single: 0, batches: [] as string[][] };
  const find = (strategy: CorrelationStrategy, value: string) => users.filter((u) => (u as unknown as Record<string, unknown>)[strategy] === value);
  const directory: Directory = {
    findUsers: async (strategy, value) => {
      asked.single += 1;
      return find(strategy, value);
    },
    getUser: async (id) => users.find((u) => u.id === id),
    findUsersBatch: async (lookups) => {
      asked.batches.push(lookups.map((l) => l.value));
      return new Map(lookups.map((l) => [`${l.strategy}\u0000${l.value}`, { kind: 'users' as const, users: find(l.strategy, l.value) }]));
    },
  };
  return { directory, asked };
}

// The same employee ids and UPN local parts in both tenants: different people.
const dirA = tenantDirectory([licensed('a-anna', 'anna@contoso.example', 'E1'), licensed('a-bram', 'bram@contoso.example', 'E2')]);
const dirB = tenantDirectory([licensed('b-anna', 'anna@fabrikam.example', 'E1'), licensed('b-bram', 'bram@fabrikam.example', 'E2')]);

function correlateHarness(forTenant: (tenantId: string | undefined) => Promise<Directory>) {
  const senders = new Map<string, ReturnType<typeof recordingSender>>();
  const sender = (queue: string): BusSender => {
    const s = senders.get(queue) ?? recordingSender({ name: queue, requiresSession: queue !== 'hr-events' });
    senders.set(queue, s);
    return s.sender;
  };
  const handler = createCorrelateHandler({
    clock,
    logger: silentLogger,
    sender,
    retryPolicy: defaultRetryPolicy,
    directory: perTenant(forTenant),
    strategies: ['employeeId'],
    tenants,
  });
  return { handler, senders };
}
const hr = (eventId: string, tenantId: string, employeeId: string) => ({
  body: { eventId, type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', tenantId, person: { employeeId } },
  messageId: eventId,
});

describe('correlate reads the directory of the event\'s own tenant', () => {
  it('finds the same employee id as a different person in each tenant, and batches each tenant\'s lookups in its own directory', async () => {
    dirA.asked.batches.length = 0;
    dirB.asked.batches.length = 0;
    const resolved: (string | undefined)[] = [];
    const { handler, senders } = correlateHarness(async (t) => {
      resolved.push(t);
      if (t === A) return dirA.directory;
      if (t === B) return dirB.directory;
      throw new Error(`no directory for ${String(t)}`);
    });
    const { actions, settled } = recordingActions();
    await handler([hr('e1', A, 'E1'), hr('e2', B, 'E1'), hr('e3', A, 'E2'), hr('e4', B, 'E2')], actions);
    expect(settled.map((s) => s.action)).toEqual(['complete', 'complete', 'complete', 'complete']);
    const changes = senders.get('user-changes')!.sent.map((m) => [m.messageId, (m.body as UserChange).tenantId, (m.body as UserChange).userId]);
    expect(changes).toEqual([
      ['uc-e1', A, 'a-anna'],
      ['uc-e2', B, 'b-anna'],
      ['uc-e3', A, 'a-bram'],
      ['uc-e4', B, 'b-bram'],
    ]);
    expect(dirA.asked.batches).toEqual([['E1', 'E2']]);
    expect(dirB.asked.batches).toEqual([['E1', 'E2']]);
    expect(new Set(resolved)).toEqual(new Set([A, B]));
  });

  it('dead-letters only the events of a tenant whose credential is refused, naming the tenant; the other tenant\'s go on', async () => {
    const { handler, senders } = correlateHarness(async (t) => {
      if (t === B) throw new DialtoneError('CertificateInvalid', `Key Vault certificate 'fabrikam-graph' of tenant ${B} (Fabrikam) does not exist`);
      return dirA.directory;
    });
    const { actions, settled } = recordingActions();
    await handler([hr('e1', A, 'E1'), hr('e2', B, 'E1'), hr('e3', A, 'E2')], actions);
    expect(settled.map((s) => [s.message.messageId, s.action, s.reason ?? null])).toEqual([
      ['e1', 'complete', null],
      ['e2', 'deadletter', 'CertificateInvalid'],
      ['e3', 'complete', null],
    ]);
    expect(settled[1]?.description).toContain(B);
    expect(senders.get('user-changes')!.sent.map((m) => (m.body as UserChange).tenantId)).toEqual([A, A]);
  });

  it('reschedules an event of a tenant whose credential fails transiently, and only that one', async () => {
    const { handler, senders } = correlateHarness(async (t) => {
      if (t === B) throw new DialtoneError('CertificateInvalid', 'Key Vault unavailable', { transient: true });
      return dirA.directory;
    });
    const { actions, settled } = recordingActions();
    await handler([hr('e1', A, 'E1'), hr('e2', B, 'E1')], actions);
    expect(settled.map((s) => s.action)).toEqual(['complete', 'complete']);
    expect(senders.get('hr-events')?.scheduled.map((s) => s.message.messageId)).toEqual(['e2#r1']);
    expect(senders.get('user-changes')!.sent.map((m) => (m.body as UserChange).userId)).toEqual(['a-anna']);
  });
});

describe('plan reads the user and Teams in the change\'s own tenant', () => {
  const policy = parseVoicePolicy(readFileSync(fileURLToPath(new URL('../../sandbox/data/voice-policy.yaml', import.meta.url)), 'utf8'), 'yaml', 'voice-policy.yaml');
  const teamsOf = (tenant: string) => ({
    userConfiguration: async (userId: string): Promise<TeamsUserConfiguration | null> => {
      teamsAsked.push(`${tenant}:${userId}`);
      return { userId, featureTypes: ['PhoneSystem'], isEnterpriseVoiceEnabled: false, telephoneNumbers: [], policies: {} } as unknown as TeamsUserConfiguration;
    },
  });
  const teamsAsked: string[] = [];

  it('uses the directory and the Teams read of the tenant the change names, else of the record', async () => {
    // B's numbers are in B's own inventory (docs/NUMBERS.md "Tenants"); HOME is the deployment's own tenant.
    const inventory = createMemoryNumberInventory({ defaultTenantId: HOME });
    await inventory.forTenant(B).importPools(samplePools(), { now: clock.now(), correlationId: 'import' });
    const records = createMemoryProvisioningRecords();
    const deps = {
      directory: perTenant(async (t) => (t === B ? dirB.directory : dirA.directory)),
      teams: perTenant(async (t) => teamsOf(t ?? 'home')),
      records,
      inventory,
      catalog: createStaticPolicyCatalog([{ identity: 'Tag:CLI-Sales', description: 'DEPT001' }]),
      policy,
      clock,
      snapshotMaxAgeMs: 300_000,
      reservationTtlMs: 86_400_000,
    };
    const change = (eventId: string, tenantId?: string): UserChange => ({
      userId: 'b-anna',
      ...(tenantId ? { tenantId } : {}),
      source: tenantId ? 'hr' : 'resync',
      changeType: tenantId ? 'joiner' : 'updated',
      eventId,
      correlationId: eventId,
      occurredAt: clock.now().toISOString(),
      ...(tenantId ? { person: { employeeId: 'E1', site: 'AMS', departmentId: 'DEPT001' } } : {}),
    });
    const out = await planVoice(change('j1', B), deps);
    expect(out.outcome.kind).toBe('done');
    expect(out.send?.[0]?.messages[0]?.body).toMatchObject({ userId: 'b-anna', tenantId: B, userPrincipalName: 'anna@fabrikam.example' });
    // A resync change names no tenant: the record's tenant is asked, never the home directory.
    const again = await planVoice(change('r1'), deps);
    expect(again.outcome.kind).toBe('done');
    expect(teamsAsked).toEqual([`${B}:b-anna`, `${B}:b-anna`]);
  });
});

describe('the production resolver: a credential per tenant', () => {
  const pfxA = makeTestPfx({ commonName: 'contoso-graph' });
  const expired = makeTestPfx({ commonName: 'fabrikam-old', notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2026-02-01T00:00:00Z') });
  const homeCredential: TokenCredential = { getToken: async () => ({ token: 'home', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const now = Date.parse('2026-11-02T08:00:00Z');

  function resolver(secrets: Record<string, string | Error>, at: { now: number } = { now }) {
    const reads: string[] = [];
    const made: { tenantId: string; clientId: string; pem: string }[] = [];
    const credentials = tenantGraphCredentials({
      home: { tenantId: HOME, credential: homeCredential },
      tenants: async () => tenants,
      vault: {
        url: 'https://kv-dialtone.vault.azure.net/',
        secrets: {
          getSecret: async (name) => {
            reads.push(name);
            const value = secrets[name];
            if (value instanceof Error) throw value;
            if (value === undefined) throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
            return { value, properties: { version: 'v1', contentType: 'application/x-pkcs12' } };
          },
        },
      },
      now: () => at.now,
      makeCredential: (tenantId, clientId, pem) => {
        made.push({ tenantId, clientId, pem });
        return { getToken: async () => ({ token: `token-${tenantId}`, expiresOnTimestamp: at.now + 3_600_000 }) };
      },
    });
    return { credentials, reads, made };
  }

  it('gives the home tenant (and messages naming none) the managed identity, and a registered tenant its own app and certificate', async () => {
    const { credentials, reads, made } = resolver({ 'contoso-graph': pfxA });
    expect(await credentials.forTenant(undefined)).toBe(homeCredential);
    expect(await credentials.forTenant(HOME)).toBe(homeCredential);
    const a = await credentials.forTenant(A.toUpperCase());
    expect((await a.getToken('https://graph.microsoft.com/.default'))?.token).toBe(`token-${A}`);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ tenantId: A, clientId: APP_A });
    // The PEM ClientCertificateCredential is given holds the certificate and its private key.
    const pem = made[0]?.pem ?? '';
    expect(new X509Certificate(pem).subject).toContain('CN=contoso-graph');
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('rsa');
    // Cached: many messages, one Key Vault read.
    for (let i = 0; i < 5; i++) await credentials.forTenant(A);
    expect(reads).toEqual(['contoso-graph']);
  });

  it('refuses a tenant whose certificate is missing or expired, naming it, without touching another tenant, and asks Key Vault again only after a minute', async () => {
    const at = { now };
    const { credentials, reads } = resolver({ 'contoso-graph': pfxA, 'fabrikam-graph': expired }, at);
    await expect(credentials.forTenant(B)).rejects.toMatchObject({ code: 'CertificateInvalid', transient: false, message: expect.stringMatching(new RegExp(`fabrikam-graph.*${B}.*expired`)) });
    await expect(credentials.forTenant(A)).resolves.toBeDefined();
    await expect(credentials.forTenant(B)).rejects.toMatchObject({ code: 'CertificateInvalid' });
    expect(reads.filter((r) => r === 'fabrikam-graph')).toHaveLength(1);
    at.now += 61_000;
    await expect(credentials.forTenant(B)).rejects.toMatchObject({ code: 'CertificateInvalid' });
    expect(reads.filter((r) => r === 'fabrikam-graph')).toHaveLength(2);
    const { credentials: none } = resolver({});
    await expect(none.forTenant(A)).rejects.toMatchObject({ code: 'CertificateInvalid', message: expect.stringContaining("'contoso-graph'") });
    await expect(none.forTenant(A)).rejects.not.toThrow(pfxA.slice(0, 20));
  });

  it('makes a Key Vault outage transient (rescheduled, asked again next time) and an unknown tenant a configuration error', async () => {
    const { credentials, reads } = resolver({ 'contoso-graph': Object.assign(new Error('ServiceUnavailable'), { statusCode: 503 }) });
    await expect(credentials.forTenant(A)).rejects.toMatchObject({ code: 'CertificateInvalid', transient: true });
    await expect(credentials.forTenant(A)).rejects.toMatchObject({ transient: true });
    expect(reads).toHaveLength(2);
    await expect(credentials.forTenant('33333333-3333-4333-8333-333333333333')).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('is not a tenant of this deployment') });
  });

  it('names the tenant and app when Entra ID refuses the token, and makes one Graph adapter per tenant credential', async () => {
    const { credentials } = resolver({ 'contoso-graph': pfxA });
    const failing = tenantGraphCredentials({
      home: { tenantId: HOME, credential: homeCredential },
      tenants: async () => tenants,
      vault: { url: 'https://kv/', secrets: { getSecret: async () => ({ value: pfxA, properties: {} }) } },
      now: () => now,
      makeCredential: () => ({ getToken: async () => Promise.reject(new Error('AADSTS700016: Application not found in the directory')) }),
    });
    const credential = await failing.forTenant(A);
    await expect(credential.getToken('https://graph.microsoft.com/.default')).rejects.toThrow(new RegExp(`tenant ${A} \\(Contoso\\): app ${APP_A} .*AADSTS700016.*consent`));
    const made: TokenCredential[] = [];
    const graph = perTenantGraph(credentials, (c) => {
      made.push(c);
      return { credential: c };
    });
    const first = await graph.forTenant(A);
    expect(await graph.forTenant(A)).toBe(first);
    expect(await graph.forTenant(undefined)).not.toBe(first);
    expect(made).toHaveLength(2);
  });
});
