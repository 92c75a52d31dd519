import { extname } from 'node:path';
import { Command } from 'commander';
import { describeZodError } from '../../shared/contracts/messages.js';
import { isDialtoneError } from '../../shared/domain/errors.js';
import { PoolsFileSchema } from '../../shared/domain/numbers.js';
import { checkPolicy, type PolicyFinding, type PolicyWorld } from '../../shared/domain/policy-check.js';
import type { VoicePolicy } from '../../shared/domain/policy.js';
import { parseTenantVoiceConfig, type TenantVoiceConfig } from '../../shared/domain/tenant-voice.js';
import { checkPolicyAgainstTenantVoice, tenantVoicePolicies } from '../../shared/domain/tenant-voice-check.js';
import type { PolicyType } from '../../shared/domain/voice-state.js';
import type { CliContext } from '../context.js';
import { InputError } from '../errors.js';
import { parseJsonInput, readInputFile } from '../input-file.js';
import { examples } from '../options.js';
import type { Backends } from '../program.js';

/** The policy names per type of a sandbox tenant file (`policies.<Type>[].identity`, without Tag:). */
function tenantPolicies(tenant: unknown): Partial<Record<PolicyType, string[]>> {
  const policies = (tenant as { policies?: Record<string, { identity?: unknown }[]> } | null)?.policies ?? {};
  return Object.fromEntries(
    Object.entries(policies).map(([type, list]) => [type, (Array.isArray(list) ? list : []).map((p) => String(p.identity ?? '').replace(/^tag:/i, ''))]),
  );
}

/** `dialtone policy validate FILE`: the schema, the attribute names of every `when`, and the pools and policies it names. */
export function policyCommand(ctx: CliContext, backends: Pick<Backends, 'inventory'>): Command {
  const policy = new Command('policy').description('Check a voice policy file before it is deployed');
  examples(policy, ['dialtone policy validate config/voice-policy.yaml --tenant sandbox/data/tenant.json']);
  examples(
    policy
      .command('validate')
      .description(
        'Validate a voice policy: its fields, the attribute names in every `when` (HR contract, Entra ID, or the file\'s `attributes` list; typos get a did-you-mean), and whether the number pools and Teams policies it names exist. Exits 1 when it finds an error, 2 when the file cannot be read or parsed',
      )
      .argument('<file>', 'the voice policy (YAML or JSON)')
      .option(
        '--tenant <file>',
        'the tenant voice file of `dialtone tenant` (YAML, or JSON with version) or a sandbox tenant file (JSON with users), whose Teams policies the names are checked against (default: the tenant of --sandbox DIR)',
      )
      .option('--numbers <file>', 'a numbers file whose pools the numberPool names are checked against (default: the inventory)'),
    [
      'dialtone policy validate config/voice-policy.yaml',
      'dialtone policy validate voice-policy.yaml --tenant sandbox/data/tenant.json --numbers sandbox/data/numbers.json',
      'dialtone policy validate voice-policy.yaml --tenant tenant-voice.yaml',
      'dialtone policy validate voice-policy.yaml --sandbox .sandbox-state -o json',
    ],
  ).action(async (file: string, o: { tenant?: string; numbers?: string }) => {
    const text = await readInputFile(file);
    let parsed: VoicePolicy;
    // Loaded here, not at start-up: the YAML parser is not needed by the other commands.
    const { parseVoicePolicy } = await import('../../shared/domain/policy.js');
    try {
      parsed = parseVoicePolicy(text, extname(file).toLowerCase() === '.json' ? 'json' : 'yaml', file, { unknownAttributes: 'report' });
    } catch (error) {
      // The message already starts with the file and names the field.
      if (isDialtoneError(error)) throw new InputError(file, error.message.replace(`${file}: `, ''));
      throw error;
    }
    const world: PolicyWorld = {};
    const notes: string[] = [];
    if (o.numbers) {
      const pools = PoolsFileSchema.safeParse(parseJsonInput(await readInputFile(o.numbers), o.numbers));
      if (!pools.success) throw new InputError(o.numbers, describeZodError(pools.error));
      world.pools = pools.data.pools.map((p) => p.id);
    } else {
      try {
        world.pools = (await (await backends.inventory()).pools()).map((p) => p.pool);
      } catch (error) {
        if (!isDialtoneError(error) || error.code !== 'ConfigInvalid') throw error;
        notes.push('number pools not checked: give --numbers FILE or --sandbox DIR, or set DIALTONE_TABLES_ENDPOINT');
      }
    }
    let tenantVoice: TenantVoiceConfig | undefined;
    if (o.tenant) {
      const text = await readInputFile(o.tenant);
      const json = extname(o.tenant).toLowerCase() === '.json' ? parseJsonInput(text, o.tenant) : undefined;
      // A tenant voice file (docs/TENANT.md) is YAML, or JSON with `version` and no `users`.
      if (json === undefined || (typeof json === 'object' && json !== null && 'version' in json && !('users' in json))) {
        try {
          tenantVoice = parseTenantVoiceConfig(text, json === undefined ? 'yaml' : 'json', o.tenant);
        } catch (error) {
          if (isDialtoneError(error)) throw new InputError(o.tenant, error.message.replace(`${o.tenant}: `, ''));
          throw error;
        }
        world.policies = tenantVoicePolicies(tenantVoice);
      } else {
        world.policies = tenantPolicies(json);
      }
    } else {
      const inputs = await ctx.sandbox()?.runInputs();
      if (inputs?.tenants[0]) world.policies = tenantPolicies(inputs.tenants[0]);
      else notes.push('Teams policy names not checked: give --tenant FILE or --sandbox DIR');
    }
    const findings = [...checkPolicy(parsed, world), ...(tenantVoice ? checkPolicyAgainstTenantVoice(parsed, tenantVoice) : [])];
    const errors = findings.filter((f) => f.severity === 'error').length;
    const out = ctx.output();
    for (const note of notes) out.note(`dialtone: ${note}`);
    await out.list<PolicyFinding>(findings, [
      { header: 'severity', value: (f) => f.severity },
      { header: 'where', value: (f) => f.path },
      { header: 'problem', value: (f) => f.message },
    ]);
    out.text(errors === 0 ? `${file}: valid (${parsed.rules.length} rules).` : `${file}: ${errors} errors.`);
    if (errors > 0) ctx.io.exit(1);
  });
  return policy;
}
