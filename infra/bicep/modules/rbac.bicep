// Data-plane role assignments for one principal (the function app's managed identity, or the
// deploying user so that local runs and tools work against the same resources without keys).

@description('Object (principal) id to grant the roles to.')
param principalId string

@description('Principal type of principalId.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param principalType string = 'ServicePrincipal'

@description('Storage account name.')
param storageAccountName string

@description('Event Hubs namespace name.')
param eventHubsNamespaceName string

@description('Event hubs the app publishes to (Data Sender) and consumes from (Data Receiver).')
param eventHubNames array = [
  'activity'
  'decisions'
  'rewards'
]

@description('Application Insights component name.')
param appInsightsName string

@description('Cosmos DB account name.')
param cosmosAccountName string

@description('Cosmos DB database the app reads and writes; the data-plane role is scoped to it.')
param cosmosDatabaseName string = 'offers'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles)
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Send and receive only, scoped to each hub: never manage rights on the namespace.
var eventHubsDataSender = '2b629674-e913-4c01-ae53-ef4638d8f975'
var eventHubsDataReceiver = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
// Cosmos DB data-plane role (sqlRoleDefinitions on the account, not an Azure RBAC role)
var cosmosBuiltInDataContributor = '00000000-0000-0000-0000-000000000002'

// Blob Data Owner and Queue/Table Data Contributor on the account: the Functions host's own
// identity-based AzureWebJobsStorage needs all three (host locks and keys in blobs, queue
// triggers, diagnostic events in tables), and the app's containers and queues live in it too.
var storageRoleIds = [
  storageBlobDataOwner
  storageQueueDataContributor
  storageTableDataContributor
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: eventHubsNamespaceName
}

resource hubs 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = [for hubName in eventHubNames: {
  parent: eventHubsNamespace
  name: hubName
}]

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosAccountName
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoleIds: {
  name: guid(storage.id, principalId, roleId)
  scope: storage
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
  }
}]

resource hubSenderRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (hubName, i) in eventHubNames: {
  name: guid(hubs[i].id, principalId, eventHubsDataSender)
  scope: hubs[i]
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataSender)
  }
}]

resource hubReceiverRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (hubName, i) in eventHubNames: {
  name: guid(hubs[i].id, principalId, eventHubsDataReceiver)
  scope: hubs[i]
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventHubsDataReceiver)
  }
}]

resource metricsPublisherRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

resource cosmosDataRole 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosBuiltInDataContributor)
  properties: {
    principalId: principalId
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosBuiltInDataContributor}'
    // the app's database only, not the account (no other database's data)
    scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'
  }
}
