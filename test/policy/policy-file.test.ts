import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadVoicePolicyFile, policyFormatOf } from '../../shared/adapters/policy-file.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir('dialtone-policy-', 'all');

describe('policyFormatOf', () => {
  it('reads the format from the extension, in any case', () => {
    expect([policyFormatOf('a.yaml'), policyFormatOf('a.YML'), policyFormatOf('a.json'), policyFormatOf('a.txt')]).toEqual([
      'yaml',
      'yaml',
      'json',
      undefined,
    ]);
  });
});

describe('loadVoicePolicyFile', () => {
  it('loads the example YAML policy', async () => {
    const policy = await loadVoicePolicyFile(fileURLToPath(new URL('../fixtures/voice-policy.example.yaml', import.meta.url)));
    expect(policy.rules.map((rule) => rule.name)).toEqual(['amsterdam', 'rotterdam', 'no-phone-for-interns']);
  });

  it('loads a JSON policy file', async () => {
    const path = tmp('voice-policy.json');
    await writeFile(path, JSON.stringify({ version: 1, rules: [{ name: 'ams', when: { site: 'AMS' }, numberPool: 'ams' }] }));
    expect((await loadVoicePolicyFile(path)).rules).toEqual([{ name: 'ams', when: { site: ['AMS'] }, numberPool: 'ams' }]);
  });

  it('names the file and the field path of an invalid policy', async () => {
    const path = tmp('bad.yaml');
    await writeFile(path, 'version: 1\nrules:\n  - { name: a, when: { site: [1] } }\n');
    await expect(loadVoicePolicyFile(path)).rejects.toMatchObject({
      code: 'PolicyInvalid',
      message: `${path}: rules[0].when.site: expected string or list of strings`,
    });
  });

  it('refuses an attribute name in a when that nothing supplies, naming the file, the field and the likely name', async () => {
    const path = tmp('typo.yaml');
    await writeFile(path, 'version: 1\nrules:\n  - { name: ams, when: { sight: AMS }, numberPool: ams }\n');
    await expect(loadVoicePolicyFile(path)).rejects.toMatchObject({
      code: 'PolicyInvalid',
      message: `${path}: rules[0].when.sight: unknown attribute 'sight' (not in the HR contract, the Entra ID attributes or this file's attributes list); did you mean 'site'?`,
    });
  });

  it('refuses an unknown attribute in callingLineIdentity.byDescription, and takes an extra HR attribute the file declares', async () => {
    const path = tmp('declared.yaml');
    await writeFile(path, 'version: 1\ncallingLineIdentity: { byDescription: departmntId }\nrules:\n  - { name: fin, when: { costCenter: "41*" } }\nattributes: [costCenter]\n');
    await expect(loadVoicePolicyFile(path)).rejects.toMatchObject({
      message: `${path}: callingLineIdentity.byDescription: unknown attribute 'departmntId' (not in the HR contract, the Entra ID attributes or this file's attributes list); did you mean 'departmentId'?`,
    });
    await writeFile(path, 'version: 1\nrules:\n  - { name: fin, when: { costCenter: "41*" } }\nattributes: [costCenter]\n');
    expect((await loadVoicePolicyFile(path)).rules.map((r) => r.name)).toEqual(['fin']);
  });

  it('rejects a file that is neither YAML nor JSON by its extension', async () => {
    await expect(loadVoicePolicyFile(tmp('voice-policy.txt'))).rejects.toMatchObject({
      code: 'PolicyInvalid',
      message: `${tmp('voice-policy.txt')}: a voice policy file must end in .yaml, .yml or .json`,
    });
  });

  it('reports a missing file as PolicyInvalid with the path', async () => {
    const path = tmp('missing.yaml');
    await expect(loadVoicePolicyFile(path)).rejects.toMatchObject({
      code: 'PolicyInvalid',
      message: `${path}: cannot read the voice policy file (ENOENT)`,
    });
  });
});
