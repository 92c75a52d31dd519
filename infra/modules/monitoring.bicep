metadata name = 'Monitoring'
metadata description = 'Log Analytics workspace and workspace-based Application Insights that accepts Entra-authenticated telemetry only.'

import { roleAssignmentType, tagsType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Name of the Log Analytics workspace.')
param workspaceName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Azure region.')
param location string = resourceGroup().location

@description('Optional. Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Role assignments on the Application Insights component.')
param roleAssignments roleAssignmentType[] = []

@description('Optional. Tags applied to every resource.')
param tags tagsType = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry must carry an Entra token: the instrumentation key alone is worthless.
    DisableLocalAuth: true
  }
}

resource appInsightsRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    name: guid(appInsights.id, assignment.principalId, builtInRoleIds[assignment.roleDefinitionName])
    scope: appInsights
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

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name

@description('Resource id of the Log Analytics workspace.')
output workspaceResourceId string = workspace.id

@description('Connection string of the Application Insights component (identifies it; with local auth disabled it grants nothing).')
output connectionString string = appInsights.properties.ConnectionString
