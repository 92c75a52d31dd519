import type { DirectoryUser, HrPerson } from '../contracts/messages.js';

export type AttributeValue = string | number | boolean | null | undefined;

/** What a policy rule can match on: the HR snapshot merged over the Entra ID attributes. */
export type PersonAttributes = Record<string, AttributeValue>;

/** The Entra ID user attributes a policy rule can match on (Graph names). */
export const ENTRA_ATTRIBUTES = [
  'department',
  'jobTitle',
  'employeeId',
  'userPrincipalName',
  'mail',
  'usageLocation',
  'accountEnabled',
  'officeLocation',
  'displayName',
] as const;

/**
 * Merges a person's HR attributes over their Entra ID attributes. HR wins where it has a value
 * (present and not empty); Entra's officeLocation also fills `site` when HR gives none, because
 * many tenants keep the site only in Entra.
 */
export function mergeAttributes(entra: DirectoryUser | undefined, hr: HrPerson | undefined): PersonAttributes {
  const merged: PersonAttributes = {};
  if (entra !== undefined) {
    for (const name of ENTRA_ATTRIBUTES) {
      const value = entra[name];
      if (hasValue(value)) merged[name] = value;
    }
    if (hasValue(entra.officeLocation)) merged['site'] = entra.officeLocation;
  }
  if (hr !== undefined) {
    for (const [name, value] of Object.entries(hr)) {
      if (hasValue(value)) merged[name] = value;
    }
  }
  return merged;
}

/** The attribute as text for matching, or undefined when the person does not have it (null, missing, blank). */
export function attributeText(attributes: PersonAttributes, name: string): string | undefined {
  const value = attributes[name];
  if (!hasValue(value)) return undefined;
  return String(value).trim();
}

function hasValue(value: AttributeValue): value is string | number | boolean {
  if (value === null || value === undefined) return false;
  return typeof value !== 'string' || value.trim() !== '';
}
