import type { FastifyRequest } from 'fastify';
import type { RepositoryAction } from '../../core/iam/principal.js';
import { REGISTRY_SERVICE } from '../../core/iam/token.service.js';
import { formatScope, type RequestedScope } from '../../core/iam/token.scope.js';
import { isValidRepositoryName } from '../../core/oci/names.js';
import type { PublicUrl } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import { matchOciRoute, type OciRoute } from './oci-path.js';

/**
 * The `WWW-Authenticate` of a /v2/ 401, as Harbor and distribution send it:
 * `Bearer realm="<url>/service/token",service="harbor-registry"[,scope="..."]`. The scope names what the
 * request needs, so the client asks the token service for exactly that: `pull` for GET and HEAD,
 * `pull,push` for writes and every upload request, `delete` for deletes (distribution's
 * appendAccessRecords; Harbor's v2auth likewise), `registry:catalog:*` for the catalog, and for a mount
 * with `from` also `pull` on the source.
 */
const CHALLENGE_ACTIONS: Record<RepositoryAction, string[]> = {
  pull: ['pull'],
  push: ['pull', 'push'],
  delete: ['delete'],
};

/** A Host header that can go into a quoted header value as it is: a name or IP literal, and a port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function ociChallenge(request: FastifyRequest, publicUrl: PublicUrl): string {
  const scopes = challengeScopes(request.method, request.url);
  const realm = `${clientFacingUrl(request, publicUrl)}/service/token`;
  const challenge = `Bearer realm="${realm}",service="${REGISTRY_SERVICE}"`;
  return scopes.length === 0 ? challenge : `${challenge},scope="${scopes.map(formatScope).join(' ')}"`;
}

/**
 * The URL the client reached Berth at: `external_url` when configured (behind a load balancer it must be
 * the balancer's), else the scheme of the configured address with the request's own Host, as Harbor does
 * (the port in harbor.yml need not be the one the client used: a proxy on loopback, a test's port 0).
 */
export function clientFacingUrl(request: FastifyRequest, publicUrl: PublicUrl): string {
  if (publicUrl.fixed) return publicUrl.url;
  const host = request.headers.host;
  if (host === undefined || !HOST.test(host)) return publicUrl.url;
  return `${publicUrl.url.slice(0, publicUrl.url.indexOf('://'))}://${host}`;
}

export function challengeScopes(method: string, url: string): RequestedScope[] {
  const { path, query } = splitUrl(url);
  const route = matchOciRoute(path.replace(/^\/v2\/?/, ''));
  if (route === undefined || route.kind === 'base') return [];
  if (route.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  // A name that is not valid is refused before authentication; it never goes into a header.
  if (!isValidRepositoryName(route.name)) return [];
  const scopes: RequestedScope[] = [
    { type: 'repository', name: route.name, actions: CHALLENGE_ACTIONS[requiredAction(route, method)] },
  ];
  if (route.kind === 'uploads') {
    const from = query.get('from');
    if (query.has('mount') && from !== null && from !== route.name && isValidRepositoryName(from)) {
      scopes.push({ type: 'repository', name: from, actions: ['pull'] });
    }
  }
  return scopes;
}

/** The action the handlers authorize: every upload request is a push, like the POST that started it. */
function requiredAction(route: OciRoute, method: string): RepositoryAction {
  if (route.kind === 'uploads' || route.kind === 'upload') return 'push';
  if (method === 'GET' || method === 'HEAD') return 'pull';
  if (method === 'DELETE') return 'delete';
  return 'push';
}
