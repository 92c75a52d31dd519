import { afterEach, describe, expect, it } from 'vitest';
import { createGraphEntraAdmin } from '../../shared/adapters/graph-entra-admin.js';
import { requiredGraphPermissions } from '../../shared/domain/doctor.js';
import { runSetup, type SetupInput } from '../../shared/usecases/setup.js';
import { startGraphSimulator, type GraphSimulator } from '../../sandbox/graph-sim/index.js';
import { SimKeyVault } from '../../sandbox/keyvault-sim/index.js';
import { SimClock } from '../../sandbox/clock.js';
import { SANDBOX_FUNCTION_PRINCIPAL_ID } from '../../sandbox/graph-sim/permissions.js';
import { workerCertificatePolicy } from '../../shared/ports/key-vault-certificates.js';
import { sampleTenant } from '../integration/sandbox-fixtures.js';
import { everyStepCreated } from './fixtures.js';

let graph: GraphSimulator | undefined;
afterEach(async () => {
  await graph?.close();
  graph = undefined;
});

async function world(permissions: string[] = []) {
  const clock = new SimClock(new Date('2026-11-02T08:00:00Z'));
  const tenant = { ...sampleTenant(), graphApp: { permissions } };
  graph = await startGraphSimulator({ tenant, clock });
  const entra = createGraphEntraAdmin({ baseUrl: graph.baseUrl, accessToken: async () => 'sandbox-token' });
  const vault = new SimKeyVault(clock);
  const input: SetupInput = {
    appDisplayName: 'Dialtone worker',
    certificateName: 'dialtone-teams',
    functionPrincipalId: SANDBOX_FUNCTION_PRINCIPAL_ID,
    permissions: requiredGraphPermissions('powershell', 'graph'),
    dryRun: false,
    now: clock.now(),
  };
  return { clock, graph, entra, vault, input };
}

const statuses = (items: { kind: string; identity: string; status: string }[]) => items.map((i) => `${i.kind}:${i.status}`);

describe('dialtone setup (use case, against the Graph and Key Vault simulators)', () => {
  it('creates every object on a bare tenant, and a second run finds every one in place', async () => {
    const { entra, vault, input, graph } = await world();
    const first = await runSetup(entra, vault, input);
    expect(statuses(first.items)).toEqual(everyStepCreated);
    const state = graph.exportEntra();
    expect(state.applications).toHaveLength(1);
    expect(state.applications[0]!.keyCredentials.map((k) => k.thumbprint)).toEqual([first.certificate!.thumbprint]);
    expect(state.roleAssignments).toEqual([expect.objectContaining({ principalId: first.application!.servicePrincipalId, roleDefinitionId: 'baf37b3a-610e-45da-9e62-d9d1e5e8914b', directoryScopeId: '/' })]);
    const latest = await vault.latest('dialtone-teams');
    expect(latest?.policy).toEqual({ exportable: true, keyType: 'RSA', contentType: 'application/x-pkcs12' });

    const second = await runSetup(entra, vault, input);
    expect(second.items.every((i) => i.status === 'already_exists')).toBe(true);
    expect(second.application).toEqual(first.application);
    expect(vault.metrics().created).toBe(1);
    expect(graph.exportEntra().applications[0]!.keyCredentials).toHaveLength(1);
  });

  it('with dryRun writes nothing and says what it would do', async () => {
    const { entra, vault, input, graph } = await world();
    const planned = await runSetup(entra, vault, { ...input, dryRun: true });
    expect(statuses(planned.items)).toEqual(everyStepCreated);
    expect(planned.items.every((i) => i.detail.startsWith('would '))).toBe(true);
    expect(graph.exportEntra()).toEqual({ applications: [], servicePrincipals: [], appRoleAssignments: [], roleAssignments: [] });
    expect(vault.metrics().created).toBe(0);
  });

  it('makes a new version of a certificate the worker cannot use (not exportable), and adds its key beside the old one', async () => {
    const { entra, vault, input, graph } = await world(['User.Read.All', 'TeamsUserConfiguration.Read.All']);
    await vault.create('dialtone-teams', { ...workerCertificatePolicy('CN=old'), exportable: false });
    const result = await runSetup(entra, vault, input);
    const cert = result.items.find((i) => i.kind === 'certificate')!;
    expect(cert.status).toBe('updated');
    expect(cert.detail).toContain('not exportable');
    expect((await vault.latest('dialtone-teams'))?.policy.exportable).toBe(true);
    expect(result.items.filter((i) => i.kind === 'graphPermission').map((i) => i.status)).toEqual(['already_exists', 'already_exists']);
    expect(graph.exportEntra().appRoleAssignments).toEqual([]);
  });

  it('fails the steps that depend on a failed one, without attempting them', async () => {
    const { entra, vault, input } = await world();
    const result = await runSetup(entra, vault, { ...input, certificateName: 'not a valid name' });
    const byKind = Object.fromEntries(result.items.map((i) => [i.kind, i]));
    expect(byKind['certificate']!.status).toBe('failed');
    expect(byKind['certificate']!.detail).toContain('invalid name');
    expect(byKind['keyCredential']).toMatchObject({ status: 'failed', detail: 'not attempted: the certificate step failed' });
    expect(byKind['directoryRole']!.status).toBe('created');
  });
});
