import { app } from '@azure/functions';
import { timerRetry, timerSchedules } from '../shared/config/timer-schedules.js';
import { productionEveryTenant, productionResync } from '../shared/composition/production.js';
import { resyncEveryTenant } from '../shared/usecases/every-tenant.js';

/** Every twelve hours, in every tenant: re-plan provisioned users that Graph's /users/delta reports as changed. */
export async function graphResync(): Promise<void> {
  const every = productionEveryTenant();
  await resyncEveryTenant(productionResync(), { tenants: every.tenants, defaultTenantId: every.defaultTenantId, graph: every.directory });
}

app.timer('graphResync', {
  schedule: timerSchedules.graphResync,
  runOnStartup: false,
  retry: timerRetry,
  handler: graphResync,
});
