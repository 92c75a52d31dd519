import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * Registers a fresh temporary directory for each test (`each`, the default) or for the file
 * (`all`), removed afterwards. The returned function gives a path in it: `tmp()` the directory,
 * `tmp('state', 'x.json')` a path below it.
 */
export function useTempDir(prefix: string, scope: 'each' | 'all' = 'each'): (...parts: string[]) => string {
  let dir: string | undefined;
  (scope === 'each' ? beforeEach : beforeAll)(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  (scope === 'each' ? afterEach : afterAll)(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return (...parts) => {
    if (dir === undefined) throw new Error('the temporary directory exists only while a test runs');
    return join(dir, ...parts);
  };
}
