/**
 * `dialtone policy validate`: what a policy file refers to, checked against what exists. Pure:
 * the caller passes the pools of the inventory and the policies of the tenant it could read.
 */
import { HR_ATTRIBUTES } from '../contracts/messages.js';
import { ENTRA_ATTRIBUTES } from './policy-attributes.js';
import type { VoicePolicy } from './policy-schema.js';
import { policyTypes, type PolicyType } from './voice-state.js';
import { editDistance } from './edit-distance.js';

export interface PolicyFinding {
  severity: 'error' | 'warning';
  /** `rules[2].when.sight`, as the admin would write the path. */
  path: string;
  message: string;
}

export interface PolicyWorld {
  /** Pool ids in the number inventory; undefined when it could not be read (not checked). */
  pools?: string[];
  /** Policy names (without Tag:) per type in the tenant; undefined when unknown (not checked). */
  policies?: Partial<Record<PolicyType, string[]>>;
}

/** Attribute names a rule can match: the HR contract, the Entra ID attributes, `site`, and the file's own `attributes` list. */
export function knownAttributes(policy: VoicePolicy): string[] {
  return [...new Set([...HR_ATTRIBUTES, ...ENTRA_ATTRIBUTES, 'site', ...(policy.attributes ?? [])])];
}

/**
 * The closest known name: the same letters in another case, else the nearest by edit distance
 * within about half its length (`sight` → `site`, `departmnt` → `department`).
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  const within = Math.max(2, Math.ceil(name.length * 0.6));
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(k.toLowerCase(), lower);
    if (distance <= within && distance < k.length && (!best || distance < best.distance)) best = { name: k, distance };
  }
  return best?.name;
}

const hint = (suggestion: string | undefined) => (suggestion ? `; did you mean '${suggestion}'?` : '');

/**
 * Attribute names no person can have: in a `when` (or `callingLineIdentity.byDescription`) and
 * neither in the HR contract, the Entra ID attributes nor the file's `attributes` list. A rule
 * that names one never matches (`when: { sight: AMS }`), so the policy loader refuses the file.
 */
export function unknownAttributes(policy: VoicePolicy): PolicyFinding[] {
  const findings: PolicyFinding[] = [];
  const attributes = knownAttributes(policy);
  const attributeError = (path: string, name: string) =>
    findings.push({
      severity: 'error',
      path,
      message: `unknown attribute '${name}' (not in the HR contract, the Entra ID attributes or this file's attributes list)${hint(didYouMean(name, attributes))}`,
    });
  policy.rules.forEach((rule, i) => {
    for (const name of Object.keys(rule.when)) if (!attributes.includes(name)) attributeError(`rules[${i}].when.${name}`, name);
  });
  const by = policy.callingLineIdentity?.byDescription;
  if (by !== undefined && !attributes.includes(by)) attributeError('callingLineIdentity.byDescription', by);
  return findings;
}

export function checkPolicy(policy: VoicePolicy, world: PolicyWorld): PolicyFinding[] {
  const findings: PolicyFinding[] = unknownAttributes(policy);
  const by = policy.callingLineIdentity?.byDescription;

  const pools = world.pools;
  if (pools) {
    const pool = (path: string, name: string | null | undefined) => {
      if (name && !pools.includes(name)) {
        findings.push({ severity: 'error', path, message: `number pool '${name}' is not in the inventory${hint(didYouMean(name, pools))} (import it with dialtone numbers import)` });
      }
    };
    pool('defaults.numberPool', policy.defaults.numberPool);
    policy.rules.forEach((rule, i) => pool(`rules[${i}].numberPool`, rule.numberPool));
  }

  const tenant = world.policies;
  if (tenant) {
    const named = (path: string, settings: Partial<Record<PolicyType, string | null | undefined>> | undefined) => {
      for (const type of policyTypes) {
        const name = settings?.[type];
        if (!name) continue;
        const existing = tenant[type] ?? [];
        if (!existing.some((e) => e.toLowerCase() === name.toLowerCase())) {
          findings.push({ severity: 'error', path: `${path}.${type}`, message: `the tenant has no ${type} named '${name}'${hint(didYouMean(name, existing))}` });
        }
      }
    };
    named('defaults.policies', policy.defaults.policies);
    policy.rules.forEach((rule, i) => named(`rules[${i}].policies`, rule.policies));
    if (by !== undefined && (tenant.CallingLineIdentity ?? []).length === 0) {
      findings.push({ severity: 'warning', path: 'callingLineIdentity.byDescription', message: 'the tenant has no CallingLineIdentity policies to look up by description' });
    }
  }
  return findings;
}
