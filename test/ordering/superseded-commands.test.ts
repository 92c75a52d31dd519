import { describe, expect, it } from 'vitest';
import { SandboxSession } from '../../cli/sandbox-session.js';
import { queueNames } from '../../shared/contracts/messages.js';
import { tenantWith, user } from '../integration/sandbox-fixtures.js';
import { dialtone, numbersFile, sandboxRun, stateDir, writeEvents, writeJson } from './sandbox-cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const U1 = '00000000-0000-4000-8000-0000000000c3';
const carla = { employeeId: 'E1', userPrincipalName: 'carla@contoso.example', site: 'AMS', departmentId: 'DEPT001' };

const tmp = useTempDir('dialtone-superseded-');

/**
 * The joiner's command never ran (no worker) and Service Bus dead-lettered it, as it does after
 * MaxDeliveryCount when the worker host keeps failing; then the leaver arrives and is applied.
 */
async function joinerStuckThenLeaver(): Promise<{ state: string; tenant: string; none: string }> {
  const state = stateDir(tmp());
  const tenant = await writeJson(tmp('tenant.json'), tenantWith([user(U1, 'carla@contoso.example', 'E1')]));
  const joiner = await writeEvents(tmp('joiner.ndjson'), [{ eventId: 'j1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: carla }]);
  await sandboxRun(state, tenant, joiner, ['--numbers', await numbersFile(tmp()), '--no-worker']);

  const session = new SandboxSession(state);
  const bus = await session.busClient();
  const receiver = await bus.acceptNextSession(queueNames.voiceCommands);
  const [command] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10 });
  if (!command) throw new Error('the joiner command is not queued');
  await receiver.deadLetterMessage(command, { deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: 'worker host down' });
  await receiver.close();
  await session.save();

  const leaver = await writeEvents(tmp('leaver.ndjson'), [{ eventId: 'l1', type: 'leaver', occurredAt: '2026-11-09T17:00:00Z', person: carla }]);
  const after = await sandboxRun(state, tenant, leaver);
  expect(after.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
  return { state, tenant, none: await writeEvents(tmp('none.ndjson'), []) };
}

describe('an old command never brings back what a newer truth replaced', () => {
  it('refuses to replay a joiner command dead-lettered before the leaver, and shows the refusal in status', async () => {
    const { state, tenant, none } = await joinerStuckThenLeaver();
    const replay = await dialtone('dlq', 'replay', '--queue', 'voice-commands', '--all', '--sandbox', state);
    expect(replay.code).toBe(1);
    // The record moved past version 1: the leaver, and the graphResync rounds that ran on the sandbox clock in the week between.
    expect(replay.out).toMatch(/refused\s+voice-commands .* superseded: this command was planned from version 1, the person's record is at version [2-9]/);

    const status = await dialtone('status', 'carla@contoso.example', '--sandbox', state, '--json');
    const history = (JSON.parse(status.out) as { record: { history: { stage: string; outcome: string }[] } }).record.history;
    expect(history.at(-1)).toMatchObject({ stage: 'replay', outcome: 'replay-refused' });

    const report = await sandboxRun(state, tenant, none);
    expect(report.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(report.numbers.find((n) => n.number === '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
  }, 180_000);

  it('takes voice away again when an old joiner command is resubmitted behind Dialtone\'s back after the leaver', async () => {
    const { state, tenant, none } = await joinerStuckThenLeaver();
    // Resubmitted straight from the dead-letter queue (Service Bus Explorer), not through dialtone dlq replay.
    const session = new SandboxSession(state);
    const bus = await session.busClient();
    const dlq = bus.createReceiver(queueNames.voiceCommands, { subQueueType: 'deadLetter' });
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 10 });
    if (!dead) throw new Error('no dead-lettered command');
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: dead.body, messageId: 'resubmitted', sessionId: U1, ...(dead.correlationId !== undefined ? { correlationId: String(dead.correlationId) } : {}) });
    await dlq.completeMessage(dead);
    await session.save();

    const report = await sandboxRun(state, tenant, none);
    expect(report.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    expect(report.numbers.find((n) => n.number === '+31201234000')).toMatchObject({ state: 'quarantined', userId: U1 });
    const entries = report.history.find((h) => h.userId === U1)?.entries ?? [];
    expect(entries.some((e) => e.stage === 'record' && e.outcome === 'superseded')).toBe(true);
  }, 180_000);

  it('does not run on the graph backend an old joiner command resubmitted after the leaver: Teams is not changed, and record says it was not run', async () => {
    const state = stateDir(tmp());
    const tenant = await writeJson(tmp('tenant.json'), tenantWith([user(U1, 'carla@contoso.example', 'E1')]));
    const graph = ['--teams-backend', 'graph'];
    const joiner = await writeEvents(tmp('joiner.ndjson'), [{ eventId: 'j1', type: 'joiner', occurredAt: '2026-11-02T08:00:00Z', person: carla }]);
    await sandboxRun(state, tenant, joiner, ['--numbers', await numbersFile(tmp()), ...graph]);
    const leaver = await writeEvents(tmp('leaver.ndjson'), [{ eventId: 'l1', type: 'leaver', occurredAt: '2026-11-09T17:00:00Z', person: carla }]);
    const after = await sandboxRun(state, tenant, leaver, graph);
    expect(after.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });

    // The joiner's command (plan version 1) sent again behind Dialtone's back.
    const session = new SandboxSession(state);
    const bus = await session.busClient();
    const old = {
      commandId: 'cmd-old-joiner',
      userId: U1,
      userPrincipalName: 'carla@contoso.example',
      correlationId: 'corr-old',
      eventId: 'j1',
      occurredAt: '2026-11-02T08:00:00Z',
      issuedAt: '2026-11-02T08:00:05Z',
      reason: 'joiner',
      desired: { enterpriseVoiceEnabled: true, phoneNumber: '+31201234000', phoneNumberType: 'DirectRouting', policies: {} },
      allocation: { pool: 'AMS', number: '+31201234000' },
      releases: [],
      version: 1,
    };
    await bus.createSender(queueNames.voiceCommands).sendMessages({ body: old, messageId: 'resubmitted', sessionId: U1, correlationId: 'corr-old', contentType: 'application/json' });
    await session.save();

    const report = await sandboxRun(state, tenant, await writeEvents(tmp('none.ndjson'), []), graph);
    expect(report.users.find((u) => u.id === U1)?.teams).toMatchObject({ enterpriseVoiceEnabled: false, lineUri: null });
    const entries = report.history.find((h) => h.userId === U1)?.entries ?? [];
    const superseded = entries.filter((e) => e.stage === 'record' && e.outcome === 'superseded');
    expect(superseded.map((e) => e.detail)).toEqual([expect.stringMatching(/^cmd-old-joiner was not run \(plan version 1\): a newer command for this person was already applied/)]);
  }, 180_000);
});
