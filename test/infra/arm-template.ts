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
  const visit = (scope: Scope): void => {
    for (const resource of resourcesOf(scope.template)) {
      out.push({ ...resource, scope });
      const properties = resource.body.properties;
      if (resource.type === 'Microsoft.Resources/deployments' && isObject(properties) && isObject(properties.template)) {
        visit({
          path: [...scope.path, resource.symbol],
          template: properties.template,
          passed: isObject(properties.parameters) ? properties.parameters : {},
          parent: scope,
        });
      }
    }
  };
  visit({ path: [], template: root, passed: {}, parent: undefined });
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

export type { Json, JsonObject };
