import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialtone } from '../helpers/cli.js';

async function run(args: string[]) {
  const { out, err, code } = await dialtone(['sandbox', 'run', ...args]);
  return { out: out === '' ? [] : out.split('\n'), err: err.split('\n'), code };
}

describe('dialtone sandbox run with unusable inputs', () => {
  it('exits 2 naming the tenant file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dialtone-inputs-'));
    try {
      const tenant = join(dir, 'tenant.json');
      await writeFile(tenant, JSON.stringify({ tenantId: 't', users: [{ id: 'u1' }] }));
      const { err, code, out } = await run(['--tenant', tenant, '--events', 'sandbox/data/hr-events.ndjson', '--storage', 'memory']);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err[0]).toBe(`dialtone: tenant file ${tenant}: users.0.userPrincipalName: Invalid input: expected string, received undefined`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 when the events file cannot be read', async () => {
    const { err, code } = await run(['--tenant', 'sandbox/data/tenant.json', '--events', '/nonexistent/events.ndjson', '--storage', 'memory']);
    expect(code).toBe(2);
    expect(err[0]).toBe('dialtone: events file /nonexistent/events.ndjson: cannot be read (ENOENT)');
  });

  it('exits 2 naming the numbers file and the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dialtone-inputs-'));
    try {
      const numbers = join(dir, 'numbers.json');
      await writeFile(numbers, JSON.stringify({ pools: [{ id: 'ams', ranges: [{ from: 'tel:+31201234000', to: '+31201234099' }] }] }));
      const { err, code } = await run(['--tenant', 'sandbox/data/tenant.json', '--events', 'sandbox/data/hr-events.ndjson', '--numbers', numbers, '--storage', 'memory']);
      expect(code).toBe(2);
      expect(err[0]).toMatch(new RegExp(`^dialtone: numbers file ${numbers.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pools\\.0\\.ranges\\.0\\.from: must be E\\.164`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
