import { digestOf } from '../../core/oci/digest.js';
import {
  authenticated,
  get,
  NONE,
  oci,
  PROJECTS,
  project,
  projectOf,
  system,
  type RouteEntry,
} from './authorization-matrix.entries.js';

/**
 * The matrix entries of /v2/: what Harbor's v2auth middleware asks (src/server/middleware/v2auth/access.go):
 * `/v2/` any authenticated caller, `_catalog` the system catalog permission, and on a repository GET/HEAD
 * pull, POST/PUT/PATCH push, DELETE delete.
 */
const ANONYMOUS_PULL =
  'docs/api.md: "Anonymous callers may pull from public projects" (Harbor answers 401 to a GET or HEAD without Authorization so that the client logs in)';
const UPLOAD_PUSH =
  'docs/api.md: "repository:<name>:pull,push for PUT and every upload request" (Harbor asks pull of a GET and delete of a DELETE)';

export const REGISTRY_ROUTES: readonly RouteEntry[] = [
  // --- /v2/ ---
  oci({ method: 'GET', path: '/v2/', variants: NONE, rule: authenticated, request: () => get('/v2/') }),
  oci({
    method: 'GET',
    path: '/v2/_catalog',
    variants: NONE,
    rule: system('catalog', 'read'),
    request: () => get('/v2/_catalog'),
  }),
  oci({
    method: 'GET',
    path: '/v2/<name>/manifests/<reference>',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (_world, variant) => get(`/v2/${projectOf(variant)}/app/manifests/v1`),
  }),
  oci({
    method: 'HEAD',
    path: '/v2/<name>/manifests/<reference>',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (_world, variant) =>
      Promise.resolve({ method: 'HEAD', url: `/v2/${projectOf(variant)}/app/manifests/v1` }),
  }),
  oci({
    method: 'PUT',
    path: '/v2/<name>/manifests/<reference>',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    // v1 again, the same bytes: pushing changes nothing.
    request: (world, variant) =>
      Promise.resolve({
        method: 'PUT',
        url: `/v2/${projectOf(variant)}/app/manifests/v1`,
        payload: world.projects[projectOf(variant)].manifest.bytes,
        contentType: 'application/vnd.oci.image.manifest.v1+json',
      }),
  }),
  oci({
    method: 'DELETE',
    path: '/v2/<name>/manifests/<reference>',
    variants: PROJECTS,
    rule: project('repository', 'delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: `/v2/${projectOf(variant)}/app/manifests/${(await world.throwawayArtifact(projectOf(variant))).digest}`,
    }),
  }),
  oci({
    method: 'GET',
    path: '/v2/<name>/blobs/<digest>',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (world, variant) =>
      get(`/v2/${projectOf(variant)}/app/blobs/${world.projects[projectOf(variant)].manifest.layer}`),
  }),
  oci({
    method: 'HEAD',
    path: '/v2/<name>/blobs/<digest>',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (world, variant) =>
      Promise.resolve({
        method: 'HEAD',
        url: `/v2/${projectOf(variant)}/app/blobs/${world.projects[projectOf(variant)].manifest.layer}`,
      }),
  }),
  oci({
    method: 'DELETE',
    path: '/v2/<name>/blobs/<digest>',
    variants: PROJECTS,
    rule: project('repository', 'delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: `/v2/${projectOf(variant)}/app/blobs/${await world.throwawayBlob(projectOf(variant))}`,
    }),
  }),
  oci({
    method: 'GET',
    path: '/v2/<name>/tags/list',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (_world, variant) => get(`/v2/${projectOf(variant)}/app/tags/list`),
  }),
  oci({
    method: 'GET',
    path: '/v2/<name>/referrers/<digest>',
    variants: PROJECTS,
    rule: project('repository', 'pull'),
    berth: ANONYMOUS_PULL,
    request: (world, variant) =>
      get(`/v2/${projectOf(variant)}/app/referrers/${world.projects[projectOf(variant)].manifest.digest}`),
  }),
  oci({
    method: 'POST',
    path: '/v2/<name>/blobs/uploads/',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    request: (_world, variant) =>
      Promise.resolve({ method: 'POST', url: `/v2/${projectOf(variant)}/app/blobs/uploads/` }),
  }),
  oci({
    method: 'GET',
    path: '/v2/<name>/blobs/uploads/<uuid>',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    berth: UPLOAD_PUSH,
    request: async (world, variant) => get(await world.throwawayUpload(projectOf(variant))),
  }),
  oci({
    method: 'PATCH',
    path: '/v2/<name>/blobs/uploads/<uuid>',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    request: async (world, variant) => ({
      method: 'PATCH',
      url: await world.throwawayUpload(projectOf(variant)),
      payload: Buffer.from('a chunk'),
    }),
  }),
  oci({
    method: 'PUT',
    path: '/v2/<name>/blobs/uploads/<uuid>',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    request: async (world, variant) => {
      const bytes = Buffer.from(world.unique('a whole blob '));
      return {
        method: 'PUT',
        url: `${await world.throwawayUpload(projectOf(variant))}?digest=${digestOf(bytes)}`,
        payload: bytes,
      };
    },
  }),
  oci({
    method: 'DELETE',
    path: '/v2/<name>/blobs/uploads/<uuid>',
    variants: PROJECTS,
    rule: project('repository', 'push'),
    berth: UPLOAD_PUSH,
    request: async (world, variant) => ({
      method: 'DELETE',
      url: await world.throwawayUpload(projectOf(variant)),
    }),
  }),
];
