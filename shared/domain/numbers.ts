import { z } from 'zod';

export const numberStates = ['free', 'reserved', 'assigned', 'quarantined', 'blocked'] as const;
export const NumberStateSchema = z.enum(numberStates);
export type NumberState = z.infer<typeof NumberStateSchema>;

const e164Digits = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be E.164 such as +31201234000 (no spaces, no tel:)');

export const NumberRangeSchema = z
  .object({
    from: e164Digits,
    to: e164Digits,
    /** For pools that hand out extensions on one trunk number: +31201234567;ext=100 … ;ext=199. */
    extensions: z.object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative() }).optional(),
  })
  .refine((r) => r.from.length === r.to.length && r.from <= r.to, {
    message: 'from and to must have the same length and from ≤ to',
    path: ['to'],
  })
  .refine((r) => r.extensions === undefined || (r.from === r.to && r.extensions.from <= r.extensions.to), {
    message: 'a range with extensions names one trunk number (from = to) and extensions.from ≤ extensions.to',
    path: ['extensions'],
  });
export type NumberRange = z.infer<typeof NumberRangeSchema>;

export const PoolDefinitionSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes'),
  ranges: z.array(NumberRangeSchema).min(1),
  quarantineDays: z.number().int().min(0).max(3650).default(90),
});
export type PoolDefinition = z.infer<typeof PoolDefinitionSchema>;

/** The --numbers / `dialtone numbers import` file (contracts/numbers.example.json). */
export const PoolsFileSchema = z.object({ pools: z.array(PoolDefinitionSchema) });
export type PoolsFile = z.infer<typeof PoolsFileSchema>;
