/**
 * The part of the -Filter syntax of Get-CsOnlineUser and Get-CsPhoneNumberAssignment (PowerShell's
 * Where-Object syntax, evaluated by the service) that the simulator implements: equality clauses
 * joined by -or, `Attr -eq 'value'`, the value in single quotes ('' for a quote). The real service
 * accepts more (-like, -and, -contains, parentheses); the simulator refuses what it does not
 * implement with an error that says so, rather than guessing.
 */
export interface FilterClause {
  /** The attribute as the caller spelled it. */
  attribute: string;
  value: string;
}

export type ParsedFilter = { ok: true; clauses: FilterClause[] } | { ok: false; message: string };

const CLAUSE = /^\s*([A-Za-z]+)\s+-eq\s+'((?:[^']|'')*)'\s*/;
const OR = /^-or\s+/i;

export function parseEqualityFilter(filter: string, attributes: readonly string[]): ParsedFilter {
  const clauses: FilterClause[] = [];
  let rest = filter.trim();
  if (rest === '') return { ok: false, message: 'The filter is empty.' };
  for (;;) {
    const match = CLAUSE.exec(rest);
    if (match === null) {
      return {
        ok: false,
        message: `The Teams simulator implements only "Attribute -eq 'value'" clauses joined by -or, and cannot evaluate: ${rest.slice(0, 120)}`,
      };
    }
    const attribute = match[1] ?? '';
    if (!attributes.some((a) => a.toLowerCase() === attribute.toLowerCase())) {
      return { ok: false, message: `'${attribute}' is not a filterable attribute here; the simulator filters on ${attributes.join(', ')}.` };
    }
    clauses.push({ attribute, value: (match[2] ?? '').replace(/''/g, "'") });
    rest = rest.slice(match[0].length);
    if (rest === '') return { ok: true, clauses };
    const or = OR.exec(rest);
    if (or === null) {
      return { ok: false, message: `The Teams simulator implements only clauses joined by -or, and cannot evaluate: ${rest.slice(0, 120)}` };
    }
    rest = rest.slice(or[0].length);
  }
}
