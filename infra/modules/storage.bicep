metadata name = 'Storage account'
metadata description = 'Storage for the Functions runtime, the Flex Consumption deployment package and the Dialtone tables; Entra authentication only.'

import { roleAssignmentType, tagsType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Azure region.')
param location string = resourceGroup().location

@description('Optional. Redundancy of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Required. Blob container that holds the Function App deployment package (Flex Consumption).')
param deploymentContainerName string

@description('Required. Tables Dialtone keeps its number inventory and provisioning records in.')
param tableNames string[]

@description('Optional. Role assignments on the storage account.')
param roleAssignments roleAssignmentType[] = []

@description('Optional. Tags applied to the account.')
param tags tagsType = {}

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource accountRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    name: guid(account.id, assignment.principalId, builtInRoleIds[assignment.roleDefinitionName])
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId(
        'Microsoft.Authorization/roleDefinitions',
        builtInRoleIds[assignment.roleDefinitionName]
      )
      principalId: assignment.principalId
      principalType: assignment.principalType
      description: assignment.description
    }
  }
]

@description('Name of the storage account.')
output name string = account.name

@description('Blob endpoint of the account, with a trailing slash.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Table endpoint without a trailing slash, the form DIALTONE_TABLES_ENDPOINT expects.')
output tableEndpoint string = 'https://${account.name}.table.${environment().suffixes.storage}'

@description('Name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name
