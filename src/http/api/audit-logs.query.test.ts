import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { parseTimeBound, readAuditLogFilters } from './audit-logs.query.js';

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('parseTimeBound', () => {
  it("reads Harbor's UTC times, ISO 8601 with or without a zone, dates and epoch seconds", () => {
    expect(parseTimeBound('2024-01-02 15:04:05')).toBe('2024-01-02T15:04:05.000Z');
    expect(parseTimeBound('2024-01-02T15:04:05Z')).toBe('2024-01-02T15:04:05.000Z');
    expect(parseTimeBound('2024-01-02T17:04:05+02:00')).toBe('2024-01-02T15:04:05.000Z');
    expect(parseTimeBound('2024-01-02T15:04:05.123456Z')).toBe('2024-01-02T15:04:05.123Z');
    expect(parseTimeBound('2024-01-02')).toBe('2024-01-02T00:00:00.000Z');
    expect(parseTimeBound('1704207845')).toBe('2024-01-02T15:04:05.000Z');
  });

  it('refuses anything else with 400', () => {
    for (const raw of [
      'yesterday',
      '2024-13-45 00:00:00',
      '2024-01-02 25:00:00',
      '',
      "'; drop table audit_logs",
    ]) {
      expect(
        isDomainError(
          refusal(() => parseTimeBound(raw)),
          'request.invalid',
        ),
        raw,
      ).toBe(true);
    }
  });
});

describe('readAuditLogFilters', () => {
  const read = (query: string) => readAuditLogFilters(new URLSearchParams(query));

  it('maps q to exact, fuzzy and any-of text filters, and a time range', () => {
    expect(
      read(
        `q=${encodeURIComponent('username=admin,resource=~library/,operation={create delete},op_time=[2024-01-01 00:00:00~]')}`,
      ),
    ).toEqual({
      username: [{ value: 'admin', fuzzy: false }],
      resource: [{ value: 'library/', fuzzy: true }],
      operation: [
        { value: 'create', fuzzy: false },
        { value: 'delete', fuzzy: false },
      ],
      opTime: { from: '2024-01-01T00:00:00.000Z' },
    });
    expect(read('q=resource_type%3Dtag&sort=-op_time,id')).toEqual({
      resourceType: [{ value: 'tag', fuzzy: false }],
      sort: [
        { field: 'op_time', descending: true },
        { field: 'id', descending: false },
      ],
    });
    expect(read('')).toEqual({});
  });

  it('refuses unknown keys and sorts, ranges on text, and op_time without a range', () => {
    for (const query of [
      'q=project_id%3D1',
      'q=username%3D%5Ba~b%5D',
      'q=operation%3D(a b)',
      'q=operation%3D%7B%7D',
      'q=op_time%3D2024-01-01',
      'sort=resource',
    ]) {
      expect(
        isDomainError(
          refusal(() => read(query)),
          'request.invalid',
        ),
        query,
      ).toBe(true);
    }
  });
});
