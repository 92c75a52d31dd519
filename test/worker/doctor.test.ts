import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { runWorkerDoctor } from '../../worker/doctor.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { APP_ID, TENANT_ID, testTenant } from './helpers/sim.js';

// `dialtone doctor --worker` against the Teams stand-in (Node only); test/pwsh-real/doctor.test.ts
// runs it under real pwsh with the stub module.
let sim: TeamsSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const now = new Date('2026-11-02T08:00:00Z');

describe('worker doctor', () => {
  it('starts pwsh, loads the certificate and connects, saying the stand-in reported no module', async () => {
    sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
    const results = await runWorkerDoctor({
      pwsh: sim.pwshCommand,
      certificates: ephemeralCertificateSource({ now }),
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      now,
      logger: createMemoryLogger(),
    });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['pwsh', 'ok'],
      ['MicrosoftTeams module', 'warn'],
      ['module compatibility', 'skip'],
      ['certificate', 'ok'],
      ['connect test', 'ok'],
    ]);
    expect(results.find((r) => r.check === 'certificate')?.detail).toMatch(/thumbprint [0-9A-F]{40}, expires .*; key present/);
    // The simulator notices the host's exit when its attach request closes.
    await vi.waitFor(() => expect(sim?.liveProcesses()).toBe(0), { timeout: 10_000 });
  });

  it('fails the pwsh check when pwsh cannot start, and the connect test when the tenant is wrong', async () => {
    sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
    const missing = await runWorkerDoctor({
      pwsh: { command: '/nonexistent/pwsh', args: [] },
      certificates: ephemeralCertificateSource({ now }),
      applicationId: APP_ID,
      tenantId: TENANT_ID,
      now,
      logger: createMemoryLogger(),
    });
    expect(missing.map((r) => r.status)).toEqual(['fail', 'skip', 'skip', 'ok', 'skip']);
    expect(missing[0]?.detail).toContain('/nonexistent/pwsh did not start host.ps1');
    const wrongTenant = await runWorkerDoctor({
      pwsh: sim.pwshCommand,
      certificates: ephemeralCertificateSource({ now }),
      applicationId: APP_ID,
      tenantId: '00000000-0000-0000-0000-000000000bad',
      now,
      logger: createMemoryLogger(),
    });
    expect(wrongTenant.at(-1)).toMatchObject({ check: 'connect test', status: 'fail', detail: expect.stringContaining('AADSTS90002') });
  });
});
