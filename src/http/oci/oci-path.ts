import { decodePathSegment } from '../request-url.js';

/**
 * Routes under /v2/. Repository names contain slashes, so the path is matched from its end: the last
 * `/blobs/`, `/manifests/`, `/tags/list` or `/referrers/` segment decides the endpoint
 * (distribution-spec §Endpoints).
 */
export type OciRoute =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

type Build = (a: string, b: string) => OciRoute;

const PATTERNS: ReadonlyArray<[RegExp, Build]> = [
  [/^(.+)\/tags\/list$/, (name) => ({ kind: 'tags', name })],
  [/^(.+)\/manifests\/([^/]+)$/, (name, reference) => ({ kind: 'manifest', name, reference })],
  [/^(.+)\/blobs\/uploads\/?$/, (name) => ({ kind: 'uploads', name })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (name, id) => ({ kind: 'upload', name, id })],
  [/^(.+)\/blobs\/([^/]+)$/, (name, digest) => ({ kind: 'blob', name, digest })],
  [/^(.+)\/referrers\/([^/]+)$/, (name, digest) => ({ kind: 'referrers', name, digest })],
];

/**
 * `path` is the raw URL path after `/v2/`, without the query string. Segments are matched before they are
 * decoded, so an encoded `%2F` can never turn into a path separator.
 */
export function matchOciRoute(path: string): OciRoute | undefined {
  if (path === '') return { kind: 'base' };
  if (path === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(path);
    if (!match) continue;
    try {
      return build(decodePathSegment(match[1] ?? ''), decodePathSegment(match[2] ?? ''));
    } catch {
      return undefined;
    }
  }
  return undefined;
}
