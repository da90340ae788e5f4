import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { OffsetPage } from '../../ports/metadata-store.js';
import { splitUrl } from '../request-url.js';

/**
 * Harbor's listing conventions (swagger, src/lib/link.go, src/lib/q/query.go): `page` (from 1) and
 * `page_size` (default 10, at most 100), `sort=f1,-f2`, `q=k=v,k=~v,k=[a~b],k={a b},k=(a b)`, and on the
 * answer `X-Total-Count` and `Link` with `rel="prev"` and `rel="next"` joined by " , ".
 */
export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

export interface ListingQuery {
  page: number;
  pageSize: number;
  query: URLSearchParams;
  path: string;
}

export function readPaging(request: FastifyRequest, defaults: { pageSize?: number } = {}): ListingQuery {
  const { path, query } = splitUrl(request.url);
  const page = readPositive(query, 'page', 1);
  const pageSize = readPositive(query, 'page_size', defaults.pageSize ?? DEFAULT_PAGE_SIZE);
  if (pageSize > MAX_PAGE_SIZE) {
    throw new DomainError('request.invalid', `page_size must be at most ${MAX_PAGE_SIZE}`);
  }
  return { page, pageSize, query, path };
}

function readPositive(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
    throw new DomainError('request.invalid', `${name} must be a positive integer`);
  }
  return Number(raw);
}

export function offsetPage(listing: ListingQuery): OffsetPage {
  return { offset: (listing.page - 1) * listing.pageSize, limit: listing.pageSize };
}

/** Sets `X-Total-Count` and the `Link` header for the page shown, keeping the request's other parameters. */
export function setPageHeaders(reply: FastifyReply, listing: ListingQuery, total: number): void {
  reply.header('X-Total-Count', String(total));
  const links: string[] = [];
  const link = (page: number, rel: string): string => {
    const query = new URLSearchParams(listing.query);
    query.set('page', String(page));
    query.set('page_size', String(listing.pageSize));
    return `<${listing.path}?${query.toString()}>; rel="${rel}"`;
  };
  if (listing.page > 1) links.push(link(listing.page - 1, 'prev'));
  if (listing.page * listing.pageSize < total) links.push(link(listing.page + 1, 'next'));
  if (links.length > 0) reply.header('Link', links.join(' , '));
}

/** One `sort` key: a field, ascending unless written `-field`. */
export interface SortKey {
  field: string;
  descending: boolean;
}

/** Parses `sort`, refusing fields the listing cannot sort by. */
export function readSort(query: URLSearchParams, allowed: readonly string[]): SortKey[] {
  const raw = query.get('sort');
  if (raw === null || raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const trimmed = part.trim();
    const descending = trimmed.startsWith('-');
    const field = descending ? trimmed.slice(1) : trimmed;
    if (!allowed.includes(field)) {
      throw new DomainError(
        'request.invalid',
        `cannot sort by "${field.slice(0, 50)}": sortable fields are ${allowed.join(', ')}`,
      );
    }
    return { field, descending };
  });
}

/** A value of Harbor's `q`: exact, fuzzy (`~v`), a range (`[a~b]`, either end open), or a list. */
export type QueryTerm =
  | { kind: 'exact'; value: string }
  | { kind: 'fuzzy'; value: string }
  | { kind: 'range'; min?: string; max?: string }
  | { kind: 'or'; values: string[] }
  | { kind: 'and'; values: string[] };

/** Parses `q`, refusing keys the listing does not filter by. Values keep their text (quotes removed). */
export function readQ(query: URLSearchParams, allowed: readonly string[]): Map<string, QueryTerm> {
  const terms = new Map<string, QueryTerm>();
  const raw = query.get('q');
  if (raw === null || raw.trim() === '') return terms;
  for (const part of splitTerms(raw)) {
    const equals = part.indexOf('=');
    if (equals <= 0) throw new DomainError('request.invalid', `invalid query term "${part.slice(0, 80)}"`);
    const key = part.slice(0, equals).trim();
    if (!allowed.includes(key)) {
      throw new DomainError(
        'request.invalid',
        `cannot filter by "${key.slice(0, 50)}": filterable keys are ${allowed.join(', ')}`,
      );
    }
    terms.set(key, parseTerm(part.slice(equals + 1).trim()));
  }
  return terms;
}

/** Splits on commas that are outside brackets and quotes. */
function splitTerms(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '[' || char === '{' || char === '(')) depth++;
    else if (!quoted && (char === ']' || char === '}' || char === ')')) depth--;
    else if (!quoted && depth === 0 && char === ',') {
      parts.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(raw.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function unquote(value: string): string {
  const trimmed = value.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1)
    : trimmed;
}

function listValues(inner: string): string[] {
  return (inner.match(/"[^"]*"|[^\s]+/g) ?? []).map(unquote);
}

function parseTerm(value: string): QueryTerm {
  if (value.startsWith('~')) return { kind: 'fuzzy', value: unquote(value.slice(1)) };
  if (value.startsWith('[') && value.endsWith(']')) {
    const inner = value.slice(1, -1);
    const tilde = inner.indexOf('~');
    if (tilde < 0) throw new DomainError('request.invalid', `invalid range "${value.slice(0, 80)}"`);
    const min = unquote(inner.slice(0, tilde));
    const max = unquote(inner.slice(tilde + 1));
    return { kind: 'range', ...(min === '' ? {} : { min }), ...(max === '' ? {} : { max }) };
  }
  if (value.startsWith('{') && value.endsWith('}'))
    return { kind: 'or', values: listValues(value.slice(1, -1)) };
  if (value.startsWith('(') && value.endsWith(')'))
    return { kind: 'and', values: listValues(value.slice(1, -1)) };
  return { kind: 'exact', value: unquote(value) };
}

/** The text of an exact or fuzzy term, for filters that accept only those. */
export function termText(term: QueryTerm | undefined): { value: string; fuzzy: boolean } | undefined {
  if (term === undefined) return undefined;
  if (term.kind === 'exact') return { value: term.value, fuzzy: false };
  if (term.kind === 'fuzzy') return { value: term.value, fuzzy: true };
  throw new DomainError('request.invalid', 'this filter takes a value or ~value only');
}
