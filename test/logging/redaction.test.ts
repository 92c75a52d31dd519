import { describe, expect, it } from 'vitest';
import { createMemoryLogger, createJsonLogger, redact } from '../../shared/logging/logger.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';
const PFX = 'MIIKYQIBAzCCCicGCSqGSIb3DQEHAaCCChgEggoUMIIKEDCCBMcGCSqGSIb3DQEHBqCCBLgwggS0AgEAMIIErQYJKoZIhvcNAQcBMBwGCiqGSIb3DQEMAQYwDgQIq'.repeat(3);

function logged(fields: Record<string, unknown>, message = 'x', secrets: string[] = []): string {
  const lines: string[] = [];
  createJsonLogger({ write: (l) => lines.push(l), secrets }).warn(message, fields);
  return lines.join('\n');
}

describe('log redaction fails closed', () => {
  it('redacts a secret nested deeper than the old depth limit instead of passing it through', () => {
    let deep: Record<string, unknown> = { note: 'Bearer abc.def.ghi-secret-token' };
    for (let i = 0; i < 12; i++) deep = { inner: deep };
    const line = logged({ deep });
    expect(line).not.toContain('secret-token');
    expect(line).toContain('[redacted: nested too deep]');
  });

  it('redacts the Graph clientState by key and by its known value anywhere', () => {
    const state = 'a-client-state-of-32-characters!';
    const line = logged({ notification: { clientState: state }, echoed: `got ${state}` }, `state ${state}`, [state]);
    expect(line).not.toContain(state);
  });

  it('scrubs bearer tokens and JWTs inside string values', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const line = logged({ request: `GET /users with Authorization: Bearer ${jwt}`, raw: jwt });
    expect(line).not.toContain(jwt);
    expect(line).toContain('Bearer [redacted]');
  });

  it('scrubs PEM blocks and PFX base64 inside string values, and never writes binary data', () => {
    const line = logged({ stderr: `loaded ${PEM} ok`, detail: `pfx=${PFX}`, buffer: Buffer.from('secret-bytes') });
    expect(line).not.toContain('MIIEvQIBADAN');
    expect(line).not.toContain(PFX.slice(0, 60));
    expect(line).not.toContain('secret-bytes');
  });

  it('scrubs passwords and keys in connection strings and the function key in a URL', () => {
    const line = logged({
      reason: 'connect failed: DefaultEndpointsProtocol=https;AccountName=dialtone;AccountKey=c2VjcmV0LWtleQ==;EndpointSuffix=core.windows.net',
      sql: 'Server=x;User Id=u;Password=hunter2-very-secret;',
      url: 'https://dialtone.azurewebsites.net/api/graph/notifications?code=fn-key-secret-123&x=1',
    });
    expect(line).not.toMatch(/c2VjcmV0LWtleQ|hunter2-very-secret|fn-key-secret-123/);
    expect(line).toContain('AccountName=dialtone');
  });

  it('keeps ordinary fields, error messages scrubbed, and survives circular objects', () => {
    const circular: Record<string, unknown> = { userId: 'u1' };
    circular['self'] = circular;
    const out = redact({ circular, error: new Error('token expired: Bearer abcdefghijkl') }) as Record<string, Record<string, unknown>>;
    expect(out['circular']).toEqual({ userId: 'u1', self: '[circular]' });
    expect(out['error']?.['message']).toBe('token expired: Bearer [redacted]');
    const memory = createMemoryLogger();
    memory.info('message completed', { correlationId: 'evt-1', outcome: 'done' });
    expect(JSON.parse(memory.lines[0] ?? '{}')).toMatchObject({ correlationId: 'evt-1', outcome: 'done' });
  });
});
