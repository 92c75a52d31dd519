/**
 * `dialtone setup` and `dialtone cert rotate`, the pure part: whether a Key Vault certificate
 * version can serve the worker, which key credentials an app registration keeps, and the
 * per-step report (`created`, `already_exists`, `updated`, `failed`, like `tenant apply`).
 */
import { notValidYet } from './certificate-clock.js';
export type SetupStatus = 'created' | 'already_exists' | 'updated' | 'removed' | 'failed';

export type SetupKind = 'application' | 'servicePrincipal' | 'certificate' | 'keyCredential' | 'graphPermission' | 'directoryRole' | 'workers';

export interface SetupItem {
  kind: SetupKind;
  identity: string;
  status: SetupStatus;
  detail: string;
}

/** The facts of a certificate version this module judges (no key material). */
export interface VersionFacts {
  version: string;
  thumbprint: string;
  notBefore: Date;
  expiresOn: Date;
  enabled: boolean;
  policy: { exportable: boolean | undefined; contentType: string | undefined };
}

const DAY_MS = 86_400_000;

/** Why this version cannot serve the worker (so setup makes a new one), or undefined when it can. */
export function unusableBecause(v: VersionFacts, now: Date): string | undefined {
  if (!v.enabled) return `version ${v.version} is disabled`;
  if (v.expiresOn.getTime() <= now.getTime()) return `version ${v.version} expired on ${v.expiresOn.toISOString()}`;
  if (notValidYet(v.notBefore, now.getTime())) return `version ${v.version} is not valid before ${v.notBefore.toISOString()}`;
  if (v.policy.exportable === false) return `version ${v.version} has a key that is not exportable, so its secret holds no private key for the worker`;
  if (v.policy.contentType !== undefined && v.policy.contentType !== 'application/x-pkcs12') return `version ${v.version} is stored as ${v.policy.contentType}, not application/x-pkcs12`;
  return undefined;
}

export function daysLeft(expiresOn: Date, now: Date): number {
  return Math.floor((expiresOn.getTime() - now.getTime()) / DAY_MS);
}

/** A stable display name for the key credential of one Key Vault version (at most 90 characters, Graph's limit). */
export function credentialDisplayName(certificateName: string, version: string): string {
  return `dialtone ${certificateName} ${version}`.slice(0, 90);
}

export const sameThumbprint = (a: string, b: string): boolean => a.replace(/[^0-9a-f]/gi, '').toUpperCase() === b.replace(/[^0-9a-f]/gi, '').toUpperCase();

/** Items that depend on a failed one are failed too, naming it, without being attempted. */
export function notAttempted(kind: SetupKind, identity: string, because: string): SetupItem {
  return { kind, identity, status: 'failed', detail: `not attempted: ${because}` };
}

/**
 * Workers that count for a rotation: those that reported within `liveWithinMs` before now. A
 * worker whose report is older is gone (stopped, or its host is down) and is not waited for.
 */
export interface WorkerReport {
  workerId: string;
  thumbprint: string;
  version: string;
  reportedAt: string;
}

export function liveWorkers(reports: readonly WorkerReport[], now: Date, liveWithinMs: number): WorkerReport[] {
  return reports.filter((r) => now.getTime() - Date.parse(r.reportedAt) <= liveWithinMs);
}

/** The live workers not yet on `thumbprint` (empty: every live worker uses it). */
export function workersBehind(reports: readonly WorkerReport[], thumbprint: string, now: Date, liveWithinMs: number): WorkerReport[] {
  return liveWorkers(reports, now, liveWithinMs).filter((r) => !sameThumbprint(r.thumbprint, thumbprint));
}

export interface AppCredentialFacts {
  appId: string;
  /** The Key Vault certificate's current version, or undefined when there is none. */
  current: { thumbprint: string; version: string } | undefined;
  credentials: { thumbprint: string; endDateTime: string }[];
}

/** `doctor`: the app registration holds the public key of Key Vault's current version, valid for 30 days more. */
export function judgeAppCredential(facts: AppCredentialFacts, now: Date, warnDays = 30): { check: string; status: 'ok' | 'warn' | 'fail'; detail: string } {
  const check = `Key credential of the worker app ${facts.appId}`;
  if (!facts.current) return { check, status: 'fail', detail: 'Key Vault holds no worker certificate: run dialtone setup' };
  const current = facts.current;
  const match = facts.credentials.find((c) => sameThumbprint(c.thumbprint, current.thumbprint));
  if (!match) {
    return { check, status: 'fail', detail: `the app holds no key credential for the certificate's current version ${current.version} (thumbprint ${current.thumbprint}): Connect-MicrosoftTeams will be refused; run dialtone setup` };
  }
  const end = new Date(match.endDateTime);
  const left = daysLeft(end, now);
  if (end.getTime() <= now.getTime()) return { check, status: 'fail', detail: `the credential for ${current.thumbprint} ended on ${match.endDateTime}: run dialtone cert rotate` };
  const others = facts.credentials.length - 1;
  if (left < warnDays) return { check, status: 'warn', detail: `the credential for ${current.thumbprint} ends in ${left} days (${match.endDateTime}): run dialtone cert rotate` };
  return { check, status: 'ok', detail: `holds ${current.thumbprint} (version ${current.version}, ${left} days left)${others > 0 ? `, and ${others} other credential${others === 1 ? '' : 's'}` : ''}` };
}

/** The certificate subject Dialtone gives the worker certificate: `CN=` the app's display name, without DN metacharacters. */
export function certificateSubject(appDisplayName: string): string {
  return `CN=${appDisplayName.replace(/[,=+<>#;"\\]/g, ' ').trim() || 'dialtone-worker'}`;
}

/**
 * The credentials a rotation removes once the workers use the new version: those whose
 * thumbprint is an older version of Dialtone's certificate. A credential of anything else
 * (another certificate someone added by hand) is never Dialtone's to remove.
 */
export function credentialsToRetire<T extends { thumbprint: string }>(credentials: readonly T[], newThumbprint: string, versionThumbprints: readonly string[]): T[] {
  return credentials.filter((c) => !sameThumbprint(c.thumbprint, newThumbprint) && versionThumbprints.some((t) => sameThumbprint(t, c.thumbprint)));
}
