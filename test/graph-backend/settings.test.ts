import { describe, expect, it } from 'vitest';
import { loadFunctionSettings, teamsBackendSetting } from '../../shared/config/settings.js';

const base = {
  ServiceBusConnection__fullyQualifiedNamespace: 'contoso-dialtone.servicebus.windows.net',
  DIALTONE_TABLES_ENDPOINT: 'https://stdialtone.table.core.windows.net',
};

describe('Teams backend settings', () => {
  it('defaults to the PowerShell worker', () => {
    expect(loadFunctionSettings(base)).toMatchObject({ teamsBackend: 'powershell', graphFallbackQueue: undefined, graphUnsupportedPolicyTypes: [] });
    expect(teamsBackendSetting({})).toBe('powershell');
    expect(loadFunctionSettings({ ...base, DIALTONE_GRAPH_FALLBACK_QUEUE: '' }).graphFallbackQueue).toBeUndefined();
  });

  it('reads the graph backend, its fallback queue and the policy types to send to PowerShell', () => {
    const settings = loadFunctionSettings({
      ...base,
      DIALTONE_TEAMS_BACKEND: 'graph',
      DIALTONE_GRAPH_FALLBACK_QUEUE: 'voice-commands-pwsh',
      DIALTONE_GRAPH_UNSUPPORTED_POLICY_TYPES: 'CallingLineIdentity, TeamsEmergencyCallRoutingPolicy',
    });
    expect(settings).toMatchObject({
      teamsBackend: 'graph',
      graphFallbackQueue: 'voice-commands-pwsh',
      graphUnsupportedPolicyTypes: ['CallingLineIdentity', 'TeamsEmergencyCallRoutingPolicy'],
    });
  });

  it('names the setting when a value is wrong', () => {
    expect(() => teamsBackendSetting({ DIALTONE_TEAMS_BACKEND: 'pwsh' })).toThrow(/DIALTONE_TEAMS_BACKEND/);
    expect(() => loadFunctionSettings({ ...base, DIALTONE_GRAPH_UNSUPPORTED_POLICY_TYPES: 'MeetingPolicy' })).toThrow(/DIALTONE_GRAPH_UNSUPPORTED_POLICY_TYPES/);
  });
});
