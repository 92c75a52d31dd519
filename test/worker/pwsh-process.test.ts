import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { PwshProcess, type PwshCommand } from '../../worker/pwsh-process.js';

const fakeHost: PwshCommand = {
  command: process.execPath,
  args: [fileURLToPath(new URL('./fixtures/fake-pwsh.mjs', import.meta.url))],
};
const credentials = {
  applicationId: '00000000-0000-0000-0000-00000000a001',
  tenantId: '8f0c2a53-5d0e-4c1b-9a57-2f1f0e6f0001',
  certificate: { pfxBase64: 'TUlJS1NFQ1JFVFBGWEJBU0U2NA'.repeat(4), password: 'hunter2-pfx-password' },
};

const started: PwshProcess[] = [];
async function start(command: PwshCommand = fakeHost, readyTimeoutMs = 5_000) {
  const logger = createMemoryLogger();
  const proc = await PwshProcess.start(command, { readyTimeoutMs, logger });
  started.push(proc);
  return { proc, logger };
}

afterEach(() => {
  for (const proc of started.splice(0)) proc.kill();
});

describe('PwshProcess', () => {
  it('answers a call with the result the host returned', async () => {
    const { proc } = await start();
    const outcome = await proc.call('Get-CsOnlineUser', { Identity: 'u1' }, { timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: true, result: { echo: { Identity: 'u1' } }, durationMs: 3 });
  });

  it('counts commands and keeps the same process for every call', async () => {
    const { proc } = await start();
    const a = await proc.call('Get-CsOnlineUser', { Identity: 'a' }, { timeoutMs: 5_000 });
    const b = await proc.call('Get-CsOnlineUser', { Identity: 'b' }, { timeoutMs: 5_000 });
    expect([proc.commandsRun, (a as { result: { pid: number } }).result.pid]).toEqual([2, (b as { result: { pid: number } }).result.pid]);
  });

  it('resolves a cmdlet error as a value naming the cmdlet', async () => {
    const { proc } = await start();
    const outcome = await proc.call('Get-CsOnlineUser', { Identity: 'fail' }, { timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ ok: false, error: { message: 'Service is unavailable. Please try again', cmdlet: 'Get-CsOnlineUser' } });
  });

  it('fails a hung call with Timeout and kills the process', async () => {
    const { proc } = await start();
    await expect(proc.call('Get-CsOnlineUser', { Identity: 'hang' }, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'Timeout',
      message: 'Get-CsOnlineUser did not answer within 200 ms',
    });
    await proc.waitExit();
    expect(proc.broken).toBe('Get-CsOnlineUser timed out');
  });

  it('fails pending calls with SessionBroken when the process crashes', async () => {
    const { proc } = await start();
    await expect(proc.call('Get-CsOnlineUser', { Identity: 'crash' }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'SessionBroken',
    });
  });

  it('treats a stdout line that is not a response as a broken session', async () => {
    const { proc } = await start();
    await expect(proc.call('Get-CsOnlineUser', { Identity: 'garbage' }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'SessionBroken',
    });
  });

  it('refuses a host that never reports ready', async () => {
    const slow = { ...fakeHost, env: { FAKE_PWSH_READY_DELAY_MS: '10000' } };
    await expect(start(slow, 200)).rejects.toMatchObject({ code: 'Timeout', message: 'pwsh did not report ready within 200 ms' });
  });

  it('reports a host that cannot be started', async () => {
    await expect(start({ command: '/nonexistent/pwsh', args: [] })).rejects.toMatchObject({ code: 'SessionBroken' });
  });

  it('connects with the certificate and keeps it out of the logged stderr tail', async () => {
    const { proc, logger } = await start();
    expect(await proc.connect(credentials, { timeoutMs: 5_000 })).toMatchObject({ ok: true });
    await expect(proc.call('Get-CsOnlineUser', { Identity: 'crash' }, { timeoutMs: 5_000 })).rejects.toThrow();
    const output = logger.lines.join('\n');
    expect(output).toContain('connecting with [redacted] / [redacted]');
    expect(output).not.toContain(credentials.certificate.pfxBase64);
    expect(output).not.toContain(credentials.certificate.password);
  });

  it('ends cleanly on Exit', async () => {
    const { proc } = await start();
    await proc.exit(5_000);
    expect(proc.exited).toBe(true);
  });
});
