/**
 * `npm run bench:pwsh`: what real PowerShell 7 costs the worker, measured on this machine —
 * pwsh cold start (spawn to exit of an empty command), host.ps1 ready time with the stub
 * MicrosoftTeams module imported, Connect-MicrosoftTeams, and the round trip per cmdlet through a
 * warm, connected host (worker → host.ps1 → stub module → Teams simulator → back). Needs .NET 10
 * and NuGet (scripts/install-pwsh.sh); `measurePwsh()` returns `{ skipped }` when pwsh cannot be had.
 * Absolute figures depend on the machine and its load: compare runs on one machine.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator } from '../../sandbox/teams-sim/index.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import { PwshProcess } from '../../worker/pwsh-process.js';
import { hostCommand, pwshDll, READY_TIMEOUT_MS, tempDir } from '../pwsh-real/helpers.js';
import { writeStubModule } from '../pwsh-real/stub-module/generate.js';
import { APP_ID, CERTIFICATE, TENANT_ID, testTenant, userId } from '../worker/helpers/sim.js';

export interface Spread {
  median: number;
  p95: number;
  min: number;
  max: number;
  samples: number;
}

export interface PwshFigures {
  pwshVersion: string;
  moduleVersion: string;
  coldStartMs: Spread;
  readyMs: Spread;
  connectMs: Spread;
  roundTripMs: Record<string, Spread>;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return { median: at(0.5), p95: at(0.95), min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, samples: sorted.length };
}

function coldStart(dll: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('dotnet', [dll, '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', 'exit 0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`pwsh exited ${code}`))));
  });
}

export async function measurePwsh(options: { starts?: number; calls?: number } = {}): Promise<PwshFigures | { skipped: string }> {
  const starts = options.starts ?? 3;
  const calls = options.calls ?? 20;
  let dll: string;
  try {
    dll = pwshDll();
  } catch (error) {
    return { skipped: `real pwsh is not available: ${(error as Error).message}` };
  }
  const cold: number[] = [];
  for (let i = 0; i < starts; i += 1) cold.push(await coldStart(dll));

  const sim = await startTeamsSimulator({ tenant: testTenant(), clock: new SimClock('2026-11-02T08:00:00Z') });
  const modules = tempDir('dialtone-bench-stub-');
  const logger = createMemoryLogger('warn');
  try {
    const moduleVersion = writeStubModule(modules.path, { naming: 'new' });
    const command = hostCommand({ modulePath: modules.path, simUrl: sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '' });
    const ready: number[] = [];
    const connect: number[] = [];
    const trips: Record<string, number[]> = {};
    let pwshVersion = '';
    for (let i = 0; i < starts; i += 1) {
      const t0 = performance.now();
      const host = await PwshProcess.start(command, { readyTimeoutMs: READY_TIMEOUT_MS, logger });
      ready.push(performance.now() - t0);
      pwshVersion = host.ready?.pwsh ?? '';
      const t1 = performance.now();
      const connected = await host.connect({ applicationId: APP_ID, tenantId: TENANT_ID, certificate: CERTIFICATE }, { timeoutMs: 60_000 });
      if (!connected.ok) throw new Error(`connect failed: ${connected.error.message}`);
      connect.push(performance.now() - t1);
      if (i === starts - 1) {
        const user = userId(1);
        const requests: [string, (n: number) => Record<string, unknown>][] = [
          ['Get-CsOnlineUser', () => ({ Identity: user })],
          ['Get-CsPhoneNumberAssignment', () => ({ AssignedPstnTargetId: user })],
          ['Set-CsPhoneNumberAssignment', (n) => ({ Identity: user, EnterpriseVoiceEnabled: n % 2 === 0 })],
          ['Grant-CsTenantDialPlan', (n) => ({ Identity: user, PolicyName: n % 2 === 0 ? 'DP-NL' : null })],
        ];
        for (const [cmdlet, parameters] of requests) {
          trips[cmdlet] = [];
          for (let n = 0; n < calls; n += 1) {
            const t = performance.now();
            const outcome = await host.call(cmdlet, parameters(n), { timeoutMs: 60_000 });
            if (!outcome.ok) throw new Error(`${cmdlet} failed: ${outcome.error.message}`);
            trips[cmdlet].push(performance.now() - t);
          }
        }
      }
      await host.exit(5_000);
    }
    const round = (s: Spread): Spread => ({ ...s, median: Math.round(s.median), p95: Math.round(s.p95), min: Math.round(s.min), max: Math.round(s.max) });
    return {
      pwshVersion,
      moduleVersion: `${moduleVersion} (stub)`,
      coldStartMs: round(spread(cold)),
      readyMs: round(spread(ready)),
      connectMs: round(spread(connect)),
      roundTripMs: Object.fromEntries(Object.entries(trips).map(([k, v]) => [k, round(spread(v))])),
    };
  } finally {
    await sim.close();
    modules.remove();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await measurePwsh({
    starts: Number(process.env.BENCH_PWSH_STARTS ?? 3),
    calls: Number(process.env.BENCH_PWSH_CALLS ?? 20),
  });
  console.log(JSON.stringify(figures, null, 2));
}
