/** What `dialtone setup` reports, step by step, on a bare tenant (two Graph app roles). */
export const everyStepCreated = [
  'application:created',
  'servicePrincipal:created',
  'certificate:created',
  'keyCredential:created',
  'graphPermission:created',
  'graphPermission:created',
  'directoryRole:created',
];

/**
 * Whether saved state (JSON text) holds a private key: a PEM private-key block, or a field named
 * for one. Not a search for "pfx" in the text: a public certificate's random base64 can contain it.
 */
export function privateKeyTraces(json: string): string[] {
  const found: string[] = [];
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(json)) found.push('PEM private key block');
  JSON.parse(json, (key, value: unknown) => {
    if (/pfx|private|secret|pkcs/i.test(key)) found.push(`field ${key}`);
    return value;
  });
  return found;
}
