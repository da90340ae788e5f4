import { DomainError } from '../errors.js';

/**
 * Harbor's project storage quota (src/pkg/quota, src/controller/quota): one resource, `storage`, in bytes;
 * -1 is unlimited. Usage is the sum of the sizes of the distinct blobs and manifests the project's
 * repositories hold, so a layer shared by several repositories of a project counts once there, and again in
 * every other project. The metadata store keeps it exact (see ports/quota-store.ts); this module holds the
 * rules and wording shared by the store, the services and the API.
 */
export const UNLIMITED_STORAGE = -1;

/** Harbor's only quota resource. */
export const STORAGE_RESOURCE = 'storage';

/** Harbor warns (QUOTA_WARNING) once usage reaches 85 % of the limit. */
export const QUOTA_WARNING_RATIO = 0.85;

/** What linking a blob or storing a manifest added to a project's usage. */
export interface StorageCharge {
  projectId: number;
  /** Bytes added by this change (the digest was new to the project). */
  addedBytes: number;
  /** The project's usage after the change. */
  usedBytes: number;
  /** The project's limit; -1 is unlimited. */
  limitBytes: number;
}

/** Harbor's byteCountToDisplaySize: `512 B`, `1.5 KiB`, `95.3 MiB`, `2.0 GiB`, one decimal, powers of 1024. */
export function formatStorage(bytes: number): string {
  const unit = 1024;
  if (bytes < unit) return `${bytes} B`;
  let divisor = unit;
  let exponent = 0;
  for (let n = Math.floor(bytes / unit); n >= unit; n = Math.floor(n / unit)) {
    divisor *= unit;
    exponent++;
  }
  return `${(bytes / divisor).toFixed(1)} ${'KMGTPE'.charAt(exponent)}iB`;
}

/** The refusal Harbor sends (403 DENIED on /v2/), with its exact wording. */
export function quotaExceededError(addedBytes: number, usedBytes: number, limitBytes: number): DomainError {
  return new DomainError(
    'quota.exceeded',
    'Quota exceeded when processing the request of adding ' +
      `${formatStorage(addedBytes)} of storage resource, which when updated to current usage of ` +
      `${formatStorage(usedBytes)} will exceed the configured upper limit of ${formatStorage(limitBytes)}.`,
  );
}

/**
 * Whether this charge took usage from below the warning ratio to at or above it. Only the crossing is
 * reported, so a project that stays above 85 % does not warn on every layer of every push.
 */
export function crossedWarning(charge: StorageCharge): boolean {
  if (charge.limitBytes <= 0) return false;
  const bar = charge.limitBytes * QUOTA_WARNING_RATIO;
  return charge.usedBytes >= bar && charge.usedBytes - charge.addedBytes < bar;
}

/**
 * Validates Harbor's `hard` resource list (QuotaUpdateReq.hard, project driver Validate): exactly the
 * `storage` resource, an integer that is -1 or positive. Messages are Harbor's.
 */
export function parseStorageLimit(hard: unknown): number {
  if (hard === null || typeof hard !== 'object' || Array.isArray(hard) || Object.keys(hard).length === 0) {
    throw new DomainError('request.invalid', 'hard required in body');
  }
  let limit: number | undefined;
  for (const [resource, value] of Object.entries(hard as Record<string, unknown>)) {
    if (resource !== STORAGE_RESOURCE) {
      throw new DomainError('request.invalid', `resource ${resource.slice(0, 50)} not support`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new DomainError('request.invalid', `hard.${STORAGE_RESOURCE} must be an integer`);
    }
    if (value <= 0 && value !== UNLIMITED_STORAGE) {
      throw new DomainError('request.invalid', `invalid value for resource ${STORAGE_RESOURCE}`);
    }
    limit = value;
  }
  if (limit === undefined) throw new DomainError('request.invalid', `resource ${STORAGE_RESOURCE} not found`);
  return limit;
}
