/**
 * A request URL as its raw path and its query. Routes read repeated parameters (`scope`, `tag`) and keep
 * the path undecoded (repository names are matched before decoding), so they share this rather than
 * Fastify's parsed `request.query`.
 */
export interface SplitUrl {
  path: string;
  query: URLSearchParams;
}

export function splitUrl(url: string): SplitUrl {
  const queryAt = url.indexOf('?');
  return queryAt < 0
    ? { path: url, query: new URLSearchParams() }
    : { path: url.slice(0, queryAt), query: new URLSearchParams(url.slice(queryAt + 1)) };
}

/**
 * decodeURIComponent, skipped when there is nothing to decode: it throws on a malformed escape as that
 * does, and costs the hot paths nothing for the usual name or reference, which has no `%`.
 */
export function decodePathSegment(segment: string): string {
  return segment.includes('%') ? decodeURIComponent(segment) : segment;
}
