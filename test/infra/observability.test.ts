import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_STAGE } from '../../shared/usecases/accept-graph-notifications.js';
import { attributeNames, metricNames, spanNames } from '../../shared/telemetry/names.js';
import { allResources, loadCompiledTemplate, ofType, only, resolvedProperties, type JsonObject, type ScopedResource } from './arm-template.js';

let resources: ScopedResource[];

beforeAll(() => {
  resources = allResources(loadCompiledTemplate('infra/build/main.json'));
});

interface LogAlert {
  name: string;
  query: string;
  measure: string;
  operator: string;
  threshold: number | string;
  timeAggregation: string;
  windowSize: string;
  evaluationFrequency: string;
  scopes: string[];
}

/** The log alert rules: a copy loop over a variable, so read the variable's items. */
function logAlerts(): LogAlert[] {
  const rules = only(resources, 'Microsoft.Insights/scheduledQueryRules');
  const variables = rules.scope.template.variables as JsonObject;
  const resolveVar = (value: unknown): unknown => {
    const m = typeof value === 'string' ? /^\[variables\('(\w+)'\)\.(\w+)\]$/.exec(value) : null;
    return m ? (variables[m[1] as string] as JsonObject)[m[2] as string] : value;
  };
  const items = variables.logAlerts as JsonObject[];
  expect(JSON.stringify(rules.body.copy)).toContain("variables('logAlerts')");
  return items.map((item) => ({ ...(item as object), query: resolveVar(item.query) }) as unknown as LogAlert);
}

function byName(name: string): LogAlert {
  const found = logAlerts().find((a) => a.name === name);
  if (!found) throw new Error(`no log alert ${name}`);
  return found;
}

function queriesInTemplate(): string[] {
  const rules = only(resources, 'Microsoft.Insights/scheduledQueryRules');
  const variables = rules.scope.template.variables as JsonObject;
  return [...Object.values(variables.queries as JsonObject), ...Object.values(variables.alertQueries as JsonObject)].map(String);
}

describe('alert rules', () => {
  it('dead letters on any queue for 15 minutes: the Service Bus DeadletteredMessages metric, every EntityName, minimum above 0', () => {
    const alert = only(resources, 'Microsoft.Insights/metricAlerts');
    const props = resolvedProperties(alert);
    expect(props.windowSize).toBe('PT15M');
    expect(JSON.stringify(props.scopes)).toContain("Microsoft.ServiceBus/namespaces'");
    const criteria = props.criteria as JsonObject;
    expect(criteria['odata.type']).toBe('Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria');
    expect(criteria.allOf).toEqual([
      expect.objectContaining({
        metricNamespace: 'Microsoft.ServiceBus/namespaces',
        metricName: 'DeadletteredMessages',
        dimensions: [{ name: 'EntityName', operator: 'Include', values: ['*'] }],
        operator: 'GreaterThan',
        threshold: 0,
        timeAggregation: 'Minimum',
      }),
    ]);
  });

  it('no worker heartbeat for 10 minutes: fewer than one heartbeat in a 10-minute window', () => {
    const a = byName('dialtone-worker-heartbeat');
    expect(a.query).toContain(`name == "${metricNames.workerHeartbeat}"`);
    expect(a).toMatchObject({ windowSize: 'PT10M', measure: 'beats', operator: 'LessThan', threshold: 1 });
    expect(a.query).toContain('summarize beats = count()');
  });

  it('certificate expiring within 30 days: the worker\'s days-remaining gauge below 30', () => {
    const a = byName('dialtone-certificate-expiry');
    expect(a.query).toContain(`name == "${metricNames.certificateDaysRemaining}"`);
    expect(a).toMatchObject({ measure: 'daysRemaining', operator: 'LessThan', threshold: 30 });
  });

  it('a pool above 90% used: the used-ratio gauge per tenant and pool above 0.9, one alert per tenant and pool', () => {
    const a = byName('dialtone-pool-fill');
    expect(a.query).toContain(`name == "${metricNames.poolUsedRatio}"`);
    expect(a.query).toContain(`customDimensions["${attributeNames.pool}"]`);
    expect(a.query).toContain(`customDimensions["${attributeNames.tenant}"]`);
    expect(a.query).toContain('by tenant, pool');
    expect(a).toMatchObject({ measure: 'usedRatio', operator: 'GreaterThan', threshold: "[json('0.9')]" });
    expect((a as unknown as { dimensions: unknown }).dimensions).toEqual([
      { name: 'tenant', operator: 'Include', values: ['*'] },
      { name: 'pool', operator: 'Include', values: ['*'] },
    ]);
  });

  it("dead letters of one tenant: Dialtone's dead-letter counter per tenant above 0 in 15 minutes, one alert per tenant", () => {
    const a = byName('dialtone-dead-letters-per-tenant');
    expect(a.query).toContain(`name == "${metricNames.deadLetters}"`);
    expect(a.query).toContain(`customDimensions["${attributeNames.tenant}"]`);
    // A message without tenantId (a single-tenant deployment) counts as the default tenant's.
    expect(a.query).toContain('iff(tenant == "", "(default)", tenant)');
    expect(a.query).toContain('summarize deadLetters = sum(value) by tenant');
    expect(a).toMatchObject({ windowSize: 'PT15M', measure: 'deadLetters', operator: 'GreaterThan', threshold: 0, timeAggregation: 'Total' });
    expect((a as unknown as { dimensions: unknown }).dimensions).toEqual([{ name: 'tenant', operator: 'Include', values: ['*'] }]);
  });

  it('Graph subscription not renewed: latest hours remaining below 48, or no report in 12 hours', () => {
    const a = byName('dialtone-graph-subscription');
    expect(a.query).toContain(`name == "${metricNames.graphSubscriptionHoursRemaining}"`);
    expect(a.query).toContain('coalesce(latest, 0.0)');
    expect(a).toMatchObject({ windowSize: 'PT12H', measure: 'hoursRemaining', operator: 'LessThan', threshold: 48 });
  });

  it('every rule queries Application Insights and notifies the action group parameter', () => {
    const rules = only(resources, 'Microsoft.Insights/scheduledQueryRules');
    expect(JSON.stringify(rules.body.properties)).toContain("resourceId('Microsoft.Insights/components'");
    expect(JSON.stringify(rules.body.properties)).toContain("variables('actionGroups')");
    const metric = only(resources, 'Microsoft.Insights/metricAlerts');
    expect(JSON.stringify(metric.body.properties)).toContain("variables('actionGroups')");
    const variables = rules.scope.template.variables as JsonObject;
    expect(variables.actionGroups).toBe("[if(empty(parameters('actionGroupId')), createArray(), createArray(parameters('actionGroupId')))]");
    expect(logAlerts().map((a) => a.name).sort()).toEqual(
      ['dialtone-certificate-expiry', 'dialtone-dead-letters-per-tenant', 'dialtone-graph-subscription', 'dialtone-pool-fill', 'dialtone-worker-heartbeat'],
    );
  });
});

describe('workbook', () => {
  it('is a shared workbook on the Application Insights component with a tile per figure', () => {
    const workbook = only(resources, 'Microsoft.Insights/workbooks');
    expect(workbook.body.kind).toBe('shared');
    const props = workbook.body.properties as JsonObject;
    expect(props.category).toBe('workbook');
    const tiles = JSON.stringify(resolvedProperties(workbook));
    for (const title of ['Dead letters per queue and reason', 'Events in (HR events, Graph notifications), voice commands and results per hour', 'Provisioning latency, HR event or Graph notification to Teams result', 'PoolExhausted and NotLicensed', 'pool fill per pool', 'warm PowerShell sessions, commands and throttled']) {
      expect(JSON.stringify((workbook.scope.template.variables as JsonObject).tiles) + tiles).toContain(title);
    }
    expect(JSON.stringify(workbook.scope.template.variables)).toContain('microsoft.servicebus/namespaces--DeadletteredMessages');
  });

  it('splits every figure a message carries a tenant for by dialtone.tenant, and has a per-tenant summary tile', () => {
    const variables = only(resources, 'Microsoft.Insights/workbooks').scope.template.variables as JsonObject;
    const queries = variables.queries as Record<string, string>;
    // Every tile over Dialtone's own metrics or spans; the worker's session gauge has no tenant.
    for (const name of ['deadLettersByQueueAndReason', 'throughputPerHour', 'provisioningLatency', 'poolExhaustedAndNotLicensed', 'poolFill', 'workerSessions', 'perTenant']) {
      const q = queries[name];
      expect(q, name).toContain(`customDimensions["${attributeNames.tenant}"]`);
      expect(q, name).toContain('iff(tenant == "", "(default)", tenant)');
    }
    expect(queries.perTenant).toContain('by tenant');
    for (const figure of ['deadLetters', 'commands', 'failedCommands', 'throttled', 'poolExhausted']) expect(queries.perTenant).toContain(figure);
    expect(JSON.stringify(variables.tiles)).toContain('Per tenant');
  });

  it('computes latency p50/p95 from the correlate and record requests of one operation', () => {
    const q = queriesInTemplate().find((s) => s.includes('percentile('));
    // A flow starts at correlate (HR event) or at the webhook (Graph notification).
    expect(q).toContain(`name in ("${spanNames.correlate}", "${spanNames.graphNotification}")`);
    expect(q).toContain(`name == "${spanNames.record}"`);
    expect(q).toContain('by operation_Id');
    expect(q).toContain('percentile(latencySeconds, 95)');
  });

  it('counts Graph notifications among the events in, by the webhook\'s stage name', () => {
    const q = queriesInTemplate().find((s) => s.includes('"events in"'));
    expect(q).toContain(`stage == "${WEBHOOK_STAGE}", "notifications in"`);
  });

  it('queries only metric names, span names and dimensions that shared/telemetry emits', () => {
    const known = new Set<string>([...Object.values(metricNames), ...Object.values(spanNames), ...Object.values(attributeNames)]);
    const used = queriesInTemplate().flatMap((q) => [...q.matchAll(/"(dialtone[ .][a-z_. ]+)"/g)].map((m) => m[1] as string));
    expect(used.length).toBeGreaterThan(10);
    for (const name of used) expect(known.has(name), name).toBe(true);
    for (const metric of Object.values(metricNames)) expect(used, metric).toContain(metric);
  });
});

describe('azd', () => {
  it('tags the function app, and only the site, with azd-service-name', () => {
    const tagged = ofType(resources, 'Microsoft.Web/sites').map((s) => JSON.stringify(s.scope.template.parameters));
    expect(tagged.join()).toContain('siteTags');
    const main = allResources(loadCompiledTemplate('infra/build/main.json')).find((r) => r.symbol === 'functionApp');
    expect(JSON.stringify(main?.body.properties)).toContain('"azd-service-name":"functions"');
    const plan = only(resources, 'Microsoft.Web/serverfarms');
    expect(JSON.stringify(plan.body.tags)).not.toContain('siteTags');
  });
});
