metadata name = 'Dialtone infrastructure types'
metadata description = 'User-defined types shared by the Dialtone modules.'

import { builtInRoleName } from 'modules/roles.bicep'

@export()
@description('The kind of Entra principal a role is granted to; set explicitly so a fresh identity need not have replicated yet.')
type principalType = 'ServicePrincipal' | 'Group' | 'User'

@export()
@description('One role assignment on the resource a module creates.')
type roleAssignmentType = {
  @description('Required. The built-in role to grant (mapped to its id in modules/roles.bicep).')
  roleDefinitionName: builtInRoleName

  @description('Required. Object id of the principal (managed identity or service principal, not the application id).')
  principalId: string

  @description('Required. The kind of principal.')
  principalType: principalType

  @description('Required. Why this principal holds this role; shown on the assignment in the portal.')
  description: string
}

@export()
@description('Tags applied to every resource.')
type tagsType = {
  @description('Any tag name and value.')
  *: string
}
