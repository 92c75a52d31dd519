metadata name = 'Service Bus namespace'
metadata description = 'Standard namespace with local (SAS) authentication disabled; queues are created by service-bus-queue.bicep.'

import { tagsType } from '../types.bicep'

@description('Required. Namespace name (6-50 characters, globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Optional. Azure region.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the namespace.')
param tags tagsType = {}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Standard: sessions, duplicate detection and scheduled messages; the worker connects from outside Azure.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

@description('Name of the namespace.')
output name string = namespace.name

@description('Fully qualified namespace host name (no scheme, no port), as the SDKs and the Functions extension expect it.')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
