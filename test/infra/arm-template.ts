import { existsSync, readFileSync } from 'node:fs';

/**
 * Reads compiled ARM JSON (bicep build output) and answers questions about it. Nested Bicep
 * modules compile to Microsoft.Resources/deployments with inline templates and inner expression
 * scope; values are passed as parameters. The resolver follows only the plain pass-through forms
 * Bicep emits — `[parameters('x')]`, `[variables('x')]`, each with optional `.property` steps —
 * and leaves every other expression as its string, so a test can assert on either.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ArmResource {
  symbol: string;
  type: string;
  name: Json;
  body: JsonObject;
}

export interface Scope {
  /** Symbolic names of the module deployments from the root to this template. */
  path: string[];
  template: JsonObject;
  passed: JsonObject;
  parent: Scope | undefined;
}

export interface ScopedResource extends ArmResource {
  scope: Scope;
  /** The `condition` of this resource and of every module deployment above it, with the scope each lives in. */
  conditions: { expression: Json; scope: Scope }[];
}

const passThrough = /^\[(parameters|variables)\('([^']+)'\)((?:\.[A-Za-z_$][\w$]*)*)\]$/;

export function loadCompiledTemplate(path: string): JsonObject {
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: run \`npm run infra:build\` first (it compiles infra/main.bicep).`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as JsonObject;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resourcesOf(template: JsonObject): ArmResource[] {
  const resources = template.resources;
  const entries: [string, Json][] = Array.isArray(resources)
    ? resources.map((r, i) => [String(i), r])
    : isObject(resources)
      ? Object.entries(resources)
      : [];
  return entries.filter((entry): entry is [string, JsonObject] => isObject(entry[1])).map(([symbol, body]) => ({
    symbol,
    type: String(body.type),
    name: body.name ?? null,
    body,
  }));
}

/** Every resource of every template in the tree, each with the scope its expressions live in. */
export function allResources(root: JsonObject): ScopedResource[] {
  const out: ScopedResource[] = [];
  const visit = (scope: Scope, inherited: ScopedResource['conditions']): void => {
    for (const resource of resourcesOf(scope.template)) {
      const own = resource.body.condition;
      const conditions = own === undefined ? inherited : [...inherited, { expression: own, scope }];
      out.push({ ...resource, scope, conditions });
      const properties = resource.body.properties;
      if (resource.type === 'Microsoft.Resources/deployments' && isObject(properties) && isObject(properties.template)) {
        visit(
          {
            path: [...scope.path, resource.symbol],
            template: properties.template,
            passed: isObject(properties.parameters) ? properties.parameters : {},
            parent: scope,
          },
          conditions,
        );
      }
    }
  };
  visit({ path: [], template: root, passed: {}, parent: undefined }, []);
  return out;
}

/** Resolves pass-through expressions in a value, deeply; anything else stays as written. */
export function resolve(value: Json | undefined, scope: Scope): Json | undefined {
  if (Array.isArray(value)) return value.map((item) => resolve(item, scope) ?? null);
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope) ?? null]));
  }
  if (typeof value !== 'string') return value;
  const match = passThrough.exec(value);
  if (!match) return value;
  const [, kind, name = '', steps = ''] = match;
  let current = kind === 'parameters' ? parameterValue(name, scope, value) : resolve(variableOf(scope, name), scope);
  for (const step of steps.split('.').filter(Boolean)) {
    if (!isObject(current)) return value;
    current = current[step];
  }
  return current;
}

function variableOf(scope: Scope, name: string): Json | undefined {
  const variables = scope.template.variables;
  return isObject(variables) ? variables[name] : undefined;
}

function parameterValue(name: string, scope: Scope, expression: string): Json | undefined {
  const passed = scope.passed[name];
  if (isObject(passed) && 'value' in passed) return resolve(passed.value, scope.parent ?? scope);
  const declared = isObject(scope.template.parameters) ? scope.template.parameters[name] : undefined;
  if (isObject(declared) && 'defaultValue' in declared) return resolve(declared.defaultValue, scope);
  // A root parameter without a default (supplied at deployment): keep the expression.
  return expression;
}

export function resolvedProperties(resource: ScopedResource): JsonObject {
  const resolved = resolve(resource.body.properties ?? {}, resource.scope);
  return isObject(resolved) ? resolved : {};
}

/** Resources of a type that the template deploys (references to `existing` ones are left out). */
export function ofType(resources: ScopedResource[], type: string): ScopedResource[] {
  return resources.filter((r) => r.type.toLowerCase() === type.toLowerCase() && r.body.existing !== true);
}

export function only(resources: ScopedResource[], type: string): ScopedResource {
  const found = ofType(resources, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as ScopedResource;
}

/** Template parameters, in every template of the tree, that lack a description. */
export function parametersWithoutDescription(root: JsonObject): string[] {
  const missing: string[] = [];
  const templates: { path: string; template: JsonObject }[] = [{ path: 'main', template: root }];
  for (const r of allResources(root)) {
    const properties = r.body.properties;
    if (r.type === 'Microsoft.Resources/deployments' && isObject(properties) && isObject(properties.template)) {
      templates.push({ path: [...r.scope.path, r.symbol].join('/'), template: properties.template });
    }
  }
  for (const { path, template } of templates) {
    const parameters = isObject(template.parameters) ? template.parameters : {};
    for (const [name, declaration] of Object.entries(parameters)) {
      const metadata = isObject(declaration) ? declaration.metadata : undefined;
      if (!isObject(metadata) || typeof metadata.description !== 'string' || metadata.description.trim() === '') {
        missing.push(`${path}:${name}`);
      }
    }
  }
  return missing;
}

/**
 * The resources a deployment with these root parameters creates: those whose conditions (and
 * their modules' conditions) hold. Evaluates the small expression language Bicep emits for
 * `if (...)`: variables(), parameters(), not(), equals(), and(), or(), string and boolean literals.
 */
export function deployedWith(resources: ScopedResource[], rootParameters: Record<string, Json> = {}): ScopedResource[] {
  return resources.filter((r) => r.conditions.every((c) => evaluate(c.expression, c.scope, rootParameters) === true));
}

function evaluate(value: Json | undefined, scope: Scope, rootParameters: Record<string, Json>): Json | undefined {
  if (typeof value !== 'string') return value;
  if (!value.startsWith('[') || !value.endsWith(']')) return value;
  const text = value.slice(1, -1);
  let at = 0;
  const skip = () => {
    while (text[at] === ' ') at += 1;
  };
  const expr = (): Json | undefined => {
    skip();
    if (text[at] === "'") {
      const end = text.indexOf("'", at + 1);
      const literal = text.slice(at + 1, end);
      at = end + 1;
      return literal;
    }
    const name = /^[A-Za-z]+/.exec(text.slice(at))?.[0] ?? '';
    at += name.length;
    if (name === 'true' || name === 'false') return name === 'true';
    if (text[at] !== '(') throw new Error(`cannot evaluate ARM expression ${value}`);
    at += 1;
    const args: (Json | undefined)[] = [];
    skip();
    while (text[at] !== ')') {
      args.push(expr());
      skip();
      if (text[at] === ',') at += 1;
      skip();
    }
    at += 1;
    switch (name) {
      case 'not':
        return !(args[0] === true);
      case 'equals':
        return JSON.stringify(args[0]) === JSON.stringify(args[1]);
      case 'and':
        return args.every((a) => a === true);
      case 'or':
        return args.some((a) => a === true);
      case 'variables':
        return evaluate(variableOf(scope, String(args[0])), scope, rootParameters);
      case 'parameters': {
        const key = String(args[0]);
        if (scope.parent === undefined && key in rootParameters) return rootParameters[key];
        const passed = scope.passed[key];
        if (isObject(passed) && 'value' in passed) return evaluate(passed.value, scope.parent ?? scope, rootParameters);
        const declared = isObject(scope.template.parameters) ? scope.template.parameters[key] : undefined;
        return isObject(declared) ? evaluate(declared.defaultValue, scope, rootParameters) : undefined;
      }
      default:
        throw new Error(`cannot evaluate ARM function ${name} in ${value}`);
    }
  };
  return expr();
}

export type { Json, JsonObject };
