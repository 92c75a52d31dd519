import Table from 'cli-table3';
import { Command } from 'commander';
import { worstStatus, type CheckResult } from '../../shared/domain/doctor.js';
import { runDoctor, type DoctorProbes } from '../../shared/usecases/doctor.js';
import type { CliIo } from '../io.js';

const MARK: Record<CheckResult['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** On the worker host: pwsh, the MicrosoftTeams module and its compatibility, the certificate, a connect (worker/doctor.ts). */
const workerChecksFromEnvironment = async (): Promise<CheckResult[]> => (await import('../../worker/doctor.js')).workerDoctorFromEnvironment();

/** `dialtone doctor`: configuration, queues, pools, certificate expiry and permissions, in one table. */
export function doctorCommand(
  resolveProbes: () => Promise<DoctorProbes>,
  io: CliIo,
  now: () => Date = () => new Date(),
  workerChecks: () => Promise<CheckResult[]> = workerChecksFromEnvironment,
): Command {
  return new Command('doctor')
    .description('Check configuration, queues, number pools, the worker certificate and the Graph / Teams permissions')
    .option('--json', 'JSON output for scripts')
    .option('--worker', 'on the worker host: pwsh, the MicrosoftTeams module and its compatibility, the certificate, a connect test')
    .action(async (o: { json?: boolean; worker?: boolean }) => {
      const results = o.worker ? await workerChecks() : await runDoctor(await resolveProbes(), now());
      const worst = worstStatus(results);
      if (o.json) {
        io.out(JSON.stringify({ status: worst, checks: results }, null, 2));
      } else {
        const table = new Table({ head: ['', 'check', 'detail'], wordWrap: true, colWidths: [6, 48, 80] });
        for (const r of results) table.push([MARK[r.status], r.check, r.detail]);
        io.out(table.toString());
        const checked = results.filter((r) => r.status !== 'skip').length;
        io.out(
          worst === 'fail'
            ? 'Something needs fixing before Dialtone can work.'
            : worst === 'warn'
              ? 'Working, with warnings.'
              : checked === results.length
                ? 'All checks passed.'
                : `${checked} of ${results.length} checks ran and passed; set the settings named above for the others.`,
        );
      }
      if (worst === 'fail') io.exit(1);
    });
}
