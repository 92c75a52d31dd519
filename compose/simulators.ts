/**
 * The simulated tenant for compose.yaml: the Graph simulator (for the Functions host) and the
 * Teams simulator's server (for the worker's pwsh stand-ins) over HTTP on every interface of the
 * container, on the real clock, from one sandbox tenant file. The same simulators the sandbox and
 * the tests use, and as strict: they refuse what Graph and Teams refuse.
 *
 *   tsx compose/simulators.ts [tenant.json]     (default sandbox/data/tenant.json)
 *
 * Settings: DIALTONE_SIM_GRAPH_PORT (8080), DIALTONE_SIM_TEAMS_PORT (8081),
 * DIALTONE_SIM_GRAPH_PUBLIC_URL (the Graph base URL other containers use, for paging links).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { startGraphSimulator } from '../sandbox/graph-sim/index.js';
import { startTeamsSimulator } from '../sandbox/teams-sim/index.js';
import { SandboxTenantFileSchema } from '../sandbox/teams-sim/tenant-file.js';
import { systemClock } from '../shared/ports/clock.js';

export const SimulatorEnvSchema = z.object({
  DIALTONE_SIM_GRAPH_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  DIALTONE_SIM_TEAMS_PORT: z.coerce.number().int().min(1).max(65535).default(8081),
  DIALTONE_SIM_GRAPH_PUBLIC_URL: z.url().optional(),
});

async function main(): Promise<void> {
  const env = SimulatorEnvSchema.parse(process.env);
  const file = process.argv[2] ?? 'sandbox/data/tenant.json';
  const tenant = SandboxTenantFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const teams = await startTeamsSimulator({ tenant, clock: systemClock, listen: { host: '0.0.0.0', port: env.DIALTONE_SIM_TEAMS_PORT } });
  const graph = await startGraphSimulator({
    tenant,
    clock: systemClock,
    teams: { tenant: teams.tenant },
    listen: {
      host: '0.0.0.0',
      port: env.DIALTONE_SIM_GRAPH_PORT,
      publicBaseUrl: env.DIALTONE_SIM_GRAPH_PUBLIC_URL ?? `http://127.0.0.1:${env.DIALTONE_SIM_GRAPH_PORT}/v1.0`,
    },
  });
  process.stdout.write(`simulators: Graph at ${graph.baseUrl}, Teams on port ${env.DIALTONE_SIM_TEAMS_PORT}, tenant ${file}\n`);
  const stop = (): void => {
    void Promise.all([graph.close(), teams.close()]).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  void main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
