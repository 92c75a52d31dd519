metadata name = 'Dialtone table role assignments'
metadata description = 'Role assignments on one table of the storage account (the narrowest scope Table Storage RBAC has).'

import { roleAssignmentType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Name of the storage account that holds the table.')
param storageAccountName string

@description('Required. Name of the table.')
param tableName string

@description('Required. Role assignments on the table.')
param roleAssignments roleAssignmentType[]

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource tableService 'tableServices' existing = {
    name: 'default'

    resource table 'tables' existing = {
      name: tableName
    }
  }
}

resource tableRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    name: guid(account::tableService::table.id, assignment.principalId, builtInRoleIds[assignment.roleDefinitionName])
    scope: account::tableService::table
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
