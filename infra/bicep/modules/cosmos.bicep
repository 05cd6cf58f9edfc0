// Cosmos DB for NoSQL, serverless, keys disabled (Entra ID data-plane RBAC only).
// Database `offers` with containers `config` and `catalog` (the learning pipeline uses Blob, not Cosmos). Containers are created here because
// data-plane RBAC cannot create databases or containers.

@description('Cosmos DB account name (3-44 lowercase letters, digits, hyphens).')
@minLength(3)
@maxLength(44)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('SQL database name.')
param databaseName string = 'offers'

@description('Containers to create with their partition key (mirrors CONTAINERS in shared/cosmos_store.py).')
param containers array = [
  {
    name: 'config'
    partitionKey: '/id'
  }
  {
    name: 'catalog'
    partitionKey: '/kind'
  }
  {
    name: 'aggregates'
    partitionKey: '/pk'
  }
  {
    name: 'profiles'
    partitionKey: '/userId'
  }
  {
    name: 'evaluations'
    partitionKey: '/id'
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = [for container in containers: {
  parent: database
  name: container.name
  properties: {
    resource: {
      id: container.name
      partitionKey: {
        paths: [
          container.partitionKey
        ]
        kind: 'Hash'
      }
      // TTL on, no default: items expire only when they carry a `ttl` (set by the learner from
      // logRetentionDays), mirrored by shared/cosmos_store.py for the emulator.
      defaultTtl: -1
    }
  }
}]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
