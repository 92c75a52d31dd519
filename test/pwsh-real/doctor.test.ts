import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { runWorkerDoctor } from '../../worker/doctor.js';
import { ephemeralCertificateSource } from '../../worker/ephemeral-certificate.js';
import { APP_ID, TENANT_ID, testTenant } from '../worker/helpers/sim.js';
import { writeStubModule, type StubOptions } from './stub-module/generate.js';
import { hostCommand, tempDir } from './helpers.js';

// `dialtone doctor --worker` under real pwsh: versions, module compatibility, certificate, connect.
let sim: TeamsSimulator | undefined;
const dirs: { remove(): void }[] = [];
afterEach(async () => {
  await sim?.close();
  sim = undefined;
  for (const d of dirs.splice(0)) d.remove();
});

const now = new Date('2026-11-02T08:00:00Z');

async function doctor(stub: StubOptions) {
  sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
  const dir = tempDir('dialtone-doctor-');
  dirs.push(dir);
  writeStubModule(dir.path, stub);
  return runWorkerDoctor({
    pwsh: hostCommand({ modulePath: dir.path, simUrl: sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '' }),
    certificates: ephemeralCertificateSource({ now }),
    applicationId: APP_ID,
    tenantId: TENANT_ID,
    now,
    logger: createMemoryLogger(),
    readyTimeoutMs: 90_000,
  });
}

describe('worker doctor under real pwsh', () => {
  it('reports pwsh and module versions, full compatibility, the certificate and a working connect', async () => {
    const results = await doctor({ naming: 'old' });
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['pwsh', 'ok'],
      ['MicrosoftTeams module', 'ok'],
      ['module compatibility', 'ok'],
      ['certificate', 'ok'],
      ['connect test', 'ok'],
    ]);
    expect(results[0]?.detail).toMatch(/PowerShell 7\.\d+\.\d+, host\.ps1 ready$/);
    expect(results[1]?.detail).toBe('MicrosoftTeams 6.1.0 (supported: 6.0.0 up to (not including) 8.0.0)');
  });

  it('fails compatibility, naming cmdlet and parameter, for a module that lacks one, and warns outside the range', async () => {
    const results = await doctor({ naming: 'new', moduleVersion: '8.1.0', omit: ['Set-CsPhoneNumberAssignment:EnterpriseVoiceEnabled'] });
    expect(results.find((r) => r.check === 'MicrosoftTeams module')).toMatchObject({ status: 'warn', detail: expect.stringContaining('8.1.0 is outside the tested range') });
    expect(results.find((r) => r.check === 'module compatibility')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('Set-CsPhoneNumberAssignment has no parameter -EnterpriseVoiceEnabled in MicrosoftTeams 8.1.0.'),
    });
  });
});
