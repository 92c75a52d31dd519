import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimClock } from '../../sandbox/clock.js';
import { startTeamsSimulator, type TeamsSimulator } from '../../sandbox/teams-sim/index.js';
import type { VoiceCommand } from '../../shared/contracts/messages.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { applyVoiceCommand} from '../../worker/apply.js';
import { type ApplyDeps } from '../../worker/apply.js';
import { SessionPool, type PoolOptions } from '../../worker/pool.js';
import { PwshProcess, type PwshCommand } from '../../worker/pwsh-process.js';
import { APP_ID, applyOn, CERTIFICATE, testTenant } from '../worker/helpers/sim.js';
import { writeStubModule, type StubOptions } from './stub-module/generate.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const HOST_SCRIPT = join(root, 'worker/pwsh/host.ps1');
/** Cold start is 1.5–15 s on the build machines: the ready handshake gets a minute. */
export const READY_TIMEOUT_MS = 90_000;

let dll: string | undefined;

/** The real pwsh.dll (scripts/install-pwsh.sh installs or finds it; DIALTONE_PWSH_DLL overrides). */
export function pwshDll(): string {
  if (dll) return dll;
  const fromEnv = process.env.DIALTONE_PWSH_DLL;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`DIALTONE_PWSH_DLL=${fromEnv} does not exist`);
    return (dll = fromEnv);
  }
  const out = execFileSync('bash', [join(root, 'scripts/install-pwsh.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (dll = out.trim().split('\n').at(-1) ?? '');
}

/** The NuGet tool's launcher, next to its .store (only the launcher test uses it). */
export function pwshLauncher(): string {
  const dir = pwshDll().split('/.store/')[0] ?? '';
  return join(dir, 'pwsh');
}

export interface HostOptions {
  /** Where the stub MicrosoftTeams module (or a fixture module) lives; put on PSModulePath. */
  modulePath?: string;
  simUrl?: string;
  nonInteractive?: boolean;
  skipImport?: boolean;
  launcher?: boolean;
}

/** How the worker starts real pwsh on host.ps1: the real binary, never the launcher. */
export function hostCommand(options: HostOptions = {}): PwshCommand {
  const flags = ['-NoLogo', '-NoProfile', ...(options.nonInteractive === false ? [] : ['-NonInteractive']), '-File', HOST_SCRIPT];
  return {
    command: options.launcher ? pwshLauncher() : 'dotnet',
    args: options.launcher ? flags : [pwshDll(), ...flags],
    env: {
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      POWERSHELL_TELEMETRY_OPTOUT: '1',
      POWERSHELL_UPDATECHECK: 'Off',
      ...(options.modulePath ? { PSModulePath: options.modulePath } : {}),
      ...(options.simUrl ? { DIALTONE_TEAMS_SIM_URL: options.simUrl } : {}),
      ...(options.skipImport ? { DIALTONE_PWSH_SKIP_IMPORT: '1' } : {}),
    },
  };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function fixtureModules(): string {
  return join(root, 'test/pwsh-real/fixtures');
}

export async function startHost(options: HostOptions = {}): Promise<PwshProcess> {
  return PwshProcess.start(hostCommand(options), { readyTimeoutMs: READY_TIMEOUT_MS, logger: createMemoryLogger('warn') });
}

export interface RealHarness {
  sim: TeamsSimulator;
  pool: SessionPool;
  clock: SimClock;
  logger: ReturnType<typeof createMemoryLogger>;
  modules: string;
  apply(cmd: VoiceCommand, overrides?: Partial<ApplyDeps>): ReturnType<typeof applyVoiceCommand>;
  close(): Promise<void>;
}

/** The Teams simulator, the stub module in the given naming and a pool of real pwsh hosts. */
export async function startRealHarness(stub: StubOptions, options: { pool?: Partial<PoolOptions>; cmdletTimeoutMs?: number } = {}): Promise<RealHarness> {
  const clock = new SimClock('2026-11-02T08:00:00Z');
  const logger = createMemoryLogger('debug');
  const sim = await startTeamsSimulator({ tenant: testTenant(), clock });
  const modules = tempDir('dialtone-stub-');
  writeStubModule(modules.path, stub);
  const simUrl = sim.pwshCommand.env.DIALTONE_TEAMS_SIM_URL ?? '';
  const pool = new SessionPool({
    command: hostCommand({ modulePath: modules.path, simUrl }),
    credentials: async (tenantId) => ({ applicationId: APP_ID, tenantId, certificate: CERTIFICATE }),
    maxSessions: 2,
    maxSessionsPerTenant: 2,
    idleTimeoutMs: 600_000,
    maxSessionAgeMs: 3_600_000,
    connectTimeoutMs: 60_000,
    readyTimeoutMs: READY_TIMEOUT_MS,
    exitGraceMs: 5_000,
    logger,
    ...options.pool,
  });
  return {
    sim,
    pool,
    clock,
    logger,
    modules: modules.path,
    apply: applyOn({ sessions: pool, clock, logger, cmdletTimeoutMs: options.cmdletTimeoutMs ?? 60_000 }),
    close: async () => {
      await pool.drain();
      await sim.close();
      modules.remove();
    },
  };
}

/** Whether a process id is alive (signal 0 checks without killing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}
