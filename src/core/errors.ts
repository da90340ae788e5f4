/**
 * The domain's error model. Every failure the core can report has a code from DomainErrorCode; the HTTP
 * edge maps each code to the OCI envelope (/v2/) and to Harbor's envelope (/api/v2.0/) with tables
 * declared `satisfies Record<DomainErrorCode, ...>`, so a new code fails the type check until mapped.
 */
export type DomainErrorCode =
  | 'blob.unknown'
  | 'blob.uploadInvalid'
  | 'blob.uploadUnknown'
  | 'blob.rangeInvalid'
  | 'digest.invalid'
  | 'digest.mismatch'
  | 'manifest.blobUnknown'
  | 'manifest.invalid'
  | 'manifest.unknown'
  | 'manifest.tooLarge'
  | 'name.invalid'
  | 'name.unknown'
  | 'reference.invalid'
  | 'size.invalid'
  | 'project.notFound'
  | 'project.exists'
  | 'project.invalid'
  | 'quota.exceeded'
  | 'resource.notFound'
  | 'precondition.failed'
  | 'auth.unauthorized'
  | 'access.denied'
  | 'request.invalid'
  | 'unsupported'
  | 'method.notAllowed'
  | 'conflict'
  | 'rateLimited'
  | 'unavailable';

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly detail: unknown;

  constructor(code: DomainErrorCode, message: string, options: { detail?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.detail = options.detail;
  }
}

export function isDomainError(error: unknown, code?: DomainErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}
