/**
 * A message body as Dialtone reads it: objects as they are, JSON text (or bytes of it) parsed,
 * anything else returned unchanged so validation can say what is wrong with it.
 */
export function decodeBody(body: unknown): unknown {
  if (body instanceof Uint8Array) body = new TextDecoder().decode(body);
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      return body;
    }
  }
  return body;
}
