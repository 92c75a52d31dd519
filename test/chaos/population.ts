import type { HrPerson } from '../../shared/contracts/messages.js';
import { timerSchedules } from '../../shared/config/timer-schedules.js';
import { nextOccurrence, parseNcrontab } from '../../shared/domain/ncrontab.js';
import { seededRandom } from '../../sandbox/teams-sim/faults.js';

/**
 * A seeded population for the chaos run: joiners, movers (most of them no-ops), leavers,
 * rehires, licence removals, deletions and Entra changes (some with the notification lost), on
 * an HR timeline and a directory-change schedule, with the truth each person ends in.
 */
export const CHAOS_START = Date.parse('2026-11-02T08:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const scenarioKinds = ['joiner', 'moverNoop', 'moverSite', 'leaver', 'rehire', 'licenceRemoved', 'deleted', 'entraChange'] as const;
export type ScenarioKind = (typeof scenarioKinds)[number];

/** Share of each scenario; movers are mostly no-ops, as in a real HR feed. */
const weights: Record<ScenarioKind, number> = {
  joiner: 30,
  moverNoop: 20,
  moverSite: 8,
  leaver: 10,
  rehire: 6,
  licenceRemoved: 9,
  deleted: 5,
  entraChange: 12,
};

export interface ChaosPerson {
  id: string;
  userPrincipalName: string;
  employeeId: string;
  kind: ScenarioKind;
  /** The newest truth: HR facts, lifecycle and the final Entra state. */
  truth: {
    hr: HrPerson;
    left: boolean;
    licensed: boolean;
    deleted: boolean;
    jobTitle: string;
    officeLocation: string;
  };
}

export interface DirectoryChange {
  atMs: number;
  userId: string;
  set: Record<string, unknown>;
  notify: boolean;
}

export interface Population {
  people: ChaosPerson[];
  users: Record<string, unknown>[];
  hrLines: string[];
  /** HR events sent again after the duplicate-detection window (an HR system resending). */
  duplicates: string[];
  directoryChanges: DirectoryChange[];
  /** Directory changes whose notification is lost (resync must catch them). */
  lostNotifications: number;
  /** Directory changes made before the first graphSubscription round: no subscription, so no notification either. */
  beforeSubscription: number;
  /** Deliberately bad inputs mixed in: lines the pipeline must dead-letter, naming the field. */
  badInputs: { line: string; why: string }[];
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const sites = ['AMS', 'RTM'] as const;
const departments = ['DEPT001', 'DEPT002'] as const;

/**
 * Where a population lives when the run has several tenants (`--tenants N`): its tenant (every HR
 * event names it), and for a tenant after the first its own Entra object ids (unique across
 * tenants, as Entra's are), UPN domain and event ids. Employee ids, UPN local parts, sites and
 * department ids are the same in every tenant, as two real tenants' may be.
 */
export interface PopulationTenant {
  tenantId: string;
  /** 0 for the home tenant (the run's first: ids, UPNs and event ids as with one tenant). */
  index: number;
}

/** The UPN domain of the population of tenant `index`. */
export const tenantDomain = (index: number): string => (index === 0 ? 'contoso.example' : `tenant${index + 1}.example`);

export function buildPopulation(seed: number, size: number, tenant?: PopulationTenant): Population {
  const random = seededRandom(seed * 7919 + 17);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const drawKind = (): ScenarioKind => {
    let r = random() * total;
    for (const kind of scenarioKinds) {
      r -= weights[kind];
      if (r < 0) return kind;
    }
    return 'joiner';
  };
  const people: ChaosPerson[] = [];
  const users: Record<string, unknown>[] = [];
  const hrLines: string[] = [];
  const duplicates: string[] = [];
  const directoryChanges: DirectoryChange[] = [];
  let lost = 0;
  let beforeSubscription = 0;
  const firstSubscription = nextOccurrence(parseNcrontab(timerSchedules.graphSubscription), new Date(CHAOS_START)).getTime();
  // Joiners arrive over two hours; later events follow over the next day.
  const spread = 2 * HOUR;
  const eventPrefix = tenant && tenant.index > 0 ? `t${tenant.index + 1}-` : '';
  for (let i = 0; i < size; i++) {
    const n = i + 1;
    const id = `${String(tenant?.index ?? 0).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const upn = `p${n}@${tenantDomain(tenant?.index ?? 0)}`;
    const employeeId = `C${n}`;
    const kind = drawKind();
    let site: string = pick(sites);
    const departmentId = pick(departments);
    const person = (s: string): HrPerson => ({ employeeId, userPrincipalName: upn, site: s, departmentId });
    const t0 = CHAOS_START + Math.floor((i / Math.max(1, size)) * spread) + Math.floor(random() * 5 * MINUTE);
    const later = (k: number) => t0 + k * (45 * MINUTE + Math.floor(random() * 30 * MINUTE));
    const event = (eventId: string, type: 'joiner' | 'mover' | 'leaver', at: number, p: HrPerson) =>
      JSON.stringify({ eventId: `${eventPrefix}${eventId}`, type, occurredAt: iso(at), person: p, ...(tenant ? { tenantId: tenant.tenantId } : {}) });
    const mine: string[] = [event(`c${n}-join`, 'joiner', t0, person(site))];
    const truth = { hr: person(site), left: false, licensed: true, deleted: false, jobTitle: 'Engineer', officeLocation: site };
    // Entra changes spread over the first 30 hours: some before the first graphSubscription round
    // (12:15, so nobody is notified), most after it; a quarter of them lose their notification.
    const change = (set: Record<string, unknown>) => {
      const at = t0 + HOUR + Math.floor(random() * 30 * HOUR);
      const notify = random() >= 0.25;
      if (!notify) lost += 1;
      if (at < firstSubscription) beforeSubscription += 1;
      directoryChanges.push({ atMs: at - CHAOS_START, userId: id, set, notify });
    };
    switch (kind) {
      case 'joiner':
        break;
      case 'moverNoop':
        mine.push(event(`c${n}-move`, 'mover', later(1), person(site)));
        break;
      case 'moverSite':
        site = site === 'AMS' ? 'RTM' : 'AMS';
        mine.push(event(`c${n}-move`, 'mover', later(1), person(site)));
        truth.hr = person(site);
        break;
      case 'leaver':
        mine.push(event(`c${n}-leave`, 'leaver', later(1), person(site)));
        truth.left = true;
        break;
      case 'rehire':
        mine.push(event(`c${n}-leave`, 'leaver', later(1), person(site)));
        site = pick(sites);
        mine.push(event(`c${n}-rehire`, 'joiner', later(2), person(site)));
        truth.hr = person(site);
        break;
      case 'licenceRemoved':
        change({ servicePlans: ['TEAMS1'] });
        truth.licensed = false;
        break;
      case 'deleted':
        change({ deleted: true });
        truth.deleted = true;
        break;
      case 'entraChange': {
        const jobTitle = random() < 0.5 ? 'Intern (summer)' : 'Senior Engineer';
        change({ jobTitle });
        truth.jobTitle = jobTitle;
        break;
      }
    }
    hrLines.push(...mine);
    // One in ten people has an HR event sent again, hours later (after the 10-minute window).
    if (random() < 0.1) duplicates.push(pick(mine));
    users.push({
      id,
      userPrincipalName: upn,
      mail: upn,
      employeeId,
      displayName: `Person ${n}`,
      department: 'Sales',
      officeLocation: truth.officeLocation,
      jobTitle: 'Engineer',
      accountEnabled: true,
      usageLocation: 'NL',
      servicePlans: ['TEAMS1', 'MCOEV'],
      teams: { enterpriseVoiceEnabled: false, lineUri: null, policies: {} },
    });
    people.push({ id, userPrincipalName: upn, employeeId, kind, truth });
  }
  // The bad inputs go to the home tenant only (naming it when the run has several).
  const named = (line: string): string => (tenant ? JSON.stringify({ ...(JSON.parse(line) as object), tenantId: tenant.tenantId }) : line);
  const badInputs = tenant && tenant.index > 0 ? [] : [
    { line: '{"eventId":"bad-json", "type": "joiner"', why: 'not JSON' },
    { line: named(JSON.stringify({ eventId: 'bad-type', type: 'promotion', occurredAt: iso(CHAOS_START), person: { employeeId: 'C1' } })), why: 'unknown event type' },
    { line: named(JSON.stringify({ eventId: 'bad-date', type: 'joiner', occurredAt: 'yesterday', person: { employeeId: 'C1' } })), why: 'occurredAt not a date' },
    { line: named(JSON.stringify({ eventId: 'bad-person', type: 'joiner', occurredAt: iso(CHAOS_START), person: { employeeId: 'C1', jobTitle: 'x'.repeat(2_000) } })), why: 'attribute over its limit' },
    { line: named(JSON.stringify({ eventId: 'nobody', type: 'joiner', occurredAt: iso(CHAOS_START), person: { employeeId: 'NOBODY', userPrincipalName: 'nobody@contoso.example' } })), why: 'no such person in Entra' },
  ];
  hrLines.push(...badInputs.map((b) => b.line));
  return { people, users, hrLines, duplicates, directoryChanges, lostNotifications: lost, beforeSubscription, badInputs };
}
