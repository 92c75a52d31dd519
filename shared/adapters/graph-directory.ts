import type { GraphRequest } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { DirectoryUserSchema, type DirectoryUser } from '../contracts/messages.js';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import type { CorrelationStrategy, Directory } from '../ports/directory.js';
import type { Logger } from '../ports/logger.js';
import { toGraphDialtoneError } from './graph-errors.js';
import { createGraphClient, graphScope, parseGraphBody as parse, type GraphClientOptions } from './graph-client.js';

export { graphScope };

/** Everything one read needs: identity, correlation attributes, licence plans. */
export const userSelect = [
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

export interface GraphDirectoryOptions extends GraphClientOptions {
  logger?: Logger;
  /** Delay to ask for when Graph throttles or fails without Retry-After (default 30 s). */
  defaultRetryAfterMs?: number;
}

export interface UsersDelta {
  users: DirectoryUser[];
  /** Object ids delta reports as deleted (`"@removed"`), soft or for good. */
  removed: string[];
  /** Pass back to listUsersDelta to get the changes since this round. */
  deltaLink: string;
}

export interface GraphDirectory extends Directory {
  /** /users/delta, every page followed: a full round without a link, the changes since with one. */
  listUsersDelta(deltaLink?: string): Promise<UsersDelta>;
}

/** A deleted user in a delta page carries only its id and `@removed`. */
const RemovedUserSchema = z.object({ id: z.string().min(1), '@removed': z.object({ reason: z.string() }).loose() }).loose();

const UserPageSchema = z.object({
  value: z.array(DirectoryUserSchema),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});
type UserPage = z.infer<typeof UserPageSchema>;
const DeltaPageSchema = UserPageSchema.extend({ value: z.array(z.union([RemovedUserSchema, DirectoryUserSchema])) });
type DeltaPage = z.infer<typeof DeltaPageSchema>;

/** The Directory port over Microsoft Graph, one HTTP request per read, no in-process retries. */
export function createGraphDirectory(options: GraphDirectoryOptions): GraphDirectory {
  const { client, baseUrl } = createGraphClient(options);
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? 30_000;

  const send = async (operation: string, request: GraphRequest): Promise<unknown> => {
    try {
      return (await request.get()) as unknown;
    } catch (error) {
      const failure = toGraphDialtoneError(error, operation, defaultRetryAfterMs);
      if (failure.transient) options.logger?.warn('Graph request failed, will be retried later', { operation, code: failure.code, retryAfterMs: failure.retryAfterMs });
      throw failure;
    }
  };

  /** Follows a nextLink / deltaLink, which must point at the configured Graph endpoint. */
  const follow = (link: string): GraphRequest => {
    if (!link.startsWith(`${baseUrl}/`)) {
      throw new DialtoneError('Unexpected', `Graph returned a paging link outside ${baseUrl}`, { details: { link: link.split('?')[0] } });
    }
    return client.api(link.slice(baseUrl.length));
  };

  /** GET /users/{id | userPrincipalName}: 404 means not there (yet). */
  const readUser = async (key: string, operation: string): Promise<DirectoryUser | undefined> => {
    try {
      const body = await send(operation, client.api(`/users/${encodeURIComponent(key)}`).select([...userSelect]));
      return parse(DirectoryUserSchema, body, 'user');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  const filterUsers = async (property: 'employeeId' | 'mail', value: string): Promise<DirectoryUser[]> => {
    const operation = `find users by ${property}`;
    const clause = `${property} eq '${value.replace(/'/g, "''")}'`;
    let request = client
      .api('/users')
      .header('ConsistencyLevel', 'eventual')
      .filter(encodeURIComponent(clause))
      .select([...userSelect])
      .count(true);
    const users: DirectoryUser[] = [];
    for (;;) {
      const page: UserPage = parse(UserPageSchema, await send(operation, request), 'users page');
      users.push(...page.value);
      const next = page['@odata.nextLink'];
      if (!next) return users;
      request = follow(next).header('ConsistencyLevel', 'eventual');
    }
  };

  return {
    async findUsers(strategy: CorrelationStrategy, value: string): Promise<DirectoryUser[]> {
      if (value.trim() === '') return [];
      if (strategy === 'userPrincipalName') {
        const user = await readUser(value, 'find user by userPrincipalName');
        return user ? [user] : [];
      }
      return filterUsers(strategy, value);
    },

    getUser: (userId: string) => readUser(userId, 'get user'),

    async listUsersDelta(deltaLink?: string): Promise<UsersDelta> {
      let request = deltaLink ? follow(deltaLink) : client.api('/users/delta').select([...userSelect]);
      const users: DirectoryUser[] = [];
      const removed: string[] = [];
      for (;;) {
        const page: DeltaPage = parse(DeltaPageSchema, await send('read users delta', request), 'users delta page');
        for (const entry of page.value) {
          if ('@removed' in entry) removed.push(entry.id);
          else users.push(entry as DirectoryUser);
        }
        const next = page['@odata.nextLink'];
        if (next) {
          request = follow(next);
          continue;
        }
        const link = page['@odata.deltaLink'];
        if (!link) throw new DialtoneError('Unexpected', 'Graph users delta page has neither @odata.nextLink nor @odata.deltaLink');
        return { users, removed, deltaLink: link };
      }
    },
  };
}

/** Graph's "no such user"; any other 404 (a wrong base URL, say) must not look like sync lag. */
function isNotFound(error: unknown): boolean {
  return isDialtoneError(error) && error.details.status === 404 && /ResourceNotFound/i.test(String(error.details.graphCode ?? ''));
}



