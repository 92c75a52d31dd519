import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFunctionSettings } from '../../shared/config/settings.js';
import {
  allResources,
  deployedWith,
  loadCompiledTemplate,
  ofType,
  only,
  parametersWithoutDescription,
  resolve,
  resolvedProperties,
  type Json,
  type JsonObject,
  type ScopedResource,
} from './arm-template.js';

const MAIN_JSON = 'infra/build/main.json';

// Well-known built-in role definition ids (identical in every tenant), checked against Microsoft's list.
const ROLE = {
  serviceBusReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  serviceBusSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

const FUNCTION_IDENTITY = "[reference('functionIdentity').outputs.principalId.value]";
const WORKER = "[parameters('workerPrincipalId')]";

interface Grant {
  on: string;
  role: string;
  principal: 'function' | 'worker' | string;
  principalType: string;
}

let root: JsonObject;
let resources: ScopedResource[];
/** What a deployment with teamsBackend graph creates. */
let graphResources: ScopedResource[];

beforeAll(() => {
  root = loadCompiledTemplate(MAIN_JSON);
  resources = deployedWith(allResources(root));
  graphResources = deployedWith(allResources(root), { teamsBackend: 'graph' });
});

function props(type: string): JsonObject {
  return resolvedProperties(only(resources, type));
}

function queue(name: string, from: ScopedResource[] = resources): JsonObject {
  const found = ofType(from, 'Microsoft.ServiceBus/namespaces/queues').filter(
    (q) => resolve("[parameters('name')]", q.scope) === name,
  );
  expect(found, `queue ${name}`).toHaveLength(1);
  return resolvedProperties(found[0] as ScopedResource);
}

function appSettings(): JsonObject {
  const configs = ofType(resources, 'Microsoft.Web/sites/config');
  expect(configs).toHaveLength(1);
  const config = configs[0] as ScopedResource;
  expect(config.body.name).toBe("[format('{0}/{1}', parameters('name'), 'appsettings')]");
  return resolvedProperties(config);
}

/** Reads one role-assignment loop as the grants it makes, after checking it has the one shape we trust. */
function grantsOf(assignment: ScopedResource): Grant[] {
  const where = [...assignment.scope.path, assignment.symbol].join('/');
  const item = "parameters('roleAssignments')[copyIndex()]";
  const roleId = `variables('builtInRoleIds')[${item}.roleDefinitionName]`;
  const body = assignment.body;
  const properties = body.properties as JsonObject;
  expect(body.copy, where).toEqual({ name: assignment.symbol, count: "[length(parameters('roleAssignments'))]" });
  expect(properties.roleDefinitionId, where).toBe(
    `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${roleId})]`,
  );
  expect(properties.principalId, where).toBe(`[${item}.principalId]`);
  expect(properties.principalType, where).toBe(`[${item}.principalType]`);
  const scopeId = String(body.scope);
  expect(scopeId, where).toMatch(/^\[resourceId\('([^']+)', .*\)\]$/);
  expect(body.name, where).toBe(`[guid(${scopeId.slice(1, -1)}, ${item}.principalId, ${roleId})]`);

  const scopeType = /^\[resourceId\('([^']+)'/.exec(scopeId)?.[1] ?? scopeId;
  const on =
    scopeType === 'Microsoft.ServiceBus/namespaces/queues'
      ? `queue ${String(resolve("[parameters('name')]", assignment.scope))}`
      : scopeType === 'Microsoft.Storage/storageAccounts/tableServices/tables'
        ? `table ${String(resolve("[parameters('tableName')]", assignment.scope))}`
        : scopeType;
  const roleIds = resolve("[variables('builtInRoleIds')]", assignment.scope) as Record<string, string>;
  const items = resolve("[parameters('roleAssignments')]", assignment.scope) as JsonObject[];
  return items.map((grant) => ({
    on,
    role: roleIds[String(grant.roleDefinitionName)] ?? `unknown role ${String(grant.roleDefinitionName)}`,
    principal: grant.principalId === FUNCTION_IDENTITY ? 'function' : grant.principalId === WORKER ? 'worker' : String(grant.principalId),
    principalType: String(grant.principalType),
  }));
}

const byKey = (a: Grant, b: Grant) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('compiled template (infra/build/main.json)', () => {
  it('describes every parameter of every template', () => {
    expect(parametersWithoutDescription(root)).toEqual([]);
  });

  it('declares the outputs the worker and the deployment guide need', () => {
    expect(Object.keys(root.outputs as JsonObject)).toEqual(
      expect.arrayContaining(['serviceBusNamespace', 'keyVaultUri', 'queueNames', 'functionAppName', 'tablesEndpoint', 'tenantId']),
    );
  });
});

describe('outputs', () => {
  it('name each queue from the module that created it', () => {
    expect(((root.outputs as JsonObject).queueNames as JsonObject).value).toEqual({
      hrEvents: "[reference('hrEventsQueue').outputs.name.value]",
      userChanges: "[reference('userChangesQueue').outputs.name.value]",
      voiceCommands: "[reference('voiceCommandsQueue').outputs.name.value]",
      voiceResults: "[reference('voiceResultsQueue').outputs.name.value]",
    });
  });
});

describe('Service Bus', () => {
  it('is a Standard namespace with SAS keys disabled and TLS 1.2 minimum', () => {
    const namespace = only(resources, 'Microsoft.ServiceBus/namespaces');
    expect(namespace.body.sku).toEqual({ name: 'Standard', tier: 'Standard' });
    expect(resolvedProperties(namespace)).toMatchObject({ disableLocalAuth: true, minimumTlsVersion: '1.2' });
  });

  it('has exactly the four Dialtone queues', () => {
    const names = ofType(resources, 'Microsoft.ServiceBus/namespaces/queues').map((q) => resolve("[parameters('name')]", q.scope));
    expect(names.sort()).toEqual(['hr-events', 'user-changes', 'voice-commands', 'voice-results']);
  });

  it.each([
    ['hr-events', false],
    ['user-changes', true],
    ['voice-commands', true],
    ['voice-results', false],
  ])('%s: sessions %s, duplicate detection over 10 minutes, 10 deliveries, dead-letter on expiry, 5 minute lock', (name, sessions) => {
    expect(queue(name)).toMatchObject({
      requiresSession: sessions,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'PT10M',
      maxDeliveryCount: 10,
      deadLetteringOnMessageExpiration: true,
      lockDuration: 'PT5M',
    });
  });
});

describe('Queues from infra/queues.json (the one definition the sandbox bus also reads)', () => {
  const file = JSON.parse(readFileSync('infra/queues.json', 'utf8')) as { queues: Record<string, Record<string, Json>> };
  const fields = [
    'requiresSession',
    'requiresDuplicateDetection',
    'duplicateDetectionHistoryTimeWindow',
    'lockDuration',
    'maxDeliveryCount',
    'defaultMessageTimeToLive',
    'deadLetteringOnMessageExpiration',
  ];

  // voice-commands-pwsh exists only with teamsBackend graph (the worker's queue for what Graph cannot do).
  const graphOnly = ['voiceCommandsPowerShell'];

  it('deploys exactly the queues the file lists (voice-commands-pwsh with teamsBackend graph only)', () => {
    const names = (from: ScopedResource[]) =>
      ofType(from, 'Microsoft.ServiceBus/namespaces/queues').map((q) => String(resolve("[parameters('name')]", q.scope))).sort();
    expect(names(resources)).toEqual(Object.entries(file.queues).filter(([k]) => !graphOnly.includes(k)).map(([, q]) => String(q.name)).sort());
    expect(names(graphResources)).toEqual(Object.values(file.queues).map((q) => String(q.name)).sort());
  });

  it.each(Object.entries(file.queues))('%s: every property the file sets is what the template deploys', (key, definition) => {
    const deployed = queue(String(definition.name), graphOnly.includes(key) ? graphResources : resources);
    for (const field of fields) {
      expect(definition[field], `infra/queues.json ${String(definition.name)}.${field}`).toBeDefined();
      expect(deployed[field], `${String(definition.name)}.${field}`).toEqual(definition[field]);
    }
  });

  it('the queue names Dialtone sends to are the names of the file', async () => {
    const { queueNames } = await import('../../shared/contracts/queues.js');
    expect(Object.fromEntries(Object.entries(file.queues).map(([key, q]) => [key, q.name]))).toEqual(queueNames);
  });
});

describe('Storage', () => {
  it('accepts Entra ID only, over HTTPS with TLS 1.2, with no public blobs', () => {
    expect(props('Microsoft.Storage/storageAccounts')).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
    });
  });

  it('creates the Dialtone tables', () => {
    const tables = ofType(resources, 'Microsoft.Storage/storageAccounts/tableServices/tables')[0] as ScopedResource;
    expect(resolve("[parameters('tableNames')]", tables.scope)).toEqual(['numbers', 'numberhistory', 'provisioning', 'dialtonesync', 'sessionslots']);
  });
});

describe('Key Vault', () => {
  it('uses RBAC, soft delete and purge protection', () => {
    expect(props('Microsoft.KeyVault/vaults')).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      enablePurgeProtection: true,
    });
  });
});

describe('Monitoring', () => {
  it('Application Insights takes Entra-authenticated telemetry only', () => {
    expect(props('Microsoft.Insights/components')).toMatchObject({ DisableLocalAuth: true });
  });
});

describe('Function App', () => {
  it('runs on the Flex Consumption plan', () => {
    expect(only(resources, 'Microsoft.Web/serverfarms').body.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
  });

  it('runs Node 20 as its user-assigned identity and deploys from blob storage with that identity', () => {
    const site = only(resources, 'Microsoft.Web/sites');
    expect((site.body.identity as JsonObject).type).toBe('UserAssigned');
    const config = resolvedProperties(site).functionAppConfig as JsonObject;
    expect(config.runtime).toEqual({ name: 'node', version: '20' });
    expect((config.deployment as JsonObject).storage).toMatchObject({
      type: 'blobContainer',
      authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: "[reference('functionIdentity').outputs.resourceId.value]" },
    });
    expect(resolvedProperties(site)).toMatchObject({ httpsOnly: true });
  });

  it('sets exactly the identity-based settings and the Dialtone settings', () => {
    expect(Object.keys(appSettings()).sort()).toEqual(
      [
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'AZURE_CLIENT_ID',
        'AzureWebJobsStorage__accountName',
        'AzureWebJobsStorage__clientId',
        'AzureWebJobsStorage__credential',
        'DIALTONE_CORRELATION_STRATEGIES',
        'DIALTONE_GRAPH_BASE_URL',
        'DIALTONE_POLICY_PATH',
        'DIALTONE_RETRY_WINDOW_MINUTES',
        'DIALTONE_TABLES_ENDPOINT',
        'DIALTONE_TEAMS_BACKEND',
        'DIALTONE_TEAMS_READINESS',
        'DIALTONE_GRAPH_FALLBACK_QUEUE',
        'DIALTONE_KEYVAULT_URL',
        'DIALTONE_TENANT_ID',
        'ServiceBusConnection__clientId',
        'ServiceBusConnection__credential',
        'ServiceBusConnection__fullyQualifiedNamespace',
      ].sort(),
    );
  });

  it('sets DIALTONE_TEAMS_BACKEND and DIALTONE_TEAMS_READINESS from the teamsBackend and teamsReadiness parameters, allowing exactly what the functions accept (issue 15)', () => {
    expect(appSettings()).toMatchObject({ DIALTONE_TEAMS_BACKEND: 'powershell', DIALTONE_TEAMS_READINESS: 'graph' });
    const parameters = root.parameters as JsonObject;
    const cases = [
      { parameter: 'teamsBackend', setting: 'DIALTONE_TEAMS_BACKEND', field: 'teamsBackend' },
      { parameter: 'teamsReadiness', setting: 'DIALTONE_TEAMS_READINESS', field: 'teamsReadiness' },
    ] as const;
    for (const { parameter, setting, field } of cases) {
      const declared = parameters[parameter] as JsonObject;
      expect(declared, parameter).toMatchObject({ type: 'string' });
      // The template's default is the functions' default: a deployment that leaves it out behaves as one without the setting.
      const base = { DIALTONE_TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', ServiceBusConnection__fullyQualifiedNamespace: 'contoso.servicebus.windows.net' };
      expect(declared.defaultValue, parameter).toBe(loadFunctionSettings(base)[field]);
      // Every value the template allows, the functions accept; a value outside the list is refused by both.
      for (const value of declared.allowedValues as string[]) expect(loadFunctionSettings({ ...base, [setting]: value })[field]).toBe(value);
      expect(declared.allowedValues).not.toContain('none');
      expect(() => loadFunctionSettings({ ...base, [setting]: 'none' })).toThrow(setting);
    }
  });

  it('connects to Service Bus, storage and Application Insights as the managed identity', () => {
    const clientId = "[reference('functionIdentity').outputs.clientId.value]";
    expect(appSettings()).toMatchObject({
      ServiceBusConnection__fullyQualifiedNamespace: "[reference('serviceBus').outputs.fullyQualifiedNamespace.value]",
      ServiceBusConnection__credential: 'managedidentity',
      ServiceBusConnection__clientId: clientId,
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: clientId,
      AZURE_CLIENT_ID: clientId,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]`,
      DIALTONE_TABLES_ENDPOINT: "[reference('storage').outputs.tableEndpoint.value]",
    });
  });

  it('passes the Dialtone defaults', () => {
    expect(appSettings()).toMatchObject({
      DIALTONE_POLICY_PATH: 'config/voice-policy.yaml',
      DIALTONE_GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0',
      DIALTONE_CORRELATION_STRATEGIES: "[join(parameters('dialtoneSettings').correlationStrategies, ',')]",
      DIALTONE_RETRY_WINDOW_MINUTES: "[string(parameters('dialtoneSettings').retryWindowMinutes)]",
      DIALTONE_TENANT_ID: '[tenant().tenantId]',
    });
    const site = only(resources, 'Microsoft.Web/sites');
    expect(resolve("[parameters('dialtoneSettings')]", site.scope)).toMatchObject({
      correlationStrategies: ['userPrincipalName', 'employeeId', 'mail'],
      retryWindowMinutes: 1440,
    });
  });

  it('puts no key, connection-string secret or instrumentation key in any setting', () => {
    for (const [name, value] of Object.entries(appSettings())) {
      expect(String(value), name).not.toMatch(/AccountKey=|SharedAccessKey=|InstrumentationKey=|listKeys\(|list[A-Za-z]*\(/);
    }
  });
});

describe('secrets in the whole template', () => {
  it('calls no list*() function and embeds no key or connection-string secret', () => {
    const text = readFileSync(MAIN_JSON, 'utf8');
    expect(text).not.toMatch(/\blist[A-Za-z]*\(/);
    expect(text).not.toMatch(/AccountKey=|SharedAccessKey=|InstrumentationKey=/);
  });
});

describe('role assignments', () => {
  it('grant each principal exactly the narrowest roles its stages need, on the resource or queue itself', () => {
    const grants = ofType(resources, 'Microsoft.Authorization/roleAssignments').flatMap(grantsOf);
    const fn = (on: string, role: string): Grant => ({ on, role, principal: 'function', principalType: 'ServicePrincipal' });
    const worker = (on: string, role: string): Grant => ({ on, role, principal: 'worker', principalType: 'ServicePrincipal' });
    expect(grants.sort(byKey)).toEqual(
      [
        fn('queue hr-events', ROLE.serviceBusReceiver),
        fn('queue hr-events', ROLE.serviceBusSender),
        fn('queue user-changes', ROLE.serviceBusReceiver),
        fn('queue user-changes', ROLE.serviceBusSender),
        fn('queue voice-commands', ROLE.serviceBusSender),
        fn('queue voice-results', ROLE.serviceBusReceiver),
        fn('queue voice-results', ROLE.serviceBusSender),
        fn('Microsoft.Storage/storageAccounts', ROLE.storageBlobDataOwner),
        fn('Microsoft.Storage/storageAccounts', ROLE.storageTableDataContributor),
        fn('Microsoft.Insights/components', ROLE.monitoringMetricsPublisher),
        worker('queue voice-commands', ROLE.serviceBusReceiver),
        // A paused tenant's commands are set aside as scheduled copies on their own queue.
        worker('queue voice-commands', ROLE.serviceBusSender),
        worker('queue voice-results', ROLE.serviceBusSender),
        worker('Microsoft.KeyVault/vaults', ROLE.keyVaultSecretsUser),
        worker('Microsoft.KeyVault/vaults', ROLE.keyVaultReader),
        worker('Microsoft.Insights/components', ROLE.monitoringMetricsPublisher),
        worker('table sessionslots', ROLE.storageTableDataContributor),
      ].sort(byKey),
    );
  });

  it('with servesRegisteredTenants, lets the Function App identity read the tenants\' certificates (Key Vault Secrets User on the vault) and names the vault; without it, neither (issue 16)', () => {
    const vaultGrants = (from: ScopedResource[]) =>
      ofType(from, 'Microsoft.Authorization/roleAssignments')
        .flatMap(grantsOf)
        .filter((g) => g.on === 'Microsoft.KeyVault/vaults' && g.principal === 'function');
    expect(vaultGrants(resources)).toEqual([]);
    expect(appSettings().DIALTONE_KEYVAULT_URL).toBe("[if(parameters('servesRegisteredTenants'), reference('keyVault').outputs.uri.value, '')]");
    const multi = deployedWith(allResources(root), { servesRegisteredTenants: true });
    expect(vaultGrants(multi)).toEqual([{ on: 'Microsoft.KeyVault/vaults', role: ROLE.keyVaultSecretsUser, principal: 'function', principalType: 'ServicePrincipal' }]);
    const declared = (root.parameters as JsonObject).servesRegisteredTenants as JsonObject;
    expect(declared).toMatchObject({ type: 'bool', defaultValue: false });
    // The Bicep's empty value is "no vault" to the functions, not an invalid URL.
    const base = { DIALTONE_TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', ServiceBusConnection__fullyQualifiedNamespace: 'contoso.servicebus.windows.net' };
    expect(loadFunctionSettings({ ...base, DIALTONE_KEYVAULT_URL: '' }).keyVaultUrl).toBeUndefined();
  });

  it('never grants the worker anything on a queue it does not use', () => {
    const grants = ofType(resources, 'Microsoft.Authorization/roleAssignments').flatMap(grantsOf);
    const workerQueues = grants.filter((g) => g.principal === 'worker' && g.on.startsWith('queue ')).map((g) => g.on);
    expect(workerQueues.sort()).toEqual(['queue voice-commands', 'queue voice-commands', 'queue voice-results']);
  });

  it('with teamsBackend graph, lets graphVoice receive voice-commands and hand the rest to the worker on voice-commands-pwsh', () => {
    const all = ofType(graphResources, 'Microsoft.Authorization/roleAssignments').flatMap(grantsOf);
    const onCommands = (g: Grant) => g.on === 'queue voice-commands' || g.on === 'queue voice-commands-pwsh';
    const fn = (on: string, role: string): Grant => ({ on, role, principal: 'function', principalType: 'ServicePrincipal' });
    const worker = (on: string, role: string): Grant => ({ on, role, principal: 'worker', principalType: 'ServicePrincipal' });
    expect(all.filter(onCommands).sort(byKey)).toEqual(
      [
        fn('queue voice-commands', ROLE.serviceBusSender),
        fn('queue voice-commands', ROLE.serviceBusReceiver),
        fn('queue voice-commands-pwsh', ROLE.serviceBusSender),
        worker('queue voice-commands-pwsh', ROLE.serviceBusReceiver),
        worker('queue voice-commands-pwsh', ROLE.serviceBusSender),
      ].sort(byKey),
    );
    const names = ofType(graphResources, 'Microsoft.ServiceBus/namespaces/queues').map((q) => resolve("[parameters('name')]", q.scope));
    expect(names.sort()).toEqual(['hr-events', 'user-changes', 'voice-commands', 'voice-commands-pwsh', 'voice-results']);
  });
});

describe('Bicep sources', () => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? entry.name === 'build'
          ? []
          : sources(join(dir, entry.name))
        : /\.bicep(param)?$/.test(entry.name)
          ? [join(dir, entry.name)]
          : [],
    );

  it('reference no public registry module and no Graph extension (neither can be fetched by the build)', () => {
    const offenders = sources('infra').filter((file) => /br\/public:|br:mcr\.microsoft\.com|extension\s+microsoftGraph/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('map role names to ids only in infra/modules/roles.bicep', () => {
    const withGuids = sources('infra').filter((file) => Object.values(ROLE).some((id) => readFileSync(file, 'utf8').includes(id)));
    expect(withGuids).toEqual([join('infra', 'modules', 'roles.bicep')]);
  });
});
