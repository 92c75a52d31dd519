import { z } from 'zod';

/**
 * What each call costs on the sandbox clock. The defaults are the field model of issue 11:
 * what admins report for app-only Teams PowerShell and Microsoft Graph (Microsoft publishes no
 * figures). The sandbox charges these on its simulated clock, so 10,000 people cost minutes of
 * real time, and every bench result prints the model it ran on.
 */
export const LatencyModelSchema = z.object({
  connectMs: z.number().nonnegative().max(3_600_000),
  /** Per cmdlet name; a Grant-Cs* not listed uses grantMs, any other read readMs, any other write writeMs. */
  cmdletMs: z.record(z.string(), z.number().nonnegative().max(3_600_000)),
  grantMs: z.number().nonnegative().max(3_600_000),
  readMs: z.number().nonnegative().max(3_600_000),
  writeMs: z.number().nonnegative().max(3_600_000),
  /** New-CsBatchPolicyAssignmentOperation completes this long after it was submitted … */
  batchOperationMs: z.number().nonnegative().max(86_400_000),
  /** … plus this much per user in it. */
  batchOperationPerUserMs: z.number().nonnegative().max(60_000),
  /** Every Graph request, answered after this long. */
  graphRequestMs: z.number().nonnegative().max(600_000),
});
export type LatencyModel = z.infer<typeof LatencyModelSchema>;

export const fieldLatencyModel: LatencyModel = Object.freeze({
  connectMs: 10_000,
  cmdletMs: Object.freeze({
    'Get-CsOnlineUser': 1_000,
    'Get-CsPhoneNumberAssignment': 1_000,
    'Set-CsPhoneNumberAssignment': 2_500,
    'Remove-CsPhoneNumberAssignment': 2_500,
  }) as Record<string, number>,
  grantMs: 1_000,
  readMs: 1_000,
  writeMs: 1_000,
  batchOperationMs: 60_000,
  batchOperationPerUserMs: 50,
  graphRequestMs: 150,
});

/** Everything free: for tests that pin exact sandbox times. */
export const zeroLatencyModel: LatencyModel = Object.freeze({
  connectMs: 0,
  cmdletMs: {},
  grantMs: 0,
  readMs: 0,
  writeMs: 0,
  batchOperationMs: 0,
  batchOperationPerUserMs: 0,
  graphRequestMs: 0,
});

/** The field model with some figures replaced (`cmdletMs` merged by name). */
export function latencyModel(overrides: Partial<LatencyModel> = {}): LatencyModel {
  return LatencyModelSchema.parse({
    ...fieldLatencyModel,
    ...overrides,
    cmdletMs: { ...fieldLatencyModel.cmdletMs, ...overrides.cmdletMs },
  });
}

/** Sandbox milliseconds one cmdlet takes (Exit and Disconnect are free). */
export function cmdletLatencyMs(model: LatencyModel, cmdlet: string, kind: 'connect' | 'session' | 'read' | 'write'): number {
  if (kind === 'session') return 0;
  if (kind === 'connect') return model.connectMs;
  const named = model.cmdletMs[cmdlet];
  if (named !== undefined) return named;
  if (/^Grant-Cs/i.test(cmdlet)) return model.grantMs;
  return kind === 'write' ? model.writeMs : model.readMs;
}

/** The model in one line, printed with every bench result. */
export function describeLatencyModel(model: LatencyModel): string {
  const s = (ms: number) => `${ms / 1000} s`;
  const named = Object.entries(model.cmdletMs)
    .map(([name, ms]) => `${name} ${s(ms)}`)
    .join(', ');
  return (
    `Connect-MicrosoftTeams ${s(model.connectMs)}, ${named}, each Grant-Cs* ${s(model.grantMs)}, ` +
    `batch policy operation ${s(model.batchOperationMs)} + ${s(model.batchOperationPerUserMs)} per user, Graph request ${model.graphRequestMs} ms`
  );
}
