import {
  anyone,
  api,
  get,
  NONE,
  PROJECTS,
  project,
  projectOf,
  repo,
  type RouteEntry,
} from './authorization-matrix.entries.js';

/**
 * The matrix entries of the project-scoped /api/v2.0/ routes: projects, members, metadata, repositories,
 * artifacts, tags, accessories and additions, each tried on the private and the public project. Each
 * rule is what Harbor's handler asks (RequireProjectAccess in src/server/v2.0/handler/*.go).
 */
export const PROJECT_ROUTES: readonly RouteEntry[] = [
  // --- projects ---
  api({
    method: 'GET',
    path: '/projects',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/projects'),
  }),
  api({
    method: 'POST',
    path: '/projects',
    variants: NONE,
    rule: () => ({ kind: 'user' }),
    berth:
      'docs/api.md: "Not yet: ... project creation by robot accounts" (Harbor lets system robots granted project create)',
    request: (world) =>
      Promise.resolve({
        method: 'POST',
        url: '/api/v2.0/projects',
        payload: { project_name: world.unique('made'), public: false },
        // The creator becomes its ProjectAdmin, which would let it list /permissions in later cases.
        undo: async (response) => {
          if (response.statusCode !== 201) return;
          await world.admin({ method: 'DELETE', url: String(response.headers['location']) }, 200);
        },
      }),
  }),
  api({
    method: 'HEAD',
    path: '/projects',
    variants: PROJECTS,
    rule: project('project', 'read'),
    berth:
      'docs/api.md: "200 when the caller may read it ... 403 for a private project of others" (Harbor: any authenticated caller)',
    request: (_world, variant) =>
      Promise.resolve({ method: 'HEAD', url: `/api/v2.0/projects?project_name=${projectOf(variant)}` }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}',
    variants: PROJECTS,
    rule: project('project', 'read'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}`),
  }),
  api({
    method: 'PUT',
    path: '/projects/{project_name_or_id}',
    variants: PROJECTS,
    rule: project('project', 'update'),
    // Its id, to cover `{project_name_or_id}` as an id too; only auto_scan changes.
    request: (world, variant) =>
      Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/projects/${world.projects[projectOf(variant)].id}`,
        payload: { metadata: { auto_scan: 'false' } },
      }),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name_or_id}',
    variants: PROJECTS,
    rule: project('project', 'delete'),
    // The seed projects hold repositories: an allowed delete is refused with 412 and destroys nothing.
    adminStatuses: [412],
    request: (_world, variant) =>
      Promise.resolve({ method: 'DELETE', url: `/api/v2.0/projects/${projectOf(variant)}` }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/_deletable',
    variants: PROJECTS,
    rule: project('project', 'delete'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/_deletable`),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/summary',
    variants: PROJECTS,
    rule: project('project', 'read'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/summary`),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/logs',
    variants: PROJECTS,
    rule: project('log', 'list'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/logs`),
  }),

  // --- members ---
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/members',
    variants: PROJECTS,
    rule: project('member', 'list'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/members`),
  }),
  api({
    method: 'POST',
    path: '/projects/{project_name_or_id}/members',
    variants: PROJECTS,
    rule: project('member', 'create'),
    request: async (world, variant) => ({
      method: 'POST',
      url: `/api/v2.0/projects/${projectOf(variant)}/members`,
      payload: { role_id: 3, member_user: { username: (await world.throwawayUser()).username } },
    }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/members/{mid}',
    variants: PROJECTS,
    rule: project('member', 'read'),
    request: (world, variant) =>
      get(
        `/api/v2.0/projects/${projectOf(variant)}/members/${world.projects[projectOf(variant)].guestMemberId}`,
      ),
  }),
  api({
    method: 'PUT',
    path: '/projects/{project_name_or_id}/members/{mid}',
    variants: PROJECTS,
    rule: project('member', 'update'),
    request: async (world, variant) => ({
      method: 'PUT',
      url: `/api/v2.0/projects/${projectOf(variant)}/members/${await world.throwawayMember(projectOf(variant))}`,
      payload: { role_id: 5 },
    }),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/members/{mid}',
    variants: PROJECTS,
    rule: project('member', 'delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: `/api/v2.0/projects/${projectOf(variant)}/members/${await world.throwawayMember(projectOf(variant))}`,
    }),
  }),

  // --- metadata ---
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/metadatas/',
    variants: PROJECTS,
    rule: (world, variant) => ({
      kind: 'any',
      rules: [project('metadata', 'list')(world, variant), project('metadata', 'read')(world, variant)],
    }),
    berth: 'docs/api.md: "the metadata map (metadata read; Harbor asks list ...)"',
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/metadatas/`),
  }),
  api({
    method: 'POST',
    path: '/projects/{project_name_or_id}/metadatas/',
    variants: PROJECTS,
    rule: project('metadata', 'create'),
    // 409 once an earlier case set auto_scan.
    adminStatuses: [409],
    request: (_world, variant) =>
      Promise.resolve({
        method: 'POST',
        url: `/api/v2.0/projects/${projectOf(variant)}/metadatas/`,
        payload: { auto_scan: 'true' },
      }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    variants: PROJECTS,
    rule: project('metadata', 'read'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/metadatas/public`),
  }),
  api({
    method: 'PUT',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    variants: PROJECTS,
    rule: project('metadata', 'update'),
    request: (_world, variant) =>
      Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/projects/${projectOf(variant)}/metadatas/auto_scan`,
        payload: { auto_scan: 'false' },
      }),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    variants: PROJECTS,
    rule: project('metadata', 'delete'),
    // Never `public`: the visibility of the seed projects must stay.
    request: (_world, variant) =>
      Promise.resolve({
        method: 'DELETE',
        url: `/api/v2.0/projects/${projectOf(variant)}/metadatas/auto_scan`,
      }),
  }),

  // --- repositories ---
  api({
    method: 'GET',
    path: '/repositories',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/repositories'),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories',
    variants: PROJECTS,
    rule: project('repository', 'list'),
    request: (_world, variant) => get(`/api/v2.0/projects/${projectOf(variant)}/repositories`),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}',
    variants: PROJECTS,
    rule: project('repository', 'list'),
    request: (_world, variant) => get(repo(variant)),
  }),
  api({
    method: 'PUT',
    path: '/projects/{project_name}/repositories/{repository_name}',
    variants: PROJECTS,
    rule: project('repository', 'update'),
    request: (_world, variant) =>
      Promise.resolve({ method: 'PUT', url: repo(variant), payload: { description: 'described' } }),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}',
    variants: PROJECTS,
    rule: project('repository', 'delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: `/api/v2.0/projects/${projectOf(variant)}/repositories/${await world.throwawayRepository(projectOf(variant))}`,
    }),
  }),

  // --- artifacts, tags, accessories, additions ---
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    variants: PROJECTS,
    rule: project('artifact', 'list'),
    request: (_world, variant) => get(repo(variant, '/artifacts')),
  }),
  api({
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    variants: PROJECTS,
    // Harbor's CopyArtifact: create in the target project, read in the source (here the same project).
    rule: (world, variant) => ({
      kind: 'all',
      rules: [project('artifact', 'create')(world, variant), project('artifact', 'read')(world, variant)],
    }),
    request: (_world, variant) =>
      Promise.resolve({
        method: 'POST',
        url: `/api/v2.0/projects/${projectOf(variant)}/repositories/copies/artifacts?from=${projectOf(variant)}/app:v1`,
      }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    variants: PROJECTS,
    rule: project('artifact', 'read'),
    request: (_world, variant) => get(repo(variant, '/artifacts/v1')),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    variants: PROJECTS,
    rule: project('artifact', 'delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: repo(variant, `/artifacts/${(await world.throwawayArtifact(projectOf(variant))).digest}`),
    }),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
    variants: PROJECTS,
    rule: project('tag', 'list'),
    request: (_world, variant) => get(repo(variant, '/artifacts/v1/tags')),
  }),
  api({
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
    variants: PROJECTS,
    rule: project('tag', 'create'),
    request: (world, variant) =>
      Promise.resolve({
        method: 'POST',
        url: repo(variant, '/artifacts/v1/tags'),
        payload: { name: world.unique('tagged') },
      }),
  }),
  api({
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}',
    variants: PROJECTS,
    rule: project('tag', 'delete'),
    request: async (world, variant) => {
      const tag = world.unique('untag');
      await world.admin(
        { method: 'POST', url: repo(variant, '/artifacts/v1/tags'), payload: { name: tag } },
        201,
      );
      return { method: 'DELETE', url: repo(variant, `/artifacts/v1/tags/${tag}`) };
    },
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories',
    variants: PROJECTS,
    rule: project('accessory', 'list'),
    request: (_world, variant) => get(repo(variant, '/artifacts/v1/accessories')),
  }),
  api({
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}',
    variants: PROJECTS,
    rule: project('artifact-addition', 'read'),
    request: (_world, variant) => get(repo(variant, '/artifacts/v1/additions/build_history')),
  }),
];
