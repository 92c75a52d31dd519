metadata name = 'Service Bus queue role assignments'
metadata description = 'Roles on one existing Dialtone queue (and so on its dead-letter subqueue), for grants that depend on the Teams backend.'

import { roleAssignmentType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Name of the existing Service Bus namespace.')
param namespaceName string

@description('Required. Name of the existing queue.')
param name string

@description('Required. Role assignments scoped to this queue.')
param roleAssignments roleAssignmentType[]

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: namespaceName
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: namespace
  name: name
}

resource queueRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in roleAssignments: {
    name: guid(queue.id, assignment.principalId, builtInRoleIds[assignment.roleDefinitionName])
    scope: queue
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
