import { describe, expect, it } from 'vitest';
import { isDomainError } from '../errors.js';
import type { RobotPermission } from './principal.js';
import { grantablePermissions, isGrantable } from './robot.permissions.js';
import {
  checkDuration,
  checkLevel,
  checkPermissions,
  checkRobotName,
  expiresAtFor,
  isExpired,
  loginNameOf,
} from './robot.rules.js';

function rejects(check: () => void): boolean {
  try {
    check();
    return false;
  } catch (error) {
    return isDomainError(error, 'request.invalid');
  }
}

const pull = (namespace: string): RobotPermission => ({
  kind: 'project',
  namespace,
  access: [{ resource: 'repository', action: 'pull' }],
});

describe('robot request rules', () => {
  it.each(['ci', 'ci-2', 'build.bot_1', 'a', 'x'.repeat(255)])('accepts the name %j', (name) => {
    expect(() => checkRobotName(name)).not.toThrow();
  });

  it.each(['', 'CI', 'lib+ci', '-ci', 'ci-', 'a..b', 'a b', 'robot$ci', 'x'.repeat(256)])(
    'refuses the name %j',
    (name) => {
      expect(rejects(() => checkRobotName(name))).toBe(true);
    },
  );

  it('takes -1 or a positive whole number of days below 2^31-1', () => {
    for (const ok of [-1, 1, 30, 2 ** 31 - 2]) expect(() => checkDuration(ok)).not.toThrow();
    for (const bad of [0, -2, 1.5, 2 ** 31 - 1, Number.NaN])
      expect(rejects(() => checkDuration(bad))).toBe(true);
  });

  it('knows two levels', () => {
    expect(() => checkLevel('system')).not.toThrow();
    expect(() => checkLevel('project')).not.toThrow();
    expect(rejects(() => checkLevel('global'))).toBe(true);
  });

  it('gives a project robot exactly one project permission, never for every project', () => {
    expect(() => checkPermissions('project', [pull('library')])).not.toThrow();
    expect(rejects(() => checkPermissions('project', []))).toBe(true);
    expect(rejects(() => checkPermissions('project', [pull('library'), pull('other')]))).toBe(true);
    expect(rejects(() => checkPermissions('project', [pull('*')]))).toBe(true);
    expect(
      rejects(() =>
        checkPermissions('project', [
          { kind: 'system', namespace: '/', access: [{ resource: 'catalog', action: 'read' }] },
        ]),
      ),
    ).toBe(true);
  });

  it('lets a system robot hold system and project permissions, namespaces fitting their kind', () => {
    const system: RobotPermission = {
      kind: 'system',
      namespace: '/',
      access: [{ resource: 'catalog', action: 'read' }],
    };
    expect(() => checkPermissions('system', [system, pull('*'), pull('library')])).not.toThrow();
    expect(rejects(() => checkPermissions('system', [{ ...system, namespace: 'library' }]))).toBe(true);
    expect(rejects(() => checkPermissions('system', [pull('/')]))).toBe(true);
    expect(rejects(() => checkPermissions('system', [{ ...system, access: [] }]))).toBe(true);
  });

  it('admits only catalogued resource and action pairs, per kind', () => {
    expect(isGrantable('project', 'repository', 'push')).toBe(true);
    expect(isGrantable('project', 'repository', 'create')).toBe(false);
    expect(isGrantable('project', 'catalog', 'read')).toBe(false);
    expect(isGrantable('system', 'catalog', 'read')).toBe(true);
    expect(isGrantable('system', 'toString', 'read')).toBe(false);
    expect(isGrantable('project', 'repository', '*')).toBe(false);
    expect(
      rejects(() =>
        checkPermissions('project', [
          { kind: 'project', namespace: 'library', access: [{ resource: 'member', action: 'create' }] },
        ]),
      ),
    ).toBe(true);
    const project = grantablePermissions('project');
    expect(project).toContainEqual({ resource: 'repository', action: 'pull' });
    expect(project.every(({ resource, action }) => isGrantable('project', resource, action))).toBe(true);
  });

  it('expires duration days after creation, in seconds, or never', () => {
    const created = Date.parse('2026-03-01T10:00:00.900Z');
    expect(expiresAtFor(created, -1)).toBe(-1);
    expect(expiresAtFor(created, 2)).toBe(Date.parse('2026-03-03T10:00:00Z') / 1000);
    expect(isExpired(-1, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired(100, 99_999)).toBe(false);
    expect(isExpired(100, 100_000)).toBe(true);
    expect(loginNameOf('library+ci')).toBe('robot$library+ci');
  });
});
