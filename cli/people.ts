import type { Directory } from '../shared/ports/directory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import { OperationFailed } from './errors.js';

/** A person as the operator commands name them: any of these identifies them. */
export interface Person {
  userId: string;
  userPrincipalName: string | null;
  employeeId: string | null;
  mail: string | null;
  /** The person's tenant, where known (their record's, or the tenant of the directory that found them). */
  tenantId?: string;
}

export interface PersonSources {
  /** Entra ID (Graph, or the sandbox's simulated Graph); optional where none is configured. */
  directory?: () => Promise<Directory | undefined>;
  /** Dialtone's own records: they find people Entra ID has deleted (leavers). */
  records?: () => Promise<ProvisioningRecords>;
  /** The deployment's own tenant: a record that names no tenant is its (and `directory` is its, unless directoryTenantId says otherwise). */
  defaultTenantId?: () => Promise<string | undefined>;
  /** The tenant whose directory `directory` is (plan's: the --tenant-id's); default: the deployment's own. */
  directoryTenantId?: string;
}

/** Every identifier of the person, for filters that match messages or records. */
export function identifiersOf(person: Person): string[] {
  return [person.userId, person.userPrincipalName, person.employeeId, person.mail].filter((v): v is string => typeof v === 'string' && v !== '');
}

const same = (a: string | null | undefined, b: string) => typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

/**
 * The one person resolver of every command: a UPN, an Entra object id, an employee id or a mail
 * address. Entra ID is asked first (object id, then UPN or mail for something with an @, else
 * employeeId); Dialtone's records second, so a leaver deleted from Entra ID is still found.
 * With `tenantId` (the commands' --tenant-id) only that tenant's people are candidates: the same
 * employee id or UPN local part in another tenant is someone else (issue 16); the directory is
 * asked only when it is that tenant's.
 */
export async function findPeople(who: string, sources: PersonSources, tenantId?: string): Promise<Person[]> {
  const wanted = tenantId?.toLowerCase();
  // The deployment's own tenant is looked up only when a tenant is asked for or two people are found.
  let defaultTenant: Promise<string | undefined> | undefined;
  const defaultTenantId = () => (defaultTenant ??= (sources.defaultTenantId?.() ?? Promise.resolve(undefined)).then((t) => t?.toLowerCase(), () => undefined));
  const directoryTenant = async () => sources.directoryTenantId?.toLowerCase() ?? (await defaultTenantId());
  const found = new Map<string, Person & { recordTenant?: string | null }>();
  const add = (p: Person & { recordTenant?: string | null }) => {
    const known = found.get(p.userId);
    found.set(p.userId, known ? { ...known, userPrincipalName: known.userPrincipalName ?? p.userPrincipalName, employeeId: known.employeeId ?? p.employeeId, mail: known.mail ?? p.mail, ...(p.recordTenant !== undefined ? { recordTenant: p.recordTenant } : {}) } : p);
  };
  let directoryError: unknown;
  let fromDirectory = false;
  try {
    // Another tenant's people are not in this directory: with --tenant-id of another tenant, only its records are asked.
    const ownDirectory = wanted === undefined || sources.directoryTenantId !== undefined || [wanted, undefined].includes(await directoryTenant());
    const directory = ownDirectory ? await sources.directory?.() : undefined;
    if (directory) {
      fromDirectory = true;
      const users = who.includes('@')
        ? [...(await directory.findUsers('userPrincipalName', who)), ...(await directory.findUsers('mail', who))]
        : [...(await directory.getUser(who).then((u) => (u ? [u] : []))), ...(await directory.findUsers('employeeId', who))];
      for (const u of users) add({ userId: u.id, userPrincipalName: u.userPrincipalName, employeeId: u.employeeId ?? null, mail: u.mail ?? null });
    }
  } catch (error) {
    directoryError = error;
  }
  const records = await sources.records?.();
  let direct = false;
  if (records) {
    const byId = await records.get(who);
    direct = byId !== undefined;
    const candidates = byId ? [byId] : (await records.list()).filter((r) => same(r.userPrincipalName, who) || same(r.person?.employeeId, who) || same(r.person?.mail, who) || same(r.person?.userPrincipalName, who));
    for (const r of candidates) add({ userId: r.userId, userPrincipalName: r.userPrincipalName, employeeId: r.person?.employeeId ?? null, mail: r.person?.mail ?? null, recordTenant: r.tenantId ?? null });
  }
  if (found.size === 0 && directoryError) throw directoryError;
  let people = [...found.values()];
  if (wanted !== undefined || people.length > 1) {
    const home = await defaultTenantId();
    const dirTenant = fromDirectory ? await directoryTenant() : undefined;
    people = people.map((p) => {
      const tenant = p.recordTenant === undefined ? dirTenant : (p.recordTenant ?? home);
      return tenant === undefined ? p : { ...p, tenantId: tenant };
    });
    // An object id names one person wherever they are: the command refuses it, naming their tenant.
    if (wanted !== undefined && !direct) people = people.filter((p) => p.tenantId === undefined || p.tenantId === wanted);
  }
  return people.map(({ recordTenant: _r, ...p }) => p);
}

/** Exactly one person, or a failure (exit 1) saying none or which ones (and their tenants). */
export async function resolvePerson(who: string, sources: PersonSources, tenantId?: string): Promise<Person> {
  const people = await findPeople(who, sources, tenantId);
  const where = tenantId ? ` of tenant ${tenantId.toLowerCase()}` : '';
  if (people.length === 0 && tenantId) {
    // Someone of another tenant: say whose, rather than that nobody is called so.
    const elsewhere = await findPeople(who, sources);
    const home = async () => (await sources.defaultTenantId?.().catch(() => undefined))?.toLowerCase() ?? 'the default tenant';
    if (elsewhere.length === 1) throw new OperationFailed(`'${who}' (${elsewhere[0]!.userId}) is a person of tenant ${elsewhere[0]!.tenantId ?? (await home())}, not ${tenantId}.`);
    if (elsewhere.length > 1) throw new OperationFailed(`'${who}' names no person of tenant ${tenantId.toLowerCase()}, only ${elsewhere.map((p) => `${p.userPrincipalName ?? '?'} (${p.userId}) of tenant ${p.tenantId ?? 'the default tenant'}`).join(', ')}.`);
  }
  if (people.length === 0) throw new OperationFailed(`No person '${who}'${where} in Entra ID or Dialtone's records (give a UPN, an object id, an employee id or a mail address; directory sync can lag).`);
  if (people.length > 1) {
    const tenants = new Set(people.map((p) => p.tenantId));
    const named = people.map((p) => `${p.userPrincipalName ?? '?'} (${p.userId})${tenants.size > 1 && p.tenantId ? ` of tenant ${p.tenantId}` : ''}`).join(', ');
    throw new OperationFailed(`'${who}' names ${people.length} people: ${named}; give the object id${tenants.size > 1 && !tenantId ? ' or --tenant-id' : ''}.`);
  }
  return people[0]!;
}
