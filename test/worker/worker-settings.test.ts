import { describe, expect, it } from 'vitest';
import { loadWorkerSettings } from '../../shared/config/worker-settings.js';

const base = {
  DIALTONE_SERVICEBUS_NAMESPACE: 'contoso-dialtone.servicebus.windows.net',
  DIALTONE_TENANT_ID: '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001',
  DIALTONE_APP_ID: '2c9f6a11-7d55-4e8b-9a41-0b1f5c3d0002',
  DIALTONE_KEYVAULT_URL: 'https://contoso-dialtone.vault.azure.net',
  DIALTONE_CERT_NAME: 'dialtone-teams',
};

describe('loadWorkerSettings', () => {
  it('reads a Key Vault certificate and applies the defaults', () => {
    expect(loadWorkerSettings(base)).toMatchObject({
      serviceBus: { kind: 'namespace', namespace: 'contoso-dialtone.servicebus.windows.net' },
      certificate: { kind: 'keyVault', vaultUrl: 'https://contoso-dialtone.vault.azure.net', name: 'dialtone-teams', reloadIntervalMs: 3_600_000 },
      pwsh: { path: 'pwsh', script: 'worker/pwsh/host.ps1' },
      pool: { maxSessions: 8, maxSessionsPerTenant: 4, idleTimeoutMs: 600_000, maxSessionAgeMs: 3_000_000, cmdletTimeoutMs: 120_000 },
      concurrentSessions: 4,
      logLevel: 'info',
    });
  });

  it('converts seconds and minutes to milliseconds', () => {
    const settings = loadWorkerSettings({ ...base, DIALTONE_IDLE_TIMEOUT_SECONDS: '30', DIALTONE_MAX_SESSION_AGE_MINUTES: '5', DIALTONE_CMDLET_TIMEOUT_SECONDS: '45' });
    expect(settings.pool).toMatchObject({ idleTimeoutMs: 30_000, maxSessionAgeMs: 300_000, cmdletTimeoutMs: 45_000 });
  });

  it('shares a tenant session limit of 4 by default, through Table Storage when an endpoint is set', () => {
    expect(loadWorkerSettings(base).tenantSessions).toEqual({ limit: 4, leaseMs: 60_000, tablesEndpoint: undefined });
    expect(
      loadWorkerSettings({ ...base, DIALTONE_TENANT_SESSION_LIMIT: '3', DIALTONE_SESSION_LEASE_SECONDS: '30', DIALTONE_TABLES_ENDPOINT: 'https://contoso.table.core.windows.net' }).tenantSessions,
    ).toEqual({ limit: 3, leaseMs: 30_000, tablesEndpoint: 'https://contoso.table.core.windows.net' });
    expect(() => loadWorkerSettings({ ...base, DIALTONE_TENANT_SESSION_LIMIT: '0' })).toThrow(/DIALTONE_TENANT_SESSION_LIMIT/);
  });

  it('never lets the per-tenant limit exceed the global one', () => {
    expect(loadWorkerSettings({ ...base, DIALTONE_MAX_SESSIONS: '2', DIALTONE_MAX_SESSIONS_PER_TENANT: '6' }).pool.maxSessionsPerTenant).toBe(2);
  });

  it('accepts a development certificate file instead of Key Vault', () => {
    const { DIALTONE_KEYVAULT_URL: _url, DIALTONE_CERT_NAME: _name, ...rest } = base;
    expect(loadWorkerSettings({ ...rest, DIALTONE_CERT_FILE: '/etc/dialtone/app.pfx', DIALTONE_CERT_PASSWORD_FILE: '/etc/dialtone/pfx.pw' }).certificate).toEqual({
      kind: 'file',
      path: '/etc/dialtone/app.pfx',
      passwordFile: '/etc/dialtone/pfx.pw',
    });
  });

  it('names a missing setting', () => {
    const { DIALTONE_TENANT_ID: _tenant, ...rest } = base;
    expect(() => loadWorkerSettings(rest)).toThrow(/^Invalid worker settings: DIALTONE_TENANT_ID: /);
  });

  it('names a malformed namespace', () => {
    expect(() => loadWorkerSettings({ ...base, DIALTONE_SERVICEBUS_NAMESPACE: 'Endpoint=sb://x/;SharedAccessKey=abc' })).toThrow(
      'Invalid worker settings: DIALTONE_SERVICEBUS_NAMESPACE: must be a namespace host name such as contoso-dialtone.servicebus.windows.net',
    );
  });

  it('asks for a certificate source when there is none', () => {
    const { DIALTONE_KEYVAULT_URL: _url, DIALTONE_CERT_NAME: _name, ...rest } = base;
    expect(() => loadWorkerSettings(rest)).toThrow(
      'Invalid worker settings: DIALTONE_KEYVAULT_URL: set DIALTONE_KEYVAULT_URL + DIALTONE_CERT_NAME (production) or DIALTONE_CERT_FILE (development only)',
    );
  });

  it('asks for the certificate name when only the vault is given', () => {
    const { DIALTONE_CERT_NAME: _name, ...rest } = base;
    expect(() => loadWorkerSettings(rest)).toThrow('Invalid worker settings: DIALTONE_CERT_NAME: is required with DIALTONE_KEYVAULT_URL');
  });

  it('refuses a non-numeric limit with its name', () => {
    expect(() => loadWorkerSettings({ ...base, DIALTONE_MAX_SESSIONS: 'many' })).toThrow(/DIALTONE_MAX_SESSIONS: /);
  });

  it('fails with ConfigInvalid', () => {
    expect(() => loadWorkerSettings({})).toThrow(expect.objectContaining({ code: 'ConfigInvalid' }));
  });

  it('takes commands from voice-commands, or from voice-commands-pwsh behind the graph backend, and nowhere else', () => {
    expect(loadWorkerSettings(base).commandsQueue).toBe('voice-commands');
    expect(loadWorkerSettings({ ...base, DIALTONE_COMMANDS_QUEUE: 'voice-commands-pwsh' }).commandsQueue).toBe('voice-commands-pwsh');
    expect(() => loadWorkerSettings({ ...base, DIALTONE_COMMANDS_QUEUE: 'hr-events' })).toThrow(/DIALTONE_COMMANDS_QUEUE: /);
  });
});
