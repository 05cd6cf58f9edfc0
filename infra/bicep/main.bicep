// Personalizer-compatible offers service: Azure resources for the Python function app.
// Deploy with `azd up`, or:
//   az deployment group create -g <rg> -f infra/bicep/main.bicep -p environmentName=<name>
// Every connection is identity-based; no account keys, SAS keys or connection strings with secrets.

targetScope = 'resourceGroup'

@description('Environment name (azd AZURE_ENV_NAME); seeds resource names and the azd-env-name tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for all resources.')
param location string = resourceGroup().location

@description('Object id of the deploying user; when set it gets the same data-plane roles as the app, for local runs against Azure.')
param principalId string = ''

@description('Principal type of principalId (set ServicePrincipal when a pipeline identity deploys).')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('API key checked on the Personalizer-compatible endpoints (Ocp-Apim-Subscription-Key). Empty disables the check.')
@secure()
param personalizerApiKey string = ''

@description('Client API keys, comma-separated (rotation): serving routes only (rank, reward, activate, offers, activity). Safe to ship in a storefront.')
@secure()
param apiClientKeys string = ''

@description('Admin API keys, comma-separated (rotation): every route. Never ship them in a page or app.')
@secure()
param apiAdminKeys string = ''

@description('Origins allowed to call the function URLs from a browser, e.g. the storefront site.')
param corsAllowedOrigins array = []

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    name: 'evhns-${resourceToken}'
    location: location
    tags: tags
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
  }
}

module rbacApp 'modules/rbac.bicep' = {
  name: 'rbac-app'
  params: {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
    storageAccountName: storage.outputs.name
    eventHubsNamespaceName: eventHubs.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosAccountName: cosmos.outputs.name
    cosmosDatabaseName: cosmos.outputs.databaseName
  }
}

module rbacUser 'modules/rbac.bicep' = if (!empty(principalId)) {
  name: 'rbac-user'
  params: {
    principalId: principalId
    principalType: principalType
    storageAccountName: storage.outputs.name
    eventHubsNamespaceName: eventHubs.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosAccountName: cosmos.outputs.name
    cosmosDatabaseName: cosmos.outputs.databaseName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: 'deployment'
    eventHubsFullyQualifiedNamespace: eventHubs.outputs.fullyQualifiedNamespace
    cosmosEndpoint: cosmos.outputs.endpoint
    appInsightsName: monitoring.outputs.appInsightsName
    personalizerApiKey: personalizerApiKey
    apiClientKeys: apiClientKeys
    apiAdminKeys: apiAdminKeys
    corsAllowedOrigins: corsAllowedOrigins
  }
  // The host starts with identity-based connections: grant the roles before the app exists.
  dependsOn: [
    rbacApp
  ]
}

output AZURE_LOCATION string = location
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_HOSTNAME string = functionApp.outputs.defaultHostName
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
// What a Personalizer client takes as its endpoint (it appends /personalizer/v1.0/...).
output PERSONALIZER_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}/api'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output EVENTHUBS_NAMESPACE string = eventHubs.outputs.name
output EVENTHUBS_FULLY_QUALIFIED_NAMESPACE string = eventHubs.outputs.fullyQualifiedNamespace
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output AZURE_CLIENT_ID string = identity.outputs.clientId
