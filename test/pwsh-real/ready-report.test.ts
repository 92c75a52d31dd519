import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import type { PwshProcess } from '../../worker/pwsh-process.js';
import { moduleCmdlets } from '../../shared/teams/module-cmdlets.js';
import { testTenant } from '../worker/helpers/sim.js';
import { writeStubModule } from './stub-module/generate.js';
import { startHost, tempDir } from './helpers.js';

// Issue 10 item 7 (module drift): at ready the host reports the module and each allow-listed
// cmdlet's parameters, aliases and parameter sets, as the installed module declares them.
let host: PwshProcess | undefined;
let sim: TeamsSimulator | undefined;
const dirs: { remove(): void }[] = [];
afterEach(async () => {
  await host?.exit(5_000);
  host = undefined;
  await sim?.close();
  sim = undefined;
  for (const d of dirs.splice(0)) d.remove();
});

async function hostWith(naming: 'new' | 'old'): Promise<PwshProcess> {
  sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
  const dir = tempDir('dialtone-stub-');
  dirs.push(dir);
  writeStubModule(dir.path, { naming });
  return startHost({ modulePath: dir.path, simUrl: sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '' });
}

describe('the ready report under real pwsh and the stub module', () => {
  it('names pwsh, the module version and the current parameter names with their aliases and sets', async () => {
    host = await hostWith('new');
    expect(host.ready).toMatchObject({ type: 'ready', protocol: 1, host: 'dialtone-pwsh', module: { name: 'MicrosoftTeams', version: '7.4.0' } });
    expect(host.ready?.pwsh).toMatch(/^7\.\d+\.\d+/);
    const set = host.module?.cmdlets['Set-CsPhoneNumberAssignment'];
    expect(set?.defaultParameterSet).toBe('LocationUpdate');
    expect(set?.parameters.find((p) => p.name === 'TelephoneNumber')).toEqual({
      name: 'TelephoneNumber',
      aliases: ['PhoneNumber'],
      sets: { Assignment: true, LocationUpdate: true, NetworkSiteUpdate: true },
    });
    expect(set?.parameters.map((p) => p.name)).not.toContain('ErrorAction');
    // Every allow-listed cmdlet, of both scopes (the tenant set-up ones too).
    expect(Object.keys(host.module?.cmdlets ?? {}).sort()).toEqual(Object.keys(moduleCmdlets.cmdlets).sort());
  });

  it('reports the old naming without the new names', async () => {
    host = await hostWith('old');
    expect(host.ready?.module?.version).toBe('6.1.0');
    const names = host.module?.cmdlets['Set-CsPhoneNumberAssignment']?.parameters.map((p) => p.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['PhoneNumber', 'PhoneNumberType']));
    expect(names).not.toContain('TelephoneNumber');
    expect(names).not.toContain('AssignmentCategory');
  });
});
