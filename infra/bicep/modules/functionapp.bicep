// Flex Consumption plan + Python function app. All connections are identity-based through the
// user-assigned identity. Flex Consumption takes the runtime and deployment package from
// functionAppConfig, so FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION and
// WEBSITE_RUN_FROM_PACKAGE must not be set.

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('Name of the user-assigned managed identity the app runs as.')
param identityName string

@description('Storage account used for host storage and the deployment package.')
param storageAccountName string

@description('Blob container holding the deployment package.')
param deploymentContainerName string = 'deployment'

@description('Fully qualified Event Hubs namespace (<ns>.servicebus.windows.net).')
param eventHubsFullyQualifiedNamespace string

@description('Cosmos DB account endpoint (https://<account>.documents.azure.com:443/).')
param cosmosEndpoint string

@description('Application Insights component name.')
param appInsightsName string

@description('Personalizer-compatible API key (Ocp-Apim-Subscription-Key). Empty disables the key check.')
@secure()
param personalizerApiKey string = ''

@description('Client API keys, comma-separated (rotation): serving routes only (rank, reward, activate, offers, activity). Safe to ship in a storefront.')
@secure()
param apiClientKeys string = ''

@description('Admin API keys, comma-separated (rotation): every route. Never ship them in a page or app.')
@secure()
param apiAdminKeys string = ''

@description('Origins allowed to call the function URLs from a browser (storefront pages). Empty: none.')
param corsAllowedOrigins array = []

@description('Maximum instances the app may scale out to.')
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
param instanceMemoryMB int = 2048

@description('Python version.')
param pythonVersion string = '3.11'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: corsAllowedOrigins
      }
      ftpsState: 'Disabled'
      // The contract with shared/settings.py: tests/unit/test_bicep.py checks this exact set of names.
      appSettings: [
        // Host storage (triggers, timer leases, queues) through the managed identity
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storage.name
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        // Event Hubs triggers and the app's publisher (never the local queue stand-in in Azure)
        {
          name: 'EVENT_TRANSPORT'
          value: 'eventhubs'
        }
        {
          name: 'EventHubConnection__fullyQualifiedNamespace'
          value: eventHubsFullyQualifiedNamespace
        }
        {
          name: 'EventHubConnection__credential'
          value: 'managedidentity'
        }
        {
          name: 'EventHubConnection__clientId'
          value: identity.properties.clientId
        }
        // Cosmos DB (SDK code uses the endpoint with ManagedIdentityCredential(client_id=AZURE_CLIENT_ID))
        {
          name: 'COSMOS_CONNECTION__accountEndpoint'
          value: cosmosEndpoint
        }
        {
          name: 'COSMOS_CONNECTION__credential'
          value: 'managedidentity'
        }
        {
          name: 'COSMOS_CONNECTION__clientId'
          value: identity.properties.clientId
        }
        // DefaultAzureCredential picks the user-assigned identity from this
        {
          name: 'AZURE_CLIENT_ID'
          value: identity.properties.clientId
        }
        // Telemetry with Entra auth (local auth is disabled on the component)
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
        }
        // Resource names
        {
          name: 'COSMOS_DATABASE'
          value: 'offers'
        }
        {
          name: 'ACTIVITY_HUB'
          value: 'activity'
        }
        {
          name: 'DECISIONS_HUB'
          value: 'decisions'
        }
        {
          name: 'REWARDS_HUB'
          value: 'rewards'
        }
        {
          name: 'MODELS_CONTAINER'
          value: 'models'
        }
        {
          name: 'ARCHIVE_CONTAINER'
          value: 'archive'
        }
        {
          name: 'EVENTS_CONTAINER'
          value: 'events'
        }
        // Learning pipeline: event-log window and the capture lag the learner waits for
        {
          name: 'LEARN_WINDOW_SECONDS'
          value: '10'
        }
        {
          name: 'LEARN_GRACE_SECONDS'
          value: '30'
        }
        // Service tuning
        {
          name: 'MODEL_POLL_SECONDS'
          value: '60'
        }
        {
          name: 'CONFIG_CACHE_SECONDS'
          value: '30'
        }
        {
          name: 'LEARN_SCHEDULE'
          value: '0 * * * * *'
        }
        {
          // how often to check whether auto-optimization is enabled and due (the frequency itself
          // is the service configuration's autoOptimizationFrequency)
          name: 'AUTO_OPTIMIZE_SCHEDULE'
          value: '0 0 * * * *'
        }
        {
          name: 'MAX_REQUEST_BYTES'
          value: '1048576'
        }
        // Personalizer service configuration defaults (used until a configuration is stored)
        {
          name: 'PERSONALIZER_REWARD_WAIT_TIME'
          value: 'PT10M'
        }
        {
          name: 'PERSONALIZER_MODEL_EXPORT_FREQUENCY'
          value: 'PT5M'
        }
        {
          name: 'PERSONALIZER_DEFAULT_REWARD'
          value: '0'
        }
        {
          name: 'PERSONALIZER_REWARD_AGGREGATION'
          value: 'earliest'
        }
        {
          name: 'PERSONALIZER_EXPLORATION_PERCENTAGE'
          value: '0.2'
        }
        {
          name: 'PERSONALIZER_LOG_RETENTION_DAYS'
          value: '90'
        }
        {
          name: 'PERSONALIZER_LEARNING_MODE'
          value: 'Online'
        }
        {
          name: 'PERSONALIZER_API_KEY'
          value: personalizerApiKey
        }
        {
          name: 'API_CLIENT_KEYS'
          value: apiClientKeys
        }
        {
          name: 'API_ADMIN_KEYS'
          value: apiAdminKeys
        }
        // The simulator: its queue (poison: <queue>-poison), run state, and the app it drives
        // (empty base URL: this app at https://WEBSITE_HOSTNAME/api; empty key: the API key above)
        {
          name: 'SIMULATOR_QUEUE'
          value: 'simulate'
        }
        {
          name: 'EVALUATIONS_QUEUE'
          value: 'evaluate'
        }
        {
          name: 'SIMULATIONS_CONTAINER'
          value: 'simulations'
        }
        {
          name: 'SIMULATOR_BASE_URL'
          value: ''
        }
        {
          name: 'SIMULATOR_API_KEY'
          value: ''
        }
        // The offers API: catalog cache, control group share, dismissal window, profile timeout
        {
          name: 'CATALOG_CACHE_SECONDS'
          value: '30'
        }
        {
          name: 'OFFERS_CONTROL_PERCENT'
          value: '10'
        }
        {
          name: 'OFFERS_DISMISS_DAYS'
          value: '7'
        }
        {
          name: 'PROFILE_TIMEOUT_MS'
          value: '50'
        }
        {
          name: 'PROFILE_CACHE_SECONDS'
          value: '5'
        }
        // Activity: rewards from activity events carrying a decision's eventId; signal cache
        {
          name: 'ACTIVITY_REWARDS'
          value: 'offer_click=0.2,add_to_cart=0.5,purchase=1.0'
        }
        {
          name: 'SIGNALS_CACHE_SECONDS'
          value: '30'
        }
      ]
    }
  }
}

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
