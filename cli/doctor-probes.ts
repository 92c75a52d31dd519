import { CertificateClient } from '@azure/keyvault-certificates';
import type { TokenCredential } from '@azure/identity';
import Long from 'long';
import { z } from 'zod';
import type { OperatorSettings } from '../shared/config/settings.js';
import { queueNames } from '../shared/contracts/messages.js';
import { optionalQueueKeys } from '../shared/contracts/queues.js';
import type { BusClient } from '../shared/ports/bus.js';
import type { NumberInventory } from '../shared/ports/number-inventory.js';
import { requiredGraphPermissions } from '../shared/domain/doctor.js';
import { readGraphPermissions } from './graph-permissions.js';
import type { DoctorProbes, TenantDoctorProbe } from '../shared/usecases/doctor.js';
import { peekRetrying, type PeekRetryOptions } from '../shared/usecases/peek-retry.js';
import type { Tenant } from '../shared/domain/tenants.js';
import { createGraphEntraAdmin } from '../shared/adapters/graph-entra-admin.js';
import { createKeyVaultCertificates } from '../shared/adapters/keyvault-certificates.js';


const RoleAssignmentsSchema = z.object({ value: z.array(z.object({ roleDefinitionId: z.string() })) });
const ServicePrincipalSchema = z.object({ id: z.string() });

/** The part of @azure/keyvault-certificates' CertificateClient the tenant checks read (the sandbox's Key Vault simulator has it too). */
export interface TenantCertificateReader {
  getCertificate(name: string): Promise<{ properties: { expiresOn?: Date; notBefore?: Date; enabled?: boolean }; policy?: { exportable?: boolean; contentType?: string } }>;
}

/** How the tenant checks reach each tenant: a Graph GET in that tenant, and the deployment's Key Vault. */
export interface TenantDoctorReach {
  graphIn: (tenant: Tenant, path: string) => Promise<Response>;
  certificates: TenantCertificateReader | undefined;
  /** Why the certificate check is skipped when there is no Key Vault. */
  noVault?: string;
}

/**
 * Every registered tenant's checks, in that tenant: Graph is asked with a token for the tenant
 * (`getToken(…, { tenantId })`: the operator signed in with access to it, e.g. GDAP), and the
 * certificate is the tenant's `certificateName` in the deployment's Key Vault.
 */
export function tenantDoctorProbes(settings: OperatorSettings, credential: TokenCredential, tenants: readonly Tenant[]): TenantDoctorProbe[] {
  return tenantDoctorProbesWith(
    {
      graphIn: async (t, path) => {
        const token = await credential.getToken('https://graph.microsoft.com/.default', { tenantId: t.tenantId });
        return fetch(`${settings.graphBaseUrl}${path}`, { headers: { authorization: `Bearer ${token?.token ?? ''}` } });
      },
      certificates: settings.keyVaultUrl ? new CertificateClient(settings.keyVaultUrl, credential) : undefined,
      noVault: 'set DIALTONE_KEYVAULT_URL to check it',
    },
    tenants,
  );
}

/** The same requests, wherever they go (Azure, or each tenant's simulators in a sandbox). */
export function tenantDoctorProbesWith(reach: TenantDoctorReach, tenants: readonly Tenant[]): TenantDoctorProbe[] {
  const certificates = reach.certificates;
  return tenants.map((t) => {
    const read = async <T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> => {
      const response = await reach.graphIn(t, path);
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`Graph ${path.split('?')[0]} in tenant ${t.tenantId} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      return schema.parse(await response.json());
    };
    const probe: TenantDoctorProbe = {
      tenantId: t.tenantId,
      displayName: t.displayName,
      applicationId: t.applicationId,
      servicePrincipal: () => read(`/servicePrincipals(appId='${t.applicationId}')?$select=id`, ServicePrincipalSchema),
      roles: async (id) => ((await read(`/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${id}'`)}`, RoleAssignmentsSchema))?.value ?? []).map((r) => r.roleDefinitionId),
      skipped: { certificate: reach.noVault ?? 'no Key Vault to check it in' },
    };
    if (certificates) {
      probe.certificate = async () => {
        const cert = await certificates.getCertificate(t.certificateName);
        return {
          name: t.certificateName,
          expiresOn: cert.properties.expiresOn,
          notBefore: cert.properties.notBefore,
          enabled: cert.properties.enabled,
          exportable: cert.policy?.exportable,
          contentType: cert.policy?.contentType,
        };
      };
    }
    return probe;
  });
}

/** The real probes behind `dialtone doctor`, each as thin as the SDK call it makes. */
/**
 * Doctor's count of a queue's dead letters: a peek of up to `max` of them (nothing is received),
 * from the first sequence number (without one the SDK continues after the last peek of this
 * client). A peek Service Bus answers ServiceBusy is tried again with backoff; when it keeps
 * failing the check fails with that message (`peekRetrying`).
 */
export function deadLetterPeek(bus: BusClient, retry: PeekRetryOptions = {}): (queue: string, max: number) => Promise<number> {
  return async (queue, max) => {
    const receiver = bus.createReceiver(queue, { subQueueType: 'deadLetter' });
    try {
      return (await peekRetrying(receiver, max, { fromSequenceNumber: Long.fromNumber(0) }, `the dead letters of ${queue}`, retry)).length;
    } finally {
      await receiver.close();
    }
  };
}

export function realDoctorProbes(
  settings: OperatorSettings,
  credential: TokenCredential,
  clients: { bus?: () => BusClient; inventory?: () => NumberInventory },
): DoctorProbes {
  const skipped: DoctorProbes['skipped'] = [];
  const probes: DoctorProbes = { settingsProblems: [], skipped };

  if (clients.bus) {
    const bus = clients.bus();
    probes.queues = {
      // voice-commands-pwsh exists only with the graph backend: not checked here.
      names: Object.values(queueNames).filter((name) => !optionalQueueKeys.some((key) => queueNames[key] === name)),
      deadLetters: deadLetterPeek(bus),
    };
  } else skipped.push({ check: 'Queues', setting: 'DIALTONE_SERVICEBUS_NAMESPACE' });

  if (clients.inventory) {
    const inventory = clients.inventory();
    probes.pools = () => inventory.pools();
  } else skipped.push({ check: 'Number pools', setting: 'DIALTONE_TABLES_ENDPOINT' });

  if (settings.keyVaultUrl && settings.certificateName) {
    const client = new CertificateClient(settings.keyVaultUrl, credential);
    const name = settings.certificateName;
    probes.certificate = async () => {
      const cert = await client.getCertificate(name);
      return {
        name,
        expiresOn: cert.properties.expiresOn,
        notBefore: cert.properties.notBefore,
        enabled: cert.properties.enabled,
        exportable: cert.policy?.exportable,
        contentType: cert.policy?.contentType,
      };
    };
  } else skipped.push({ check: 'Key Vault certificate', setting: 'DIALTONE_KEYVAULT_URL and DIALTONE_CERT_NAME' });

  const graph = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const token = await credential.getToken('https://graph.microsoft.com/.default');
    const response = await fetch(`${settings.graphBaseUrl}${path}`, { headers: { authorization: `Bearer ${token?.token ?? ''}` } });
    if (!response.ok) throw new Error(`Graph ${path.split('?')[0]} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return schema.parse(await response.json());
  };

  if (settings.functionPrincipalId) {
    const principalId = settings.functionPrincipalId;
    probes.graphPermissions = {
      backend: settings.teamsBackend,
      required: requiredGraphPermissions(settings.teamsBackend, settings.teamsReadiness),
      facts: () => readGraphPermissions((path, schema) => graph(path, schema), principalId),
    };
  } else skipped.push({ check: 'Graph permission of the Function App', setting: 'DIALTONE_FUNCTION_PRINCIPAL_ID' });

  if (settings.workerPrincipalId) {
    const principalId = settings.workerPrincipalId;
    probes.teamsRole = async () => {
      const roles = await graph(`/roleManagement/directory/roleAssignments?$filter=principalId eq '${principalId}'`, RoleAssignmentsSchema);
      return { principalId, roleDefinitionIds: roles.value.map((r) => r.roleDefinitionId) };
    };
  } else skipped.push({ check: 'Teams role of the worker app', setting: 'DIALTONE_WORKER_PRINCIPAL_ID' });

  if (settings.applicationId && settings.keyVaultUrl && settings.certificateName) {
    const appId = settings.applicationId;
    const name = settings.certificateName;
    const vault = createKeyVaultCertificates(new CertificateClient(settings.keyVaultUrl, credential));
    const entra = createGraphEntraAdmin({ baseUrl: settings.graphBaseUrl, credential });
    probes.appCredential = async () => {
      const app = await entra.getApplicationByAppId(appId);
      if (!app) throw new Error(`no app registration has the application id ${appId} (DIALTONE_APP_ID): run dialtone setup`);
      const latest = await vault.latest(name);
      return {
        appId,
        current: latest ? { thumbprint: latest.thumbprint, version: latest.version } : undefined,
        credentials: (await entra.keyCredentials(app.id)).map((k) => ({ thumbprint: k.thumbprint, endDateTime: k.endDateTime })),
      };
    };
  } else skipped.push({ check: 'Key credential of the worker app', setting: 'DIALTONE_APP_ID, DIALTONE_KEYVAULT_URL and DIALTONE_CERT_NAME' });

  return probes;
}
