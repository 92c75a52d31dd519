import type { DirectoryUser } from '../../shared/contracts/messages.js';
import { GraphSimError } from './responses.js';

/** Properties a user has in the simulator; $select may name any of them. */
export const userProperties = [
  'id',
  'userPrincipalName',
  'mail',
  'employeeId',
  'displayName',
  'department',
  'officeLocation',
  'jobTitle',
  'accountEnabled',
  'usageLocation',
  'assignedPlans',
] as const;
type UserProperty = (typeof userProperties)[number];

/** What Graph returns without $select (the simulator's subset of Graph's default set). */
const defaultProperties: readonly UserProperty[] = ['id', 'displayName', 'jobTitle', 'mail', 'officeLocation', 'userPrincipalName'];

export function parseSelect(raw: string | null): readonly UserProperty[] {
  if (raw === null || raw.trim() === '') return defaultProperties;
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const selected: UserProperty[] = ['id'];
  for (const name of names) {
    const match = userProperties.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!match) {
      throw new GraphSimError(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
    }
    if (!selected.includes(match)) selected.push(match);
  }
  return selected;
}

export function project(user: DirectoryUser, select: readonly UserProperty[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const property of select) out[property] = user[property] ?? null;
  return out;
}

export type FilterProperty = 'employeeId' | 'mail' | 'userPrincipalName';
export interface EqFilter {
  property: FilterProperty;
  value: string;
}

const filterProperties: readonly FilterProperty[] = ['employeeId', 'mail', 'userPrincipalName'];
const eqClause = /^\s*([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)'\s*$/;

/** Parses `<property> eq '<value>'` (single quotes doubled inside the value), the only form the simulator supports. */
export function parseFilter(raw: string): EqFilter {
  const match = eqClause.exec(raw);
  if (!match) throw new GraphSimError(400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause specified.');
  const name = match[1] ?? '';
  const property = filterProperties.find((p) => p.toLowerCase() === name.toLowerCase());
  if (!property) {
    throw new GraphSimError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${name}' of resource 'User'.`);
  }
  return { property, value: (match[2] ?? '').replace(/''/g, "'") };
}

/** Directory string comparisons are case-insensitive. */
export function matchesFilter(user: DirectoryUser, filter: EqFilter): boolean {
  const actual = user[filter.property];
  return typeof actual === 'string' && actual.toLowerCase() === filter.value.toLowerCase();
}

export function parseTop(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  const top = Number(raw);
  if (!Number.isInteger(top) || top < 1 || top > 999) {
    throw new GraphSimError(400, 'Request_BadRequest', `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`);
  }
  return top;
}

/** Opaque paging / delta tokens: base64url JSON, like Graph's, meaningless to clients. */
export function encodeToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken(raw: string, name: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the Graph-style error below
  }
  throw new GraphSimError(400, 'Request_BadRequest', `The ${name} is invalid or expired.`);
}
