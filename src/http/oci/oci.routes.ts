import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';
import { isValidRepositoryName } from '../../core/oci/names.js';
import { splitUrl } from '../request-url.js';
import { authenticate } from '../authenticate.js';
import type { HttpDeps } from '../http-deps.js';
import * as blobs from './blobs.handlers.js';
import * as manifests from './manifests.handlers.js';
import type { OciContext } from './oci-context.js';
import { matchOciRoute, type OciRoute } from './oci-path.js';

/**
 * The /v2/ API. Bodies are never parsed here: upload handlers stream `request.raw` to the blob store and
 * manifest handlers read at most 4 MiB themselves.
 */
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function dispatch(ctx: OciContext, route: OciRoute, method: Method): Promise<void> | undefined {
  switch (route.kind) {
    case 'base':
      if (method !== 'GET' && method !== 'HEAD') return undefined;
      // Anyone authenticated: a user, or a token issued to one (an anonymous token proves nothing).
      if (
        ctx.principal.kind === 'anonymous' ||
        (ctx.principal.kind === 'token' && ctx.principal.subject === '')
      )
        throw new DomainError('auth.unauthorized', 'authentication required');
      ctx.reply.header('Content-Type', 'application/json').send('{}');
      return Promise.resolve();
    case 'catalog':
      return method === 'GET' ? manifests.listCatalog(ctx) : undefined;
    case 'tags':
      return method === 'GET' ? manifests.listTags(ctx, route.name) : undefined;
    case 'referrers':
      return method === 'GET' ? manifests.listReferrers(ctx, route.name, route.digest) : undefined;
    case 'manifest':
      if (method === 'GET' || method === 'HEAD')
        return manifests.getManifest(ctx, route.name, route.reference, method === 'HEAD');
      if (method === 'PUT') return manifests.putManifest(ctx, route.name, route.reference);
      if (method === 'DELETE') return manifests.deleteManifest(ctx, route.name, route.reference);
      return undefined;
    case 'blob':
      if (method === 'GET' || method === 'HEAD')
        return blobs.getBlob(ctx, route.name, route.digest, method === 'HEAD');
      if (method === 'DELETE') return blobs.deleteBlob(ctx, route.name, route.digest);
      return undefined;
    case 'uploads':
      return method === 'POST' ? blobs.startUpload(ctx, route.name) : undefined;
    case 'upload':
      if (method === 'GET') return blobs.getUploadStatus(ctx, route.name, route.id);
      if (method === 'PATCH') return blobs.patchUpload(ctx, route.name, route.id);
      if (method === 'PUT') return blobs.putUpload(ctx, route.name, route.id);
      if (method === 'DELETE') return blobs.cancelUpload(ctx, route.name, route.id);
      return undefined;
  }
}

export function registerOciRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.register((scope, _options, done) => {
    // Leave every body unread for the handlers (uploads stream it, manifests cap it).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    scope.addHook('onRequest', (_request, reply, next) => {
      reply.header('Docker-Distribution-API-Version', 'registry/2.0');
      next();
    });
    // Returns the reply so Fastify waits for what the handler sent (a blob stream ends after the promise).
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { path, query } = splitUrl(request.url);
      const route = matchOciRoute(path.replace(/^\/v2\/?/, ''));
      if (!route) throw new DomainError('name.invalid', 'invalid repository name or unknown endpoint');
      if ('name' in route) {
        // Reject bad names before authentication so the client learns the real problem.
        if (!isValidRepositoryName(route.name)) {
          throw new DomainError('name.invalid', `invalid repository name "${route.name.slice(0, 300)}"`);
        }
      }
      const principal = await authenticate(request, deps.auth, deps.tokens);
      const ctx: OciContext = {
        request,
        reply,
        deps,
        principal,
        query,
      };
      const handled = dispatch(ctx, route, request.method as Method);
      if (!handled) {
        throw new DomainError('method.notAllowed', `${request.method} is not supported on this endpoint`);
      }
      await handled;
      return reply;
    };
    const methods: Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
    scope.route({ method: methods, url: '/v2', handler, exposeHeadRoute: false });
    scope.route({ method: methods, url: '/v2/*', handler, exposeHeadRoute: false });
    done();
  });
}
