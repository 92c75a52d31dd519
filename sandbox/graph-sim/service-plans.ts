import { createHash } from 'node:crypto';

export interface ServicePlanInfo {
  servicePlanId: string;
  service: string;
}

/** Real service plan ids (Microsoft's licensing reference), so licence checks see what Graph returns. */
const knownPlans: Record<string, ServicePlanInfo> = {
  MCOEV: { servicePlanId: '4828c8ec-dc2e-4779-b502-87ac9ce28ab7', service: 'MicrosoftCommunicationsOnline' },
  TEAMS1: { servicePlanId: '57ff2da0-773e-42df-b2af-ffb7a2317929', service: 'TeamspaceAPI' },
  MCOSTANDARD: { servicePlanId: '0feaeb32-d00e-4d66-bd5a-43b5b83db82c', service: 'MicrosoftCommunicationsOnline' },
  EXCHANGE_S_STANDARD: { servicePlanId: '9aaf7827-d63c-4b61-89c3-182f06f82e5c', service: 'exchange' },
  EXCHANGE_S_ENTERPRISE: { servicePlanId: 'efb87545-963c-4e0d-99df-69c6916d9eb0', service: 'exchange' },
};

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id Graph would report for a plan name (or an id given as is). A name the simulator does not know gets a stable
 * UUID-shaped id derived from the name, so tenant files may list any plan.
 */
export function servicePlanInfo(name: string): ServicePlanInfo {
  const known = knownPlans[name.toUpperCase()];
  if (known) return known;
  if (uuid.test(name)) {
    const id = name.toLowerCase();
    return Object.values(knownPlans).find((p) => p.servicePlanId === id) ?? { servicePlanId: id, service: 'Unknown' };
  }
  const hex = createHash('sha1').update(`dialtone-plan:${name.toUpperCase()}`).digest('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { servicePlanId: id, service: 'Unknown' };
}
