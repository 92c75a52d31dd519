import type { DirectoryUser, HrPerson } from '../contracts/messages.js';
import type { CorrelationStrategy } from '../ports/directory.js';

export const correlationStrategies = ['userPrincipalName', 'employeeId', 'mail'] as const satisfies readonly CorrelationStrategy[];

export interface CorrelationLookup {
  strategy: CorrelationStrategy;
  value: string;
}

/** The lookups to try, in the configured order, for the attributes the HR event carries. */
export function correlationLookups(person: HrPerson, strategies: readonly CorrelationStrategy[]): CorrelationLookup[] {
  const lookups: CorrelationLookup[] = [];
  for (const strategy of strategies) {
    const value = person[strategy];
    if (typeof value === 'string' && value.trim() !== '') lookups.push({ strategy, value: value.trim() });
  }
  return lookups;
}

export type CorrelationResult =
  | { kind: 'found'; user: DirectoryUser; by: CorrelationLookup }
  | { kind: 'ambiguous'; by: CorrelationLookup; candidates: DirectoryUser[] }
  | { kind: 'next' };

/** One lookup's answer: exactly one match is required; more than one is never guessed at. */
export function judgeLookup(lookup: CorrelationLookup, users: DirectoryUser[]): CorrelationResult {
  const [first, ...rest] = users;
  if (first === undefined) return { kind: 'next' };
  if (rest.length === 0) return { kind: 'found', user: first, by: lookup };
  return { kind: 'ambiguous', by: lookup, candidates: users };
}

export function describeAmbiguity(result: Extract<CorrelationResult, { kind: 'ambiguous' }>): string {
  const names = result.candidates.map((u) => `${u.userPrincipalName} (${u.id})`).join(', ');
  return (
    `${result.candidates.length} Entra ID users have ${result.by.strategy} '${result.by.value}': ${names}. ` +
    `Dialtone will not guess. Make the attribute unique in Entra ID (or give the HR event a userPrincipalName), then replay this message.`
  );
}

export function describeNotFound(lookups: CorrelationLookup[]): string {
  if (lookups.length === 0) return 'The HR event carries none of the attributes Dialtone correlates on.';
  const tried = lookups.map((l) => `${l.strategy} '${l.value}'`).join(', then ');
  return `No Entra ID user matches ${tried} yet (directory sync can lag).`;
}
