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
