import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createGraphWebhookHandler } from '../../shared/handlers/graph-webhook.js';
import { createMemoryLogger } from '../../shared/logging/logger.js';
import type { OutgoingMessage } from '../../shared/ports/bus.js';
import { SimClock } from '../../sandbox/clock.js';
import { recordingSender } from '../helpers/recording-sender.js';

const SECRET = 'a-client-state-of-32-characters!';
const USER = '3b7d1c9e-0d2a-4c55-8d0e-000000000101';

function harness(configured: string | null = SECRET) {
  const clientState = configured ?? undefined;
  const recording = recordingSender({ name: 'user-changes', requiresSession: true });
  const sent: OutgoingMessage[] = recording.sent;
  let built = 0;
  const logger = createMemoryLogger();
  const clock = new SimClock('2026-11-23T12:00:00Z');
  const handler = createGraphWebhookHandler(async () => {
    built += 1;
    return {
      clientState,
      clock,
      logger,
      sender: recording.sender,
    };
  });
  return { handler, sent, built: () => built, logger, clock, sendCalls: recording.sendCalls };
}

const post = (body: unknown, query: Record<string, string> = {}) =>
  new HttpRequest({ method: 'POST', url: 'http://localhost/api/graph/notifications', query, body: { string: typeof body === 'string' ? body : JSON.stringify(body) } });

const notification = (extra: Record<string, unknown> = {}) => ({
  subscriptionId: 'sub-1',
  clientState: SECRET,
  changeType: 'updated',
  resource: `Users/${USER}`,
  resourceData: { '@odata.type': '#Microsoft.Graph.User', id: USER },
  tenantId: 't',
  ...extra,
});

describe('the Graph webhook', () => {
  it('echoes the validation token as text/plain without building anything', async () => {
    const h = harness();
    const response = await h.handler(post('', { validationToken: 'Validation: Token & more' }));
    expect(response).toEqual({
      status: 200,
      body: 'Validation: Token & more',
      headers: { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' },
    });
    expect(h.built()).toBe(0);
  });

  it('turns a notification into a user-change on the user\'s session and answers 202', async () => {
    const h = harness();
    const response = await h.handler(post({ value: [notification()] }));
    expect(response.status).toBe(202);
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]).toMatchObject({ sessionId: USER, body: { userId: USER, source: 'graph', changeType: 'updated', occurredAt: '2026-11-23T12:00:00.000Z' } });
  });

  it('gives a redelivered notification (same Graph notification id) the same message id, even minutes later', async () => {
    const h = harness();
    await h.handler(post({ value: [notification({ id: 'n-1' })] }));
    h.clock.advance(5 * 60_000);
    await h.handler(post({ value: [notification({ id: 'n-1' })] }));
    expect(h.sent[0]?.messageId).toBe(h.sent[1]?.messageId);
  });

  it('keeps a real second change for the same user 20 s after the first', async () => {
    const h = harness();
    await h.handler(post({ value: [notification({ id: 'n-1' })] }));
    h.clock.advance(20_000);
    await h.handler(post({ value: [notification({ id: 'n-2' })] }));
    expect(h.sent).toHaveLength(2);
    expect(h.sent[0]?.messageId).not.toBe(h.sent[1]?.messageId);
  });

  it('keeps a second change 20 s later when Graph sends no notification id', async () => {
    const h = harness();
    await h.handler(post({ value: [notification()] }));
    h.clock.advance(20_000);
    await h.handler(post({ value: [notification()] }));
    expect(h.sent[0]?.messageId).not.toBe(h.sent[1]?.messageId);
  });

  it('ignores a notification whose clientState does not match, and says so in the log', async () => {
    const h = harness();
    const response = await h.handler(post({ value: [notification({ clientState: 'forged' })] }));
    expect(response.status).toBe(202);
    expect(h.sent).toEqual([]);
    expect(h.logger.lines.some((l) => l.includes('clientState does not match'))).toBe(true);
  });

  it('maps a deleted user to a deleted change', async () => {
    const h = harness();
    await h.handler(post({ value: [notification({ changeType: 'deleted', resourceData: null })] }));
    expect(h.sent[0]?.body).toMatchObject({ userId: USER, changeType: 'deleted' });
  });

  it('answers 400 to a body that is not a notification collection', async () => {
    const h = harness();
    expect((await h.handler(post('not json'))).status).toBe(400);
    expect((await h.handler(post({ value: [] }))).status).toBe(400);
  });

  it('refuses notifications with 503 when no clientState is configured', async () => {
    const h = harness(null);
    expect((await h.handler(post({ value: [notification()] }))).status).toBe(503);
    expect(h.sent).toEqual([]);
  });

  it('a 1,000-notification POST answers 202 and enqueues every user, in several 256 KB batches', async () => {
    const h = harness();
    const users = Array.from({ length: 1000 }, (_, i) => `5c000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const value = users.map((id) => notification({ resource: `Users/${id}`, resourceData: { '@odata.type': '#Microsoft.Graph.User', id } }));
    const response = await h.handler(post({ value }));
    expect(response.status).toBe(202);
    expect(h.sent.map((m) => m.sessionId)).toEqual(users);
    expect(h.sendCalls()).toBeGreaterThan(1);
  });

  it.each([
    ['over 128 characters', 'x'.repeat(129)],
    ['a UPN instead of an object id', 'anna.devries@contoso.example'],
    ['a GUID with something after it', `${USER}/manager`],
  ])('rejects only the notification whose resourceData.id is %s, logged and counted, and accepts the rest', async (_what, id) => {
    const h = harness();
    const other = '3b7d1c9e-0d2a-4c55-8d0e-000000000102';
    const response = await h.handler(
      post({ value: [notification({ resourceData: { id } }), notification({ resource: `Users/${other}`, resourceData: { id: other } })] }),
    );
    expect(response.status).toBe(202);
    expect(h.sent.map((m) => m.sessionId)).toEqual([other]);
    const rejected = h.logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === 'graph notification rejected');
    expect(rejected).toMatchObject({ field: 'resourceData.id', reason: expect.stringContaining('not an Entra object id') });
    expect(JSON.stringify(rejected)).not.toContain(id.slice(0, 60));
    expect(h.logger.lines.some((l) => l.includes('"rejected":1'))).toBe(true);
  });

  it('rejects a notification whose resource names no object id, when resourceData has none', async () => {
    const h = harness();
    const response = await h.handler(post({ value: [notification({ resource: 'Users/anna@contoso.example', resourceData: null })] }));
    expect(response.status).toBe(202);
    expect(h.sent).toEqual([]);
  });

  it('puts an upper-case object id on the same session as Graph\'s lower-case one', async () => {
    const h = harness();
    await h.handler(post({ value: [notification({ resourceData: { id: USER.toUpperCase() } })] }));
    expect(h.sent[0]?.sessionId).toBe(USER);
  });

  describe('abuse', () => {
    it('answers HTML in the validation token as the literal text, text/plain with nosniff', async () => {
      const h = harness();
      const token = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';
      const response = await h.handler(post('', { validationToken: token }));
      expect(response.status).toBe(200);
      expect(response.body).toBe(token);
      expect(response.headers).toEqual({ 'content-type': 'text/plain', 'x-content-type-options': 'nosniff' });
    });

    it('refuses a 20 MB body with 413 from its Content-Length, before reading or building anything', async () => {
      const h = harness();
      const body = 'x'.repeat(20 * 1024 * 1024);
      const request = new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/graph/notifications',
        headers: { 'content-length': String(body.length) },
        body: { string: body },
      });
      const response = await h.handler(request);
      expect(response.status).toBe(413);
      expect(response.headers).toMatchObject({ 'x-content-type-options': 'nosniff' });
      expect(h.built()).toBe(0);
      expect(h.sent).toEqual([]);
    });

    it('refuses a 20 MB body that declares no length (or lies about it) once 4 MiB have been read', async () => {
      const h = harness();
      const value = Array.from({ length: 40_000 }, () => notification());
      const response = await h.handler(post({ value, padding: 'p'.repeat(20 * 1024 * 1024) }));
      expect(response.status).toBe(413);
      expect(h.sent).toEqual([]);
    });

    it.each([
      ['truncated JSON', '{"value": [{"subscriptionId": "sub-1"'],
      ['a JSON string', '"value"'],
      ['a NUL byte', '\u0000'],
      ['value that is not an array', '{"value": {"0": 1}}'],
    ])('answers 400 to malformed JSON: %s', async (_what, body) => {
      const h = harness();
      const response = await h.handler(post(body));
      expect(response.status).toBe(400);
      expect(h.sent).toEqual([]);
    });

    it('ignores every notification of a 1,000-notification POST with the wrong clientState, and answers 202', async () => {
      const h = harness();
      const value = Array.from({ length: 1000 }, () => notification({ clientState: 'a-client-state-of-32-characters?' }));
      const response = await h.handler(post({ value }));
      expect(response.status).toBe(202);
      expect(h.sent).toEqual([]);
    });

    it('never echoes the configured clientState in an answer or a log line', async () => {
      const h = harness();
      await h.handler(post({ value: [notification({ clientState: 'forged' }), notification()] }));
      await h.handler(post('not json'));
      expect(h.logger.lines.join('\n')).not.toContain(SECRET);
    });
  });
});
