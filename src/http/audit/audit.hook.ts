import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalName, type Principal } from '../../core/iam/principal.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import { deletedProjectRef, describeAuditEvent, mayBeAudited, wantsAnswerName } from './audit-events.js';

/**
 * Records the audit log from the HTTP edge, decoupled from the handlers: after a successful (2xx) answer
 * the `onResponse` hook describes the request (audit-events.ts) and hands the event to the buffered
 * recorder. The operator is the principal authenticate() left on the request. Nothing here waits on I/O
 * in the request path, except the one lookup a project deletion needs before the project is gone.
 */

/** Harbor records what an unauthenticated caller did (only pulls of public projects) as `anonymous`. */
function operatorOf(principal: Principal | undefined): string {
  if (principal === undefined) return '';
  return principalName(principal) || 'anonymous';
}

export function installAuditHook(app: FastifyInstance, deps: HttpDeps): void {
  const deletedProjects = new WeakMap<FastifyRequest, { projectId: number; name: string }>();
  const answerNames = new WeakMap<FastifyRequest, string>();

  app.addHook('onRequest', (request, _reply, done) => {
    const ref =
      request.method === 'DELETE' ? deletedProjectRef('DELETE', splitUrl(request.url).path) : undefined;
    if (ref === undefined) {
      done();
      return;
    }
    // The log names the deleted project and keeps its id: both must be read while it still exists.
    const byId = /^\d{1,10}$/.test(ref) && request.headers['x-is-resource-name'] !== 'true';
    deps.projects
      .findProject(byId && Number(ref) <= 2 ** 31 - 1 ? Number(ref) : ref)
      .then(
        (project) => {
          if (project !== undefined)
            deletedProjects.set(request, { projectId: project.projectId, name: project.name });
        },
        () => undefined,
      )
      .finally(() => done());
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    if (
      reply.statusCode === 201 &&
      typeof payload === 'string' &&
      wantsAnswerName(request.method, splitUrl(request.url).path)
    ) {
      try {
        const name: unknown = (JSON.parse(payload) as { name?: unknown }).name;
        if (typeof name === 'string') answerNames.set(request, name);
      } catch {
        // Not JSON: the event falls back to the requested name.
      }
    }
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    // Every answer passes here: only the path is cut out before the cheap test.
    const queryAt = request.url.indexOf('?');
    const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
    if (reply.statusCode >= 200 && reply.statusCode < 300 && mayBeAudited(request.method, path)) {
      const { query } = splitUrl(request.url);
      const location = reply.getHeader('location');
      const deletedProject = deletedProjects.get(request);
      const answerName = answerNames.get(request);
      const event = describeAuditEvent({
        method: request.method,
        path,
        query,
        statusCode: reply.statusCode,
        body: path.startsWith('/v2/') ? undefined : request.body,
        location: typeof location === 'string' ? location : undefined,
        isResourceName: request.headers['x-is-resource-name'] === 'true',
        operator: operatorOf(request.principal),
        opTime: new Date().toISOString(),
        ...(deletedProject === undefined ? {} : { deletedProject }),
        ...(answerName === undefined ? {} : { answerName }),
      });
      if (event !== undefined) deps.auditLog.record(event);
    }
    done();
  });
}
