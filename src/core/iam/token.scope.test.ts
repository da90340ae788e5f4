import { describe, expect, it } from 'vitest';
import { formatScope, parseScope, parseScopes } from './token.scope.js';

describe('parseScope', () => {
  it('reads type, name and actions', () => {
    expect(parseScope('repository:library/nginx:pull,push')).toEqual({
      type: 'repository',
      name: 'library/nginx',
      actions: ['pull', 'push'],
    });
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('repository:library/nginx:delete')?.actions).toEqual(['delete']);
  });

  it('lets the name contain colons: the type ends at the first, the actions start after the last', () => {
    expect(parseScope('repository:registry.example:5000/team/app:pull')).toEqual({
      type: 'repository',
      name: 'registry.example:5000/team/app',
      actions: ['pull'],
    });
  });

  it('accepts a resource class and drops repeated actions', () => {
    expect(parseScope('repository(plugin):team/p:pull,pull')).toEqual({
      type: 'repository(plugin)',
      name: 'team/p',
      actions: ['pull'],
    });
  });

  it.each([
    '',
    'repository',
    'repository:library/nginx',
    'repository::pull',
    'repository:library/nginx:',
    'repository:library/nginx:pull,',
    'repository:library/nginx:pull,,push',
    'Repository:library/nginx:pull',
    ':library/nginx:pull',
    'repository:library/nginx:PULL',
    'repository:library/nginx:pull;rm',
    `repository:${'a'.repeat(600)}:pull`,
  ])('drops the malformed scope %j', (scope) => {
    expect(parseScope(scope)).toBeUndefined();
  });
});

describe('parseScopes', () => {
  it('reads several scope parameters and several scopes in one, separated by spaces', () => {
    expect(
      parseScopes([
        'repository:library/a:pull',
        'repository:library/b:pull,push repository:library/c:pull',
        'registry:catalog:*',
      ]),
    ).toEqual([
      { type: 'repository', name: 'library/a', actions: ['pull'] },
      { type: 'repository', name: 'library/b', actions: ['pull', 'push'] },
      { type: 'repository', name: 'library/c', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('merges scopes on the same resource and skips malformed and empty ones', () => {
    expect(
      parseScopes([
        'repository:library/a:pull',
        ' bogus  repository:library/a:push,pull ',
        'repository:library/a',
      ]),
    ).toEqual([{ type: 'repository', name: 'library/a', actions: ['pull', 'push'] }]);
    expect(parseScopes([])).toEqual([]);
    expect(parseScopes(['', ' '])).toEqual([]);
  });

  it('formats a scope back as a challenge names it', () => {
    expect(formatScope({ type: 'repository', name: 'library/a', actions: ['pull', 'push'] })).toBe(
      'repository:library/a:pull,push',
    );
  });
});
