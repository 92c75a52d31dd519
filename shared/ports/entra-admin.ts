/**
 * The Entra ID objects `dialtone setup` and `dialtone cert rotate` manage, through Microsoft
 * Graph as the operator (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All,
 * RoleManagement.ReadWrite.Directory).
 */
export interface AppRegistration {
  /** Object id (for /applications/{id}). */
  id: string;
  /** Application (client) id. */
  appId: string;
  displayName: string;
}

/** A certificate credential of an application; `key` (base64 DER) only where Graph returns it. */
export interface AppKeyCredential {
  keyId: string;
  displayName: string | null;
  /** Upper-case hex SHA-1 of the certificate (Graph's customKeyIdentifier). */
  thumbprint: string;
  startDateTime: string;
  endDateTime: string;
  key: string;
}

export interface NewKeyCredential {
  keyId?: string;
  displayName: string;
  /** base64 DER of the public certificate: never a private key. */
  key: string;
  startDateTime: string;
  endDateTime: string;
}

export interface EntraAdmin {
  findApplication(displayName: string): Promise<AppRegistration[]>;
  getApplicationByAppId(appId: string): Promise<AppRegistration | undefined>;
  createApplication(displayName: string): Promise<AppRegistration>;
  /** The application's certificate credentials with their keys (GET ?$select=keyCredentials). */
  keyCredentials(applicationObjectId: string): Promise<AppKeyCredential[]>;
  /** Replaces the whole collection (PATCH keyCredentials): leave an entry out and it is removed. */
  setKeyCredentials(applicationObjectId: string, credentials: (NewKeyCredential | AppKeyCredential)[]): Promise<void>;
  findServicePrincipal(appId: string): Promise<{ id: string } | undefined>;
  createServicePrincipal(appId: string): Promise<{ id: string }>;
  /** Microsoft Graph's own service principal and its application roles (permission name → role id). */
  graphServicePrincipal(): Promise<{ id: string; appRoles: { id: string; value: string | null }[] }>;
  appRoleAssignments(principalId: string): Promise<{ appRoleId: string; resourceId: string }[]>;
  assignAppRole(principalId: string, resourceId: string, appRoleId: string): Promise<void>;
  directoryRoleAssignments(principalId: string): Promise<{ roleDefinitionId: string; directoryScopeId: string }[]>;
  assignDirectoryRole(principalId: string, roleDefinitionId: string, directoryScopeId: string): Promise<void>;
}
