import { describe, expect, it } from 'vitest';
import {
  deletedProjectRef,
  describeAuditEvent,
  describePull,
  mayBeAudited,
  wantsAnswerName,
  type AuditedExchange,
} from './audit-events.js';

/** Every audited route, including those whose handlers other modules own, described from the exchange alone. */
const DIGEST = `sha256:${'a'.repeat(64)}`;

function exchange(method: string, url: string, overrides: Partial<AuditedExchange> = {}): AuditedExchange {
  const queryAt = url.indexOf('?');
  return {
    method,
    path: queryAt < 0 ? url : url.slice(0, queryAt),
    query: new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)),
    statusCode: 200,
    body: undefined,
    location: undefined,
    isResourceName: false,
    operator: 'alice',
    opTime: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** The event without the operator and time every case shares. */
function described(input: AuditedExchange) {
  const event = describeAuditEvent(input);
  if (event === undefined) return undefined;
  expect(event.username).toBe(input.operator);
  expect(event.opTime).toBe(input.opTime);
  const { username: _username, opTime: _opTime, ...rest } = event;
  return rest;
}

describe('describeAuditEvent on /v2/', () => {
  it('records a manifest GET as a pull, by tag or by digest, with the project by name', () => {
    expect(described(exchange('GET', '/v2/library/a/b/manifests/v1'))).toEqual({
      operation: 'pull',
      resourceType: 'artifact',
      resource: 'library/a/b:v1',
      project: { name: 'library' },
    });
    expect(described(exchange('GET', `/v2/library/app/manifests/${DIGEST}`))?.resource).toBe(
      `library/app@${DIGEST}`,
    );
  });

  it('describes a pull from its path alone exactly as from the whole exchange (the hook fast path)', () => {
    for (const path of [
      '/v2/library/a/b/manifests/v1',
      `/v2/library/app/manifests/${DIGEST}`,
      '/v2/library/app%2Fx/manifests/v1',
      '/v2/p/manifests/manifests/v1',
      '/v2/library/app/manifests/%E0%A4%A',
      '/v2/library/app/manifests/',
      '/v2/app/manifests/v1',
      '/v2/library/app/manifests/a/tags/list',
      '/v2//manifests/v1',
    ]) {
      const input = exchange('GET', path);
      expect(describePull(path, input.operator, input.opTime), path).toEqual(describeAuditEvent(input));
    }
    expect(describePull('/v2/p/manifests/manifests/v1', 'bob', 't')?.resource).toBe('p/manifests:v1');
    expect(describePull('/v2/app/manifests/v1', 'bob', 't')).toBeUndefined();
  });

  it('records a manifest PUT as a create, named by its tag, its first ?tag=, or its digest', () => {
    expect(described(exchange('PUT', '/v2/library/app/manifests/1.0', { statusCode: 201 }))).toEqual({
      operation: 'create',
      resourceType: 'artifact',
      resource: 'library/app:1.0',
      project: { name: 'library' },
    });
    const tagged = exchange('PUT', `/v2/library/app/manifests/${DIGEST}?tag=x&tag=y`, { statusCode: 201 });
    expect(described(tagged)?.resource).toBe('library/app:x');
    const bare = exchange('PUT', `/v2/library/app/manifests/${DIGEST}`, { statusCode: 201 });
    expect(described(bare)?.resource).toBe(`library/app@${DIGEST}`);
  });

  it('records a manifest DELETE by digest as an artifact delete and by tag as a tag delete', () => {
    const byDigest = exchange('DELETE', `/v2/library/app/manifests/${DIGEST}`, { statusCode: 202 });
    expect(described(byDigest)).toMatchObject({ operation: 'delete', resourceType: 'artifact' });
    const byTag = exchange('DELETE', '/v2/library/app/manifests/old', { statusCode: 202 });
    expect(described(byTag)).toMatchObject({
      operation: 'delete',
      resourceType: 'tag',
      resource: 'library/app:old',
    });
  });

  it('ignores HEAD, blobs, uploads, tag lists, the catalog and failures', () => {
    for (const [method, url] of [
      ['HEAD', '/v2/library/app/manifests/v1'],
      ['GET', `/v2/library/app/blobs/${DIGEST}`],
      ['PUT', '/v2/library/app/blobs/uploads/123?digest=x'],
      ['GET', '/v2/library/app/tags/list'],
      ['GET', '/v2/_catalog'],
      ['GET', '/v2/'],
    ]) {
      expect(describeAuditEvent(exchange(method!, url!)), `${method} ${url}`).toBeUndefined();
    }
    for (const statusCode of [304, 401, 403, 404, 500]) {
      expect(
        describeAuditEvent(exchange('GET', '/v2/library/app/manifests/v1', { statusCode })),
      ).toBeUndefined();
    }
  });
});

describe('describeAuditEvent on /api/v2.0/', () => {
  it('records project creation by its name, with the id the Location gives', () => {
    const created = exchange('POST', '/api/v2.0/projects', {
      statusCode: 201,
      body: { project_name: 'web' },
      location: '/api/v2.0/projects/42',
    });
    expect(described(created)).toEqual({
      operation: 'create',
      resourceType: 'project',
      resource: 'web',
      project: { id: 42 },
    });
    const byName = { ...created, location: '/api/v2.0/projects/web' };
    expect(described(byName)?.project).toEqual({ name: 'web' });
  });

  it('records project deletion only with the project looked up before it was deleted', () => {
    const deleted = exchange('DELETE', '/api/v2.0/projects/42', {
      deletedProject: { projectId: 42, name: 'web' },
    });
    expect(described(deleted)).toEqual({
      operation: 'delete',
      resourceType: 'project',
      resource: 'web',
      project: { id: 42 },
    });
    expect(describeAuditEvent(exchange('DELETE', '/api/v2.0/projects/42'))).toBeUndefined();
  });

  it('records repository, artifact and tag deletes, decoding twice-encoded repository names', () => {
    expect(described(exchange('DELETE', '/api/v2.0/projects/lib/repositories/team%252Fapp'))).toEqual({
      operation: 'delete',
      resourceType: 'repository',
      resource: 'lib/team/app',
      project: { name: 'lib' },
    });
    const artifact = `/api/v2.0/projects/lib/repositories/app/artifacts/${encodeURIComponent(DIGEST)}`;
    expect(described(exchange('DELETE', artifact))).toMatchObject({
      resourceType: 'artifact',
      resource: `lib/app@${DIGEST}`,
    });
    expect(
      described(exchange('DELETE', '/api/v2.0/projects/lib/repositories/app/artifacts/v1'))?.resource,
    ).toBe('lib/app:v1');
    expect(
      described(exchange('DELETE', '/api/v2.0/projects/lib/repositories/app/artifacts/v1/tags/old')),
    ).toEqual({
      operation: 'delete',
      resourceType: 'tag',
      resource: 'lib/app:old',
      project: { name: 'lib' },
    });
  });

  it('records tag, user, member and robot creation from the request body', () => {
    const tag = exchange('POST', '/api/v2.0/projects/lib/repositories/app/artifacts/v1/tags', {
      statusCode: 201,
      body: { name: 'stable' },
    });
    expect(described(tag)).toMatchObject({
      operation: 'create',
      resourceType: 'tag',
      resource: 'lib/app:stable',
    });

    const user = exchange('POST', '/api/v2.0/users', { statusCode: 201, body: { username: 'bob' } });
    expect(described(user)).toEqual({ operation: 'create', resourceType: 'user', resource: 'bob' });

    const member = exchange('POST', '/api/v2.0/projects/7/members', {
      statusCode: 201,
      body: { role_id: 2, member_user: { username: 'bob' } },
    });
    expect(described(member)).toEqual({
      operation: 'create',
      resourceType: 'member',
      resource: 'bob',
      project: { id: 7 },
    });
    const byUserId = { ...member, body: { role_id: 2, member_user: { user_id: 5 } }, isResourceName: true };
    expect(described(byUserId)).toEqual({
      operation: 'create',
      resourceType: 'member',
      resource: '',
      resourceUserId: 5,
      project: { name: '7' },
    });

    const projectRobot = exchange('POST', '/api/v2.0/robots', {
      statusCode: 201,
      body: {
        name: 'ci',
        level: 'project',
        permissions: [{ kind: 'project', namespace: 'lib', access: [] }],
      },
      answerName: 'robot$lib+ci',
    });
    expect(described(projectRobot)).toEqual({
      operation: 'create',
      resourceType: 'robot',
      resource: 'robot$lib+ci',
      project: { name: 'lib' },
    });
    const systemRobot = exchange('POST', '/api/v2.0/robots', {
      statusCode: 201,
      body: { name: 'ops', level: 'system', permissions: [{ kind: 'system', namespace: '/', access: [] }] },
    });
    expect(described(systemRobot)).toEqual({ operation: 'create', resourceType: 'robot', resource: 'ops' });
  });

  it('ignores reads, updates, unknown routes, bodies without the name, and malformed encodings', () => {
    for (const input of [
      exchange('GET', '/api/v2.0/projects'),
      exchange('PUT', '/api/v2.0/projects/7'),
      exchange('POST', '/api/v2.0/projects/7/metadatas'),
      exchange('POST', '/api/v2.0/users', { body: {} }),
      exchange('POST', '/api/v2.0/projects', { body: [] }),
      exchange('POST', '/api/v2.0/projects/7/members', { body: { role_id: 1 } }),
      exchange('DELETE', '/api/v2.0/projects/lib/repositories/%E0%A4%A'),
      exchange('DELETE', '/api/v2.0/users/3'),
    ]) {
      expect(describeAuditEvent(input), `${input.method} ${input.path}`).toBeUndefined();
    }
  });
});

describe('the hook helpers', () => {
  it('lets only manifest requests and API creates and deletes past the cheap test', () => {
    expect(mayBeAudited('GET', '/v2/library/app/manifests/v1')).toBe(true);
    expect(mayBeAudited('PUT', '/v2/library/app/manifests/v1')).toBe(true);
    expect(mayBeAudited('HEAD', '/v2/library/app/manifests/v1')).toBe(false);
    expect(mayBeAudited('GET', `/v2/library/app/blobs/${DIGEST}`)).toBe(false);
    expect(mayBeAudited('PATCH', '/v2/library/app/blobs/uploads/1')).toBe(false);
    expect(mayBeAudited('POST', '/api/v2.0/projects')).toBe(true);
    expect(mayBeAudited('DELETE', '/api/v2.0/projects/1')).toBe(true);
    expect(mayBeAudited('GET', '/api/v2.0/projects')).toBe(false);
    expect(mayBeAudited('POST', '/service/token')).toBe(false);
  });

  it('asks for a lookup before project deletes only', () => {
    expect(deletedProjectRef('DELETE', '/api/v2.0/projects/web')).toBe('web');
    expect(deletedProjectRef('DELETE', '/api/v2.0/projects/42')).toBe('42');
    expect(deletedProjectRef('GET', '/api/v2.0/projects/web')).toBeUndefined();
    expect(deletedProjectRef('DELETE', '/api/v2.0/projects/web/members/1')).toBeUndefined();
    expect(deletedProjectRef('DELETE', '/v2/web/app/manifests/v1')).toBeUndefined();
  });

  it('reads the answer of robot creation only', () => {
    expect(wantsAnswerName('POST', '/api/v2.0/robots')).toBe(true);
    expect(wantsAnswerName('POST', '/api/v2.0/users')).toBe(false);
    expect(wantsAnswerName('GET', '/api/v2.0/robots')).toBe(false);
  });
});
