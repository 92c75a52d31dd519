/**
 * Hostile values in every HR attribute and every Graph field Dialtone reads, through the whole
 * pipeline (correlate, plan, the worker and the Teams stand-in, record): quotes, `$()`, backticks,
 * `;`, newlines, NUL, bidi controls, 10 KB and 40 KB values. Each run must end with the person
 * provisioned as the policy says (the value was only data) or with a dead letter whose
 * description names the field; nothing of the value may appear in Teams, no other person may be
 * touched (no OData or PowerShell injection), and the run never crashes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hrEvent, inputs, played, teamsOf, tenantWith, user } from '../integration/sandbox-fixtures.js';

const ANNA = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';
const DECOY = '3b7d1c9e-0d2a-4c55-8d0e-000000000199';

const hostilePieces = [
  "'",
  '"',
  "' or 1 eq 1 or '",
  '$(Remove-CsPhoneNumberAssignment -Identity x -RemoveAll)',
  '`whoami`',
  '; Grant-CsTenantDialPlan -PolicyName Evil',
  '\n{"cmdlet":"Remove-CsPhoneNumberAssignment"}\n',
  '\r\n',
  '\u0000',
  '\u202e\u2066evil\u2069',
  '@{a=1}',
  '%24%28x%29',
  '<script>alert(1)</script>',
];

const hostile = fc.oneof(
  fc.constantFrom(...hostilePieces),
  fc.array(fc.constantFrom(...hostilePieces), { minLength: 2, maxLength: 5 }).map((parts) => parts.join('x')),
  fc.constantFrom(10 * 1024, 40 * 1024).chain((size) => fc.constantFrom(...hostilePieces).map((p) => p.repeat(Math.ceil(size / p.length)).slice(0, size))),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
);

const HR_FIELDS = ['displayName', 'department', 'jobTitle', 'mail', 'costCentre', 'employeeId'] as const;
const GRAPH_FIELDS = ['displayName', 'department', 'jobTitle', 'mail'] as const;

async function runWith(field: { where: 'hr' | 'graph'; name: string }, value: string) {
  const anna = user(ANNA, 'anna@contoso.example', 'E1001', field.where === 'graph' ? { [field.name]: value } : {});
  const decoy = user(DECOY, 'decoy@contoso.example', 'E9999');
  const person: Record<string, unknown> = { employeeId: 'E1001', userPrincipalName: 'anna@contoso.example', site: 'AMS', departmentId: 'DEPT001' };
  if (field.where === 'hr') person[field.name] = value;
  const eventLines = [hrEvent('evt-hostile', 'joiner', '2026-11-02T08:00:00Z', person)];
  return played(inputs({ tenant: tenantWith([anna, decoy]), eventLines }), { storage: 'memory' });
}

describe('hostile values in HR attributes and Graph fields', () => {
  it('flow as data or are rejected naming the field; never reach Teams, never touch anyone else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(...HR_FIELDS).map((name) => ({ where: 'hr' as const, name })),
          fc.constantFrom(...GRAPH_FIELDS).map((name) => ({ where: 'graph' as const, name })),
        ),
        hostile,
        async (field, value) => {
          const { report } = await runWith(field, value);
          const anna = teamsOf(report, ANNA);
          const decoy = teamsOf(report, DECOY);
          // Nobody else was touched: no injected filter or cmdlet reached the decoy.
          expect(decoy.enterpriseVoiceEnabled).toBe(false);
          expect(decoy.lineUri).toBeNull();
          // Nothing of the value reached the Teams tenant.
          const teamsText = JSON.stringify(report.users.map((u) => u.teams));
          if (value.length >= 4) expect(teamsText.includes(JSON.stringify(value).slice(1, -1))).toBe(false);
          const dead = report.deadLetters.filter((d) => JSON.stringify(d.body).includes(ANNA) || JSON.stringify(d.body).includes('evt-hostile'));
          if (anna.lineUri) {
            expect(anna.enterpriseVoiceEnabled).toBe(true);
            expect(anna.lineUri).toMatch(/^tel:\+31\d+$/);
          } else {
            // Rejected: a dead letter that says which field (or stored property) was refused.
            expect(dead.length, `no phone and no dead letter for ${field.where}.${field.name}`).toBeGreaterThan(0);
            expect(dead.some((d) => d.description.includes(field.name) || /property 'person'/.test(d.description))).toBe(true);
          }
        },
      ),
      { numRuns: 12, seed: 20261201, endOnFailure: true },
    );
  }, 600_000);
});
