import { Command } from 'commander';
import { worstStatus, type CheckResult } from '../../shared/domain/doctor.js';
import { runDoctor, tenantStatuses } from '../../shared/usecases/doctor.js';
import type { CliContext } from '../context.js';
import { examples } from '../options.js';
import type { Backends } from '../program.js';

/** A doctor that could check nothing has not shown that anything works: that is a failure, not "ok". */
export function withCoverage(results: CheckResult[]): CheckResult[] {
  const ran = results.filter((r) => r.status !== 'skip' && r.check !== 'Configuration');
  if (ran.length > 0 || results.some((r) => r.status === 'fail')) return results;
  return [...results, { check: 'Coverage', status: 'fail', detail: 'nothing could be checked: set the settings named above (or give --sandbox DIR)' }];
}

/** On the worker host: pwsh, the MicrosoftTeams module and its compatibility, the certificate, a connect (worker/doctor.ts). */
const workerChecks = async (): Promise<CheckResult[]> => (await import('../../worker/doctor.js')).workerDoctorFromEnvironment();

/** `dialtone doctor`: configuration, queues, pools, certificate expiry and permissions, in one table. */
export function doctorCommand(ctx: CliContext, backends: Pick<Backends, 'doctor'>): Command {
  return examples(
    new Command('doctor')
      .description(
        'Check configuration, queues, number pools, the worker certificate and the Graph / Teams permissions; exits 1 when a check fails or nothing could be checked',
      )
      .option('--worker', 'on the worker host, with its settings: pwsh, the MicrosoftTeams module and its compatibility, the certificate, a connect test'),
    ['dialtone doctor', 'dialtone doctor -o json', 'dialtone doctor --sandbox .sandbox-state', 'dialtone doctor --worker'],
  ).action(async (o: { worker?: boolean }) => {
    const results = o.worker ? await workerChecks() : withCoverage(await runDoctor(await backends.doctor(), await ctx.now()));
    const worst = worstStatus(results);
    const out = ctx.output();
    const mark = { ok: out.style.green('ok'), warn: out.style.yellow('WARN'), fail: out.style.red('FAIL'), skip: out.style.dim('skip') };
    const tenants = tenantStatuses(results);
    out.value({ status: worst, checks: results, ...(tenants.length > 0 ? { tenants } : {}) }, () => {
      const checked = results.filter((r) => r.status !== 'skip').length;
      return [
        out.table(results, [
          { header: '', value: (r) => r.status },
          // Per-tenant checks say whose they are (docs/MULTI-TENANT.md); the deployment's own have none.
          ...(tenants.length > 0 ? [{ header: 'tenant', value: (r: CheckResult) => (r.tenant ? `${r.tenant} (${r.tenantName ?? ''})` : '') }] : []),
          { header: 'check', value: (r) => r.check },
          { header: 'detail', value: (r) => r.detail },
        ]).replace(/^(ok|warn|fail|skip)\b/gm, (s) => mark[s as keyof typeof mark]),
        worst === 'fail'
          ? 'Something needs fixing before Dialtone can work.'
          : worst === 'warn'
            ? 'Working, with warnings.'
            : checked === results.length
              ? 'All checks passed.'
              : `${checked} of ${results.length} checks ran and passed; set the settings named above for the others.`,
      ];
    });
    if (worst === 'fail') ctx.io.exit(1);
  });
}
