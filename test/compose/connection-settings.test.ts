import { describe, expect, it } from 'vitest';
import { loadFunctionSettings, loadOperatorSettings } from '../../shared/config/settings.js';
import { loadWorkerSettings } from '../../shared/config/worker-settings.js';

/** The Service Bus emulator's connection string, as Microsoft documents it (its fixed, public key). */
export const EMULATOR = 'Endpoint=sb://servicebus;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';
const AZURE_WITH_KEY = 'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abcdefSECRET123=';

const functionBase = { DIALTONE_TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
const workerBase = {
  DIALTONE_TENANT_ID: '8a1c1b5e-2f5d-4c8e-9a7b-1d2e3f4a5b6c',
  DIALTONE_APP_ID: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
  DIALTONE_CERT_FILE: '/certs/worker.pfx',
};

describe('Service Bus: managed identity in Azure, the emulator\'s connection string locally, through the same settings', () => {
  it('the function app takes ServiceBusConnection__fullyQualifiedNamespace (identity), as the trigger does', () => {
    const s = loadFunctionSettings({ ...functionBase, ServiceBusConnection__fullyQualifiedNamespace: 'contoso-dialtone.servicebus.windows.net' });
    expect(s.serviceBus).toEqual({ kind: 'namespace', namespace: 'contoso-dialtone.servicebus.windows.net' });
  });

  it('the function app takes ServiceBusConnection as the emulator\'s connection string, the setting the trigger reads locally', () => {
    const s = loadFunctionSettings({ ...functionBase, ServiceBusConnection: EMULATOR });
    expect(s.serviceBus).toEqual({ kind: 'emulator', connectionString: EMULATOR });
  });

  it('refuses a connection string that is not the emulator\'s, without echoing its key', () => {
    const attempt = () => loadFunctionSettings({ ...functionBase, ServiceBusConnection: AZURE_WITH_KEY });
    expect(attempt).toThrow(/ServiceBusConnection: .*UseDevelopmentEmulator=true.*managed identity/);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain('SECRET');
    }
  });

  it('refuses both at once, and neither, naming the settings', () => {
    expect(() => loadFunctionSettings({ ...functionBase, ServiceBusConnection: EMULATOR, ServiceBusConnection__fullyQualifiedNamespace: 'contoso-dialtone.servicebus.windows.net' })).toThrow(
      /ServiceBusConnection: set either ServiceBusConnection__fullyQualifiedNamespace .* or ServiceBusConnection/,
    );
    expect(() => loadFunctionSettings({ ...functionBase })).toThrow(/ServiceBusConnection__fullyQualifiedNamespace: /);
  });

  it('the worker takes DIALTONE_SERVICEBUS_NAMESPACE or DIALTONE_SERVICEBUS_CONNECTION_STRING (emulator only)', () => {
    expect(loadWorkerSettings({ ...workerBase, DIALTONE_SERVICEBUS_NAMESPACE: 'contoso-dialtone.servicebus.windows.net' }).serviceBus).toEqual({
      kind: 'namespace',
      namespace: 'contoso-dialtone.servicebus.windows.net',
    });
    expect(loadWorkerSettings({ ...workerBase, DIALTONE_SERVICEBUS_CONNECTION_STRING: EMULATOR }).serviceBus).toEqual({ kind: 'emulator', connectionString: EMULATOR });
    expect(() => loadWorkerSettings({ ...workerBase, DIALTONE_SERVICEBUS_CONNECTION_STRING: AZURE_WITH_KEY })).toThrow(/DIALTONE_SERVICEBUS_CONNECTION_STRING: .*UseDevelopmentEmulator=true/);
    expect(() => loadWorkerSettings({ ...workerBase })).toThrow(/DIALTONE_SERVICEBUS_NAMESPACE: /);
    expect(() =>
      loadWorkerSettings({ ...workerBase, DIALTONE_SERVICEBUS_NAMESPACE: 'contoso-dialtone.servicebus.windows.net', DIALTONE_SERVICEBUS_CONNECTION_STRING: EMULATOR }),
    ).toThrow(/set either DIALTONE_SERVICEBUS_NAMESPACE .* or DIALTONE_SERVICEBUS_CONNECTION_STRING/);
  });

  it('the operator CLI takes the same two settings as the worker', () => {
    expect(loadOperatorSettings({ DIALTONE_SERVICEBUS_CONNECTION_STRING: EMULATOR }).serviceBus).toEqual({ kind: 'emulator', connectionString: EMULATOR });
    expect(loadOperatorSettings({ DIALTONE_SERVICEBUS_NAMESPACE: 'contoso-dialtone.servicebus.windows.net' }).serviceBus).toEqual({
      kind: 'namespace',
      namespace: 'contoso-dialtone.servicebus.windows.net',
    });
    expect(loadOperatorSettings({}).serviceBus).toBeUndefined();
    expect(() => loadOperatorSettings({ DIALTONE_SERVICEBUS_CONNECTION_STRING: AZURE_WITH_KEY })).toThrow(/UseDevelopmentEmulator=true/);
  });
});

describe('Graph: the simulator credential only with a plain-HTTP simulator', () => {
  const base = { ...functionBase, ServiceBusConnection: EMULATOR };
  it('defaults to the Azure credential against Microsoft Graph', () => {
    expect(loadFunctionSettings(base).graphCredential).toBe('azure');
  });

  it('uses the simulator credential with an http:// simulator URL', () => {
    expect(loadFunctionSettings({ ...base, DIALTONE_GRAPH_BASE_URL: 'http://simulators:8080/v1.0', DIALTONE_GRAPH_CREDENTIAL: 'simulator' }).graphCredential).toBe('simulator');
  });

  it('refuses the simulator credential against an https Graph, and plain HTTP with the Azure credential', () => {
    expect(() => loadFunctionSettings({ ...base, DIALTONE_GRAPH_CREDENTIAL: 'simulator' })).toThrow(/DIALTONE_GRAPH_CREDENTIAL: .*simulator.*http:\/\//);
    expect(() => loadFunctionSettings({ ...base, DIALTONE_GRAPH_BASE_URL: 'http://simulators:8080/v1.0' })).toThrow(/DIALTONE_GRAPH_BASE_URL: .*https/);
  });
});

describe('the Service Bus client follows the target', () => {
  it('reaches the emulator by its connection string and Azure by the namespace with the credential', async () => {
    const { createServiceBusClient } = await import('../../shared/adapters/service-bus-client.js');
    const credential = { getToken: async () => null };
    const emulator = createServiceBusClient({ kind: 'emulator', connectionString: EMULATOR }, credential);
    const azure = createServiceBusClient({ kind: 'namespace', namespace: 'contoso-dialtone.servicebus.windows.net' }, credential);
    try {
      expect(emulator.fullyQualifiedNamespace).toBe('servicebus');
      expect(azure.fullyQualifiedNamespace).toBe('contoso-dialtone.servicebus.windows.net');
    } finally {
      await emulator.close();
      await azure.close();
    }
  });
});
