// Event Hubs Standard namespace with the three hubs the service publishes to and consumes:
// activity (rank/reward/activate log), decisions and rewards. SAS (local) auth is disabled.

@description('Event Hubs namespace name.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Event hubs to create in the namespace.')
param hubNames array = [
  'activity'
  'decisions'
  'rewards'
]

@description('Partitions per event hub.')
param partitionCount int = 4

@description('Message retention per event hub, in days.')
param messageRetentionInDays int = 1

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: 1
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    isAutoInflateEnabled: false
    zoneRedundant: false
  }
}

resource hubs 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = [for hubName in hubNames: {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: messageRetentionInDays
  }
}]

output id string = namespace.id
output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
