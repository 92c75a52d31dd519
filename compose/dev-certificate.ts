/**
 * Writes a self-signed, password-less PFX for the worker of compose.yaml (DIALTONE_CERT_FILE), if
 * the file is not there yet. The Teams simulator accepts any well-formed certificate; no real
 * tenant trusts this one. Development only: in Azure the certificate is in Key Vault.
 *
 *   tsx compose/dev-certificate.ts /certs/worker.pfx
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeCertificate } from '../worker/ephemeral-certificate.js';

const path = process.argv[2];
if (!path) {
  process.stderr.write('usage: tsx compose/dev-certificate.ts <file.pfx>\n');
  process.exit(2);
}
if (existsSync(path)) {
  process.stdout.write(`dev certificate: ${path} exists\n`);
} else {
  const made = makeCertificate(new Date(), 'dialtone-compose', 365);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.from(made.pfxBase64, 'base64'), { mode: 0o600 });
  process.stdout.write(`dev certificate: wrote ${path} (thumbprint ${made.thumbprint})\n`);
}
