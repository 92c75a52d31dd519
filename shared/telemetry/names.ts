/**
 * The names Dialtone's telemetry uses, in one place: the stages and the worker emit them, the
 * workbook and the alert rules in infra/modules/observability.bicep query them (test/infra checks
 * that every name the Bicep queries is one of these).
 */
export const metricNames = {
  /** Counter, one per settled message of a stage: dialtone.stage, dialtone.queue, dialtone.settlement, dialtone.outcome, dialtone.code. */
  stageMessages: 'dialtone.stage.messages',
  /** Counter, messages sent to a queue: dialtone.stage, dialtone.queue. */
  messagesSent: 'dialtone.messages.sent',
  /** Counter, messages Dialtone dead-lettered itself: dialtone.queue, dialtone.reason. */
  deadLetters: 'dialtone.deadletters',
  /** Counter, voice commands the worker finished: dialtone.status, dialtone.code. */
  workerCommands: 'dialtone.worker.commands',
  /** Counter, commands Teams throttled (Throttled, ServiceUnavailable): dialtone.code. */
  workerThrottled: 'dialtone.worker.throttled',
  /** Gauge, warm PowerShell sessions in the worker's pool. */
  workerSessions: 'dialtone.worker.sessions',
  /** Counter, one a minute from every running worker. */
  workerHeartbeat: 'dialtone.worker.heartbeat',
  /** Gauge, days until the worker's Teams certificate expires. */
  certificateDaysRemaining: 'dialtone.worker.certificate.days_remaining',
  /** Gauge, share of a pool's numbers that are not free (0..1): dialtone.pool. */
  poolUsedRatio: 'dialtone.pool.used_ratio',
  /** Gauge, hours until the Graph users subscription lapses (0 when there is none). */
  graphSubscriptionHoursRemaining: 'dialtone.graph.subscription.hours_remaining',
} as const;

export type MetricName = (typeof metricNames)[keyof typeof metricNames];

/** Span names; a consumer span is an Application Insights request, so these are `requests.name`. */
export const spanNames = {
  correlate: 'dialtone correlate',
  plan: 'dialtone plan',
  record: 'dialtone record',
  apply: 'dialtone apply',
  graphNotification: 'dialtone graph notification',
} as const;

/** Attributes (customDimensions in Application Insights). */
export const attributeNames = {
  stage: 'dialtone.stage',
  queue: 'dialtone.queue',
  settlement: 'dialtone.settlement',
  outcome: 'dialtone.outcome',
  code: 'dialtone.code',
  reason: 'dialtone.reason',
  status: 'dialtone.status',
  result: 'dialtone.result',
  pool: 'dialtone.pool',
  correlationId: 'dialtone.correlation_id',
  userId: 'dialtone.user_id',
  /** The Entra tenant a message names (multi-tenant deployments); absent when it names none. */
  tenant: 'dialtone.tenant',
} as const;
