import { DomainError } from '../../../core/errors.js';
import type { Page } from '../../../ports/metadata-store.js';

/** The LIMIT for a page, or undefined for "all". PostgreSQL rejects a negative LIMIT; fail before it does. */
export function pageLimit(page: Page | undefined): number | undefined {
  const limit = page?.limit;
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new DomainError('request.invalid', `invalid page size ${limit}`);
  }
  return limit;
}
