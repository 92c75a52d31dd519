/**
 * Graph JSON batching (`POST /v1.0/$batch`): the request envelope, checked as Graph checks it.
 * At most 20 requests; each needs a unique id (compared without case), a method and a URL
 * relative to the version (`/users/…`, not `https://graph.microsoft.com/v1.0/users/…`); a body
 * needs a Content-Type header; dependsOn must name ids of the same batch.
 */
import { GraphSimError } from './responses.js';

/** Graph's documented limit of requests in one batch. */
export const MAX_BATCH_REQUESTS = 20;

export interface BatchRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function parseBatch(body: unknown): BatchRequest[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The batch request body must be a JSON object with a requests array.');
  const list = (body as { requests?: unknown }).requests;
  if (!Array.isArray(list) || list.length === 0) throw bad("The batch request must contain a non-empty 'requests' array.");
  if (list.length > MAX_BATCH_REQUESTS) throw bad(`The batch contains ${list.length} requests; the limit is ${MAX_BATCH_REQUESTS}.`);
  const seen = new Set<string>();
  const requests = list.map((raw, index): BatchRequest => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`requests[${index}] must be an object.`);
    const r = raw as Record<string, unknown>;
    const id = r.id;
    if (typeof id !== 'string' || id.trim() === '') throw bad(`requests[${index}].id is required.`);
    if (seen.has(id.toLowerCase())) throw bad(`Batch request ids must be unique; '${id}' is used twice.`);
    seen.add(id.toLowerCase());
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!methods.includes(method)) throw bad(`requests[${index}].method must be one of ${methods.join(', ')}.`);
    const url = r.url;
    if (typeof url !== 'string' || url.trim() === '') throw bad(`requests[${index}].url is required.`);
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || /^\/?(v1\.0|beta)\//i.test(url)) {
      throw bad(`requests[${index}].url must be relative to the version, such as /users/{id}, not '${url.slice(0, 80)}'.`);
    }
    if (/\$batch/i.test(url)) throw bad('A batch request cannot contain another batch request.');
    const headers = r.headers === undefined ? {} : r.headers;
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
      throw bad(`requests[${index}].headers must be an object of strings.`);
    }
    if (r.body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      throw bad(`requests[${index}] has a body and must have a Content-Type header.`);
    }
    const dependsOn = r.dependsOn === undefined ? [] : r.dependsOn;
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string')) throw bad(`requests[${index}].dependsOn must be an array of ids.`);
    return { id, method, url, headers: headers as Record<string, string>, body: r.body, dependsOn: dependsOn as string[] };
  });
  const byId = new Map(requests.map((r) => [r.id.toLowerCase(), r]));
  for (const r of requests) {
    for (const dep of r.dependsOn) {
      if (!byId.has(dep.toLowerCase())) throw bad(`Request '${r.id}' depends on '${dep}', which is not in the batch.`);
    }
  }
  // A cycle can never run.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (r: BatchRequest): void => {
    const key = r.id.toLowerCase();
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') throw bad(`The dependsOn of request '${r.id}' forms a cycle.`);
    state.set(key, 'visiting');
    for (const dep of r.dependsOn) visit(byId.get(dep.toLowerCase()) as BatchRequest);
    state.set(key, 'done');
  };
  requests.forEach(visit);
  // Ids compare without case: dependsOn names are normalised to the request's own id.
  return requests.map((r) => ({ ...r, dependsOn: r.dependsOn.map((d) => (byId.get(d.toLowerCase()) as BatchRequest).id) }));
}

export function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function bad(message: string): GraphSimError {
  return new GraphSimError(400, 'BadRequest', message);
}
