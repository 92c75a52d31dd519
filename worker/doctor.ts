/**
 * `dialtone doctor --worker`: checks a worker host the way the worker would use it — starts one
 * pwsh host, reads its ready report (pwsh and module versions, the allow-listed cmdlets'
 * parameters), checks that every command shape the worker sends binds in that module, loads the
 * certificate and connects once. Secrets never appear in a detail.
 */
import type { CheckResult } from '../shared/domain/doctor.js';
import { toDialtoneError } from '../shared/domain/errors.js';
import { planSteps } from '../shared/domain/voice-diff.js';
import { policyTypes, type ActualVoiceState, type DesiredVoiceState } from '../shared/domain/voice-state.js';
import type { Logger } from '../shared/ports/logger.js';
import { supportedModuleVersions } from '../shared/teams/module-cmdlets.js';
import type { CertificateSource, LoadedCertificate } from './certificate.js';
import { adaptToModule, moduleVersionSupported } from './module-compat.js';
import { PwshProcess, type PwshCommand } from './pwsh-process.js';
import { notValidYet } from '../shared/domain/certificate-clock.js';

export interface WorkerDoctorDeps {
  pwsh: PwshCommand;
  certificates: CertificateSource;
  applicationId: string;
  tenantId: string;
  now: Date;
  logger: Logger;
  readyTimeoutMs?: number;
  connectTimeoutMs?: number;
}

const DAY_MS = 86_400_000;

/** Every command shape the worker sends: the reads, and the steps of a joiner, a voice-only user and a leaver. */
function commandShapes(): { cmdlet: string; parameters: Record<string, unknown> }[] {
  const desired: DesiredVoiceState = {
    enterpriseVoiceEnabled: true,
    phoneNumber: '+31201234001',
    phoneNumberType: 'DirectRouting',
    policies: Object.fromEntries(policyTypes.map((t) => [t, `${t}-X`])),
  };
  const actual: ActualVoiceState = { enterpriseVoiceEnabled: false, phoneNumber: '+31201234999', phoneSystemLicensed: true, policies: {} };
  const steps = [
    ...planSteps(desired, actual, 'user'),
    ...planSteps({ ...desired, phoneNumber: null }, { ...actual, phoneNumber: null }, 'user'),
    ...planSteps({ ...desired, enterpriseVoiceEnabled: false, phoneNumber: null }, { ...actual, enterpriseVoiceEnabled: true, phoneNumber: '+31201234001' }, 'user'),
  ];
  return [
    { cmdlet: 'Get-CsOnlineUser', parameters: { Identity: 'user' } },
    { cmdlet: 'Get-CsPhoneNumberAssignment', parameters: { AssignedPstnTargetId: 'user' } },
    { cmdlet: 'Get-CsPhoneNumberAssignment', parameters: { TelephoneNumber: '+31201234001' } },
    ...steps.map((s) => ({ cmdlet: s.cmdlet, parameters: s.parameters })),
  ];
}

export async function runWorkerDoctor(deps: WorkerDoctorDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let proc: PwshProcess | undefined;
  try {
    proc = await PwshProcess.start(deps.pwsh, { readyTimeoutMs: deps.readyTimeoutMs ?? 120_000, logger: deps.logger });
  } catch (error) {
    results.push({ check: 'pwsh', status: 'fail', detail: `${deps.pwsh.command} did not start host.ps1: ${toDialtoneError(error).message}` });
  }
  try {
    if (proc) {
      const version = proc.ready?.pwsh;
      results.push({ check: 'pwsh', status: 'ok', detail: `${deps.pwsh.command}: PowerShell ${version ?? '(version not reported)'}, host.ps1 ready` });
      results.push(moduleCheck(proc));
      results.push(compatibilityCheck(proc));
    } else {
      results.push({ check: 'MicrosoftTeams module', status: 'skip', detail: 'pwsh did not start' });
      results.push({ check: 'module compatibility', status: 'skip', detail: 'pwsh did not start' });
    }
    let certificate: LoadedCertificate | undefined;
    try {
      certificate = await deps.certificates.load();
      results.push(certificateCheck(certificate, deps.certificates.description, deps.now));
    } catch (error) {
      results.push({ check: 'certificate', status: 'fail', detail: toDialtoneError(error).message });
    }
    if (proc && certificate) {
      const outcome = await proc
        .connect(
          { applicationId: deps.applicationId, tenantId: deps.tenantId, certificate: { pfxBase64: certificate.pfxBase64, password: certificate.password } },
          { timeoutMs: deps.connectTimeoutMs ?? 120_000 },
        )
        .catch((error: unknown) => ({ ok: false as const, error: { message: toDialtoneError(error).message } }));
      results.push(
        outcome.ok
          ? { check: 'connect test', status: 'ok', detail: `Connect-MicrosoftTeams to tenant ${deps.tenantId} as app ${deps.applicationId} succeeded` }
          : { check: 'connect test', status: 'fail', detail: `Connect-MicrosoftTeams failed: ${outcome.error.message}` },
      );
    } else {
      results.push({ check: 'connect test', status: 'skip', detail: proc ? 'no usable certificate' : 'pwsh did not start' });
    }
  } finally {
    if (proc) {
      await proc.exit(5_000);
      proc.kill();
    }
  }
  return results;
}

function moduleCheck(proc: PwshProcess): CheckResult {
  const check = 'MicrosoftTeams module';
  const module = proc.ready?.module;
  if (!module) return { check, status: 'warn', detail: 'the host reported no MicrosoftTeams module (DIALTONE_PWSH_SKIP_IMPORT=1, or a simulator)' };
  const range = `${supportedModuleVersions.minimum} up to (not including) ${supportedModuleVersions.below}`;
  return moduleVersionSupported(module.version)
    ? { check, status: 'ok', detail: `${module.name} ${module.version} (supported: ${range})` }
    : { check, status: 'warn', detail: `${module.name} ${module.version} is outside the tested range ${range}; see the compatibility check` };
}

function compatibilityCheck(proc: PwshProcess): CheckResult {
  const check = 'module compatibility';
  if (!proc.module) return { check, status: 'skip', detail: 'the host reported no cmdlet parameters' };
  const problems = [...new Set(commandShapes().flatMap((c) => {
    const adapted = adaptToModule(proc.module, c.cmdlet, c.parameters);
    return adapted.ok ? [] : [adapted.message];
  }))];
  return problems.length === 0
    ? { check, status: 'ok', detail: 'every command the worker sends binds in this module' }
    : { check, status: 'fail', detail: `would be dead-lettered as ModuleIncompatible: ${problems.join(' ')}` };
}

function certificateCheck(certificate: LoadedCertificate, description: string, now: Date): CheckResult {
  const check = 'certificate';
  const where = `${description}: thumbprint ${certificate.thumbprint}, expires ${certificate.notAfter.toISOString()}`;
  if (!certificate.hasPrivateKey) return { check, status: 'fail', detail: `${where}; no private key (export it with its key)` };
  if (notValidYet(certificate.notBefore, now.getTime())) return { check, status: 'fail', detail: `${where}; not valid before ${certificate.notBefore.toISOString()}` };
  const days = Math.floor((certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (days < 0) return { check, status: 'fail', detail: `${where}; expired` };
  if (days < 30) return { check, status: 'warn', detail: `${where}; expires in ${days} days, key present` };
  return { check, status: 'ok', detail: `${where}; key present, ${days} days left` };
}

/** The checks on this host with the worker's own settings (environment), as worker/main.ts would run. */
export async function workerDoctorFromEnvironment(now = new Date()): Promise<CheckResult[]> {
  const { loadWorkerSettings } = await import('../shared/config/worker-settings.js');
  const { createJsonLogger } = await import('../shared/logging/logger.js');
  const { DefaultAzureCredential } = await import('@azure/identity');
  const { certificateSource, pwshCommand } = await import('./host-setup.js');
  const settings = loadWorkerSettings();
  const logger = createJsonLogger({ level: 'error', base: { service: 'dialtone-doctor' } });
  return runWorkerDoctor({
    pwsh: pwshCommand(settings),
    certificates: certificateSource(settings, new DefaultAzureCredential(), logger),
    applicationId: settings.applicationId,
    tenantId: settings.tenantId,
    now,
    logger,
  });
}
