import { app } from '@azure/functions';
import { timerRetry, timerSchedules } from '../shared/config/timer-schedules.js';
import { productionResync } from '../shared/composition/production.js';
import { resyncDirectory } from '../shared/usecases/resync-directory.js';

/** Every twelve hours: re-plan provisioned users that Graph's /users/delta reports as changed. */
export async function graphResync(): Promise<void> {
  await resyncDirectory(productionResync());
}

app.timer('graphResync', {
  schedule: timerSchedules.graphResync,
  runOnStartup: false,
  retry: timerRetry,
  handler: graphResync,
});
