import { describe, expect, it } from 'vitest';
import { judgeAppCredential, liveWorkers, unusableBecause, workersBehind, type VersionFacts } from '../../shared/domain/setup.js';

const now = new Date('2026-11-02T08:00:00Z');
const day = 86_400_000;
const version = (over: Partial<VersionFacts> = {}): VersionFacts => ({
  version: 'v1',
  thumbprint: 'AA11',
  notBefore: new Date(now.getTime() - day),
  expiresOn: new Date(now.getTime() + 300 * day),
  enabled: true,
  policy: { exportable: true, contentType: 'application/x-pkcs12' },
  ...over,
});

describe('setup domain', () => {
  it('a certificate version the worker cannot use is named with the reason', () => {
    expect(unusableBecause(version(), now)).toBeUndefined();
    expect(unusableBecause(version({ enabled: false }), now)).toContain('disabled');
    expect(unusableBecause(version({ expiresOn: new Date(now.getTime() - 1) }), now)).toContain('expired');
    expect(unusableBecause(version({ notBefore: new Date(now.getTime() + day) }), now)).toContain('not valid before');
    expect(unusableBecause(version({ policy: { exportable: false, contentType: 'application/x-pkcs12' } }), now)).toContain('not exportable');
    expect(unusableBecause(version({ policy: { exportable: true, contentType: 'application/x-pem-file' } }), now)).toContain('application/x-pem-file');
  });

  it('doctor: the app must hold the current version\'s key, and is warned 30 days before that credential ends', () => {
    const current = { thumbprint: 'AA11', version: 'v1' };
    const at = (days: number) => new Date(now.getTime() + days * day).toISOString();
    expect(judgeAppCredential({ appId: 'app', current, credentials: [{ thumbprint: 'aa11', endDateTime: at(200) }] }, now).status).toBe('ok');
    expect(judgeAppCredential({ appId: 'app', current, credentials: [{ thumbprint: 'AA11', endDateTime: at(29) }] }, now)).toMatchObject({ status: 'warn' });
    expect(judgeAppCredential({ appId: 'app', current, credentials: [{ thumbprint: 'AA11', endDateTime: at(30) }] }, now).status).toBe('ok');
    expect(judgeAppCredential({ appId: 'app', current, credentials: [{ thumbprint: 'BB22', endDateTime: at(200) }] }, now)).toMatchObject({ status: 'fail' });
    expect(judgeAppCredential({ appId: 'app', current, credentials: [{ thumbprint: 'AA11', endDateTime: at(-1) }] }, now).status).toBe('fail');
    expect(judgeAppCredential({ appId: 'app', current: undefined, credentials: [] }, now).detail).toContain('dialtone setup');
  });

  it('a rotation waits only for workers that reported recently, and for those not on the new thumbprint', () => {
    const reports = [
      { workerId: 'a', thumbprint: 'NEW', version: 'v2', reportedAt: new Date(now.getTime() - 60_000).toISOString() },
      { workerId: 'b', thumbprint: 'OLD', version: 'v1', reportedAt: new Date(now.getTime() - 60_000).toISOString() },
      { workerId: 'gone', thumbprint: 'OLD', version: 'v1', reportedAt: new Date(now.getTime() - 3_600_000).toISOString() },
    ];
    expect(liveWorkers(reports, now, 600_000).map((r) => r.workerId)).toEqual(['a', 'b']);
    expect(workersBehind(reports, 'new', now, 600_000).map((r) => r.workerId)).toEqual(['b']);
  });
});
