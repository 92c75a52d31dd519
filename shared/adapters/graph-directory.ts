import type { GraphRequest } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { DirectoryUserSchema, type DirectoryUser } from '../contracts/messages.js';
import { DialtoneError, isDialtoneError } from '../domain/errors.js';
import type { CorrelationStrategy, Directory } from '../ports/directory.js';
import type { Logger } from '../ports/logger.js';
import { toGraphDialtoneError } from './graph-errors.js';
import { chunks, GRAPH_BATCH_LIMIT, headerOf } from '../domain/graph-batch.js';
import { lookupKey } from '../ports/directory.js';
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

/** One page of /users/delta: a next link to follow, or (on the last page) the delta link of the round. */
export interface UsersDeltaPage {
  users: DirectoryUser[];
  removed: string[];
  nextLink?: string;
  deltaLink?: string;
}

export interface UsersDelta {
  users: DirectoryUser[];
  /** Object ids delta reports as deleted (`"@removed"`), soft or for good. */
  removed: string[];
  /** Pass back to listUsersDelta to get the changes since this round. */
  deltaLink: string;
}

/** One lookup of a batch: what Graph answered for it (users, or why not). */
export type BatchedLookup = { kind: 'users'; users: DirectoryUser[] } | { kind: 'error'; error: DialtoneError };

export interface GraphDirectory extends Directory {
  findUsersBatch(lookups: readonly { strategy: CorrelationStrategy; value: string }[]): Promise<Map<string, BatchedLookup>>;
  /** /users/delta, every page followed: a full round without a link, the changes since with one. */
  listUsersDelta(deltaLink?: string): Promise<UsersDelta>;
  /**
   * One page of /users/delta: the first page of a full round without a link, else the page a
   * next link or delta link names. A round that pages itself can stop and resume at a next link.
   */
  listUsersDeltaPage(link?: string): Promise<UsersDeltaPage>;
}

/** A deleted user in a delta page carries only its id and `@removed`. */
const RemovedUserSchema = z.object({ id: z.string().min(1), '@removed': z.object({ reason: z.string() }).loose() }).loose();

const BatchResponseSchema = z.object({
  responses: z
    .array(
      z.object({
        id: z.string().max(64),
        status: z.number().int(),
        headers: z.record(z.string(), z.string()).optional(),
        body: z.unknown().optional(),
      }),
    )
    .max(GRAPH_BATCH_LIMIT),
});

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

  /** One /users/delta page: a fresh round without a link, else the page the link names. */
  const readDeltaPage = async (link?: string): Promise<UsersDeltaPage> => {
    const request = link ? follow(link) : client.api('/users/delta').select([...userSelect]);
    const page: DeltaPage = parse(DeltaPageSchema, await send('read users delta', request), 'users delta page');
    const users: DirectoryUser[] = [];
    const removed: string[] = [];
    for (const entry of page.value) {
      if ('@removed' in entry) removed.push(entry.id);
      else users.push(entry as DirectoryUser);
    }
    const next = page['@odata.nextLink'];
    if (next) return { users, removed, nextLink: next };
    const deltaLink = page['@odata.deltaLink'];
    if (!deltaLink) throw new DialtoneError('Unexpected', 'Graph users delta page has neither @odata.nextLink nor @odata.deltaLink');
    return { users, removed, deltaLink };
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

    /**
     * The same lookups as findUsers, at most 20 to one `POST /$batch`. Each answer is judged on
     * its own status: 200 the users, 404 none, 429 / 5xx a transient error with that
     * sub-response's Retry-After. A lookup Graph could not answer in one page is left out (the
     * caller asks it on its own); a failed envelope throws, as a single request would.
     */
    async findUsersBatch(lookups: readonly { strategy: CorrelationStrategy; value: string }[]): Promise<Map<string, BatchedLookup>> {
      const unique = [...new Map(lookups.filter((l) => l.value.trim() !== '').map((l) => [lookupKey(l.strategy, l.value), l])).values()];
      const answers = new Map<string, BatchedLookup>();
      for (const chunk of chunks(unique)) {
        const requests = chunk.map((l, i) => {
          const select = `$select=${userSelect.join(',')}`;
          if (l.strategy === 'userPrincipalName') return { id: String(i + 1), method: 'GET', url: `/users/${encodeURIComponent(l.value)}?${select}` };
          const clause = `${l.strategy} eq '${l.value.replace(/'/g, "''")}'`;
          return { id: String(i + 1), method: 'GET', url: `/users?$filter=${encodeURIComponent(clause)}&${select}&$count=true`, headers: { ConsistencyLevel: 'eventual' } };
        });
        let body: unknown;
        try {
          body = (await client.api('/$batch').post({ requests })) as unknown;
        } catch (error) {
          throw toGraphDialtoneError(error, 'find users (batch)', defaultRetryAfterMs);
        }
        for (const r of parse(BatchResponseSchema, body, '$batch response').responses) {
          const lookup = chunk[Number(r.id) - 1];
          if (lookup === undefined) continue;
          const operation = `find user by ${lookup.strategy}`;
          const key = lookupKey(lookup.strategy, lookup.value);
          if (r.status === 200) {
            if (lookup.strategy === 'userPrincipalName') {
              answers.set(key, { kind: 'users', users: [parse(DirectoryUserSchema, r.body, 'user')] });
            } else {
              const page = parse(UserPageSchema, r.body, 'users page');
              if (!page['@odata.nextLink']) answers.set(key, { kind: 'users', users: page.value });
            }
            continue;
          }
          const graphError = (r.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
          const error = toGraphDialtoneError(
            {
              statusCode: r.status,
              code: typeof graphError?.code === 'string' ? graphError.code : null,
              message: typeof graphError?.message === 'string' ? graphError.message : '',
              headers: { get: (name: string) => headerOf(r.headers, name) },
            },
            operation,
            defaultRetryAfterMs,
          );
          if (lookup.strategy === 'userPrincipalName' && isNotFound(error)) answers.set(key, { kind: 'users', users: [] });
          else answers.set(key, { kind: 'error', error });
        }
      }
      return answers;
    },

    listUsersDeltaPage: readDeltaPage,

    async listUsersDelta(deltaLink?: string): Promise<UsersDelta> {
      const users: DirectoryUser[] = [];
      const removed: string[] = [];
      let link = deltaLink;
      for (;;) {
        const page = await readDeltaPage(link);
        users.push(...page.users);
        removed.push(...page.removed);
        if (page.deltaLink !== undefined) return { users, removed, deltaLink: page.deltaLink };
        link = page.nextLink;
      }
    },
  };
}

/** Graph's "no such user"; any other 404 (a wrong base URL, say) must not look like sync lag. */
function isNotFound(error: unknown): boolean {
  return isDialtoneError(error) && error.details.status === 404 && /ResourceNotFound/i.test(String(error.details.graphCode ?? ''));
}



