import type { Directory } from '../shared/ports/directory.js';
import type { ProvisioningRecords } from '../shared/ports/provisioning-records.js';
import { OperationFailed } from './errors.js';

/** A person as the operator commands name them: any of these identifies them. */
export interface Person {
  userId: string;
  userPrincipalName: string | null;
  employeeId: string | null;
  mail: string | null;
}

export interface PersonSources {
  /** Entra ID (Graph, or the sandbox's simulated Graph); optional where none is configured. */
  directory?: () => Promise<Directory | undefined>;
  /** Dialtone's own records: they find people Entra ID has deleted (leavers). */
  records?: () => Promise<ProvisioningRecords>;
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
 */
export async function findPeople(who: string, sources: PersonSources): Promise<Person[]> {
  const found = new Map<string, Person>();
  const add = (p: Person) => {
    const known = found.get(p.userId);
    found.set(p.userId, known ? { userId: p.userId, userPrincipalName: known.userPrincipalName ?? p.userPrincipalName, employeeId: known.employeeId ?? p.employeeId, mail: known.mail ?? p.mail } : p);
  };
  let directoryError: unknown;
  try {
    const directory = await sources.directory?.();
    if (directory) {
      const users = who.includes('@')
        ? [...(await directory.findUsers('userPrincipalName', who)), ...(await directory.findUsers('mail', who))]
        : [...(await directory.getUser(who).then((u) => (u ? [u] : []))), ...(await directory.findUsers('employeeId', who))];
      for (const u of users) add({ userId: u.id, userPrincipalName: u.userPrincipalName, employeeId: u.employeeId ?? null, mail: u.mail ?? null });
    }
  } catch (error) {
    directoryError = error;
  }
  const records = await sources.records?.();
  if (records) {
    const direct = await records.get(who);
    const candidates = direct ? [direct] : (await records.list()).filter((r) => same(r.userPrincipalName, who) || same(r.person?.employeeId, who) || same(r.person?.mail, who) || same(r.person?.userPrincipalName, who));
    for (const r of candidates) add({ userId: r.userId, userPrincipalName: r.userPrincipalName, employeeId: r.person?.employeeId ?? null, mail: r.person?.mail ?? null });
  }
  if (found.size === 0 && directoryError) throw directoryError;
  return [...found.values()];
}

/** Exactly one person, or a failure (exit 1) saying none or which ones. */
export async function resolvePerson(who: string, sources: PersonSources): Promise<Person> {
  const people = await findPeople(who, sources);
  if (people.length === 0) throw new OperationFailed(`No person '${who}' in Entra ID or Dialtone's records (give a UPN, an object id, an employee id or a mail address; directory sync can lag).`);
  if (people.length > 1) throw new OperationFailed(`'${who}' names ${people.length} people: ${people.map((p) => `${p.userPrincipalName ?? '?'} (${p.userId})`).join(', ')}; give the object id.`);
  return people[0]!;
}
