import type { AuditLogFilters } from '../../core/audit/audit-log.service.js';
import { DomainError } from '../../core/errors.js';
import type { AuditLogSortField } from '../../ports/audit-log-store.js';
import type { TextFilter } from '../../ports/metadata-store.js';
import { readQ, readSort, type QueryTerm } from './api-query.js';

/**
 * The filters of Harbor's audit log listings: `q` keys `username`, `operation`, `resource`, `resource_type`
 * (exact `k=v`, fuzzy `k=~v`, any of `k={a b}`) and `op_time` (a range `[a~b]`, either end open, each a
 * time as Harbor writes it, `2024-01-02 15:04:05` in UTC, or ISO 8601, or seconds since the epoch); `sort`
 * by `op_time` or `id`, `-` for descending (newest first by default).
 */
const TEXT_KEYS = {
  username: 'username',
  operation: 'operation',
  resource: 'resource',
  resource_type: 'resourceType',
} as const;
const SORT_FIELDS: readonly AuditLogSortField[] = ['op_time', 'id'];

function textFilters(key: string, term: QueryTerm): TextFilter[] {
  switch (term.kind) {
    case 'exact':
      return [{ value: term.value, fuzzy: false }];
    case 'fuzzy':
      return [{ value: term.value, fuzzy: true }];
    case 'or':
      if (term.values.length === 0) throw new DomainError('request.invalid', `${key}={} names no value`);
      return term.values.map((value) => ({ value, fuzzy: false }));
    case 'range':
    case 'and':
      throw new DomainError('request.invalid', `${key} takes a value, ~value or {value ...}`);
  }
}

/** A time bound as ISO 8601 UTC with milliseconds, the form op_time is stored in, so text order is time order. */
export function parseTimeBound(raw: string): string {
  let millis: number;
  if (/^\d{1,12}$/.test(raw)) {
    millis = Number(raw) * 1000;
  } else if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(raw)) {
    const iso = raw.replace(' ', 'T');
    // Without a zone Harbor reads the time as UTC; a date alone is its midnight.
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(iso)
      ? iso
      : iso.includes('T')
        ? `${iso}Z`
        : `${iso}T00:00:00Z`;
    millis = Date.parse(zoned);
  } else {
    millis = NaN;
  }
  if (!Number.isFinite(millis) || millis < 0 || millis > 253_402_300_799_999) {
    throw new DomainError('request.invalid', `invalid time "${raw.slice(0, 40)}" in op_time`);
  }
  return new Date(millis).toISOString();
}

export function readAuditLogFilters(query: URLSearchParams): AuditLogFilters {
  const filters: {
    -readonly [K in keyof AuditLogFilters]: AuditLogFilters[K];
  } = {};
  for (const [key, term] of readQ(query, [...Object.keys(TEXT_KEYS), 'op_time'])) {
    if (key === 'op_time') {
      if (term.kind !== 'range') throw new DomainError('request.invalid', 'op_time takes a range [from~to]');
      filters.opTime = {
        ...(term.min === undefined ? {} : { from: parseTimeBound(term.min) }),
        ...(term.max === undefined ? {} : { to: parseTimeBound(term.max) }),
      };
      continue;
    }
    filters[TEXT_KEYS[key as keyof typeof TEXT_KEYS]] = textFilters(key, term);
  }
  const sort = readSort(query, SORT_FIELDS);
  if (sort.length > 0) {
    filters.sort = sort.map((entry) => ({
      field: entry.field as AuditLogSortField,
      descending: entry.descending,
    }));
  }
  return filters;
}
