/**
 * `dialtone policy validate --tenant tenant-voice.yaml`: the voice policy checked against the
 * tenant voice file (docs/TENANT.md) rather than a live tenant. Pure. The policy names the
 * policy grants must be in the file, and what they point at must work: a voice routing policy
 * needs a voice route on one of its usages (or calls go nowhere), and a CallingLineIdentity policy
 * Teams refuses (CallingIDSubstitute Service) can never be granted.
 */
import type { PolicyFinding, PolicyWorld } from './policy-check.js';
import type { VoicePolicy } from './policy-schema.js';
import { SERVICE_SUBSTITUTE_REFUSED } from './tenant-plan.js';
import type { TenantVoiceConfig } from './tenant-voice.js';

/** The policies the file creates, as `checkPolicy`'s world: names per type. */
export function tenantVoicePolicies(config: TenantVoiceConfig): NonNullable<PolicyWorld['policies']> {
  return {
    CallingLineIdentity: config.callingLineIdentities.map((c) => c.name),
    OnlineVoiceRoutingPolicy: config.voiceRoutingPolicies.map((p) => p.name),
    TenantDialPlan: config.dialPlans.map((d) => d.name),
  };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** What the policy grants that the tenant voice file would not make work. */
export function checkPolicyAgainstTenantVoice(policy: VoicePolicy, config: TenantVoiceConfig): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const granted: { path: string; type: string; name: string }[] = [];
  const collect = (path: string, settings: Partial<Record<string, string | null | undefined>> | undefined) => {
    for (const [type, name] of Object.entries(settings ?? {})) if (name) granted.push({ path: `${path}.${type}`, type, name });
  };
  collect('defaults.policies', policy.defaults.policies);
  policy.rules.forEach((rule, i) => collect(`rules[${i}].policies`, rule.policies));

  for (const grant of granted) {
    if (grant.type === 'OnlineVoiceRoutingPolicy') {
      const vrp = config.voiceRoutingPolicies.find((p) => same(p.name, grant.name));
      if (vrp === undefined) continue; // checkPolicy reports a missing name
      const routed = vrp.usages.some((usage) => config.voiceRoutes.some((route) => route.usages.some((u) => same(u, usage))));
      if (!routed) {
        findings.push({
          severity: 'error',
          path: grant.path,
          message: `voice routing policy '${vrp.name}' has no voice route in the tenant file: none of its usages (${vrp.usages.join(', ')}) is on a route, so its users' PSTN calls would not be routed`,
        });
      }
    }
    if (grant.type === 'CallingLineIdentity') {
      const cli = config.callingLineIdentities.find((c) => same(c.name, grant.name));
      if (cli?.callingIdSubstitute === 'Service') findings.push({ severity: 'error', path: grant.path, message: `CallingLineIdentity policy '${cli.name}': ${SERVICE_SUBSTITUTE_REFUSED}` });
    }
  }

  if (policy.callingLineIdentity?.byDescription !== undefined) {
    for (const cli of config.callingLineIdentities) {
      if (cli.callingIdSubstitute === 'Service') {
        findings.push({
          severity: 'warning',
          path: 'callingLineIdentity.byDescription',
          message: `a person whose ${policy.callingLineIdentity.byDescription} is '${cli.description}' would get CallingLineIdentity policy '${cli.name}', which Teams refuses: ${SERVICE_SUBSTITUTE_REFUSED}`,
        });
      }
    }
  }
  return findings;
}
