/**
 * What a registered tenant may set for itself and the deployment gives otherwise (issue 16): the
 * voice policy and the Teams backend. Each is a per-tenant resolver for plan and graphVoice; a
 * tenant's own setting is used when its registry entry has one, the deployment's when not.
 */
import { DialtoneError } from '../domain/errors.js';
import type { VoicePolicy } from '../domain/policy.js';
import { voiceCommandRoute, type EffectiveTenant, type VoiceCommandRoute } from '../domain/tenants.js';
import { perTenant, type PerTenant } from '../ports/per-tenant.js';

type TenantsInForce = () => Promise<readonly EffectiveTenant[]>;

/** The tenant a message names, from those in force; undefined for a message that names none (the default tenant). */
async function tenantNamed(tenants: TenantsInForce, tenantId: string | undefined): Promise<EffectiveTenant | undefined> {
  if (tenantId === undefined) return undefined;
  const id = tenantId.toLowerCase();
  const tenant = (await tenants()).find((t) => t.tenantId === id);
  if (!tenant) throw new DialtoneError('ConfigInvalid', `tenant ${id} is not a tenant of this deployment (dialtone tenants list); add it, then replay.`, { details: { tenantId: id } });
  return tenant;
}

/**
 * Each tenant's voice policy: the file its registry entry names (read once and kept; a file that
 * cannot be read or is invalid fails that tenant's changes with PolicyInvalid naming the file, and
 * is read again on the next change), else the deployment's policy.
 */
export function tenantVoicePolicies(options: { tenants: TenantsInForce; deployment: VoicePolicy; load: (ref: string) => Promise<VoicePolicy> }): PerTenant<VoicePolicy> {
  const loaded = new Map<string, Promise<VoicePolicy>>();
  return perTenant(async (tenantId) => {
    const ref = (await tenantNamed(options.tenants, tenantId))?.voicePolicy;
    if (ref === undefined) return options.deployment;
    let policy = loaded.get(ref);
    if (!policy) {
      policy = options.load(ref);
      loaded.set(ref, policy);
      policy.catch(() => loaded.delete(ref));
    }
    return policy;
  });
}

/** Where each tenant's voice commands go, by its Teams backend (else the deployment's): voiceCommandRoute. */
export function tenantCommandRoutes(options: {
  tenants: TenantsInForce;
  deployment: { backend: 'powershell' | 'graph'; commandsQueue: string; pwshQueue: string | undefined };
}): PerTenant<VoiceCommandRoute> {
  return perTenant(async (tenantId) => voiceCommandRoute(await tenantNamed(options.tenants, tenantId), options.deployment));
}
