import type { DirectoryUser, HrPerson } from '../../shared/contracts/messages.js';
import { evaluatePolicy, mergeAttributes, type PolicyCatalogSnapshot, type VoicePolicy } from '../../shared/domain/policy.js';
import type { PoolDefinition } from '../../shared/domain/numbers.js';
import type { ChaosPerson } from './population.js';
import type { RotationRecord } from './rotation.js';
import { sameThumbprint } from '../../shared/domain/setup.js';
import { DELIVERY_DEADLINE_MS, SLOW_DELIVERY_MS, type DeliveryMetrics } from '../../sandbox/graph-sim/notifications.js';

/** What the certificate rotation left: the rotation's attempts, the workers' reports and sessions, Entra's verdict on every connect. */
export interface ObservedCertificates {
  rotation: RotationRecord;
  /** Workers running at the end. */
  workers: number;
  /** Reports of workers that reported recently (running ones), at the end. */
  liveReports: { workerId: string; thumbprint: string }[];
  /** The thumbprint of each Teams session still connected at the end. */
  connectedThumbprints: (string | undefined)[];
  /** Every Connect-MicrosoftTeams Entra checked, with sandbox time. */
  connects: { atMs: number; thumbprint: string; trusted: boolean }[];
  /** The thumbprints of the key credentials the app holds at the end. */
  appKeys: string[];
}

/** A secret the run must never write anywhere, by name (never printed). */
export interface Secret {
  name: string;
  value: string;
  /** Base64 secrets (a PFX): any 48 characters of it count as a leak, unless they are also public (a certificate's public part). */
  fragments?: boolean;
}

/** What the run ended in, gathered from the sandbox: the invariants read only this. */
export interface Observed {
  people: ChaosPerson[];
  /** The tenant's Entra changes (sandbox ms since the epoch), each by person, and whether Graph notified it. */
  directoryChanges?: { atMs: number; userId: string; notify: boolean }[];
  /** Each person's plan lines in their history: when (the instance's clock) and what caused them. */
  plans?: Map<string, { atMs: number; source: string }[]>;
  /** Each person as Teams holds them at the end. */
  teams: Map<string, { enterpriseVoiceEnabled: boolean; lineUri: string | null; policies: Record<string, string | null> }>;
  /** Every number assignment Teams holds (number without tel:, holder's object id). */
  assignments: { number: string; userId: string }[];
  inventory: { number: string; pool: string; state: string; userId: string | null }[];
  deadLetters: { queue: string; reason: string; description: string; eventId: string | undefined }[];
  /** Event ids the provisioning records mention (completed or logged stale). */
  recordedEventIds: Set<string>;
  /** HR inputs: every event id sent, with the ones sent twice. */
  inputEventIds: string[];
  /** Messages still active, locked or scheduled on any queue at the end. */
  leftOnQueues: number;
  faults: Record<string, number>;
  retries: Record<string, number>;
  policy: VoicePolicy;
  catalog: PolicyCatalogSnapshot;
  pools: PoolDefinition[];
  certificates?: ObservedCertificates;
  /**
   * Why the certificate invariants do not apply to this run (the graph Teams backend runs no
   * worker): they are then reported as not applicable, neither passed nor failed.
   */
  certificatesNotApplicable?: string;
  /** Everything the run wrote that a log store, an operator or a report reader sees. */
  written?: { where: string; text: string }[];
  secrets?: Secret[];
  /** Public base64 material (certificates) that a secret's fragment may share. */
  publicMaterial?: string[];
}

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
  /** false when the run has nothing this invariant is about (it is then `ok`, and its detail says why it does not apply). */
  applies?: false;
}

/** The names of the certificate invariants, in order (they are reported even where they do not apply). */
export const certificateInvariantNames = ['every worker session ended on the new certificate', 'no command failed for a certificate reason after the overlap'] as const;

/** Dead-letter reasons that tell an operator what to do; broker reasons (max deliveries, expiry) do not. */
const NOT_ACTIONABLE = new Set(['', 'MaxDeliveryCountExceeded', 'TTLExpiredException', 'Unspecified']);

const bare = (name: string | null | undefined): string | null => (name ? name.replace(/^tag:/i, '').toLowerCase() : null);

/** The policy's answer for a person's newest truth: no voice, or voice with a pool and policies. */
export function expectedFor(person: ChaosPerson, policy: VoicePolicy, catalog: PolicyCatalogSnapshot):
  | { voice: false; why: string }
  | { voice: true; pool: string | null; enterpriseVoice: boolean; policies: Record<string, string | null> } {
  const t = person.truth;
  if (t.deleted) return { voice: false, why: 'deleted from Entra' };
  if (t.left) return { voice: false, why: 'left (HR leaver)' };
  if (!t.licensed) return { voice: false, why: 'Teams Phone licence removed' };
  const entra: DirectoryUser = {
    id: person.id,
    userPrincipalName: person.userPrincipalName,
    employeeId: person.employeeId,
    jobTitle: t.jobTitle,
    officeLocation: t.officeLocation,
    department: 'Sales',
    accountEnabled: true,
    usageLocation: 'NL',
    assignedPlans: [],
  };
  const decision = evaluatePolicy(policy, mergeAttributes(entra, t.hr as HrPerson), catalog);
  if (decision.kind === 'no-voice') return { voice: false, why: `policy rule ${decision.rule ?? 'defaults'}` };
  if (decision.kind === 'error') return { voice: false, why: `policy error ${decision.code}` };
  return { voice: true, pool: decision.numberPool, enterpriseVoice: decision.enterpriseVoice, policies: { ...decision.policies } as Record<string, string | null> };
}

function inPool(number: string, pool: PoolDefinition | undefined): boolean {
  if (!pool) return false;
  const digits = BigInt(number.replace(/^tel:/i, '').replace(/^\+/, '').split(';')[0] ?? '0');
  return pool.ranges.some((r) => digits >= BigInt(r.from.replace(/^\+/, '')) && digits <= BigInt(r.to.replace(/^\+/, '')));
}

const sample = (list: string[], n = 5): string => (list.length <= n ? list.join('; ') : `${list.slice(0, n).join('; ')}; … ${list.length - n} more`);

/** Every invariant of the chaos run, each with what it found. Pure: the same observation, the same answer. */
export function checkInvariants(o: Observed): Invariant[] {
  const out: Invariant[] = [];

  // 1. Every input accounted for.
  const deadById = new Map<string, { reason: string; description: string }>();
  for (const d of o.deadLetters) if (d.eventId) deadById.set(d.eventId, d);
  const lost: string[] = [];
  const unactionable: string[] = [];
  let completed = 0;
  let dead = 0;
  for (const id of new Set(o.inputEventIds)) {
    const d = deadById.get(id);
    if (o.recordedEventIds.has(id)) completed += 1;
    else if (d) {
      dead += 1;
      if (NOT_ACTIONABLE.has(d.reason) || d.description.trim() === '') unactionable.push(`${id}: ${d.reason || '(no reason)'}`);
    } else lost.push(id);
  }
  const otherDead = o.deadLetters.filter((d) => !d.eventId || !o.inputEventIds.includes(d.eventId));
  for (const d of otherDead) if (NOT_ACTIONABLE.has(d.reason) || d.description.trim() === '') unactionable.push(`[${d.queue}] ${d.reason || '(no reason)'}`);
  out.push({
    name: 'every input accounted for',
    ok: lost.length === 0 && unactionable.length === 0 && o.leftOnQueues === 0,
    detail:
      `${new Set(o.inputEventIds).size} HR events: ${completed} completed or logged stale, ${dead} dead-lettered with a reason` +
      (otherDead.length > 0 ? `, ${otherDead.length} other dead letters` : '') +
      `; lost ${lost.length}${lost.length ? ` (${sample(lost)})` : ''}; not actionable ${unactionable.length}${unactionable.length ? ` (${sample(unactionable)})` : ''}; ${o.leftOnQueues} messages left on the queues`,
  });

  // 2. Final Teams state equals the policy's answer for the newest truth.
  const wrong: string[] = [];
  const poolById = new Map(o.pools.map((p) => [p.id, p]));
  for (const person of o.people) {
    const want = expectedFor(person, o.policy, o.catalog);
    const have = o.teams.get(person.id) ?? { enterpriseVoiceEnabled: false, lineUri: null, policies: {} };
    if (!want.voice) {
      if (have.enterpriseVoiceEnabled || have.lineUri) wrong.push(`${person.userPrincipalName} (${want.why}) has ${have.lineUri ?? 'Enterprise Voice'}`);
      continue;
    }
    if (have.enterpriseVoiceEnabled !== want.enterpriseVoice) wrong.push(`${person.userPrincipalName}: Enterprise Voice ${have.enterpriseVoiceEnabled}, policy says ${want.enterpriseVoice}`);
    if (want.pool !== null && !(have.lineUri && inPool(have.lineUri, poolById.get(want.pool)))) wrong.push(`${person.userPrincipalName}: ${have.lineUri ?? 'no number'}, policy says a ${want.pool} number`);
    for (const [type, name] of Object.entries(want.policies)) {
      if (bare(have.policies[type]) !== bare(name)) wrong.push(`${person.userPrincipalName}: ${type} ${have.policies[type] ?? 'Global'}, policy says ${name ?? 'Global'}`);
    }
  }
  out.push({
    name: "each person's Teams state is the policy's answer for their newest truth",
    ok: wrong.length === 0,
    detail: wrong.length === 0 ? `${o.people.length} of ${o.people.length} people as the policy says` : `${wrong.length} differ: ${sample(wrong)}`,
  });

  // 3. No number on two people; no person with two numbers (Teams and the inventory).
  const holders = new Map<string, Set<string>>();
  const numbersOf = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, v: string) => m.set(k, (m.get(k) ?? new Set()).add(v));
  for (const a of o.assignments) {
    add(holders, a.number, a.userId);
    add(numbersOf, a.userId, a.number);
  }
  const invHeld = o.inventory.filter((n) => n.userId && (n.state === 'assigned' || n.state === 'reserved'));
  const invNumbersOf = new Map<string, Set<string>>();
  for (const n of invHeld) add(invNumbersOf, n.userId as string, n.number);
  const shared = [...holders].filter(([, s]) => s.size > 1).map(([n, s]) => `${n} on ${[...s].join(' and ')}`);
  out.push({ name: 'no number on two people', ok: shared.length === 0, detail: shared.length === 0 ? `${holders.size} numbers assigned in Teams, each to one person` : sample(shared) });
  const doubled = [...numbersOf, ...invNumbersOf].filter(([, s]) => s.size > 1).map(([u, s]) => `${u} holds ${[...s].join(', ')}`);
  out.push({ name: 'no person with two numbers', ok: doubled.length === 0, detail: doubled.length === 0 ? 'nobody holds two numbers in Teams or in the inventory' : sample(doubled) });

  // 4. Inventory agrees with Teams (for numbers of Dialtone's pools).
  const ours = (n: string) => o.pools.some((p) => inPool(n, p));
  const teamsHolder = new Map(o.assignments.filter((a) => ours(a.number)).map((a) => [a.number, a.userId]));
  const disagree: string[] = [];
  for (const n of o.inventory) {
    const t = teamsHolder.get(n.number);
    if (n.state === 'assigned' && t !== n.userId) disagree.push(`${n.number}: inventory assigned to ${n.userId}, Teams ${t ?? 'nobody'}`);
    if (n.state !== 'assigned' && t !== undefined) disagree.push(`${n.number}: inventory ${n.state}, Teams has it on ${t}`);
  }
  for (const [number, userId] of teamsHolder) if (!o.inventory.some((n) => n.number === number)) disagree.push(`${number} on ${userId} in Teams, unknown to the inventory`);
  const reserved = o.inventory.filter((n) => n.state === 'reserved').length;
  out.push({
    name: 'inventory agrees with Teams',
    ok: disagree.length === 0,
    detail: disagree.length === 0 ? `${teamsHolder.size} assigned numbers agree; ${reserved} reserved, none in Teams` : `${disagree.length} disagree: ${sample(disagree)}`,
  });

  // 5. No leaver (or deleted, or unlicensed person) with voice or a number.
  const leavers = o.people.filter((p) => p.truth.left || p.truth.deleted || !p.truth.licensed);
  const withVoice = leavers.filter((p) => {
    const t = o.teams.get(p.id);
    return t?.enterpriseVoiceEnabled || t?.lineUri || o.assignments.some((a) => a.userId === p.id) || invHeld.some((n) => n.userId === p.id);
  });
  out.push({
    name: 'no leaver with voice',
    ok: withVoice.length === 0,
    detail: withVoice.length === 0 ? `${leavers.length} leavers, deleted or unlicensed people: none has voice or holds a number` : sample(withVoice.map((p) => p.userPrincipalName)),
  });

  // 5b. Every Entra change noticed, one change at a time.
  const noticed = everyDirectoryChangeNoticed(o);
  if (noticed) out.push(noticed);

  // 6. Faults and retries counted: the run proves something only if faults fired and were retried.
  const faults = Object.values(o.faults).reduce((a, b) => a + b, 0);
  const retries = Object.values(o.retries).reduce((a, b) => a + b, 0);
  if (o.certificates) out.push(...certificateInvariants(o.certificates, o.deadLetters));
  else if (o.certificatesNotApplicable !== undefined) {
    for (const name of certificateInvariantNames) out.push({ name, ok: true, applies: false, detail: `does not apply: ${o.certificatesNotApplicable}` });
  }
  if (o.written && o.secrets) out.push(secretScan(o.written, o.secrets, o.publicMaterial ?? []));

  out.push({
    name: 'retries and faults counted',
    ok: faults > 0 && retries > 0,
    detail: `${faults} faults injected, ${retries} retries (${Object.entries(o.retries).map(([k, v]) => `${k} ${v}`).join(', ')})`,
  });
  return out;
}

const CERTIFICATE_FAILURE = /CertificateInvalid|AADSTS700027|AADSTS700024|invalid signature/i;

function certificateInvariants(c: ObservedCertificates, deadLetters: Observed['deadLetters']): Invariant[] {
  const r = c.rotation;
  const next = r.newThumbprint;
  const onNew = (t: string | undefined) => next !== undefined && t !== undefined && t.toUpperCase() === next.toUpperCase();
  const problems: string[] = [];
  if (!r.completed) problems.push(`the rotation did not complete in ${r.attempts.length} attempt(s): ${r.attempts.at(-1)?.items.filter((i) => i.status === 'failed').map((i) => i.detail).join('; ') ?? 'never started'}`);
  if (r.oldRemovedAt === undefined) problems.push(`the old key credential ${r.oldThumbprint} was not removed (the app holds ${c.appKeys.join(', ') || 'no key'})`);
  if (!c.appKeys.some((k) => onNew(k))) problems.push(`the app does not hold the new key (it holds ${c.appKeys.join(', ') || 'no key'})`);
  const behind = c.liveReports.filter((w) => !onNew(w.thumbprint));
  if (behind.length > 0) problems.push(`${behind.length} running worker(s) report another certificate (${sample(behind.map((w) => `${w.workerId}: ${w.thumbprint}`))})`);
  if (c.liveReports.length < c.workers) problems.push(`${c.liveReports.length} of ${c.workers} running workers reported recently`);
  const oldSessions = c.connectedThumbprints.filter((t) => !onNew(t));
  if (oldSessions.length > 0) problems.push(`${oldSessions.length} Teams session(s) still connected with another certificate (${sample(oldSessions.map((t) => t ?? 'unknown'))})`);
  const afterRemoval = r.oldRemovedAt === undefined ? [] : c.connects.filter((x) => x.atMs >= r.oldRemovedAt!);
  // After the old key went, no connect used it (a rotation run again may have moved on to a newer version since).
  const oldAfter = afterRemoval.filter((x) => sameThumbprint(x.thumbprint, r.oldThumbprint));
  if (oldAfter.length > 0) problems.push(`${oldAfter.length} connect(s) after the old key was removed still used it`);
  const attempts = r.attempts.map((a) => a.items.find((i) => i.status === 'failed')?.kind ?? 'done').join(', ');
  if (problems.length > 0) problems.push(`attempts: ${r.attempts.map((a) => a.items.map((i) => `${i.kind} ${i.status}`).join(' > ')).join(' | ')}`);
  const rotation: Invariant = {
    name: certificateInvariantNames[0],
    ok: problems.length === 0,
    detail:
      problems.length > 0
        ? problems.join('; ')
        : `rotated to ${next} in ${r.attempts.length} attempt(s) (${attempts}); ${c.liveReports.length} running workers report it, ${c.connectedThumbprints.length} connected Teams sessions use it, ${afterRemoval.length} connects after the old key was removed, none with it`,
  };
  const refused = c.connects.filter((x) => !x.trusted);
  const certDead = deadLetters.filter((d) => CERTIFICATE_FAILURE.test(`${d.reason} ${d.description}`));
  const overlapEnd = r.oldRemovedAt;
  const failures: Invariant = {
    name: certificateInvariantNames[1],
    ok: refused.length === 0 && certDead.length === 0,
    detail:
      refused.length === 0 && certDead.length === 0
        ? `${c.connects.length} connects, none refused by Entra (${c.connects.filter((x) => overlapEnd !== undefined && x.atMs >= overlapEnd).length} after the overlap); no dead letter for a certificate reason`
        : `${refused.length} connect(s) refused by Entra (${sample(refused.map((x) => `${new Date(x.atMs).toISOString()} ${x.thumbprint}`))}); ${certDead.length} dead letter(s) for a certificate reason (${sample(certDead.map((d) => `${d.reason}: ${d.description.slice(0, 120)}`))})`,
  };
  return [rotation, failures];
}

const PRIVATE_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/-]{8,}/i;
const BASE64_RUN = /[A-Za-z0-9+/]{48,}={0,2}/g;
const WINDOW = 48;

/** Whether `run` (a base64 run found in the text) is a piece of `secret` and not of public material. */
function fragmentOf(run: string, secret: string, publicMaterial: readonly string[]): boolean {
  for (let at = 0; at + WINDOW <= run.length; at += WINDOW) {
    const window = run.slice(at, at + WINDOW);
    if (secret.includes(window) && !publicMaterial.some((p) => p.includes(window))) return true;
  }
  return false;
}

/** No secret (certificate bytes, private key, password, client state, bearer token) in anything the run wrote. */
export function secretScan(written: readonly { where: string; text: string }[], secrets: readonly Secret[], publicMaterial: readonly string[]): Invariant {
  const found: string[] = [];
  const whole = secrets.filter((s) => !s.fragments && s.value !== '');
  const pieces = secrets.filter((s) => s.fragments);
  for (const w of written) {
    if (PRIVATE_KEY.test(w.text)) found.push(`${w.where}: a PEM private key`);
    if (BEARER.test(w.text)) found.push(`${w.where}: a bearer token`);
    for (const s of whole) if (w.text.includes(s.value)) found.push(`${w.where}: ${s.name}`);
    if (pieces.length > 0) {
      for (const run of w.text.match(BASE64_RUN) ?? []) {
        for (const s of pieces) if (fragmentOf(run, s.value, publicMaterial)) found.push(`${w.where}: bytes of ${s.name}`);
      }
    }
  }
  const lines = written.filter((w) => w.where.startsWith('log')).length;
  return {
    name: 'no certificate, key or secret in any log line, report or dead letter',
    ok: found.length === 0,
    detail:
      found.length === 0
        ? `${lines} log lines, ${written.length - lines} reports and dead-letter descriptions scanned for ${secrets.length} secrets (${[...new Set(secrets.map((s) => s.name.replace(/ \d+$/, '')))].join(', ')}), PEM private keys and bearer tokens: none found`
        : `${found.length} found: ${sample(found)}`,
  };
}

/** What crossing between tenants would leave behind, gathered from a run with several tenants. */
export interface ObservedCrossing {
  /** Each person's tenant (lower case), from the tenant files. */
  tenantOf: Map<string, string>;
  /** Every message put on user-changes, voice-commands(-pwsh) and voice-results about a person: the tenant its body and its session id name. */
  messages: { queue: string; messageId: string; sessionId: string | undefined; userId: string; tenantId: string | undefined }[];
  /** Each tenant's own Teams, inventory and number ranges. */
  tenants: {
    tenantId: string;
    ranges: PoolDefinition['ranges'];
    /** Every number assignment its Teams holds. */
    teamsAssignments: { number: string; userId: string }[];
    /** The people its Teams holds with voice or a line URI (its users only: a person's Teams state is in their own tenant). */
    teamsVoice: string[];
    /** Its inventory's numbers and their holders. */
    inventory: { number: string; userId: string | null }[];
  }[];
  /** Every dead letter about a person, with the tenant the report attributes it to. */
  deadLetters: { queue: string; userId: string; tenantId: string | null | undefined }[];
  /** Each (person, tenant) a log line names together. */
  logs: { where: string; userId: string; tenantId: string }[];
}

/**
 * The 11th invariant of a run with several tenants: nothing of one tenant's person was sent,
 * applied, held, dead-lettered or logged in another tenant. Pure.
 */
export function noCrossing(c: ObservedCrossing): Invariant {
  const found: string[] = [];
  const owner = (userId: string) => c.tenantOf.get(userId);
  let messages = 0;
  for (const m of c.messages) {
    const own = owner(m.userId);
    if (own === undefined) continue;
    messages += 1;
    if (m.tenantId?.toLowerCase() !== own) found.push(`${m.queue} ${m.messageId} about ${m.userId} (tenant ${own}) names tenant ${m.tenantId ?? 'none'}`);
    if (m.sessionId !== undefined && m.sessionId.toLowerCase() !== `${own}:${m.userId}`.toLowerCase()) found.push(`${m.queue} ${m.messageId} about ${m.userId} (tenant ${own}) is on session ${m.sessionId}`);
  }
  const within = (ranges: PoolDefinition['ranges'], n: string) => {
    const v = BigInt(n.replace(/^tel:/i, '').replace(/;ext=.*$/, '').replace(/^\+/, ''));
    return ranges.some((r) => BigInt(r.from.replace(/^\+/, '')) <= v && v <= BigInt(r.to.replace(/^\+/, '')));
  };
  let held = 0;
  for (const t of c.tenants) {
    const others = c.tenants.filter((o) => o.tenantId !== t.tenantId).flatMap((o) => o.ranges);
    for (const a of t.teamsAssignments) {
      held += 1;
      const own = owner(a.userId);
      if (own !== undefined && own !== t.tenantId) found.push(`Teams of ${t.tenantId} assigned ${a.number} to ${a.userId} of tenant ${own}`);
      if (within(others, a.number)) found.push(`Teams of ${t.tenantId} holds another tenant's number ${a.number}`);
    }
    for (const userId of t.teamsVoice) {
      const own = owner(userId);
      if (own !== undefined && own !== t.tenantId) found.push(`Teams of ${t.tenantId} holds voice for ${userId} of tenant ${own}`);
    }
    for (const n of t.inventory) {
      const own = n.userId === null ? undefined : owner(n.userId);
      if (own !== undefined && own !== t.tenantId) found.push(`${t.tenantId}'s inventory has ${n.number} on ${n.userId} of tenant ${own}`);
      if (within(others, n.number)) found.push(`${t.tenantId}'s inventory holds another tenant's number ${n.number}`);
    }
  }
  for (const d of c.deadLetters) {
    const own = owner(d.userId);
    if (own !== undefined && d.tenantId?.toLowerCase() !== own) found.push(`dead letter on ${d.queue} about ${d.userId} (tenant ${own}) attributed to ${d.tenantId ?? 'no tenant'}`);
  }
  for (const l of c.logs) {
    const own = owner(l.userId);
    if (own !== undefined && l.tenantId.toLowerCase() !== own) found.push(`${l.where} about ${l.userId} (tenant ${own}) names tenant ${l.tenantId}`);
  }
  return {
    name: 'no crossing between tenants',
    ok: found.length === 0,
    detail:
      found.length === 0
        ? `${c.tenants.length} tenants, ${c.tenantOf.size} people: ${messages} messages each name their person's tenant and session, ${held} Teams assignments and every inventory number in their own tenant and ranges, ${c.deadLetters.length} dead letters and ${new Set(c.logs.map((l) => l.where)).size} log lines naming a person and a tenant attributed to the person's own`
        : `${found.length} crossings: ${sample(found)}`,
  };
}

/** How far a Function instance's clock may be off the sandbox's in a chaos run (its history lines carry that clock). */
export const INSTANCE_SKEW_MS = 5 * 60_000;

/**
 * Every Entra change was noticed: the person was planned again at or after it, by the change's
 * notification, by the delta resync (a notification lost, or no subscription yet), or by a later
 * HR event, which reads Entra afresh. The final state alone would let a change that was never
 * noticed pass when a later change undid it. A plan line's time is its Function instance's clock,
 * up to INSTANCE_SKEW_MS off. Checked one change at a time; reports which source noticed each first.
 */
function everyDirectoryChangeNoticed(o: Observed): Invariant | undefined {
  if (!o.directoryChanges || !o.plans) return undefined;
  const missed: string[] = [];
  const by: Record<string, number> = {};
  let lostCaught = 0;
  for (const c of o.directoryChanges) {
    const first: { atMs: number; source: string } | undefined = (o.plans.get(c.userId) ?? []).filter((p) => p.atMs >= c.atMs - INSTANCE_SKEW_MS).sort((a, b) => a.atMs - b.atMs)[0];
    if (!first) {
      missed.push(`${c.userId} changed at ${new Date(c.atMs).toISOString()}${c.notify ? '' : ' (notification lost)'}: no plan after it`);
      continue;
    }
    const source = first.source === 'graph' ? 'notification' : first.source;
    by[source] = (by[source] ?? 0) + 1;
    if (!c.notify && first.source !== 'graph') lostCaught += 1;
  }
  const lost = o.directoryChanges.filter((c) => !c.notify).length;
  return {
    name: 'every Entra change was noticed',
    ok: missed.length === 0,
    detail:
      missed.length === 0
        ? `${o.directoryChanges.length} Entra changes, each followed by a plan of its person (first by ${Object.entries(by).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}); ${lostCaught} of the ${lost} with the notification lost caught without it`
        : `${missed.length} of ${o.directoryChanges.length} never noticed: ${sample(missed)}`,
  };
}

/** Each Function's invocations in the run (`Sandbox.functionDurations()`), timed in sandbox time. */
export interface ObservedDurations {
  timeoutMs: number;
  byFunction: Record<string, { invocations: number; longestMs: number; overTimeout: number }>;
}

/**
 * No invocation ran longer than host.json's functionTimeout. Azure would have cancelled it (its
 * messages delivered again, a timer round failed): the sandbox does not cut one off, so a run that
 * passes here is one production's timeout would not have cut short. Run-wide, over every tenant.
 */
export function withinFunctionTimeout(d: ObservedDurations): Invariant {
  const entries = Object.entries(d.byFunction);
  const over = entries.filter(([, f]) => f.overTimeout > 0);
  const invocations = entries.reduce((n, [, f]) => n + f.invocations, 0);
  const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
  const longest = [...entries].sort(([, a], [, b]) => b.longestMs - a.longestMs).slice(0, 3).map(([name, f]) => `${name} ${seconds(f.longestMs)}`);
  return {
    name: "no Function invocation outlasts host.json's functionTimeout",
    ok: over.length === 0 && invocations > 0,
    detail:
      over.length === 0
        ? `${invocations} invocations of ${entries.length} Functions, none over ${seconds(d.timeoutMs)}; the longest: ${longest.join(', ') || 'none'}`
        : `${over.map(([name, f]) => `${name}: ${f.overTimeout} of ${f.invocations} over ${seconds(d.timeoutMs)} (longest ${seconds(f.longestMs)})`).join('; ')}`,
  };
}

/** What each tenant's Graph saw of its deliveries to the webhook (`GraphSimulator.metrics().notifications`). */
export type ObservedDeliveries = Omit<DeliveryMetrics, 'validations'>;

const WEBHOOK_IN_TIME = "the webhook answered every Graph delivery within Graph's 3 s";

/**
 * Graph waits 3 s for the webhook's answer and counts one over 2.9 s as slow (10 % slow throttles
 * the endpoint, 15 % drops notifications): every delivery was answered within 2.9 s of sandbox
 * time, 2xx or not (a 5xx answered in time is sent again). Run-wide, over every tenant's Graph.
 */
export function webhookAnsweredInTime(perTenant: readonly ObservedDeliveries[]): Invariant {
  const sum = (k: keyof ObservedDeliveries) => perTenant.reduce((n, d) => n + d[k], 0);
  const slowest = Math.max(0, ...perTenant.map((d) => d.slowestDeliveryMs));
  const answered = sum('deliveries') + sum('failedDeliveries') - sum('lateDeliveries');
  if (sum('deliveries') + sum('failedDeliveries') === 0) {
    return { name: WEBHOOK_IN_TIME, ok: true, applies: false, detail: 'does not apply: Graph delivered no notification in this run (its changes came before the subscription, or their notifications were lost)' };
  }
  const inTime = sum('slowDeliveries') === 0 && sum('lateDeliveries') === 0;
  const slowAfter = `${SLOW_DELIVERY_MS / 1000} s`;
  return {
    name: WEBHOOK_IN_TIME,
    ok: inTime,
    detail: inTime
      ? `${answered} POSTs answered (${sum('deliveries')} accepted with ${sum('notifications')} notifications, ${sum('failedDeliveries')} refused and sent again by Graph), the slowest in ${slowest} ms, none over ${slowAfter}; ${sum('dropped')} notifications dropped`
      : `POSTs answered after ${slowAfter}: ${sum('slowDeliveries')}, ${sum('lateDeliveries')} of them after ${DELIVERY_DEADLINE_MS / 1000} s (failed by Graph); the slowest in ${slowest} ms`,
  };
}

/**
 * One list from each tenant's invariants, in the order they come: an invariant holds when it holds
 * in every tenant that checks it, and does not apply only when it applies in none (its reason
 * then given once); each detail says which tenant it is about.
 */
export function mergeTenantInvariants(perTenant: readonly { tenantId: string; invariants: readonly Invariant[] }[]): Invariant[] {
  const names: string[] = [];
  for (const t of perTenant) for (const i of t.invariants) if (!names.includes(i.name)) names.push(i.name);
  return names.map((name) => {
    const parts = perTenant.flatMap((t) => t.invariants.filter((i) => i.name === name).map((i) => ({ tenantId: t.tenantId, i })));
    const notApplicable = parts.every((p) => p.i.applies === false);
    const details = [...new Set(parts.map((p) => p.i.detail))];
    // The same detail in every tenant (a run-wide figure, or why it does not apply) is given once.
    const same = details.length === 1 && parts.length === perTenant.length;
    // Checked with one tenant only (the secret scan, over everything the run wrote): run-wide.
    const runWide = parts.length === 1 && perTenant.length > 1;
    return {
      name,
      ok: parts.every((p) => p.i.ok),
      detail: runWide ? parts[0]!.i.detail : same ? (notApplicable || perTenant.length === 1 ? details[0]! : `every tenant: ${details[0]!}`) : parts.map((p) => `tenant ${p.tenantId.slice(0, 8)}: ${p.i.detail}`).join(' | '),
      ...(notApplicable ? { applies: false as const } : {}),
    };
  });
}
