metadata name = 'User-assigned managed identity'
metadata description = 'The identity the Function App runs as; created first so roles can be granted before the app starts.'

import { tagsType } from '../types.bicep'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Optional. Azure region.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the identity.')
param tags tagsType = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output resourceId string = identity.id

@description('Name of the identity.')
output name string = identity.name

@description('Object (principal) id, used in role assignments.')
output principalId string = identity.properties.principalId

@description('Client (application) id, used by the app to pick this identity.')
output clientId string = identity.properties.clientId
