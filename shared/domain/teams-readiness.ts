/**
 * Readiness before commands: Entra ID reports Teams Phone long before Teams has provisioned the
 * user (minutes to hours after licensing). Until Teams' own user configuration lists the
 * PhoneSystem feature, a number assignment or Enterprise Voice is refused ("user not found",
 * "not enabled for Enterprise Voice"), so `plan` waits for it like the licence lag. Pure.
 */
import type { TeamsUserConfiguration } from '../ports/teams-admin.js';

export type TeamsReadiness = { ready: true } | { ready: false; message: string };

export function hasPhoneSystemFeature(config: TeamsUserConfiguration): boolean {
  return config.featureTypes.some((f) => f.toLowerCase() === 'phonesystem');
}

/**
 * Whether Teams can take the command now. `voice`: the desired state turns Enterprise Voice on
 * (a number, or voice without one), which needs PhoneSystem; policies alone only need the user
 * to exist in Teams.
 */
export function judgeTeamsReadiness(config: TeamsUserConfiguration | null, needs: { voice: boolean }, who: string): TeamsReadiness {
  if (config === null) {
    return {
      ready: false,
      message: `${who}: Teams does not know the user yet (Teams provisions a user some time after licensing, up to hours); the command waits for it.`,
    };
  }
  if (needs.voice && !hasPhoneSystemFeature(config)) {
    const features = config.featureTypes.length > 0 ? config.featureTypes.join(', ') : 'none';
    return {
      ready: false,
      message: `${who}: Entra ID shows Teams Phone, but Teams does not list the PhoneSystem feature yet (featureTypes: ${features}); provisioning after licensing can take hours. If it never appears, check the licence's Teams Phone service plan is enabled.`,
    };
  }
  return { ready: true };
}
