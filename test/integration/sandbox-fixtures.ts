import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseVoicePolicy } from '../../shared/domain/policy.js';
import { PoolsFileSchema, type PoolDefinition } from '../../shared/domain/numbers.js';
import type { SandboxInputs } from '../../sandbox/host/inputs.js';
import { Sandbox, type SandboxOptions } from '../../sandbox/host/sandbox.js';
import type { SandboxReport } from '../../sandbox/host/report.js';
import { SandboxTenantFileSchema, type SandboxTenantFile } from '../../sandbox/teams-sim/tenant-file.js';

const data = (name: string) => readFileSync(fileURLToPath(new URL(`../../sandbox/data/${name}`, import.meta.url)), 'utf8');

export const ANNA = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';
export const BRAM = '3b7d1c9e-0d2a-4c55-8d0e-000000000102';

export function sampleTenant(): SandboxTenantFile {
  return SandboxTenantFileSchema.parse(JSON.parse(data('tenant.json')));
}

export function samplePools(): PoolDefinition[] {
  return PoolsFileSchema.parse(JSON.parse(data('numbers.json'))).pools;
}

export function sampleEventLines(): string[] {
  return data('hr-events.ndjson').split('\n').filter((l) => l.trim() !== '');
}

/** A licensed user at a site, visible at once, with no voice yet. */
export function user(id: string, upn: string, employeeId: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    userPrincipalName: upn,
    mail: upn,
    employeeId,
    displayName: upn.split('@')[0],
    department: 'Sales',
    officeLocation: 'AMS',
    accountEnabled: true,
    usageLocation: 'NL',
    servicePlans: ['TEAMS1', 'MCOEV'],
    teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
    ...extra,
  };
}

export function tenantWith(users: ReturnType<typeof user>[], extra: Record<string, unknown> = {}): SandboxTenantFile {
  const base = sampleTenant();
  return SandboxTenantFileSchema.parse({ ...base, users, externalAssignments: [], ...extra });
}

export function hrEvent(eventId: string, type: 'joiner' | 'mover' | 'leaver', occurredAt: string, person: Record<string, unknown>): string {
  return JSON.stringify({ eventId, type, occurredAt, person });
}

export function inputs(partial: Partial<SandboxInputs> = {}): SandboxInputs {
  return {
    tenant: sampleTenant(),
    eventLines: sampleEventLines(),
    policy: parseVoicePolicy(data('voice-policy.yaml'), 'yaml', 'voice-policy.yaml'),
    pools: samplePools(),
    sources: { tenant: 'tenant.json', events: 'hr-events.ndjson', policy: 'voice-policy.yaml', numbers: 'numbers.json' },
    ...partial,
  };
}

let teamsBackend: 'powershell' | 'graph' = 'powershell';

/**
 * Runs the pipeline suites on the other Teams backend: test/integration/on-graph-backend.test.ts
 * sets it before importing them, so every sandbox integration test runs on both.
 */
export function useTeamsBackend(backend: 'powershell' | 'graph'): void {
  teamsBackend = backend;
}

export function currentTeamsBackend(): 'powershell' | 'graph' {
  return teamsBackend;
}

/** Starts a sandbox, plays the given events until quiet, hands it to the test, always stops it. */
export async function played(
  input: SandboxInputs,
  options: SandboxOptions = {},
  more?: (sandbox: Sandbox) => Promise<void>,
): Promise<{ report: SandboxReport; sandbox: Sandbox }> {
  const sandbox = await Sandbox.start(input, { storage: 'memory', teamsBackend, ...options });
  try {
    await sandbox.enqueueEvents(input.eventLines);
    await sandbox.runUntilQuiet();
    if (more) await more(sandbox);
    return { report: await sandbox.report(), sandbox };
  } finally {
    await sandbox.stop();
  }
}

export function teamsOf(report: SandboxReport, id: string) {
  const found = report.users.find((u) => u.id === id);
  if (!found) throw new Error(`no user ${id} in the report`);
  return found.teams;
}

export function numberOf(report: SandboxReport, number: string) {
  return report.numbers.find((n) => n.number === number);
}
