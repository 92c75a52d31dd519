metadata name = 'Service Bus queue'
metadata description = 'One Dialtone queue with duplicate detection and dead-lettering, and the roles granted on that queue alone.'

import { roleAssignmentType } from '../types.bicep'
import { builtInRoleIds } from 'roles.bicep'

@description('Required. Name of the existing Service Bus namespace.')
param namespaceName string

@description('Required. Queue name.')
param name string

@description('Required. Whether receivers must lock a session (one session per Entra user serialises everything about that user).')
param requiresSession bool

@description('Optional. Whether the broker drops a message whose id it has seen within the duplicate detection window (the replay and retry paths rely on it).')
param requiresDuplicateDetection bool = true

@description('Optional. How long message ids are remembered for duplicate detection (ISO 8601, 20 seconds to 7 days).')
param duplicateDetectionHistoryTimeWindow string = 'PT10M'

@description('Optional. Deliveries before the broker dead-letters a message with MaxDeliveryCountExceeded.')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int = 10

@description('Optional. Peek-lock duration; PT5M is the Standard tier maximum and covers a PowerShell apply between renewals.')
param lockDuration string = 'PT5M'

@description('Optional. Time to live of a message that nobody receives (ISO 8601).')
param defaultMessageTimeToLive string = 'P14D'

@description('Optional. Dead-letter expired messages instead of dropping them, so nothing about a person disappears silently.')
param deadLetteringOnMessageExpiration bool = true

@description('Optional. Maximum queue size in megabytes.')
@allowed([
  1024
  2048
  3072
  4096
  5120
])
param maxSizeInMegabytes int = 1024

@description('Optional. Role assignments scoped to this queue (and so to its dead-letter subqueue).')
param roleAssignments roleAssignmentType[] = []

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: namespaceName
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: name
  properties: {
    requiresSession: requiresSession
    requiresDuplicateDetection: requiresDuplicateDetection
    duplicateDetectionHistoryTimeWindow: duplicateDetectionHistoryTimeWindow
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: deadLetteringOnMessageExpiration
    maxSizeInMegabytes: maxSizeInMegabytes
    enableBatchedOperations: true
    enablePartitioning: false
  }
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

@description('Name of the queue.')
output name string = queue.name

@description('Resource id of the queue.')
output resourceId string = queue.id
