import { describe, expect, it } from 'vitest';
import type { AuditLogQuery, NewAuditLog } from './audit-log-store.js';
import type { ContractFixtures } from './metadata-store.contract.js';

/** The audit log half of the MetadataStore contract (audit-log-store.ts). */
const ALL = { offset: 0, limit: 100_000 };

export function describeAuditLogContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, createProject } = fixtures;

  function entry(overrides: Partial<NewAuditLog>): NewAuditLog {
    return {
      projectId: 0,
      operation: 'create',
      resourceType: 'artifact',
      resource: 'p/app:1',
      username: 'someone',
      opTime: '2024-05-01T10:00:00.000Z',
      ...overrides,
    };
  }

  /** Lists with every scope, restricted to one operator so other tests' entries stay out. */
  async function list(username: string, query: Partial<AuditLogQuery> = {}, page = ALL) {
    return store().listAuditLogs(
      { scope: { kind: 'all' }, ...query, username: [{ value: username, fuzzy: false }] },
      page,
    );
  }

  describe('audit log', () => {
    it('appends a batch and lists it newest first, with every field', async () => {
      const username = uniqueName('operator');
      await store().appendAuditLogs([
        entry({ username, opTime: '2024-05-01T10:00:00.000Z', resource: 'p/app:old' }),
        entry({
          username,
          projectId: 7,
          operation: 'pull',
          resourceType: 'artifact',
          resource: 'p/app@sha256:abc',
          opTime: '2024-05-02T10:00:00.000Z',
        }),
      ]);
      const page = await list(username);
      expect(page.total).toBe(2);
      expect(page.items.map(({ id: _id, ...rest }) => rest)).toEqual([
        {
          projectId: 7,
          operation: 'pull',
          resourceType: 'artifact',
          resource: 'p/app@sha256:abc',
          username,
          opTime: '2024-05-02T10:00:00.000Z',
        },
        {
          projectId: 0,
          operation: 'create',
          resourceType: 'artifact',
          resource: 'p/app:old',
          username,
          opTime: '2024-05-01T10:00:00.000Z',
        },
      ]);
      expect(page.items[0]!.id).toBeGreaterThan(page.items[1]!.id);
      await store().appendAuditLogs([]);
    });

    it('stores any text exactly, and numbers a batch in its own order', async () => {
      const username = uniqueName('text');
      const resources = ['quote " and \\ backslash', 'line\nbreak\ttab', 'ünïcødé 🐳 名前', "it's", '%_*'];
      // One op_time for all: only the ids can tell their order.
      await store().appendAuditLogs(
        resources.map((resource) => entry({ username, resource, opTime: '2024-06-01T00:00:00.000Z' })),
      );
      const page = await list(username);
      const byId = [...page.items].sort((a, b) => a.id - b.id);
      expect(byId.map((item) => item.resource)).toEqual(resources);
    });

    it('stores a large batch whole, and pages it with the total', async () => {
      const username = uniqueName('bulk');
      const entries = Array.from({ length: 1_201 }, (_, i) =>
        entry({
          username,
          resource: `p/app:${i}`,
          opTime: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
        }),
      );
      await store().appendAuditLogs(entries);
      const first = await list(username, {}, { offset: 0, limit: 10 });
      expect(first.total).toBe(1_201);
      expect(first.items.map((item) => item.resource)).toEqual(
        Array.from({ length: 10 }, (_, i) => `p/app:${1_200 - i}`),
      );
      const oldestFirst = await list(
        username,
        { sort: [{ field: 'op_time', descending: false }] },
        { offset: 1_200, limit: 10 },
      );
      expect(oldestFirst.items.map((item) => item.resource)).toEqual(['p/app:1200']);
    });

    it('filters by operation, resource type, resource and an inclusive time range', async () => {
      const username = uniqueName('filtered');
      await store().appendAuditLogs([
        entry({ username, operation: 'create', resource: 'lib/web:1', opTime: '2024-03-01T00:00:00.000Z' }),
        entry({ username, operation: 'pull', resource: 'lib/web:1', opTime: '2024-03-02T00:00:00.000Z' }),
        entry({
          username,
          operation: 'delete',
          resourceType: 'tag',
          resource: 'lib/db:2',
          opTime: '2024-03-03T00:00:00.000Z',
        }),
      ]);
      const resources = async (query: Partial<AuditLogQuery>) =>
        (await list(username, query)).items.map((item) => `${item.operation} ${item.resource}`);

      expect(await resources({ operation: [{ value: 'pull', fuzzy: false }] })).toEqual(['pull lib/web:1']);
      expect(
        await resources({
          operation: [
            { value: 'create', fuzzy: false },
            { value: 'delete', fuzzy: false },
          ],
        }),
      ).toEqual(['delete lib/db:2', 'create lib/web:1']);
      expect(await resources({ resourceType: [{ value: 'tag', fuzzy: false }] })).toEqual([
        'delete lib/db:2',
      ]);
      expect(await resources({ resource: [{ value: 'WEB', fuzzy: true }] })).toEqual([
        'pull lib/web:1',
        'create lib/web:1',
      ]);
      expect(await resources({ resource: [{ value: 'lib/web', fuzzy: false }] })).toEqual([]);
      expect(
        await resources({ opTime: { from: '2024-03-02T00:00:00.000Z', to: '2024-03-03T00:00:00.000Z' } }),
      ).toEqual(['delete lib/db:2', 'pull lib/web:1']);
      expect(await resources({ opTime: { to: '2024-03-01T12:00:00.000Z' } })).toEqual(['create lib/web:1']);
    });

    it('matches a fuzzy username case-insensitively, taking % and _ literally', async () => {
      const base = uniqueName('Fuzzy');
      await store().appendAuditLogs([entry({ username: `${base}_a%b` }), entry({ username: `${base}xaxb` })]);
      const names = async (value: string) =>
        (
          await store().listAuditLogs({ scope: { kind: 'all' }, username: [{ value, fuzzy: true }] }, ALL)
        ).items.map((item) => item.username);
      expect(await names(`${base.toUpperCase()}_A%`)).toEqual([`${base}_a%b`]);
      expect((await names(base.toLowerCase())).sort()).toEqual([`${base}_a%b`, `${base}xaxb`].sort());
    });

    it('scopes entries to projects, or to projects where the user holds a role', async () => {
      const username = uniqueName('scoped');
      const [admin, guest, other] = await Promise.all([createProject(), createProject(), createProject()]);
      await store().appendAuditLogs(
        [admin, guest, other].map((project) =>
          entry({ username, projectId: project.projectId, resource: project.name }),
        ),
      );
      await store().appendAuditLogs([entry({ username, projectId: 0, resource: 'a-user' })]);
      const member = await createUser();
      await store().addMember({ projectId: admin.projectId, userId: member.userId, role: 1 });
      await store().addMember({ projectId: guest.projectId, userId: member.userId, role: 3 });

      const seen = async (scope: AuditLogQuery['scope']) =>
        (await list(username, { scope })).items.map((item) => item.resource).sort();
      expect(await seen({ kind: 'all' })).toEqual([admin.name, guest.name, other.name, 'a-user'].sort());
      expect(await seen({ kind: 'projects', projectIds: [guest.projectId, other.projectId] })).toEqual(
        [guest.name, other.name].sort(),
      );
      expect(await seen({ kind: 'projects', projectIds: [] })).toEqual([]);
      expect(await seen({ kind: 'member', userId: member.userId, roles: [1] })).toEqual([admin.name]);
      expect(await seen({ kind: 'member', userId: member.userId, roles: [1, 3] })).toEqual(
        [admin.name, guest.name].sort(),
      );
      expect(await seen({ kind: 'member', userId: member.userId, roles: [] })).toEqual([]);
    });
  });
}
