metadata name = 'Dialtone Key Vault role assignments'
metadata description = 'Role assignments on an existing Key Vault, for grants that only some deployments make.'

import { roleAssignmentType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Name of the Key Vault.')
param vaultName string

@description('Required. Role assignments on the vault.')
param roleAssignments roleAssignmentType[]

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: vaultName
}

resource vaultRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    name: guid(vault.id, assignment.principalId, builtInRoleIds[assignment.roleDefinitionName])
    scope: vault
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
