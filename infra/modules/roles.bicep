metadata name = 'Dialtone built-in roles'
metadata description = 'The one place where the built-in Azure role names Dialtone grants are mapped to their role definition ids.'

@export()
@description('A built-in Azure role that Dialtone grants; each is the narrowest one that does the job.')
type builtInRoleName =
  | 'Azure Service Bus Data Receiver'
  | 'Azure Service Bus Data Sender'
  | 'Key Vault Reader'
  | 'Key Vault Secrets User'
  | 'Monitoring Metrics Publisher'
  | 'Storage Blob Data Owner'
  | 'Storage Table Data Contributor'

@export()
@description('Built-in role definition ids by role name. The ids are fixed by Azure and identical in every tenant.')
var builtInRoleIds = {
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  'Key Vault Reader': '21090545-7ca7-4776-b22c-e363652d74d2'
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
