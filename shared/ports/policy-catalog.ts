/** The Teams policies the planner needs to know about (CallingLineIdentity by Description). */
export interface CallingLineIdentityEntry {
  /** As Teams lists it: 'Tag:CLI-Sales'. */
  identity: string;
  description?: string | null;
}

export interface PolicyCatalog {
  callingLineIdentities(): Promise<CallingLineIdentityEntry[]>;
}
