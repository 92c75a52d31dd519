import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queueNames, type VoiceCommand } from '../../shared/contracts/messages.js';
import { Sandbox } from '../../sandbox/host/sandbox.js';
import { hrEvent, inputs, tenantWith, user } from '../integration/sandbox-fixtures.js';

/**
 * Random interleavings of joiner / mover / leaver / rehire / Entra change / licence removal /
 * replay for three people, on fixed seeds: each person must end in the desired state of their
 * newest truth, and no number may be on two people.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-11-02T08:00:00Z');
const sites = ['AMS', 'RTM'] as const;
type Site = (typeof sites)[number];
const prefix: Record<Site, string> = { AMS: 'tel:+312012340', RTM: 'tel:+311012345' };

type Op =
  | { kind: 'mover'; site: Site }
  | { kind: 'leaver' }
  | { kind: 'rehire'; site: Site }
  | { kind: 'entra' }
  | { kind: 'licence' }
  | { kind: 'replayHr' }
  | { kind: 'replayCommand' };

const siteArb = fc.constantFrom(...sites);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  siteArb.map((site) => ({ kind: 'mover' as const, site })),
  fc.constant({ kind: 'leaver' as const }),
  siteArb.map((site) => ({ kind: 'rehire' as const, site })),
  fc.constant({ kind: 'entra' as const }),
  fc.constant({ kind: 'licence' as const }),
  fc.constant({ kind: 'replayHr' as const }),
  fc.constant({ kind: 'replayCommand' as const }),
);
const personArb = fc.record({ site: siteArb, offsetHours: fc.integer({ min: 0, max: 20 }), ops: fc.array(opArb, { minLength: 2, maxLength: 6 }) });
const scenarioArb = fc.array(personArb, { minLength: 3, maxLength: 3 });
type Person = { site: Site; offsetHours: number; ops: Op[] };

const idOf = (i: number) => `00000000-0000-4000-8000-00000000d00${i}`;
const upnOf = (i: number) => `person${i}@contoso.example`;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

interface Expected {
  voice: boolean;
  site: Site;
}

interface Built {
  hrLines: string[];
  late: string[];
  changes: { atMs: number; userId: string; set: Record<string, unknown>; notify: boolean }[];
  replayCommandOf: Set<string>;
  expected: Map<string, Expected>;
}

function build(people: Person[]): Built {
  const hrLines: string[] = [];
  const late: string[] = [];
  const changes: Built['changes'] = [];
  const replayCommandOf = new Set<string>();
  const expected = new Map<string, Expected>();
  people.forEach((p, i) => {
    const id = idOf(i);
    const person = (site: Site) => ({ employeeId: `E${i}`, userPrincipalName: upnOf(i), site, departmentId: 'DEPT001' });
    const at = (k: number) => START + k * DAY + p.offsetHours * HOUR + i * 60_000;
    const sent: string[] = [hrEvent(`p${i}-0`, 'joiner', iso(at(0)), person(p.site))];
    let site: Site = p.site;
    let left = false;
    let licensed = true;
    p.ops.forEach((op, k) => {
      const t = at(k + 1);
      const eventId = `p${i}-${k + 1}`;
      switch (op.kind) {
        case 'mover':
          site = op.site;
          sent.push(hrEvent(eventId, 'mover', iso(t), person(site)));
          break;
        case 'leaver':
          left = true;
          sent.push(hrEvent(eventId, 'leaver', iso(t), person(site)));
          break;
        case 'rehire':
          left = false;
          site = op.site;
          sent.push(hrEvent(eventId, 'joiner', iso(t), person(site)));
          break;
        case 'entra':
          changes.push({ atMs: t - START, userId: id, set: { jobTitle: `Title ${k}` }, notify: true });
          break;
        case 'licence':
          licensed = false;
          changes.push({ atMs: t - START, userId: id, set: { servicePlans: ['TEAMS1'] }, notify: true });
          break;
        case 'replayHr': {
          // An earlier HR event arrives again, late (a dead letter replayed, an HR system resending).
          const earlier = sent[(k * 7) % sent.length];
          if (earlier) late.push(earlier);
          break;
        }
        case 'replayCommand':
          replayCommandOf.add(id);
          break;
      }
    });
    hrLines.push(...sent);
    expected.set(id, { voice: !left && licensed, site });
  });
  return { hrLines, late, changes, replayCommandOf, expected };
}

async function play(built: Built, people: number) {
  const tenant = tenantWith(Array.from({ length: people }, (_, i) => user(idOf(i), upnOf(i), `E${i}`)), { directoryChanges: built.changes });
  const sandbox = await Sandbox.start(inputs({ tenant, eventLines: built.hrLines }), { storage: 'memory' });
  try {
    await sandbox.enqueueEvents(built.hrLines);
    await sandbox.runUntilQuiet();
    // Late arrivals and replays, after everything newer was applied.
    await sandbox.enqueueEvents(built.late);
    const sender = sandbox.bus.createSender(queueNames.voiceCommands);
    for (const userId of built.replayCommandOf) {
      const first = sandbox.sent.find((s) => s.queue === queueNames.voiceCommands && (s.message.body as VoiceCommand).userId === userId);
      if (first) {
        await sender.sendMessages({ ...first.message, messageId: `${String(first.message.messageId)}#replay1`, applicationProperties: { 'dialtone-replay-count': 1 } });
      }
    }
    await sandbox.runUntilQuiet();
    return await sandbox.report();
  } finally {
    await sandbox.stop();
  }
}

describe('property: every person ends in the desired state of their newest truth', () => {
  it('holds for random interleavings of joiner, mover, leaver, rehire, Entra change, licence removal and replay (fixed seeds)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (people) => {
        const built = build(people);
        const report = await play(built, people.length);
        const lineUris = report.users.map((u) => u.teams.lineUri).filter((l): l is string => l !== null);
        expect(new Set(lineUris).size).toBe(lineUris.length);
        for (const [id, want] of built.expected) {
          const teams = report.users.find((u) => u.id === id)?.teams;
          const held = report.numbers.filter((n) => n.userId === id && (n.state === 'assigned' || n.state === 'reserved'));
          if (want.voice) {
            expect(teams?.enterpriseVoiceEnabled, `${id} should have voice`).toBe(true);
            expect(teams?.lineUri?.startsWith(prefix[want.site]), `${id} should have a ${want.site} number, has ${teams?.lineUri}`).toBe(true);
            expect(held.map((n) => `tel:${n.number}`)).toEqual([teams?.lineUri]);
          } else {
            expect(teams, `${id} should have no voice`).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
            expect(held, `${id} should hold no number`).toEqual([]);
          }
        }
        const assigned = report.numbers.filter((n) => n.state === 'assigned');
        expect(new Set(assigned.map((n) => n.userId)).size).toBe(assigned.length);
      }),
      { seed: 20261201, numRuns: 6, endOnFailure: true },
    );
  }, 300_000);
});
