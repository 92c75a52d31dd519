import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { ANNA, EVA, FAKE_PFX, TENANT_ID, tenantFile } from './fixtures.js';
import { StandIn, until } from './standin-harness.js';

const CONNECT = {
  cmdlet: 'Connect-MicrosoftTeams',
  parameters: { ApplicationId: 'app-id', TenantId: TENANT_ID },
  certificate: { pfxBase64: FAKE_PFX, password: 'pfx-password-never-shown' },
};
const HUNG_DEADLINE_MS = 400;

// Each test spawns stand-in processes; on a loaded 2-core box that alone can pass the default 30 s.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let sim: TeamsSimulator;
let standIns: StandIn[];

async function started(): Promise<StandIn> {
  const standIn = new StandIn(sim);
  standIns.push(standIn);
  await standIn.ready();
  return standIn;
}

async function connected(): Promise<StandIn> {
  const standIn = await started();
  const answer = await standIn.request({ id: 'c', ...CONNECT });
  if (answer?.ok !== true) throw new Error(`connect failed: ${JSON.stringify(answer)}`);
  return standIn;
}

beforeEach(async () => {
  sim = await startTeamsSimulator({ tenant: tenantFile(), clock: new SimClock() });
  standIns = [];
});

afterEach(async () => {
  for (const s of standIns) s.kill();
  await Promise.all(standIns.map((s) => s.exited));
  await sim.close();
});

describe('the pwsh stand-in speaks the protocol', () => {
  it('writes the ready line first and counts as a live process', async () => {
    const standIn = new StandIn(sim);
    standIns.push(standIn);
    expect(await standIn.ready()).toEqual({ type: 'ready', protocol: 1, host: 'dialtone-pwsh', pid: standIn.child.pid, simulator: true });
    expect(sim.liveProcesses()).toBe(1);
  });

  it('answers a request with its id, the result and a duration', async () => {
    const standIn = await connected();
    const answer = await standIn.request({ id: '7', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: EVA } });
    expect(answer).toMatchObject({ id: '7', ok: true, result: { Identity: EVA, LineURI: 'tel:+31201234010' } });
    expect(typeof answer?.durationMs).toBe('number');
  });

  it('answers a failing cmdlet with the structured error', async () => {
    const standIn = await connected();
    const answer = await standIn.request({
      id: '8',
      cmdlet: 'Set-CsPhoneNumberAssignment',
      parameters: { Identity: ANNA, PhoneNumber: '+31201234003', PhoneNumberType: 'DirectRouting' },
    });
    expect(answer).toMatchObject({
      id: '8',
      ok: false,
      error: {
        type: 'Microsoft.Teams.ConfigAPI.Cmdlets.Generated.Runtime.RestException',
        message: "Telephone Number '+31201234003' has already been assigned to another user",
        fullyQualifiedErrorId: 'BadRequest,Set-CsPhoneNumberAssignment',
      },
    });
  });

  it('answers a line that is not JSON with a ProtocolError and keeps running', async () => {
    const standIn = await started();
    standIn.sendRaw('this is not json\n');
    expect(await standIn.next()).toEqual({ id: null, ok: false, error: { type: 'Dialtone.ProtocolError', message: 'The request line is not valid JSON.' } });
    expect(await standIn.request({ id: '2', ...CONNECT })).toMatchObject({ id: '2', ok: true });
  });

  it('answers a request without a cmdlet with a ProtocolError', async () => {
    const standIn = await started();
    expect(await standIn.request({ id: '3', parameters: {} })).toMatchObject({ id: null, ok: false, error: { type: 'Dialtone.ProtocolError' } });
  });

  it('answers parameters that are not an object with a ProtocolError for that request', async () => {
    const standIn = await started();
    expect(await standIn.request({ id: '5', cmdlet: 'Get-CsOnlineUser', parameters: ['Identity', ANNA] })).toEqual({
      id: '5',
      ok: false,
      error: { type: 'Dialtone.ProtocolError', message: '"parameters" must be a JSON object.' },
    });
  });

  it('exits with a non-zero code when the simulator goes away', async () => {
    const standIn = await started();
    await sim.close();
    expect((await standIn.exited).code).toBe(1);
  });

  it('refuses a cmdlet outside the allow-list', async () => {
    const standIn = await connected();
    expect(await standIn.request({ id: '4', cmdlet: 'Invoke-Expression', parameters: { Command: 'whoami' } })).toMatchObject({
      id: '4',
      ok: false,
      error: { type: 'Dialtone.CmdletNotAllowed' },
    });
  });

  it('gives every process its own session over one shared tenant', async () => {
    const first = await connected();
    const second = await started();
    await first.request({ id: '1', cmdlet: 'Set-CsPhoneNumberAssignment', parameters: { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' } });
    expect(await second.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({
      ok: false,
      error: { message: 'Run Connect-MicrosoftTeams before running cmdlets.' },
    });
    await second.request({ id: '2', ...CONNECT });
    expect(await second.request({ id: '3', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({
      result: { LineURI: 'tel:+31201234001' },
    });
    expect(sim.liveProcesses()).toBe(2);
  });

  it('lets exactly one of two sessions racing for the same number win', async () => {
    const [first, second] = await Promise.all([connected(), connected()]);
    expect(sim.connectedSessions()).toBe(2);
    const assign = (identity: string) => ({
      id: identity,
      cmdlet: 'Set-CsPhoneNumberAssignment',
      parameters: { Identity: identity, PhoneNumber: '+31201234050', PhoneNumberType: 'DirectRouting' },
    });
    const answers = await Promise.all([first!.request(assign(ANNA)), second!.request(assign(EVA))]);
    expect(answers.map((a) => a?.ok).sort()).toEqual([false, true]);
    expect(answers.find((a) => a?.ok === false)).toMatchObject({
      error: { message: "Telephone Number '+31201234050' has already been assigned to another user" },
    });
  });

  it('exits cleanly on Exit and when stdin closes', async () => {
    const byExit = await connected();
    const byEof = await started();
    expect(await byExit.request({ id: '9', cmdlet: 'Exit', parameters: {} })).toMatchObject({ id: '9', ok: true, result: null });
    byEof.child.stdin.end();
    expect(await byExit.exited).toEqual({ code: 0, signal: null });
    expect(await byEof.exited).toEqual({ code: 0, signal: null });
    await until(() => sim.liveProcesses() === 0);
  });

  it('counts cmdlets, write cmdlets and connects', async () => {
    const standIn = await connected();
    await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } });
    await standIn.request({ id: '2', cmdlet: 'Grant-CsTenantDialPlan', parameters: { Identity: ANNA, PolicyName: 'DP-NL' } });
    expect(sim.metrics()).toEqual({
      cmdlets: 2,
      writeCmdlets: 1,
      connects: 1,
      byCmdlet: { 'Connect-MicrosoftTeams': 1, 'Get-CsOnlineUser': 1, 'Grant-CsTenantDialPlan': 1 },
      faultsInjected: 0,
      faultsByKind: {},
    });
  });

  it('never writes the certificate to stdout or stderr', async () => {
    const standIn = await started();
    await standIn.request({ id: '1', ...CONNECT, parameters: { ...CONNECT.parameters, TenantId: 'wrong-tenant' } });
    standIn.sendRaw(`{"id":"2","cmdlet":"Connect-MicrosoftTeams","certificate":{"pfxBase64":"${FAKE_PFX}"\n`);
    await standIn.next();
    await standIn.request({ id: '3', ...CONNECT });
    standIn.child.stdin.end();
    await standIn.exited;
    expect(standIn.stdout).toContain('"id":"3","ok":true');
    for (const secret of [FAKE_PFX, 'pfx-password-never-shown']) {
      expect(standIn.stdout).not.toContain(secret);
      expect(standIn.stderr).not.toContain(secret);
    }
  });
});

describe('faults and latency', () => {
  it('answers a throttle fault with a Too many requests error', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'throttle', cmdlet: 'Get-CsOnlineUser', times: 1 }]);
    expect(await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({
      ok: false,
      error: { message: 'Too many requests. Please retry after some time.', fullyQualifiedErrorId: 'TooManyRequests,Get-CsOnlineUser' },
    });
    expect(await standIn.request({ id: '2', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({ ok: true });
  });

  it('answers an unavailable fault with the service-unavailable message', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'unavailable', userId: 'anna@contoso.example' }]);
    expect(await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: EVA } })).toMatchObject({ ok: true });
    expect(await standIn.request({ id: '2', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({
      ok: false,
      error: { message: 'Service is unavailable. Please try again' },
    });
  });

  it('keeps answering Unauthorized after an unauthorized fault until the session reconnects', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'unauthorized', times: 1 }]);
    const get = { cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } };
    expect(await standIn.request({ id: '1', ...get })).toMatchObject({ ok: false, error: { fullyQualifiedErrorId: 'Unauthorized,Get-CsOnlineUser' } });
    expect(await standIn.request({ id: '2', ...get })).toMatchObject({ ok: false, error: { fullyQualifiedErrorId: 'Unauthorized,Get-CsOnlineUser' } });
    await standIn.request({ id: '3', ...CONNECT });
    expect(await standIn.request({ id: '4', ...get })).toMatchObject({ ok: true });
  });

  it('exits with a non-zero code and no answer on a crash fault', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'crash', cmdlet: 'Set-CsPhoneNumberAssignment' }]);
    standIn.send({ id: '1', cmdlet: 'Set-CsPhoneNumberAssignment', parameters: { Identity: ANNA, EnterpriseVoiceEnabled: true } });
    expect(await standIn.next()).toBeUndefined();
    expect(await standIn.exited).toEqual({ code: 134, signal: null });
    await until(() => sim.liveProcesses() === 0);
  });

  it('never answers on a hang fault and stays alive until killed', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'hang', times: 1 }]);
    expect(await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } }, HUNG_DEADLINE_MS)).toBeUndefined();
    expect(await standIn.request({ id: '2', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } }, HUNG_DEADLINE_MS)).toBeUndefined();
    expect(standIn.child.exitCode).toBeNull();
    standIn.kill();
    expect(await standIn.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await until(() => sim.liveProcesses() === 0);
  });

  it('closes stdout and exits without an answer on a drop fault', async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'drop', cmdlet: 'Get-CsOnlineUser' }]);
    const closed = new Promise<void>((resolve) => standIn.child.stdout.on('close', resolve));
    expect(await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toBeUndefined();
    await closed;
    expect((await standIn.exited).code).toBe(0);
  });

  it("applies the write before dropping with phase 'after'", async () => {
    const standIn = await connected();
    sim.setFaults([{ kind: 'drop', cmdlet: 'Set-CsPhoneNumberAssignment', phase: 'after' }]);
    expect(
      await standIn.request({ id: '1', cmdlet: 'Set-CsPhoneNumberAssignment', parameters: { Identity: ANNA, PhoneNumber: '+31201234001', PhoneNumberType: 'DirectRouting' } }),
    ).toBeUndefined();
    expect(sim.tenant.user(ANNA)?.phoneNumber).toBe('+31201234001');
  });

  it('takes faults and latency from the tenant file when the options do not give them', async () => {
    const file = { ...tenantFile(), teamsSimulator: { faults: [{ kind: 'throttle' as const, cmdlet: 'Get-CsOnlineUser', times: 1 }] } };
    await sim.close();
    sim = await startTeamsSimulator({ tenant: file, clock: new SimClock() });
    const standIn = await connected();
    expect(await standIn.request({ id: '1', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } })).toMatchObject({
      error: { fullyQualifiedErrorId: 'TooManyRequests,Get-CsOnlineUser' },
    });
    expect(sim.metrics().faultsInjected).toBe(1);
  });

  it('delays requests by the configured latency of their kind only', async () => {
    const [writer, reader] = await Promise.all([connected(), connected()]);
    sim.setLatency({ write: 3_000 });
    let written = false;
    const write = writer.request({ id: '1', cmdlet: 'Grant-CsTenantDialPlan', parameters: { Identity: ANNA, PolicyName: 'DP-NL' } }).then((answer) => {
      written = true;
      return answer;
    });
    await until(() => sim.metrics().byCmdlet['Grant-CsTenantDialPlan'] === 1);
    // A read sent while the write waits out its latency is answered first (an order, not a duration
    // a loaded machine could stretch past a bound); the write then took at least its latency.
    const read = await reader.request({ id: '2', cmdlet: 'Get-CsOnlineUser', parameters: { Identity: ANNA } });
    expect(read).toMatchObject({ ok: true });
    expect(written).toBe(false);
    expect((await write)?.durationMs).toBeGreaterThanOrEqual(3_000);
  });
});
