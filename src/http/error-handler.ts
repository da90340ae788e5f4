import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorCode } from '../core/errors.js';
import { API_ERRORS, apiErrorBody } from './api/api-errors.js';
import { OCI_ERRORS, ociErrorBody } from './oci/oci-errors.js';

/**
 * The one place errors become responses and the one place they are logged. /v2/ answers in the OCI
 * envelope, everything else in Harbor's. A 500 carries the request id and hides the internals.
 */
const CLIENT_GONE = new Set(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED', 'EPIPE']);

/** Framework errors (bad JSON, body too large, unsupported content type) as domain codes. */
function frameworkCode(error: FastifyError): DomainErrorCode | undefined {
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'size.invalid';
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'unsupported';
  if (
    error.validation ||
    (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
  ) {
    return 'request.invalid';
  }
  return undefined;
}

/** The `WWW-Authenticate` of 401s: per request on /v2/ (the Bearer challenge names a scope), fixed elsewhere. */
export interface Challenges {
  oci(request: FastifyRequest): string;
  api: string;
}

export function installErrorHandler(app: FastifyInstance, challenges: Challenges): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // Whether the client is gone is the socket's state: the request stream itself is destroyed as soon as
    // its body has been read (Node's autoDestroy), and an error after a whole upload (the database down,
    // say) must still be answered with its status.
    if (CLIENT_GONE.has(error.code) || request.raw.socket.destroyed) {
      request.log.debug({ err: error }, 'client went away');
      if (!reply.sent) reply.code(400).send();
      return;
    }
    const code = error instanceof DomainError ? error.code : frameworkCode(error);
    const isOci = request.url === '/v2' || request.url.startsWith('/v2/');
    if (code === undefined) {
      request.log.error({ err: error }, 'request failed');
      const message = `internal error, request id ${request.id}`;
      reply
        .code(500)
        .header('Content-Type', 'application/json')
        .send(isOci ? ociErrorBody('UNKNOWN', message) : apiErrorBody('UNKNOWN', message));
      return;
    }
    const detail = error instanceof DomainError ? error.detail : undefined;
    const mapped = isOci ? OCI_ERRORS[code] : API_ERRORS[code];
    if (mapped.status === 401) {
      reply.header('WWW-Authenticate', isOci ? challenges.oci(request) : challenges.api);
    }
    const retryAfter = (detail as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (mapped.status === 429 && typeof retryAfter === 'number')
      reply.header('Retry-After', String(retryAfter));
    request.log.debug({ code, status: mapped.status, message: error.message }, 'request refused');
    reply
      .code(mapped.status)
      .header('Content-Type', 'application/json')
      .send(
        isOci
          ? ociErrorBody(mapped.code as never, error.message, detail)
          : apiErrorBody(mapped.code, error.message),
      );
  });
}
