import type { DomainErrorCode } from '../../core/errors.js';

/** OCI distribution-spec error codes (§Error Codes) and the status each domain error answers with. */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE'
  | 'UNKNOWN';

export const OCI_ERRORS = {
  'blob.unknown': { code: 'BLOB_UNKNOWN', status: 404 },
  'blob.uploadInvalid': { code: 'BLOB_UPLOAD_INVALID', status: 400 },
  'blob.uploadUnknown': { code: 'BLOB_UPLOAD_UNKNOWN', status: 404 },
  'blob.rangeInvalid': { code: 'BLOB_UPLOAD_INVALID', status: 416 },
  'digest.invalid': { code: 'DIGEST_INVALID', status: 400 },
  'digest.mismatch': { code: 'DIGEST_INVALID', status: 400 },
  'manifest.blobUnknown': { code: 'MANIFEST_BLOB_UNKNOWN', status: 400 },
  'manifest.invalid': { code: 'MANIFEST_INVALID', status: 400 },
  'manifest.unknown': { code: 'MANIFEST_UNKNOWN', status: 404 },
  'manifest.tooLarge': { code: 'SIZE_INVALID', status: 413 },
  'name.invalid': { code: 'NAME_INVALID', status: 400 },
  'name.unknown': { code: 'NAME_UNKNOWN', status: 404 },
  'reference.invalid': { code: 'MANIFEST_INVALID', status: 400 },
  'size.invalid': { code: 'SIZE_INVALID', status: 400 },
  'project.notFound': { code: 'NAME_UNKNOWN', status: 404 },
  'project.exists': { code: 'DENIED', status: 409 },
  'project.invalid': { code: 'NAME_INVALID', status: 400 },
  'quota.exceeded': { code: 'DENIED', status: 403 },
  'resource.notFound': { code: 'NAME_UNKNOWN', status: 404 },
  'precondition.failed': { code: 'DENIED', status: 412 },
  'auth.unauthorized': { code: 'UNAUTHORIZED', status: 401 },
  'access.denied': { code: 'DENIED', status: 403 },
  'request.invalid': { code: 'UNSUPPORTED', status: 400 },
  unsupported: { code: 'UNSUPPORTED', status: 415 },
  'method.notAllowed': { code: 'UNSUPPORTED', status: 405 },
  conflict: { code: 'DENIED', status: 409 },
  rateLimited: { code: 'TOOMANYREQUESTS', status: 429 },
  unavailable: { code: 'UNAVAILABLE', status: 503 },
} as const satisfies Record<DomainErrorCode, { code: OciErrorCode; status: number }>;

export function ociErrorBody(code: OciErrorCode, message: string, detail?: unknown): string {
  return JSON.stringify({ errors: [{ code, message, detail: detail ?? null }] });
}
