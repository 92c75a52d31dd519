import { z } from 'zod';

/**
 * The rules of azd's published schema for azure.yaml (Azure/azure-dev, schemas/v1.0/azure.yaml.json)
 * that Dialtone's file relies on, written out here because CI has no internet to fetch it. Where
 * the schema is open (`additionalProperties: true` at the top, in `infra` and in a service) this is
 * open too; where it is closed (hooks, a hook, requiredVersions) this is strict.
 */

const hookNames = [
  'preprovision', 'postprovision', 'preinfracreate', 'postinfracreate', 'preinfradelete', 'postinfradelete',
  'predown', 'postdown', 'preup', 'postup', 'prepackage', 'postpackage', 'prepublish', 'postpublish',
  'predeploy', 'postdeploy', 'prerestore', 'postrestore',
] as const;

const serviceHookNames = [
  'predeploy', 'postdeploy', 'prerestore', 'postrestore', 'prebuild', 'postbuild',
  'prepackage', 'postpackage', 'prepublish', 'postpublish',
] as const;

interface Hook {
  shell?: 'sh' | 'pwsh' | undefined;
  kind?: 'sh' | 'pwsh' | 'js' | 'ts' | 'python' | 'dotnet' | undefined;
  dir?: string | undefined;
  run?: string | undefined;
  continueOnError?: boolean | undefined;
  interactive?: boolean | undefined;
  windows?: Hook | undefined;
  posix?: Hook | undefined;
  secrets?: Record<string, string> | undefined;
  config?: Record<string, unknown> | undefined;
}

export const HookSchema: z.ZodType<Hook> = z.lazy(() =>
  z
    .strictObject({
      shell: z.enum(['sh', 'pwsh']).optional(),
      kind: z.enum(['sh', 'pwsh', 'js', 'ts', 'python', 'dotnet']).optional(),
      dir: z.string().optional(),
      run: z.string().optional(),
      continueOnError: z.boolean().optional(),
      interactive: z.boolean().optional(),
      windows: HookSchema.optional(),
      posix: HookSchema.optional(),
      secrets: z.record(z.string(), z.string()).optional(),
      config: z.record(z.string(), z.unknown()).optional(),
    })
    .superRefine((hook, ctx) => {
      const platformOnly = hook.windows !== undefined && hook.posix !== undefined;
      const settings = ['run', 'shell', 'kind', 'dir', 'interactive', 'continueOnError', 'secrets', 'config'] as const;
      if (platformOnly) {
        for (const key of settings) {
          if (hook[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'not allowed beside both windows and posix' });
        }
      }
      const needsRun = (['interactive', 'continueOnError', 'secrets', 'shell', 'kind', 'dir', 'config'] as const).some((k) => hook[k] !== undefined);
      if (needsRun && hook.run === undefined) ctx.addIssue({ code: 'custom', path: ['run'], message: 'is required when the hook sets shell, kind, dir, interactive, continueOnError, secrets or config' });
    }),
);

/** A closed set of hook names (unknown keys are refused), each a hook or a list of hooks. */
const hooksOf = <K extends string>(names: readonly [K, ...K[]]) => z.partialRecord(z.enum(names), z.union([HookSchema, z.array(HookSchema)]));

const traditionalHosts = ['appservice', 'function', 'springapp', 'staticwebapp'];

export const ServiceSchema = z
  .looseObject({
    host: z.string(),
    project: z.string().optional(),
    image: z.string().optional(),
    language: z.string().optional(),
    module: z.string().optional(),
    dist: z.string().optional(),
    resourceName: z.string().optional(),
    resourceGroup: z.string().optional(),
    apiVersion: z.string().optional(),
    remoteBuild: z.boolean().optional(),
    docker: z.record(z.string(), z.unknown()).optional(),
    k8s: z.record(z.string(), z.unknown()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    uses: z.array(z.string()).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    hooks: hooksOf(serviceHookNames).optional(),
  })
  .superRefine((service, ctx) => {
    if (traditionalHosts.includes(service.host)) {
      if (service.project === undefined) ctx.addIssue({ code: 'custom', path: ['project'], message: `is required for host ${service.host}` });
      for (const key of ['image', 'docker', 'k8s', 'apiVersion', 'env'] as const) {
        if (service[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `is not allowed for host ${service.host}` });
      }
    }
    if (service.host !== 'function' && service.remoteBuild !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['remoteBuild'], message: 'is only valid for host function' });
    }
  });

export const AzureYamlSchema = z.looseObject({
  name: z.string().min(2).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens only'),
  resourceGroup: z.string().min(3).max(64).optional(),
  metadata: z.looseObject({ template: z.string().optional() }).optional(),
  infra: z
    .looseObject({
      provider: z.string().regex(/^[a-z0-9.]+$/).optional(),
      path: z.string().optional(),
      module: z.string().optional(),
    })
    .optional(),
  services: z
    .record(z.string(), ServiceSchema)
    .refine((s) => Object.keys(s).length >= 1, 'needs at least one service')
    .optional(),
  hooks: hooksOf(hookNames).optional(),
  requiredVersions: z.strictObject({ azd: z.string().optional(), extensions: z.record(z.string(), z.string()).optional() }).optional(),
  pipeline: z.looseObject({ provider: z.enum(['github', 'azdo']).optional() }).optional(),
});

export type AzureYaml = z.infer<typeof AzureYamlSchema>;

/** Languages azd can build for a Functions host (its framework services). */
export const functionLanguages = ['js', 'ts', 'python', 'py', 'java', 'dotnet', 'csharp', 'fsharp'];
