import { afterEach, describe, expect, it } from 'vitest';
import type { PwshProcess } from '../../worker/pwsh-process.js';
import { alive, fixtureModules, startHost, waitFor } from './helpers.js';

// host.ps1's protocol under real pwsh 7, one test per defect of issue 10 (items 1–6). The
// commands come from fixtures/DialtoneHostFixtures (allow-listed names, test-only bodies).
let host: PwshProcess | undefined;
afterEach(async () => {
  await host?.exit(5_000);
  host?.kill();
  host = undefined;
});

const fixtures = (extra: { nonInteractive?: boolean; launcher?: boolean } = {}) => startHost({ modulePath: fixtureModules(), skipImport: true, ...extra });
const call = (cmdlet: string, parameters: Record<string, unknown>, timeoutMs = 30_000) => host!.call(cmdlet, parameters, { timeoutMs });

describe('host.ps1 under real pwsh', () => {
  it('reports the pwsh version at ready and runs on 7.5 or later', async () => {
    host = await fixtures();
    const [major = 0, minor = 0] = (host.ready?.pwsh ?? '').split('.').map(Number);
    expect(major * 100 + minor).toBeGreaterThanOrEqual(705);
    expect(host.ready?.module ?? null).toBeNull();
  });

  it('kills the real pwsh, not only the launcher it was started through (1: killed launchers)', async () => {
    host = await fixtures({ launcher: true });
    const realPid = host.ready?.pid ?? 0;
    expect(realPid).toBeGreaterThan(0);
    expect(realPid).not.toBe(host.pid);
    // Busy in a hung cmdlet, the real pwsh does not notice its stdin closing.
    const hung = call('Get-CsCallingLineIdentity', { Identity: 'hang' }, 120_000).catch(() => 'lost');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    host.kill();
    expect(await hung).toBe('lost');
    await host.waitExit();
    expect(await waitFor(() => !alive(realPid), 60_000)).toBe(true);
  });

  it('answers a missing mandatory parameter with an error and the next request normally, even without -NonInteractive (2: prompts)', async () => {
    host = await fixtures({ nonInteractive: false });
    const [first, second] = await Promise.allSettled([
      call('Set-CsPhoneNumberAssignment', { PhoneNumber: '+31201234001' }, 90_000),
      call('Get-CsOnlineUser', { Identity: 'the-next-request' }, 90_000),
    ]);
    expect(first).toMatchObject({
      status: 'fulfilled',
      value: { ok: false, error: { fullyQualifiedErrorId: 'MissingMandatoryParameter,Set-CsPhoneNumberAssignment' } },
    });
    expect(second).toMatchObject({ status: 'fulfilled', value: { ok: true, result: { Identity: 'the-next-request' } } });
  });

  it('passes an ISO-8601 string on as the same string (3: dates rewritten)', async () => {
    host = await fixtures();
    expect(await call('Get-CsOnlineUser', { Identity: '2026-11-02T08:00:00Z', Filter: '2026-11-02' })).toMatchObject({
      ok: true,
      result: { Identity: '2026-11-02T08:00:00Z', Filter: '2026-11-02' },
    });
  });

  it('refuses an object value and keys that differ only in case (4: loose values)', async () => {
    host = await fixtures();
    expect(await call('Get-CsOnlineUser', { Identity: { Id: 'x' } })).toMatchObject({
      ok: false,
      error: { type: 'Dialtone.ProtocolError', message: "Parameter 'Identity' of Get-CsOnlineUser must be a string, number, boolean, null or an array of those; an object is never passed on." },
    });
    expect(await call('Get-CsOnlineUser', { Identity: ['a', { b: 1 }] })).toMatchObject({ ok: false, error: { type: 'Dialtone.ProtocolError' } });
    expect(await call('Get-CsOnlineUser', { Identity: 'anna', identity: 'bram' })).toMatchObject({
      ok: false,
      error: { type: 'Dialtone.ProtocolError', message: "Parameters 'Identity' and 'identity' of Get-CsOnlineUser differ only in case; send each parameter once." },
    });
    expect(await call('Get-CsOnlineUser', { Identity: 'anna' })).toMatchObject({ ok: true, result: { Identity: 'anna' } });
  });

  it('refuses a Grant-Cs* without Identity, which would change the Global policy (5)', async () => {
    host = await fixtures();
    for (const parameters of [{ PolicyName: 'DP-NL' }, { Identity: '', PolicyName: 'DP-NL' }, { Identity: null, PolicyName: 'DP-NL' }]) {
      expect(await call('Grant-CsTenantDialPlan', parameters)).toMatchObject({ ok: false, error: { type: 'Dialtone.IdentityRequired' } });
    }
    expect(await call('Grant-CsTenantDialPlan', { Identity: 'anna', PolicyName: 'DP-NL' })).toMatchObject({ ok: true, result: { Granted: 'anna' } });
  });

  it('reports a throwing property getter and a too-deep object as errors, and enums by name (6: failures reported as success)', async () => {
    host = await fixtures();
    expect(await call('Get-CsTenantDialPlan', { Identity: 'getter' })).toMatchObject({
      ok: false,
      error: { type: 'Dialtone.ResultNotSerializable', message: expect.stringContaining('result.NormalizationRules') },
    });
    expect(await call('Get-CsTenantDialPlan', { Identity: 'deep' })).toMatchObject({
      ok: false,
      error: { type: 'Dialtone.ResultTooDeep', message: expect.stringContaining('result.Child.Child.Child.Child.Child.Child') },
    });
    expect(await call('Get-CsTenantDialPlan', { Identity: 'enum' })).toMatchObject({ ok: true, result: { Day: 'Tuesday', Kind: 'ReadWrite' } });
    const six = await call('Get-CsTenantDialPlan', { Identity: 'six' });
    expect(JSON.stringify(six)).toContain('"Level":6');
  });
});
