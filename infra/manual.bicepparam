using 'main.bicep'

// Object id of the hybrid worker app registration's service principal:
//   az ad sp show --id <application-id> --query id -o tsv
param workerPrincipalId = '00000000-0000-0000-0000-000000000000'

param baseName = 'dialtone'
param nodeVersion = '20'
param maximumInstanceCount = 100
param policyPath = 'config/voice-policy.yaml'
param correlationStrategies = [
  'userPrincipalName'
  'employeeId'
  'mail'
]
param retryWindowMinutes = 1440
param tags = {
  application: 'dialtone'
  environment: 'production'
}
