import { app } from '@azure/functions';
import { productionPoolReport } from '../shared/composition/operations.js';
import { reportPoolFill } from '../shared/usecases/report-pool-fill.js';

/** Every 15 minutes: each number pool's fill, for the workbook and the "pool above 90%" alert. */
export async function poolMetrics(): Promise<void> {
  await reportPoolFill(productionPoolReport());
}

app.timer('poolMetrics', {
  schedule: '0 */15 * * * *',
  runOnStartup: false,
  handler: poolMetrics,
});
