import type { DomainErrorCode } from '../../core/errors.js';

/** Harbor's REST error envelope `{"errors":[{"code","message"}]}`: codes and statuses per domain error. */
export const API_ERRORS = {
  'blob.unknown': { code: 'NOT_FOUND', status: 404 },
  'blob.uploadInvalid': { code: 'BAD_REQUEST', status: 400 },
  'blob.uploadUnknown': { code: 'NOT_FOUND', status: 404 },
  'blob.rangeInvalid': { code: 'BAD_REQUEST', status: 416 },
  'digest.invalid': { code: 'BAD_REQUEST', status: 400 },
  'digest.mismatch': { code: 'BAD_REQUEST', status: 400 },
  'manifest.blobUnknown': { code: 'BAD_REQUEST', status: 400 },
  'manifest.invalid': { code: 'BAD_REQUEST', status: 400 },
  'manifest.unknown': { code: 'NOT_FOUND', status: 404 },
  'manifest.tooLarge': { code: 'BAD_REQUEST', status: 413 },
  'name.invalid': { code: 'BAD_REQUEST', status: 400 },
  'name.unknown': { code: 'NOT_FOUND', status: 404 },
  'reference.invalid': { code: 'BAD_REQUEST', status: 400 },
  'size.invalid': { code: 'BAD_REQUEST', status: 400 },
  'project.notFound': { code: 'NOT_FOUND', status: 404 },
  'project.exists': { code: 'CONFLICT', status: 409 },
  'project.invalid': { code: 'BAD_REQUEST', status: 400 },
  // Harbor's quota refusal is errors.DeniedError on every API, not FORBIDDEN.
  'quota.exceeded': { code: 'DENIED', status: 403 },
  'resource.notFound': { code: 'NOT_FOUND', status: 404 },
  'precondition.failed': { code: 'PRECONDITION', status: 412 },
  'auth.unauthorized': { code: 'UNAUTHORIZED', status: 401 },
  'access.denied': { code: 'FORBIDDEN', status: 403 },
  'request.invalid': { code: 'BAD_REQUEST', status: 400 },
  unsupported: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  'method.notAllowed': { code: 'METHOD_NOT_ALLOWED', status: 405 },
  conflict: { code: 'CONFLICT', status: 409 },
  rateLimited: { code: 'TOO_MANY_REQUEST', status: 429 },
  unavailable: { code: 'SERVICE_UNAVAILABLE', status: 503 },
} as const satisfies Record<DomainErrorCode, { code: string; status: number }>;

export function apiErrorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}
