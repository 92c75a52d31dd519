metadata name = 'Function App (Flex Consumption)'
metadata description = 'The Dialtone pipeline functions on a Flex Consumption plan, running as a user-assigned identity with identity-based connections only.'

import { tagsType } from '../types.bicep'

@description('Required. Function App name (globally unique host name).')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Optional. Azure region (must offer Flex Consumption).')
param location string = resourceGroup().location

@description('Required. Resource id of the user-assigned identity the app runs as.')
param identityResourceId string

@description('Required. Client id of that identity; the runtime and the SDKs use it to pick the identity.')
param identityClientId string

@description('Required. Storage account for the Functions runtime (AzureWebJobsStorage) and the deployment package.')
param storageAccountName string

@description('Required. Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Required. Application Insights component the app sends telemetry to.')
param appInsightsName string

@description('Optional. Node.js major version of the Functions runtime.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '20'

@description('Optional. Upper bound on instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Optional. Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Required. Settings Dialtone reads, merged over the identity-based connection settings (names as shared/config expects them).')
param dialtoneSettings dialtoneSettingsType

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

@description('Optional. Tags for the site only, merged over tags (azd-service-name: `azd deploy` finds the app by it).')
param siteTags tagsType = {}

@description('The Dialtone-specific settings of the Function App.')
type dialtoneSettingsType = {
  @description('Required. Service Bus namespace host name, e.g. contoso-dialtone.servicebus.windows.net.')
  serviceBusFullyQualifiedNamespace: string

  @description('Required. Table endpoint, https://<account>.table.core.windows.net.')
  tablesEndpoint: string

  @description('Required. Path of the voice policy file shipped with the app.')
  policyPath: string

  @description('Required. Microsoft Graph base URL.')
  graphBaseUrl: string

  @description('Required. Directory lookups to correlate a person, in order.')
  correlationStrategies: ('userPrincipalName' | 'employeeId' | 'mail')[]

  @description('Required. Minutes a message waits for directory or licence lag before it is dead-lettered.')
  retryWindowMinutes: int

  @description('Required. Key Vault URL of the registered tenants\' certificates (DIALTONE_KEYVAULT_URL), or empty when the app serves its home tenant only.')
  keyVaultUrl: string

  @description('Required. Who applies voice commands: powershell (hybrid worker) or graph (the graphVoice function).')
  teamsBackend: 'powershell' | 'graph'

  @description('Required. Whether plan waits for Teams to list PhoneSystem (graph) or sends at once (off).')
  teamsReadiness: 'graph' | 'off'

  @description('Required. With graph: the hybrid worker\'s queue for what Graph cannot apply; empty when no worker runs.')
  graphFallbackQueue: string
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, siteTags)
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Deployments authenticate with Entra ID; publishing passwords would be a second, unaudited way in.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    ServiceBusConnection__fullyQualifiedNamespace: dialtoneSettings.serviceBusFullyQualifiedNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identityClientId
    AZURE_CLIENT_ID: identityClientId
    DIALTONE_TENANT_ID: tenant().tenantId
    DIALTONE_TABLES_ENDPOINT: dialtoneSettings.tablesEndpoint
    DIALTONE_POLICY_PATH: dialtoneSettings.policyPath
    DIALTONE_GRAPH_BASE_URL: dialtoneSettings.graphBaseUrl
    DIALTONE_CORRELATION_STRATEGIES: join(dialtoneSettings.correlationStrategies, ',')
    DIALTONE_RETRY_WINDOW_MINUTES: string(dialtoneSettings.retryWindowMinutes)
    DIALTONE_TEAMS_BACKEND: dialtoneSettings.teamsBackend
    DIALTONE_TEAMS_READINESS: dialtoneSettings.teamsReadiness
    DIALTONE_KEYVAULT_URL: dialtoneSettings.keyVaultUrl
    DIALTONE_GRAPH_FALLBACK_QUEUE: dialtoneSettings.graphFallbackQueue
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName
