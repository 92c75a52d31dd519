import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleTenant } from '../integration/sandbox-fixtures.js';

/** Shared by the tenant CLI tests: a tenant voice file and readers for the per-item JSON report. */
export type Item = { kind: string; identity: string; status: string; detail: string };
export const items = (out: string): Item[] => (JSON.parse(out) as { items: Item[] }).items;
export const statuses = (out: string) => items(out).map((i) => `${i.kind}:${i.identity}=${i.status}`);

export const tenantVoice = `version: 1
pstnUsages: [NL-Local]
voiceRoutes:
  - { name: NL-All, numberPattern: '^\\+31\\d+$', gateways: [sbc1.contoso.example], usages: [NL-Local], priority: 1 }
voiceRoutingPolicies:
  - { name: VRP-NL, usages: [NL-Local] }
dialPlans:
  - name: DP-NL
    normalizationRules: [{ name: NL-national, pattern: '^0(\\d{9})$', translation: '+31$1' }]
callingLineIdentities:
  - { name: CLI-Sales, description: DEPT001, callingIdSubstitute: LineUri }
  - { name: CLI-Support, description: DEPT002, callingIdSubstitute: Anonymous }
`;

/** HR events as NDJSON. */
export const ndjson = (list: object[]) => list.map((e) => JSON.stringify(e)).join('\n');

/**
 * A temporary directory holding a sandbox tenant with no voice configuration at all (no policies,
 * only an SBC paired with it, every user licensed from the start), an empty event file and the
 * tenant voice file above; `files` adds the test's own inputs.
 */
export async function bareTenantDir(prefix: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const tenant = sampleTenant();
  delete tenant.policies;
  tenant.pstnGateways = ['sbc1.contoso.example'];
  for (const user of tenant.users) {
    user.servicePlans = ['TEAMS1', 'MCOEV'];
    delete user.licensedAfterMs;
  }
  await writeFile(join(dir, 'tenant.json'), JSON.stringify(tenant));
  await writeFile(join(dir, 'empty.ndjson'), '');
  await writeFile(join(dir, 'tenant-voice.yaml'), tenantVoice);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
