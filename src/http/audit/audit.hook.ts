import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../../core/audit/audit-recorder.js';
import { principalName, type Principal } from '../../core/iam/principal.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import {
  deletedProjectRef,
  describeAuditEvent,
  describePull,
  mayBeAudited,
  wantsAnswerName,
} from './audit-events.js';

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

/** Now in ISO 8601, formatted once per millisecond: at thousands of pulls a second, bursts share one. */
let formattedAt = -1;
let formatted = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== formattedAt) {
    formattedAt = now;
    formatted = new Date(now).toISOString();
  }
  return formatted;
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

  /** Any other audited answer: described from the whole exchange (audit-events.ts). */
  function describeExchange(
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
    operator: string,
    opTime: string,
  ): AuditEvent | undefined {
    const location = reply.getHeader('location');
    const deletedProject = deletedProjects.get(request);
    const answerName = answerNames.get(request);
    return describeAuditEvent({
      method: request.method,
      path,
      query: splitUrl(request.url).query,
      statusCode: reply.statusCode,
      body: path.startsWith('/v2/') ? undefined : request.body,
      location: typeof location === 'string' ? location : undefined,
      isResourceName: request.headers['x-is-resource-name'] === 'true',
      operator,
      opTime,
      ...(deletedProject === undefined ? {} : { deletedProject }),
      ...(answerName === undefined ? {} : { answerName }),
    });
  }

  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    if (status < 200 || status > 299) {
      done();
      return;
    }
    // Every answer passes here: only the path is cut out before the cheap test.
    const url = request.url;
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const method = request.method;
    if (mayBeAudited(method, path)) {
      const operator = operatorOf(request.principal);
      const opTime = isoNow();
      // The only audited GET is a manifest pull, thousands a second: described from the path alone.
      const event =
        method === 'GET'
          ? describePull(path, operator, opTime)
          : describeExchange(request, reply, path, operator, opTime);
      if (event !== undefined) deps.auditLog.record(event);
    }
    done();
  });
}
