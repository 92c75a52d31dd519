import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requiredGraphPermissions } from '../../shared/domain/doctor.js';

const SCRIPT = 'scripts/grant-graph-permissions.sh';
const GRAPH_SP = '11111111-1111-1111-1111-111111111111';
const USER_READ_ALL = 'df021288-bdef-4463-88db-98f22de89214';
const FUNCTION_SP = '22222222-2222-2222-2222-222222222222';
const WORKER_SP = '33333333-3333-3333-3333-333333333333';
const WORKER_APP = '44444444-4444-4444-4444-444444444444';
const TEAMS_COMMS_ADMIN = 'baf37b3a-610e-45da-9e62-d9d1e5e8914b';
// App role ids the fake Graph hands out per permission (the script looks them up by name).
const APP_ROLES: Record<string, string> = {
  'User.Read.All': USER_READ_ALL,
  'TeamsUserConfiguration.Read.All': '55555555-0000-0000-0000-000000000001',
  'TeamsTelephoneNumber.ReadWrite.All': '55555555-0000-0000-0000-000000000002',
  'TeamsPolicyUserAssign.ReadWrite.All': '55555555-0000-0000-0000-000000000003',
};

// A stand-in for the Azure CLI: answers the Graph reads the script makes from a JSON state file,
// appends POSTed assignments to it, and logs every call. It never touches the network.
const FAKE_AZ = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
const statePath = process.env.FAKE_AZ_STATE;
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
fs.appendFileSync(process.env.FAKE_AZ_LOG, JSON.stringify(args) + '\\n');
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1]; };
const url = opt('--url') || '';
const method = opt('--method');
const out = (v) => { process.stdout.write(String(v) + '\\n'); process.exit(0); };
if (args[0] === 'deployment') {
  const q = opt('--query');
  if (q === 'properties.outputs.functionPrincipalId.value') out(state.deployment.functionPrincipalId);
  if (q === 'properties.parameters.workerPrincipalId.value') out(state.deployment.workerPrincipalId);
}
if (args[0] === 'rest' && method === 'get') {
  if (url.endsWith("servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")) out('${GRAPH_SP}');
  if (url.endsWith("servicePrincipals(appId='${WORKER_APP}')")) out('${WORKER_SP}');
  if (url.endsWith('servicePrincipals/${GRAPH_SP}?$select=appRoles')) {
    const roles = ${JSON.stringify(APP_ROLES)};
    const name = /value=='([^']+)'/.exec(opt('--query'))[1];
    out(roles[name] || '');
  }
  let m = /servicePrincipals\\/([^/]+)\\/appRoleAssignments$/.exec(url);
  if (m) {
    const role = /appRoleId=='([^']+)'/.exec(opt('--query'))[1];
    out(state.appRoleAssignments.filter((a) => a.principalId === m[1] && a.appRoleId === role).length);
  }
  m = /roleAssignments\\?\\$filter=principalId%20eq%20'([^']+)'%20and%20roleDefinitionId%20eq%20'([^']+)'$/.exec(url);
  if (m) out(state.roleAssignments.filter((a) => a.principalId === m[1] && a.roleDefinitionId === m[2]).length);
}
if (args[0] === 'rest' && method === 'post') {
  const body = JSON.parse(opt('--body'));
  if (url.endsWith('/appRoleAssignments')) state.appRoleAssignments.push(body);
  else if (url.endsWith('/roleManagement/directory/roleAssignments')) state.roleAssignments.push(body);
  else { process.stderr.write('unexpected POST ' + url); process.exit(3); }
  fs.writeFileSync(statePath, JSON.stringify(state));
  out('created-id');
}
process.stderr.write('fake az: unexpected call ' + JSON.stringify(args));
process.exit(3);
`;

interface State {
  deployment: { functionPrincipalId: string; workerPrincipalId: string };
  appRoleAssignments: { principalId: string; resourceId: string; appRoleId: string }[];
  roleAssignments: { principalId: string; roleDefinitionId: string; directoryScopeId: string }[];
}

let dir: string;

function writeState(state: State): void {
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
}

function readState(): State {
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
}

function calls(): string[][] {
  const log = readFileSync(join(dir, 'calls.log'), 'utf8').trim();
  return log === '' ? [] : log.split('\n').map((line) => JSON.parse(line) as string[]);
}

function run(...args: string[]) {
  const result = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_AZ_STATE: join(dir, 'state.json'), FAKE_AZ_LOG: join(dir, 'calls.log') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const empty = (): State => ({
  deployment: { functionPrincipalId: FUNCTION_SP, workerPrincipalId: WORKER_SP },
  appRoleAssignments: [],
  roleAssignments: [],
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dialtone-grant-'));
  writeFileSync(join(dir, 'az'), FAKE_AZ);
  chmodSync(join(dir, 'az'), 0o755);
  writeFileSync(join(dir, 'calls.log'), '');
  writeState(empty());
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('scripts/grant-graph-permissions.sh', () => {
  it('grants User.Read.All and TeamsUserConfiguration.Read.All to the function identity and the Teams role to the worker when none is in place', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      [
        `granted: Microsoft Graph User.Read.All (application) for the Function App identity ${FUNCTION_SP}`,
        `granted: Microsoft Graph TeamsUserConfiguration.Read.All (application) for the Function App identity ${FUNCTION_SP}`,
        `granted: Teams Communications Administrator (directory role) for the worker service principal ${WORKER_SP}`,
        '3 granted, 0 already in place',
        '',
      ].join('\n'),
    );
    expect(readState().appRoleAssignments).toEqual([
      { principalId: FUNCTION_SP, resourceId: GRAPH_SP, appRoleId: USER_READ_ALL },
      { principalId: FUNCTION_SP, resourceId: GRAPH_SP, appRoleId: APP_ROLES['TeamsUserConfiguration.Read.All'] },
    ]);
    expect(readState().roleAssignments).toEqual([{ principalId: WORKER_SP, roleDefinitionId: TEAMS_COMMS_ADMIN, directoryScopeId: '/' }]);
  });

  it('changes nothing on a second run and says both are already in place', () => {
    run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP);
    writeFileSync(join(dir, 'calls.log'), '');
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('0 granted, 3 already in place');
    expect(calls().filter((c) => c.includes('post'))).toEqual([]);
  });

  it('reports what it would grant on --dry-run and posts nothing', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP, '--dry-run');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`would grant: Microsoft Graph User.Read.All (application) for the Function App identity ${FUNCTION_SP}`);
    expect(result.stdout).toContain('3 to grant, 0 already in place (dry run: nothing changed)');
    expect(calls().filter((c) => c.includes('post'))).toEqual([]);
    expect(readState()).toEqual(empty());
  });

  it('grants only what is missing', () => {
    writeState({ ...empty(), roleAssignments: [{ principalId: WORKER_SP, roleDefinitionId: TEAMS_COMMS_ADMIN, directoryScopeId: '/' }] });
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP);
    expect(result.stdout).toContain(`already in place: Teams Communications Administrator (directory role) for the worker service principal ${WORKER_SP}`);
    expect(result.stdout).toContain('2 granted, 1 already in place');
    expect(readState().roleAssignments).toHaveLength(1);
  });

  it('looks up the worker service principal from its application id', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-app-id', WORKER_APP);
    expect(result.status).toBe(0);
    expect(readState().roleAssignments).toEqual([{ principalId: WORKER_SP, roleDefinitionId: TEAMS_COMMS_ADMIN, directoryScopeId: '/' }]);
  });

  it('reads both principals from the deployment of infra/main.bicep', () => {
    const result = run('--resource-group', 'rg-dialtone', '--dry-run');
    expect(result.status).toBe(0);
    expect(calls()[0]).toEqual([
      'deployment', 'group', 'show', '-g', 'rg-dialtone', '-n', 'main', '--query', 'properties.outputs.functionPrincipalId.value', '-o', 'tsv',
    ]);
    expect(result.stdout).toContain(`for the worker service principal ${WORKER_SP}`);
  });

  it('refuses a principal id that is not a GUID before calling Graph', () => {
    const result = run('--function-principal-id', 'func-dialtone', '--worker-principal-id', WORKER_SP);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("grant-graph-permissions: --function-principal-id must be a GUID, got 'func-dialtone'\n");
    expect(calls()).toEqual([]);
  });

  it('leaves TeamsUserConfiguration.Read.All out with --no-teams-readiness', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP, '--no-teams-readiness');
    expect(result.status).toBe(0);
    expect(readState().appRoleAssignments).toEqual([{ principalId: FUNCTION_SP, resourceId: GRAPH_SP, appRoleId: USER_READ_ALL }]);
  });

  it('grants exactly what doctor checks, per backend (one list)', () => {
    for (const [backend, readiness, args] of [
      ['powershell', 'graph', []],
      ['powershell', 'off', ['--no-teams-readiness']],
      ['graph', 'graph', ['--teams-backend', 'graph']],
    ] as const) {
      writeState(empty());
      run('--function-principal-id', FUNCTION_SP, '--worker-principal-id', WORKER_SP, ...args);
      const granted = readState().appRoleAssignments.map((a) => Object.entries(APP_ROLES).find(([, id]) => id === a.appRoleId)?.[0]);
      expect(granted.sort()).toEqual(requiredGraphPermissions(backend, readiness).map((p) => p.permission).sort());
    }
  });

  it('with --teams-backend graph also grants the Teams administration permissions, and needs no worker', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--teams-backend', 'graph');
    expect(result.status).toBe(0);
    for (const permission of Object.keys(APP_ROLES)) {
      expect(result.stdout).toContain(`granted: Microsoft Graph ${permission} (application) for the Function App identity ${FUNCTION_SP}`);
    }
    expect(result.stdout).toContain('skipped: Teams Communications Administrator (no worker with --teams-backend graph)');
    expect(readState().appRoleAssignments.map((a) => a.appRoleId).sort()).toEqual(Object.values(APP_ROLES).sort());
    expect(readState().roleAssignments).toEqual([]);
    expect(run('--function-principal-id', FUNCTION_SP, '--teams-backend', 'graph').stdout).toContain('0 granted, 4 already in place');
  });

  it('refuses an unknown Teams backend by name', () => {
    const result = run('--function-principal-id', FUNCTION_SP, '--teams-backend', 'pwsh');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("grant-graph-permissions: --teams-backend must be powershell or graph, got 'pwsh'\n");
  });
});
