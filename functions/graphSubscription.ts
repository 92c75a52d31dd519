import { app } from '@azure/functions';
import { timerRetry, timerSchedules } from '../shared/config/timer-schedules.js';
import { productionSubscriptionMaintenance } from '../shared/composition/production.js';
import { maintainGraphSubscription } from '../shared/usecases/maintain-graph-subscription.js';

/** Every six hours: create the Graph users subscription if missing, renew it before it lapses. */
export async function graphSubscription(): Promise<void> {
  await maintainGraphSubscription(productionSubscriptionMaintenance());
}

app.timer('graphSubscription', {
  schedule: timerSchedules.graphSubscription,
  runOnStartup: false,
  retry: timerRetry,
  handler: graphSubscription,
});
