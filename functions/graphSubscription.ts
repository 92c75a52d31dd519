import { app } from '@azure/functions';
import { timerRetry, timerSchedules } from '../shared/config/timer-schedules.js';
import { productionEveryTenant, productionSubscriptionMaintenance } from '../shared/composition/production.js';
import { maintainEveryTenantSubscription } from '../shared/usecases/every-tenant.js';

/** Every six hours, in every tenant: create the Graph users subscription if missing, renew it before it lapses. */
export async function graphSubscription(): Promise<void> {
  const every = productionEveryTenant();
  await maintainEveryTenantSubscription(productionSubscriptionMaintenance(), { tenants: every.tenants, graph: every.subscriptions });
}

app.timer('graphSubscription', {
  schedule: timerSchedules.graphSubscription,
  runOnStartup: false,
  retry: timerRetry,
  handler: graphSubscription,
});
