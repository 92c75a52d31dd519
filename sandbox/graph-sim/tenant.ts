/**
 * The part of the sandbox tenant file the Graph simulator reads. It is structural on purpose:
 * the full file (validated with zod where it is loaded) is assignable to it.
 */
export type PlanStatus = 'Enabled' | 'Warning' | 'Suspended' | 'Deleted' | 'LockedOut';

export interface GraphSimUserAttributes {
  userPrincipalName?: string;
  mail?: string | null;
  employeeId?: string | null;
  displayName?: string | null;
  department?: string | null;
  officeLocation?: string | null;
  jobTitle?: string | null;
  accountEnabled?: boolean | null;
  usageLocation?: string | null;
  /** Service plan names (MCOEV, TEAMS1, …) the user holds. */
  servicePlans?: readonly string[];
  /** Per-plan capabilityStatus override, e.g. `{ "MCOEV": "Suspended" }`. */
  planStatus?: Readonly<Record<string, string>>;
}

export interface GraphSimUser extends GraphSimUserAttributes {
  id: string;
  userPrincipalName: string;
  /** Directory-sync lag: invisible to Graph until this much sandbox time has passed. */
  appearsAfterMs?: number;
  /** Group-licensing lag: no assigned plans until this much sandbox time has passed. */
  licensedAfterMs?: number;
}

export interface GraphSimDirectoryChange {
  atMs: number;
  userId: string;
  set: GraphSimUserAttributes;
  notify?: boolean;
}

export interface GraphSimTenant {
  users: readonly GraphSimUser[];
  directoryChanges?: readonly GraphSimDirectoryChange[];
}

/** Reported when a scheduled directory change takes effect. */
export interface DirectoryChangeEvent {
  userId: string;
  changeType: 'updated';
  notify: boolean;
  /** Sandbox time the change was scheduled for. */
  at: Date;
  /** Names of the attributes that changed. */
  fields: string[];
}
