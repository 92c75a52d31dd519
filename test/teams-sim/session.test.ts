import { describe, expect, it } from 'vitest';
import { SimClock } from '../../sandbox/clock.js';
import { newSession, runCmdlet } from '../../sandbox/teams-sim/cmdlets.js';
import { SimTenant } from '../../sandbox/teams-sim/tenant.js';
import { ANNA, FAKE_PFX, TENANT_ID, errorOf, resultOf, tenantFile } from './fixtures.js';

function fresh() {
  const tenant = new SimTenant(tenantFile(), new SimClock());
  const session = newSession();
  const connect = (parameters: Record<string, unknown>, certificate?: unknown) =>
    runCmdlet(tenant, session, { cmdlet: 'Connect-MicrosoftTeams', parameters, certificate });
  const run = (cmdlet: string, parameters: Record<string, unknown> = {}) => runCmdlet(tenant, session, { cmdlet, parameters });
  return { tenant, session, connect, run };
}

describe('Connect-MicrosoftTeams and the session', () => {
  it('refuses every cmdlet before a successful connect', () => {
    const { run } = fresh();
    expect(errorOf(run('Get-CsOnlineUser', { Identity: ANNA }))).toEqual({
      type: 'System.UnauthorizedAccessException',
      message: 'Run Connect-MicrosoftTeams before running cmdlets.',
      category: 'AuthenticationError',
      fullyQualifiedErrorId: 'System.UnauthorizedAccessException,Get-CsOnlineUser',
    });
  });

  it('connects with an application id, the tenant id and a base64 certificate', () => {
    const { connect, run } = fresh();
    expect(resultOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID }, { pfxBase64: FAKE_PFX, password: 'pw' }))).toMatchObject({
      TenantId: TENANT_ID,
    });
    expect(run('Get-CsOnlineUser', { Identity: ANNA }).ok).toBe(true);
  });

  it('fails to authenticate against another tenant', () => {
    const { connect, session } = fresh();
    const error = errorOf(connect({ ApplicationId: 'app', TenantId: '00000000-0000-0000-0000-000000000000' }, { pfxBase64: FAKE_PFX }));
    expect(error.message).toBe(
      "AADSTS90002: Tenant '00000000-0000-0000-0000-000000000000' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
    );
    expect(session.connected).toBe(false);
  });

  it('requires the certificate field', () => {
    const { connect } = fresh();
    expect(errorOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID })).message).toBe(
      'A certificate is required: the request must carry certificate.pfxBase64.',
    );
  });

  it('refuses a certificate that is not base64, without echoing it', () => {
    const { connect } = fresh();
    const error = errorOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID }, { pfxBase64: 'secret!!not*base64' }));
    expect(error.message).toBe('The certificate is not valid: certificate.pfxBase64 is not base64-encoded PKCS#12.');
    expect(JSON.stringify(error)).not.toContain('secret!!');
  });

  it('requires ApplicationId and TenantId (mandatory in the certificate parameter set)', () => {
    const { connect } = fresh();
    expect(errorOf(connect({ TenantId: TENANT_ID }, { pfxBase64: FAKE_PFX })).message).toBe(
      'Cannot process command because of one or more missing mandatory parameters: ApplicationId.',
    );
  });

  it('is disconnected again by Disconnect-MicrosoftTeams', () => {
    const { connect, run } = fresh();
    resultOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID }, { pfxBase64: FAKE_PFX }));
    resultOf(run('Disconnect-MicrosoftTeams'));
    expect(errorOf(run('Get-CsOnlineUser', { Identity: ANNA })).message).toBe('Run Connect-MicrosoftTeams before running cmdlets.');
  });

  it('answers a cmdlet outside the allow-list with Dialtone.CmdletNotAllowed', () => {
    const { run } = fresh();
    expect(errorOf(run('Invoke-Expression', { Command: 'Remove-Item C:\\' }))).toEqual({
      type: 'Dialtone.CmdletNotAllowed',
      message: "The cmdlet 'Invoke-Expression' is not in the host's allow-list; nothing was run.",
    });
  });

  it('keeps failing with Unauthorized after a token expiry until the next connect', () => {
    const { connect, run, session } = fresh();
    resultOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID }, { pfxBase64: FAKE_PFX }));
    session.tokenExpired = true;
    expect(errorOf(run('Get-CsOnlineUser', { Identity: ANNA })).fullyQualifiedErrorId).toBe('Unauthorized,Get-CsOnlineUser');
    resultOf(connect({ ApplicationId: 'app', TenantId: TENANT_ID }, { pfxBase64: FAKE_PFX }));
    expect(run('Get-CsOnlineUser', { Identity: ANNA }).ok).toBe(true);
  });
});
