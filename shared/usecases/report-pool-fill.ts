import { poolFill, type PoolFill } from '../domain/pool-fill.js';
import type { NumberInventory } from '../ports/number-inventory.js';
import type { Telemetry } from '../ports/telemetry.js';
import { attributeNames, metricNames } from '../telemetry/names.js';

/** Reports every pool's fill as a gauge (the workbook's pool tile and the 90% alert read it). */
export async function reportPoolFill(deps: { inventory: Pick<NumberInventory, 'pools'>; telemetry: Telemetry }): Promise<PoolFill[]> {
  const fills = (await deps.inventory.pools()).map(poolFill);
  for (const fill of fills) deps.telemetry.gauge(metricNames.poolUsedRatio, fill.usedRatio, { [attributeNames.pool]: fill.pool });
  return fills;
}
