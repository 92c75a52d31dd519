import { DialtoneError, toDialtoneError } from '../domain/errors.js';
import { classifyKeyVaultAnswer, keyVaultThrottlePolicy, missingRoleMessage } from '../domain/key-vault-errors.js';
import { certificateSubject, credentialDisplayName, credentialsToRetire, liveWorkers, sameThumbprint, workersBehind, type SetupItem } from '../domain/setup.js';
import type { Clock } from '../ports/clock.js';
import type { EntraAdmin } from '../ports/entra-admin.js';
import { ROTATION_TAG, workerCertificatePolicy, type CertificateVersion, type KeyVaultCertificates, type RotationState } from '../ports/key-vault-certificates.js';
import type { WorkerCertificateReport, WorkerReports } from '../ports/worker-reports.js';
import { retryThrottled } from './key-vault-retry.js';

export interface RotateInput {
  /** The worker's application (client) id (DIALTONE_APP_ID). */
  appId: string;
  certificateName: string;
  /**
   * The tenant whose worker certificate this is (a registered tenant's own, or the home tenant's):
   * only the workers' reports for that tenant are waited on. Absent: every report counts (a
   * deployment whose workers serve one tenant).
   */
  tenantId?: string;
  dryRun: boolean;
  /** How long to wait for every live worker to report the new thumbprint before giving up (the old credential is then kept). */
  waitTimeoutMs: number;
  /** How long both credentials stay on the app after the last worker switched (sessions connected with the old one drain). */
  overlapMs: number;
  /** A worker that reported within this long counts as running (its heartbeat is 60 s). */
  liveWithinMs: number;
  /** How often to read the workers' reports while waiting. */
  pollMs: number;
}

export interface RotateDeps {
  entra: EntraAdmin;
  vault: KeyVaultCertificates;
  /** The workers' reports; undefined when they cannot be read (no table endpoint): the old credential is then kept. */
  reports: WorkerReports | undefined;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  progress?(line: string): void;
}

export interface RotateResult {
  items: SetupItem[];
  certificate?: { name: string; version: string; thumbprint: string; expiresOn: string };
}

const failure = (error: unknown): string => toDialtoneError(error).message;

/** The reports about one tenant's certificate (all of them when no tenant is named). */
function ofTenant(reports: WorkerCertificateReport[], tenantId: string | undefined): WorkerCertificateReport[] {
  return tenantId === undefined ? reports : reports.filter((r) => r.tenantId.toLowerCase() === tenantId.toLowerCase());
}

/** The role `dialtone setup` and `cert rotate` need on the vault (docs/DEPLOYMENT.md, docs/TENANT.md). */
export const OPERATOR_VAULT_ROLE = 'Key Vault Certificates Officer';

/**
 * The vault as the rotation uses it: a 429 is waited out for its Retry-After (bounded, on the
 * rotation's own sleep, so the sandbox clock in the sandbox); a call still throttled, or refused
 * for a missing role (403 ForbiddenByRbac), becomes a DialtoneError that says what to do — the
 * role to assign, or to run cert rotate again later — and never carries Key Vault's own text.
 */
function operatorVault(vault: KeyVaultCertificates, sleep: (ms: number) => Promise<void>, progress?: (line: string) => void): KeyVaultCertificates {
  const call = async <T>(operation: string, name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await retryThrottled(run, sleep, (waitMs) => progress?.(`Key Vault throttled ${operation}; waiting ${Math.ceil(waitMs / 1000)} s`));
    } catch (error) {
      const answer = classifyKeyVaultAnswer(error);
      if (answer.kind === 'throttled') {
        throw new DialtoneError('Throttled', `Key Vault still throttles ${operation} of certificate ${name} (429) after ${keyVaultThrottlePolicy.maxTries} tries${answer.retryAfterMs === undefined ? '' : `, Retry-After ${Math.ceil(answer.retryAfterMs / 1000)} s`}: run cert rotate again later`, {
            transient: true,
            ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
          });
      }
      if (answer.kind === 'forbiddenByRbac') {
        throw new DialtoneError('ConfigInvalid', missingRoleMessage(`Key Vault ${operation} of certificate ${name}`, 'the identity running dialtone cert rotate', OPERATOR_VAULT_ROLE, vault.vaultUrl, answer.action));
      }
      throw error;
    }
  };
  return {
    vaultUrl: vault.vaultUrl,
    latest: (name) => call('read', name, () => vault.latest(name)),
    versions: (name) => call('list versions', name, () => vault.versions(name)),
    create: (name, policy, options) => call('create', name, () => vault.create(name, policy, options)),
    setEnabled: (name, version, enabled) => call(enabled ? 'enable' : 'disable', name, () => vault.setEnabled(name, version, enabled)),
    setTags: (name, version, tags) => call('update tags', name, () => vault.setTags(name, version, tags)),
  };
}

/**
 * `dialtone cert rotate`: a new Key Vault version, its public key added beside the current one,
 * then wait until every live worker reports the new thumbprint (workers look for a new version
 * every DIALTONE_CERT_RELOAD and switch without a restart), keep both for `overlapMs`, then remove
 * the credentials of Dialtone's older versions. The old credential is removed only after the
 * workers moved, so no connect is refused during a rotation. An unfinished rotation (the newest
 * version on the app beside older ones) is continued rather than started again.
 */
export async function rotateCertificate(deps: RotateDeps, input: RotateInput): Promise<RotateResult> {
  const items: SetupItem[] = [];
  const result: RotateResult = { items };
  const { entra } = deps;
  const vault = operatorVault(deps.vault, deps.sleep, deps.progress);
  const certIdentity = `${vault.vaultUrl.replace(/\/$/, '')}/certificates/${input.certificateName}`;

  let app;
  let current: CertificateVersion | undefined;
  let credentials;
  let versions: CertificateVersion[];
  try {
    app = await entra.getApplicationByAppId(input.appId);
    if (!app) {
      items.push({ kind: 'application', identity: input.appId, status: 'failed', detail: `no app registration has the application id ${input.appId}: run dialtone setup first` });
      return result;
    }
    current = await vault.latest(input.certificateName);
    if (!current) {
      items.push({ kind: 'certificate', identity: certIdentity, status: 'failed', detail: 'Key Vault holds no such certificate: run dialtone setup first' });
      return result;
    }
    credentials = await entra.keyCredentials(app.id);
    versions = await vault.versions(input.certificateName);
  } catch (error) {
    items.push({ kind: 'application', identity: input.appId, status: 'failed', detail: failure(error) });
    return result;
  }
  const ownThumbprints = versions.map((v) => v.thumbprint);
  const latest = current;
  // What a run persists: the version it makes is tagged `rotating` until a run confirmed the older
  // keys gone, then `done`. Untagged (made by setup, or by a rotation before the tag existed): the
  // app holding the latest key beside older ones of this certificate is an unfinished rotation.
  const state = latest.tags[ROTATION_TAG] as RotationState | undefined;
  const unfinished =
    state === 'rotating' ||
    (state === undefined && credentials.some((c) => sameThumbprint(c.thumbprint, latest.thumbprint)) && credentialsToRetire(credentials, latest.thumbprint, ownThumbprints).length > 0);

  if (input.dryRun) {
    const live = deps.reports ? liveWorkers(ofTenant(await deps.reports.list(), input.tenantId), deps.clock.now(), input.liveWithinMs) : undefined;
    const toRetire = unfinished ? credentialsToRetire(credentials, latest.thumbprint, ownThumbprints) : credentialsToRetire(credentials, '', ownThumbprints);
    items.push(
      unfinished
        ? { kind: 'certificate', identity: certIdentity, status: 'already_exists', detail: `would continue the unfinished rotation to version ${latest.version} (${latest.thumbprint})` }
        : { kind: 'certificate', identity: certIdentity, status: 'created', detail: `would create a new version after ${latest.version} (${latest.thumbprint})` },
      { kind: 'keyCredential', identity: `${app.displayName} new key`, status: unfinished ? 'already_exists' : 'created', detail: unfinished ? 'the app holds it already' : 'would add its public key beside the current one' },
      {
        kind: 'workers',
        identity: 'hybrid workers',
        status: live === undefined ? 'failed' : 'updated',
        detail: live === undefined ? 'cannot read the workers\' reports (set DIALTONE_TABLES_ENDPOINT): the old credential would be kept' : `would wait up to ${Math.round(input.waitTimeoutMs / 1000)} s for ${live.length} live worker(s) to report the new thumbprint`,
      },
      ...toRetire.map((c) => ({ kind: 'keyCredential' as const, identity: `${app.displayName} key ${c.thumbprint}`, status: 'removed' as const, detail: `would remove ${Math.round(input.overlapMs / 1000)} s after the workers moved` })),
    );
    return result;
  }

  // 1. The new version (or the one an unfinished rotation made).
  let next: CertificateVersion;
  if (unfinished) {
    next = latest;
    items.push({ kind: 'certificate', identity: certIdentity, status: 'already_exists', detail: `continuing the unfinished rotation to version ${next.version} (${next.thumbprint})` });
  } else {
    try {
      // Disabled until its key is on the app: a worker that looked now would otherwise connect with a key Entra does not know yet.
      next = await vault.create(input.certificateName, workerCertificatePolicy(certificateSubject(app.displayName)), { enabled: false, tags: { [ROTATION_TAG]: 'rotating' satisfies RotationState } });
      items.push({ kind: 'certificate', identity: certIdentity, status: 'created', detail: `version ${next.version}, thumbprint ${next.thumbprint}, expires ${next.expiresOn.toISOString()} (was ${latest.version}, ${latest.thumbprint})` });
      ownThumbprints.push(next.thumbprint);
    } catch (error) {
      items.push({ kind: 'certificate', identity: certIdentity, status: 'failed', detail: failure(error) });
      return result;
    }
  }
  result.certificate = { name: input.certificateName, version: next.version, thumbprint: next.thumbprint, expiresOn: next.expiresOn.toISOString() };

  // 2. Its key beside the current one(s).
  const keyIdentity = `${app.displayName} key ${next.thumbprint}`;
  try {
    const held = await entra.keyCredentials(app.id);
    if (held.some((c) => sameThumbprint(c.thumbprint, next.thumbprint))) {
      items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'already_exists', detail: 'the application holds it' });
    } else {
      await entra.setKeyCredentials(app.id, [
        ...held,
        { displayName: credentialDisplayName(input.certificateName, next.version), key: next.cerBase64, startDateTime: next.notBefore.toISOString(), endDateTime: next.expiresOn.toISOString() },
      ]);
      items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'created', detail: `added beside ${held.length} existing (valid until ${next.expiresOn.toISOString()})` });
    }
  } catch (error) {
    items.push({ kind: 'keyCredential', identity: keyIdentity, status: 'failed', detail: `${failure(error)}; the workers keep the old certificate only if Key Vault's new version is disabled: run cert rotate again to add the key` });
    return result;
  }

  // 3. Now the workers may load it.
  if (!next.enabled) {
    try {
      await vault.setEnabled(input.certificateName, next.version, true);
      next = { ...next, enabled: true };
    } catch (error) {
      items.push({ kind: 'certificate', identity: certIdentity, status: 'failed', detail: `could not enable version ${next.version}: ${failure(error)}; run cert rotate again` });
      return result;
    }
  }

  // 4. Wait for every live worker to use it.
  if (!deps.reports) {
    items.push({ kind: 'workers', identity: 'hybrid workers', status: 'failed', detail: "cannot read the workers' reports (set DIALTONE_TABLES_ENDPOINT): the old credential is kept; run cert rotate again with it set to finish" });
    return result;
  }
  const started = deps.clock.now().getTime();
  let behind: { workerId: string; thumbprint: string }[] = [];
  let live = 0;
  for (;;) {
    let reports;
    try {
      reports = ofTenant(await deps.reports.list(), input.tenantId);
    } catch (error) {
      items.push({ kind: 'workers', identity: 'hybrid workers', status: 'failed', detail: `${failure(error)}; the old credential is kept` });
      return result;
    }
    const now = deps.clock.now();
    live = liveWorkers(reports, now, input.liveWithinMs).length;
    behind = workersBehind(reports, next.thumbprint, now, input.liveWithinMs);
    if (behind.length === 0) break;
    if (now.getTime() - started >= input.waitTimeoutMs) {
      items.push({
        kind: 'workers',
        identity: 'hybrid workers',
        status: 'failed',
        detail: `${behind.length} of ${live} live worker(s) still use another certificate after ${Math.round(input.waitTimeoutMs / 1000)} s (${behind.map((b) => `${b.workerId}: ${b.thumbprint}`).join(', ')}): the old credential is kept; run cert rotate again to continue`,
      });
      return result;
    }
    deps.progress?.(`waiting for ${behind.length} of ${live} worker(s) to load version ${next.version}`);
    await deps.sleep(input.pollMs);
  }
  items.push({ kind: 'workers', identity: 'hybrid workers', status: 'updated', detail: live === 0 ? 'no worker reported recently: none to wait for (a worker that starts loads the newest version)' : `all ${live} live worker(s) report ${next.thumbprint}` });

  // 5. The overlap, then the older versions' credentials go.
  if (input.overlapMs > 0) {
    deps.progress?.(`keeping the old credential ${Math.round(input.overlapMs / 1000)} s more`);
    await deps.sleep(input.overlapMs);
  }
  try {
    const held = await entra.keyCredentials(app.id);
    const retire = credentialsToRetire(held, next.thumbprint, ownThumbprints);
    if (retire.length > 0) {
      await entra.setKeyCredentials(app.id, held.filter((c) => !retire.includes(c)));
      const after = await entra.keyCredentials(app.id);
      for (const c of retire) {
        const gone = !after.some((a) => sameThumbprint(a.thumbprint, c.thumbprint));
        items.push({ kind: 'keyCredential', identity: `${app.displayName} key ${c.thumbprint}`, status: gone ? 'removed' : 'failed', detail: gone ? `removed after the overlap (it was valid until ${c.endDateTime})` : 'still on the application after the update' });
      }
    } else {
      // An earlier run's removal went through even though it could not read it back.
      items.push({ kind: 'keyCredential', identity: `${app.displayName} old keys`, status: 'removed', detail: `the application holds no older version's key: only ${next.thumbprint} is left` });
    }
  } catch (error) {
    items.push({ kind: 'keyCredential', identity: `${app.displayName} old keys`, status: 'failed', detail: `${failure(error)}; run cert rotate again to remove them` });
    return result;
  }
  if (items.some((i) => i.status === 'failed')) return result;

  // 6. Recorded as finished: the next `cert rotate` starts a new rotation instead of continuing this one.
  if (next.tags[ROTATION_TAG] !== ('done' satisfies RotationState)) {
    try {
      await vault.setTags(input.certificateName, next.version, { ...next.tags, [ROTATION_TAG]: 'done' satisfies RotationState });
    } catch (error) {
      items.push({ kind: 'certificate', identity: certIdentity, status: 'failed', detail: `the rotation to version ${next.version} is complete but could not be recorded as finished: ${failure(error)}; run cert rotate again to record it` });
    }
  }
  return result;
}
