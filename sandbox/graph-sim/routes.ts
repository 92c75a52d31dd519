import type { IncomingHttpHeaders } from 'node:http';
import type { DirectoryUser } from '../../shared/contracts/messages.js';
import type { SimDirectory } from './directory.js';
import { decodeToken, encodeToken, matchesFilter, parseFilter, parseSelect, parseTop, project } from './odata.js';
import { GraphSimError } from './responses.js';

export interface RouteContext {
  directory: SimDirectory;
  now: number;
  /** http://127.0.0.1:<port>/v1.0 */
  baseUrl: string;
  url: URL;
  headers: IncomingHttpHeaders;
  pageSizes: { list: number; delta: number };
}

export type RouteName = 'GET /users/{id}' | 'GET /users' | 'GET /users/delta';

export interface Route {
  name: RouteName;
  handle: (ctx: RouteContext) => Record<string, unknown>;
}

/** Maps a request path to its route; undefined when Graph would not know the segment. */
export function findRoute(method: string, rawPath: string): Route | undefined {
  if (method !== 'GET') return undefined;
  const segments = rawPath.split('/').filter(Boolean).map(decodeSegment);
  if (segments[0] !== 'v1.0' || segments[1]?.toLowerCase() !== 'users') return undefined;
  if (segments.length === 2) return { name: 'GET /users', handle: listUsers };
  if (segments.length !== 3) return undefined;
  const key = segments[2] ?? '';
  if (key === 'delta' || key === 'delta()') return { name: 'GET /users/delta', handle: delta };
  return { name: 'GET /users/{id}', handle: (ctx) => getUser(ctx, key) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function getUser(ctx: RouteContext, key: string): Record<string, unknown> {
  const select = parseSelect(ctx.url.searchParams.get('$select'));
  const user = ctx.directory.findVisible(key, ctx.now);
  if (!user) {
    throw new GraphSimError(
      404,
      'Request_ResourceNotFound',
      `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
    );
  }
  return { '@odata.context': `${ctx.baseUrl}/$metadata#users(${select.join(',')})/$entity`, ...project(user, select) };
}

function listUsers(ctx: RouteContext): Record<string, unknown> {
  const params = ctx.url.searchParams;
  const select = parseSelect(params.get('$select'));
  const top = parseTop(params.get('$top'), ctx.pageSizes.list);
  const eventual = String(ctx.headers['consistencylevel'] ?? '').toLowerCase() === 'eventual';
  const count = params.get('$count')?.toLowerCase() === 'true';
  if (count && !eventual) {
    throw new GraphSimError(400, 'Request_BadRequest', "$count is not currently supported without the header 'ConsistencyLevel: eventual'.");
  }
  let users: DirectoryUser[] = ctx.directory.visibleUsers(ctx.now);
  const rawFilter = params.get('$filter');
  if (rawFilter !== null) {
    const filter = parseFilter(rawFilter);
    if (filter.property === 'employeeId' && !(eventual && count)) {
      throw new GraphSimError(
        400,
        'Request_UnsupportedQuery',
        "Unsupported or invalid query filter clause specified for property 'employeeId' of resource 'User'.",
      );
    }
    users = users.filter((u) => matchesFilter(u, filter));
  }
  const skip = params.get('$skiptoken');
  const offset = skip === null ? 0 : Number(decodeToken(skip, '$skiptoken').offset ?? 0);
  const page = users.slice(offset, offset + top);
  const body: Record<string, unknown> = { '@odata.context': `${ctx.baseUrl}/$metadata#users(${select.join(',')})` };
  if (count) body['@odata.count'] = users.length;
  if (offset + top < users.length) {
    const next = new URLSearchParams(params);
    next.set('$skiptoken', encodeToken({ offset: offset + top }));
    body['@odata.nextLink'] = `${ctx.baseUrl}/users?${odataQuery(next)}`;
  }
  body.value = page.map((u) => project(u, select));
  return body;
}

/**
 * User delta: the first round lists every visible user; the delta link then returns users that
 * appeared or changed since. Licence changes are not reported, as in Graph.
 */
function delta(ctx: RouteContext): Record<string, unknown> {
  const params = ctx.url.searchParams;
  const deltaToken = params.get('$deltatoken');
  const skipToken = params.get('$skiptoken');
  let since: number | undefined;
  let until = ctx.now;
  let offset = 0;
  let selectRaw = params.get('$select');
  if (skipToken !== null) {
    const t = decodeToken(skipToken, '$skiptoken');
    since = typeof t.since === 'number' ? t.since : undefined;
    until = Number(t.until);
    offset = Number(t.offset);
    selectRaw = typeof t.select === 'string' ? t.select : null;
  } else if (deltaToken !== null) {
    const t = decodeToken(deltaToken, '$deltatoken');
    since = Number(t.since);
    selectRaw = typeof t.select === 'string' ? t.select : null;
  }
  const select = parseSelect(selectRaw);
  const pageSize = maxPageSize(ctx.headers.prefer) ?? ctx.pageSizes.delta;
  const users = ctx.directory.changedUsers(since, until, ctx.now);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.baseUrl}/$metadata#users(${select.join(',')})`,
    value: users.slice(offset, offset + pageSize).map((u) => ('@removed' in u ? u : project(u, select))),
  };
  const selectText = select.join(',');
  if (offset + pageSize < users.length) {
    const token = encodeToken({ since, until, offset: offset + pageSize, select: selectText });
    body['@odata.nextLink'] = `${ctx.baseUrl}/users/delta?$skiptoken=${token}`;
  } else {
    body['@odata.deltaLink'] = `${ctx.baseUrl}/users/delta?$deltatoken=${encodeToken({ since: until, select: selectText })}`;
  }
  return body;
}

/** Graph writes system query options with a bare `$` and percent-encoded values. */
function odataQuery(params: URLSearchParams): string {
  return [...params].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

function maxPageSize(prefer: string | string[] | undefined): number | undefined {
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  const match = /odata\.maxpagesize=(\d+)/i.exec(text);
  const size = match ? Number(match[1]) : NaN;
  return Number.isInteger(size) && size > 0 ? size : undefined;
}
