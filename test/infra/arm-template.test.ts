import { describe, expect, it } from 'vitest';
import { allResources, loadCompiledTemplate, parametersWithoutDescription, resolve, type JsonObject } from './arm-template.js';

const child: JsonObject = {
  parameters: {
    name: { type: 'string', metadata: { description: 'Queue name.' } },
    lockDuration: { type: 'string', defaultValue: 'PT5M', metadata: { description: 'Lock.' } },
    settings: { type: 'object', metadata: { description: 'Settings.' } },
    undocumented: { type: 'string', defaultValue: 'x' },
  },
  variables: { roles: { reader: 'guid-1' } },
  resources: {
    queue: {
      type: 'Microsoft.ServiceBus/namespaces/queues',
      name: "[parameters('name')]",
      properties: {
        lockDuration: "[parameters('lockDuration')]",
        endpoint: "[parameters('settings').endpoint]",
        role: "[variables('roles').reader]",
        computed: "[format('{0}/{1}', parameters('name'), 'x')]",
      },
    },
  },
};

const root: JsonObject = {
  parameters: {
    queueName: { type: 'string', defaultValue: 'hr-events', metadata: { description: 'Name.' } },
    principalId: { type: 'string', metadata: { description: 'Supplied at deployment.' } },
  },
  variables: { endpoint: 'https://example.test' },
  resources: {
    hrQueue: {
      type: 'Microsoft.Resources/deployments',
      properties: {
        parameters: {
          name: { value: "[parameters('queueName')]" },
          settings: { value: { endpoint: "[variables('endpoint')]", owner: "[parameters('principalId')]" } },
        },
        template: child,
      },
    },
  },
};

describe('loadCompiledTemplate', () => {
  it('tells to run the infra build when the compiled template is missing', () => {
    expect(() => loadCompiledTemplate('infra/build/absent.json')).toThrow(
      'infra/build/absent.json does not exist: run `npm run infra:build` first (it compiles infra/main.bicep).',
    );
  });
});

describe('resolve', () => {
  const queue = () => allResources(root).find((r) => r.symbol === 'queue');

  it('finds resources inside nested deployments with their module path', () => {
    expect(queue()?.scope.path).toEqual(['hrQueue']);
  });

  it('follows a parameter through the module to the parent default', () => {
    const q = queue();
    expect(q && resolve(q.body.name, q.scope)).toBe('hr-events');
  });

  it('uses the module default when nothing is passed', () => {
    const q = queue();
    expect(q && resolve("[parameters('lockDuration')]", q.scope)).toBe('PT5M');
  });

  it('follows property steps into passed objects and variables', () => {
    const q = queue();
    expect(q && resolve(q.body.properties, q.scope)).toMatchObject({ endpoint: 'https://example.test', role: 'guid-1' });
  });

  it('keeps a root parameter without default as its expression', () => {
    const q = queue();
    expect(q && resolve("[parameters('settings').owner]", q.scope)).toBe("[parameters('principalId')]");
  });

  it('leaves any other expression as written', () => {
    const q = queue();
    expect(q && resolve("[format('{0}/{1}', parameters('name'), 'x')]", q.scope)).toBe("[format('{0}/{1}', parameters('name'), 'x')]");
  });
});

describe('parametersWithoutDescription', () => {
  it('names the template path and parameter of each undocumented parameter', () => {
    expect(parametersWithoutDescription(root)).toEqual(['hrQueue:undocumented']);
  });
});
