metadata name = 'Dialtone'
metadata description = 'Azure resources for Dialtone: Functions pipeline (Flex Consumption), Service Bus queues, storage, Key Vault and monitoring, with least-privilege role assignments.'

import { tagsType } from 'types.bicep'

@description('Optional. Short lowercase name that prefixes every resource name (3-10 letters or digits).')
@minLength(3)
@maxLength(10)
param baseName string = 'dialtone'

@description('Optional. Azure region for every resource; it must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Optional. Resource id of an existing action group that every Dialtone alert notifies; empty: alerts show in the portal only.')
param alertActionGroupId string = ''

@description('Optional. Suffix that makes the global names unique; the default is stable per resource group.')
@minLength(3)
@maxLength(13)
param nameSuffix string = uniqueString(resourceGroup().id, baseName)

@description('Required. Object id of the service principal of the hybrid worker\'s app registration (Enterprise applications > Object ID, not the application id).')
@minLength(36)
@maxLength(36)
param workerPrincipalId string

@description('Optional. Who applies voice commands: powershell (the hybrid worker, the default) or graph (the graphVoice function through Microsoft Graph\'s Teams administration API; the worker then takes only what Graph cannot do, from the voice-commands-pwsh queue).')
@allowed([
  'powershell'
  'graph'
])
param teamsBackend string = 'powershell'

@description('Optional. Whether plan reads the user\'s Teams configuration through Graph and waits until Teams lists PhoneSystem before it sends a command (graph, the default, with either backend; needs TeamsUserConfiguration.Read.All on the function identity), or sends at once (off).')
@allowed([
  'graph'
  'off'
])
param teamsReadiness string = 'graph'

@description('Optional. Whether the Function App serves tenants of the tenant registry besides its home tenant (docs/MULTI-TENANT.md): grants its identity Key Vault Secrets User on the vault and sets DIALTONE_KEYVAULT_URL, so it can load each registered tenant\'s certificate for Graph. Off (the default) leaves the certificates readable by the hybrid worker only.')
param servesRegisteredTenants bool = false

@description('Optional. With teamsBackend graph: whether a hybrid worker runs to take what Graph cannot apply. Without one, such a command fails with GraphUnsupported naming the step.')
param graphWithWorker bool = true

@description('Optional. Node.js major version of the Functions runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '20'

@description('Optional. Upper bound on Function App instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Path of the voice policy file inside the published app.')
param policyPath string = 'config/voice-policy.yaml'

@description('Optional. Microsoft Graph base URL (change only for national clouds).')
param graphBaseUrl string = 'https://graph.microsoft.com/v1.0'

@description('Optional. Directory lookups used to correlate an HR record to an Entra user, in order.')
param correlationStrategies ('userPrincipalName' | 'employeeId' | 'mail')[] = [
  'userPrincipalName'
  'employeeId'
  'mail'
]

@description('Optional. Minutes a message waits for directory sync or group licensing before it is dead-lettered.')
@minValue(1)
param retryWindowMinutes int = 1440

@description('Optional. Tables created for the number inventory, the provisioning records, the Graph resync state and the tenant-wide Teams session limit (sessionslots, the hybrid worker\'s).')
param tableNames string[] = [
  'numbers'
  'numberhistory'
  'provisioning'
  'dialtonesync'
  'sessionslots'
]

@description('Optional. Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Optional. Tags applied to every resource.')
param tags tagsType = {
  application: 'dialtone'
}

@description('Names of the Dialtone queues.')
type queueNamesType = {
  @description('Plain queue: HR joiner, mover and leaver events.')
  hrEvents: string

  @description('Session queue (session = Entra object id): user changes to plan.')
  userChanges: string

  @description('Session queue (session = Entra object id): voice commands for the hybrid worker.')
  voiceCommands: string

  @description('Plain queue: results reported by the hybrid worker.')
  voiceResults: string
}

var names = {
  identity: 'id-${baseName}-func-${nameSuffix}'
  storage: take('st${baseName}${nameSuffix}', 24)
  serviceBus: 'sb-${baseName}-${nameSuffix}'
  keyVault: take('kv-${baseName}-${nameSuffix}', 24)
  workspace: 'log-${baseName}-${nameSuffix}'
  appInsights: 'appi-${baseName}-${nameSuffix}'
  plan: 'plan-${baseName}-${nameSuffix}'
  functionApp: 'func-${baseName}-${nameSuffix}'
  deploymentContainer: 'app-package'
}

// The queues are defined once, in queues.json: shared/contracts/queues.ts reads the same file for
// the names every stage uses, and the sandbox's in-memory Service Bus for the same limits.
var queues = loadJsonContent('queues.json').queues

var graphBackend = teamsBackend == 'graph'

module functionIdentity 'modules/identity.bicep' = {
  name: '${deployment().name}-identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: '${deployment().name}-monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    retentionInDays: logRetentionInDays
    tags: tags
    roleAssignments: [
      {
        roleDefinitionName: 'Monitoring Metrics Publisher'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Function App: send telemetry with Entra authentication (local auth is disabled).'
      }
      {
        roleDefinitionName: 'Monitoring Metrics Publisher'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: send traces and metrics (heartbeat, sessions, certificate) with Entra authentication.'
      }
    ]
  }
}

module storage 'modules/storage.bicep' = {
  name: '${deployment().name}-storage'
  params: {
    name: names.storage
    location: location
    deploymentContainerName: names.deploymentContainer
    tableNames: tableNames
    tags: tags
    roleAssignments: [
      {
        roleDefinitionName: 'Storage Blob Data Owner'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Function App: AzureWebJobsStorage (host locks) and the Flex Consumption deployment package container.'
      }
      {
        roleDefinitionName: 'Storage Table Data Contributor'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Function App: number inventory and provisioning records tables.'
      }
    ]
  }
}

// The tenant-wide Teams session limit: every hybrid worker holds its sessions as leases in this one table.
module sessionSlotsRoles 'modules/table-roles.bicep' = {
  name: '${deployment().name}-roles-sessionslots'
  dependsOn: [storage]
  params: {
    storageAccountName: names.storage
    tableName: 'sessionslots'
    roleAssignments: [
      {
        roleDefinitionName: 'Storage Table Data Contributor'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: session leases in the sessionslots table (the tenant-wide Teams session limit); no other table.'
      }
    ]
  }
}

module serviceBus 'modules/service-bus.bicep' = {
  name: '${deployment().name}-servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
  }
}

module hrEventsQueue 'modules/service-bus-queue.bicep' = {
  name: '${deployment().name}-queue-hr-events'
  dependsOn: [
    serviceBus
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.hrEvents.name
    requiresSession: queues.hrEvents.requiresSession
    requiresDuplicateDetection: queues.hrEvents.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: queues.hrEvents.duplicateDetectionHistoryTimeWindow
    lockDuration: queues.hrEvents.lockDuration
    maxDeliveryCount: queues.hrEvents.maxDeliveryCount
    defaultMessageTimeToLive: queues.hrEvents.defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: queues.hrEvents.deadLetteringOnMessageExpiration
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'correlate: receives HR events.'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'correlate: schedules retry copies while the directory catches up.'
      }
    ]
  }
}

module userChangesQueue 'modules/service-bus-queue.bicep' = {
  name: '${deployment().name}-queue-user-changes'
  dependsOn: [
    serviceBus
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.userChanges.name
    requiresSession: queues.userChanges.requiresSession
    requiresDuplicateDetection: queues.userChanges.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: queues.userChanges.duplicateDetectionHistoryTimeWindow
    lockDuration: queues.userChanges.lockDuration
    maxDeliveryCount: queues.userChanges.maxDeliveryCount
    defaultMessageTimeToLive: queues.userChanges.defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: queues.userChanges.deadLetteringOnMessageExpiration
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'plan: receives user changes (sessions per Entra user).'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'correlate and record send user changes; plan schedules retry copies while licensing catches up.'
      }
    ]
  }
}

module voiceCommandsQueue 'modules/service-bus-queue.bicep' = {
  name: '${deployment().name}-queue-voice-commands'
  dependsOn: [
    serviceBus
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.voiceCommands.name
    requiresSession: queues.voiceCommands.requiresSession
    requiresDuplicateDetection: queues.voiceCommands.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: queues.voiceCommands.duplicateDetectionHistoryTimeWindow
    lockDuration: queues.voiceCommands.lockDuration
    maxDeliveryCount: queues.voiceCommands.maxDeliveryCount
    defaultMessageTimeToLive: queues.voiceCommands.defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: queues.voiceCommands.deadLetteringOnMessageExpiration
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'plan: sends voice commands.'
      }
    ]
  }
}

// Who receives voice-commands depends on the Teams backend: the worker, or the graphVoice function.
module voiceCommandsWorkerRoles 'modules/service-bus-queue-roles.bicep' = if (!graphBackend) {
  name: '${deployment().name}-roles-voice-commands-worker'
  dependsOn: [
    voiceCommandsQueue
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.voiceCommands.name
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: receives voice command sessions (and reads their dead-letter subqueue).'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: sets a paused tenant\'s commands aside as scheduled copies in their own sessions.'
      }
    ]
  }
}

module voiceCommandsGraphRoles 'modules/service-bus-queue-roles.bicep' = if (graphBackend) {
  name: '${deployment().name}-roles-voice-commands-graph'
  dependsOn: [
    voiceCommandsQueue
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.voiceCommands.name
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'graphVoice: receives voice command sessions (teamsBackend graph).'
      }
    ]
  }
}

// With the graph backend, what Graph cannot apply goes to the worker through its own queue.
module voiceCommandsPowerShellQueue 'modules/service-bus-queue.bicep' = if (graphBackend) {
  name: '${deployment().name}-queue-voice-commands-pwsh'
  dependsOn: [
    serviceBus
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.voiceCommandsPowerShell.name
    requiresSession: queues.voiceCommandsPowerShell.requiresSession
    requiresDuplicateDetection: queues.voiceCommandsPowerShell.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: queues.voiceCommandsPowerShell.duplicateDetectionHistoryTimeWindow
    lockDuration: queues.voiceCommandsPowerShell.lockDuration
    maxDeliveryCount: queues.voiceCommandsPowerShell.maxDeliveryCount
    defaultMessageTimeToLive: queues.voiceCommandsPowerShell.defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: queues.voiceCommandsPowerShell.deadLetteringOnMessageExpiration
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'graphVoice: hands the steps Graph cannot take to the hybrid worker.'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker (teamsBackend graph): receives what Graph cannot apply.'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker (teamsBackend graph): sets a paused tenant\'s commands aside as scheduled copies.'
      }
    ]
  }
}

module voiceResultsQueue 'modules/service-bus-queue.bicep' = {
  name: '${deployment().name}-queue-voice-results'
  dependsOn: [
    serviceBus
  ]
  params: {
    namespaceName: names.serviceBus
    name: queues.voiceResults.name
    requiresSession: queues.voiceResults.requiresSession
    requiresDuplicateDetection: queues.voiceResults.requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: queues.voiceResults.duplicateDetectionHistoryTimeWindow
    lockDuration: queues.voiceResults.lockDuration
    maxDeliveryCount: queues.voiceResults.maxDeliveryCount
    defaultMessageTimeToLive: queues.voiceResults.defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: queues.voiceResults.deadLetteringOnMessageExpiration
    roleAssignments: [
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: reports the outcome of each voice command.'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Receiver'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'record: receives voice results.'
      }
      {
        roleDefinitionName: 'Azure Service Bus Data Sender'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'record: schedules retry copies of a result after a transient failure.'
      }
    ]
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: '${deployment().name}-keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    roleAssignments: [
      {
        roleDefinitionName: 'Key Vault Secrets User'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: reads the Teams app certificate (the secret behind the certificate).'
      }
      {
        roleDefinitionName: 'Key Vault Reader'
        principalId: workerPrincipalId
        principalType: 'ServicePrincipal'
        description: 'Hybrid worker: reads certificate metadata (current version, expiry) to notice rotation; no secret values.'
      }
    ]
  }
}

module functionVaultRoles 'modules/key-vault-roles.bicep' = if (servesRegisteredTenants) {
  name: '${deployment().name}-keyvault-function'
  dependsOn: [
    keyVault
  ]
  params: {
    vaultName: names.keyVault
    roleAssignments: [
      {
        roleDefinitionName: 'Key Vault Secrets User'
        principalId: functionIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Function App: reads each registered tenant\'s app certificate to call that tenant\'s Graph (servesRegisteredTenants).'
      }
    ]
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: '${deployment().name}-functionapp'
  dependsOn: [
    monitoring
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    identityResourceId: functionIdentity.outputs.resourceId
    identityClientId: functionIdentity.outputs.clientId
    storageAccountName: names.storage
    deploymentContainerName: names.deploymentContainer
    appInsightsName: names.appInsights
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    tags: tags
    // `azd deploy` publishes the azure.yaml service `functions` to the site carrying this tag.
    siteTags: {
      'azd-service-name': 'functions'
    }
    dialtoneSettings: {
      serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
      tablesEndpoint: storage.outputs.tableEndpoint
      policyPath: policyPath
      graphBaseUrl: graphBaseUrl
      correlationStrategies: correlationStrategies
      retryWindowMinutes: retryWindowMinutes
      teamsBackend: teamsBackend
      teamsReadiness: teamsReadiness
      keyVaultUrl: servesRegisteredTenants ? keyVault.outputs.uri : ''
      graphFallbackQueue: graphBackend && graphWithWorker ? queues.voiceCommandsPowerShell.name : ''
    }
  }
}

module observability 'modules/observability.bicep' = {
  name: '${deployment().name}-observability'
  dependsOn: [
    monitoring
    serviceBus
  ]
  params: {
    appInsightsName: names.appInsights
    serviceBusNamespaceName: names.serviceBus
    location: location
    actionGroupId: alertActionGroupId
    tags: tags
  }
}

@description('Service Bus namespace host name (worker: DIALTONE_SERVICEBUS_NAMESPACE).')
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace

@description('Key Vault URI (worker: DIALTONE_KEYVAULT_URL).')
output keyVaultUri string = keyVault.outputs.uri

@description('Key Vault name, for az keyvault certificate import.')
output keyVaultName string = keyVault.outputs.name

@description('Entra tenant id (worker: DIALTONE_TENANT_ID).')
output tenantId string = tenant().tenantId

@description('The four queue names.')
output queueNames queueNamesType = {
  hrEvents: hrEventsQueue.outputs.name
  userChanges: userChangesQueue.outputs.name
  voiceCommands: voiceCommandsQueue.outputs.name
  voiceResults: voiceResultsQueue.outputs.name
}

@description('Function App name, for publishing.')
output functionAppName string = functionApp.outputs.name

@description('Function App host name.')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Table endpoint (DIALTONE_TABLES_ENDPOINT).')
output tablesEndpoint string = storage.outputs.tableEndpoint

@description('Storage account name.')
output storageAccountName string = storage.outputs.name

@description('Object id of the Function App identity, for scripts/grant-graph-permissions.sh.')
output functionPrincipalId string = functionIdentity.outputs.principalId

@description('Client id of the Function App identity.')
output functionClientId string = functionIdentity.outputs.clientId

// The same values under the names the worker, `dialtone doctor` and the azd hook read, so that
// `azd env get-values` is the worker's and the operator's environment.
@description('Worker and CLI: DIALTONE_SERVICEBUS_NAMESPACE.')
output DIALTONE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace

@description('Worker and CLI: DIALTONE_KEYVAULT_URL.')
output DIALTONE_KEYVAULT_URL string = keyVault.outputs.uri

@description('Worker: DIALTONE_TENANT_ID.')
output DIALTONE_TENANT_ID string = tenant().tenantId

@description('CLI: DIALTONE_TABLES_ENDPOINT.')
output DIALTONE_TABLES_ENDPOINT string = storage.outputs.tableEndpoint

@description('CLI and the azd postprovision hook: DIALTONE_FUNCTION_PRINCIPAL_ID.')
output DIALTONE_FUNCTION_PRINCIPAL_ID string = functionIdentity.outputs.principalId

@description('Worker: APPLICATIONINSIGHTS_CONNECTION_STRING (names the component; local auth is off, so it grants nothing).')
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString

@description('Resource id of the Dialtone workbook (Azure Monitor > Workbooks).')
output workbookId string = observability.outputs.workbookId
