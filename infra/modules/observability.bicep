metadata name = 'Observability'
metadata description = 'The Dialtone workbook and alert rules over Application Insights (custom metrics and traces from shared/telemetry) and the Service Bus namespace.'

import { tagsType } from '../types.bicep'

@description('Required. Name of the Application Insights component the function app and the worker send to.')
param appInsightsName string

@description('Required. Name of the Service Bus namespace that holds the Dialtone queues.')
param serviceBusNamespaceName string

@description('Optional. Azure region of the workbook and the log alert rules.')
param location string = resourceGroup().location

@description('Optional. Resource id of an existing action group every alert notifies; empty: the alerts fire in the portal only.')
param actionGroupId string = ''

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

var actionGroups = empty(actionGroupId) ? [] : [actionGroupId]

// The metric and span names are the ones shared/telemetry/names.ts emits; test/infra checks both ends.
// Every figure a message carries a tenant for is split by `dialtone.tenant` (docs/MULTI-TENANT.md);
// a message without tenantId (a single-tenant deployment) shows as "(default)".
var queries = {
  deadLettersByQueueAndReason: '''
customMetrics
| where name == "dialtone.deadletters"
| extend queue = tostring(customDimensions["dialtone.queue"]), reason = tostring(customDimensions["dialtone.reason"])
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize deadLetters = sum(value) by bin(timestamp, 1h), series = strcat(tenant, " / ", queue, " / ", reason)
| render timechart
'''
  throughputPerHour: '''
customMetrics
| where name in ("dialtone.stage.messages", "dialtone.messages.sent")
| extend stage = tostring(customDimensions["dialtone.stage"]), queue = tostring(customDimensions["dialtone.queue"])
| extend figure = case(
    name == "dialtone.stage.messages" and stage == "correlate", "events in",
    name == "dialtone.messages.sent" and stage == "webhook", "notifications in",
    name == "dialtone.messages.sent" and queue == "voice-commands", "commands",
    name == "dialtone.messages.sent" and queue == "voice-results", "results",
    "")
| where figure != ""
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize count = sum(value) by bin(timestamp, 1h), series = strcat(tenant, " / ", figure)
| render columnchart
'''
  provisioningLatency: '''
let started = requests
| where name in ("dialtone correlate", "dialtone graph notification")
| summarize startedAt = min(timestamp) by operation_Id;
requests
| where name == "dialtone record"
| where tostring(customDimensions["dialtone.result"]) in ("applied", "noop")
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize finishedAt = max(timestamp + duration * 1ms) by operation_Id, tenant
| join kind=inner started on operation_Id
| extend latencySeconds = (finishedAt - startedAt) / 1s
| summarize p50 = percentile(latencySeconds, 50), p95 = percentile(latencySeconds, 95) by bin(finishedAt, 1h), tenant
| render timechart
'''
  poolExhaustedAndNotLicensed: '''
customMetrics
| where name == "dialtone.stage.messages"
| extend code = tostring(customDimensions["dialtone.code"]), settlement = tostring(customDimensions["dialtone.settlement"])
| where code in ("PoolExhausted", "NotLicensed")
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize count = sum(value) by bin(timestamp, 1h), series = strcat(tenant, " / ", code, " (", settlement, ")")
| render columnchart
'''
  poolFill: '''
customMetrics
| where name == "dialtone.pool.used_ratio"
| extend pool = tostring(customDimensions["dialtone.pool"])
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize usedPercent = 100 * max(value) by bin(timestamp, 1h), series = strcat(tenant, " / ", pool)
| render timechart
'''
  workerSessions: '''
customMetrics
| where name in ("dialtone.worker.sessions", "dialtone.worker.throttled", "dialtone.worker.commands")
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| extend tenant = iff(name == "dialtone.worker.sessions", "all tenants", tenant)
| summarize sessions = maxif(value, name == "dialtone.worker.sessions"), throttled = sumif(value, name == "dialtone.worker.throttled"), commands = sumif(value, name == "dialtone.worker.commands") by bin(timestamp, 15m), tenant
| render timechart
'''
  perTenant: '''
customMetrics
| where name in ("dialtone.deadletters", "dialtone.worker.commands", "dialtone.worker.throttled", "dialtone.stage.messages")
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| extend status = tostring(customDimensions["dialtone.status"]), code = tostring(customDimensions["dialtone.code"])
| summarize deadLetters = sumif(value, name == "dialtone.deadletters"), commands = sumif(value, name == "dialtone.worker.commands"), failedCommands = sumif(value, name == "dialtone.worker.commands" and status == "failed"), throttled = sumif(value, name == "dialtone.worker.throttled"), poolExhausted = sumif(value, name == "dialtone.stage.messages" and code == "PoolExhausted") by tenant
| order by deadLetters desc, tenant asc
'''
}

// Alert queries: the rule's window bounds the time range, so none of them filters on timestamp.
var alertQueries = {
  workerHeartbeat: '''
customMetrics
| where name == "dialtone.worker.heartbeat"
| summarize beats = count()
'''
  certificateExpiry: '''
customMetrics
| where name == "dialtone.worker.certificate.days_remaining"
| summarize daysRemaining = min(value)
'''
  poolFill: '''
customMetrics
| where name == "dialtone.pool.used_ratio"
| extend pool = tostring(customDimensions["dialtone.pool"])
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize usedRatio = max(value) by tenant, pool
'''
  deadLettersPerTenant: '''
customMetrics
| where name == "dialtone.deadletters"
| extend tenant = tostring(customDimensions["dialtone.tenant"])
| extend tenant = iff(tenant == "", "(default)", tenant)
| summarize deadLetters = sum(value) by tenant
'''
  graphSubscription: '''
let latest = toscalar(customMetrics
| where name == "dialtone.graph.subscription.hours_remaining"
| summarize arg_max(timestamp, value)
| project value);
print hoursRemaining = coalesce(latest, 0.0)
'''
}

var tiles = [
  {
    title: 'Dead letters per queue and reason (Dialtone\'s own reasons)'
    query: queries.deadLettersByQueueAndReason
    visualization: 'timechart'
  }
  {
    title: 'Events in (HR events, Graph notifications), voice commands and results per hour'
    query: queries.throughputPerHour
    visualization: 'barchart'
  }
  {
    title: 'Provisioning latency, HR event or Graph notification to Teams result (p50, p95, seconds)'
    query: queries.provisioningLatency
    visualization: 'timechart'
  }
  {
    title: 'PoolExhausted and NotLicensed'
    query: queries.poolExhaustedAndNotLicensed
    visualization: 'barchart'
  }
  {
    title: 'Number pool fill per pool (% not free)'
    query: queries.poolFill
    visualization: 'timechart'
  }
  {
    title: 'Worker: warm PowerShell sessions, commands and throttled commands'
    query: queries.workerSessions
    visualization: 'timechart'
  }
  {
    title: 'Per tenant: dead letters, commands, failed commands, throttled commands, PoolExhausted'
    query: queries.perTenant
    visualization: 'table'
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  isLocked: false
  fallbackResourceIds: [
    appInsights.id
  ]
  items: concat(
    [
      {
        type: 1
        name: 'intro'
        content: {
          json: '## Dialtone\nOne person\'s provisioning is one operation in Application Insights: paste the operation id that `dialtone status <upn>` prints into Transaction search. See docs/OPERATIONS.md.'
        }
      }
      {
        type: 10
        name: 'servicebus-dead-letters'
        content: {
          version: 'MetricsItem/2.0'
          size: 0
          chartType: 2
          resourceType: 'microsoft.servicebus/namespaces'
          metricScope: 0
          resourceIds: [
            serviceBus.id
          ]
          timeContext: {
            durationMs: 86400000
          }
          metrics: [
            {
              namespace: 'microsoft.servicebus/namespaces'
              metric: 'microsoft.servicebus/namespaces--DeadletteredMessages'
              aggregation: 3
              splitBy: 'EntityName'
            }
          ]
          title: 'Dead-lettered messages per queue (Service Bus, every reason including MaxDeliveryCountExceeded and TTLExpiredException)'
          gridSettings: {
            rowLimit: 10000
          }
        }
      }
    ],
    map(range(0, length(tiles)), i => {
      type: 3
      name: 'tile-${i}'
      content: {
        version: 'KqlItem/1.0'
        title: tiles[i].title
        query: tiles[i].query
        size: 0
        timeContext: {
          durationMs: 604800000
        }
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: tiles[i].visualization
      }
    })
  )
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsights.id, 'dialtone-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Dialtone operations'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string(workbookContent)
  }
}

// DeadletteredMessages counts what sits in each dead-letter subqueue, whatever the reason: its
// minimum over 15 minutes above 0 means dead letters nobody has replayed or purged for 15 minutes.
resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'dialtone-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Dead letters on a Dialtone queue for 15 minutes. docs/OPERATIONS.md#dead-letters-on-a-queue'
    severity: 2
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLetteredMessages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Minimum'
        }
      ]
    }
    actions: [
      for id in actionGroups: {
        actionGroupId: id
      }
    ]
  }
}

var logAlerts = [
  {
    name: 'dialtone-worker-heartbeat'
    description: 'No heartbeat from any hybrid worker for 10 minutes. docs/OPERATIONS.md#no-worker-heartbeat'
    severity: 1
    evaluationFrequency: 'PT5M'
    windowSize: 'PT10M'
    query: alertQueries.workerHeartbeat
    measure: 'beats'
    operator: 'LessThan'
    threshold: 1
    timeAggregation: 'Total'
    dimensions: []
  }
  {
    name: 'dialtone-certificate-expiry'
    description: 'The worker\'s Teams certificate expires within 30 days. docs/OPERATIONS.md#certificate-expiring'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: alertQueries.certificateExpiry
    measure: 'daysRemaining'
    operator: 'LessThan'
    threshold: 30
    timeAggregation: 'Minimum'
    dimensions: []
  }
  {
    // One alert per tenant (the dimension): which customer's provisioning is failing.
    name: 'dialtone-dead-letters-per-tenant'
    description: 'Dialtone dead-lettered messages of a tenant in the last 15 minutes. docs/OPERATIONS.md#dead-letters-of-one-tenant'
    severity: 2
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    query: alertQueries.deadLettersPerTenant
    measure: 'deadLetters'
    operator: 'GreaterThan'
    threshold: 0
    timeAggregation: 'Total'
    dimensions: [
      {
        name: 'tenant'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
  }
  {
    name: 'dialtone-pool-fill'
    description: 'A number pool of a tenant is more than 90% used. docs/OPERATIONS.md#number-pool-above-90-used'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    query: alertQueries.poolFill
    measure: 'usedRatio'
    operator: 'GreaterThan'
    threshold: json('0.9')
    timeAggregation: 'Maximum'
    dimensions: [
      {
        name: 'tenant'
        operator: 'Include'
        values: [
          '*'
        ]
      }
      {
        name: 'pool'
        operator: 'Include'
        values: [
          '*'
        ]
      }
    ]
  }
  {
    // The timer renews when fewer than 72 hours are left and runs every 6 hours: under 48 hours
    // means several renewals failed; no report in 12 hours (0 below) means the timer stopped.
    name: 'dialtone-graph-subscription'
    description: 'The Graph users subscription was not renewed. docs/OPERATIONS.md#graph-subscription-not-renewed'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'PT12H'
    query: alertQueries.graphSubscription
    measure: 'hoursRemaining'
    operator: 'LessThan'
    threshold: 48
    timeAggregation: 'Minimum'
    dimensions: []
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in logAlerts: {
    name: rule.name
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.name
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        appInsights.id
      ]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: rule.timeAggregation
            metricMeasureColumn: rule.measure
            dimensions: rule.dimensions
            operator: rule.operator
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: actionGroups
      }
    }
  }
]

@description('Resource id of the Dialtone workbook.')
output workbookId string = workbook.id

@description('Names of the alert rules.')
output alertNames string[] = concat([deadLetterAlert.name], map(logAlerts, rule => rule.name))
