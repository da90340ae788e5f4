import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { DomainError } from '../../core/errors.js';
import type { Principal } from '../../core/iam/principal.js';
import type { Page } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';

/** What every /v2/ handler gets: the request, the reply, the core services, the caller and the query. */
export interface OciContext {
  request: FastifyRequest;
  reply: FastifyReply;
  deps: HttpDeps;
  principal: Principal;
  query: URLSearchParams;
}

/** The request body as a stream; the /v2/ scope never parses bodies, so it is still unread. */
export function requestBody(ctx: OciContext): Readable {
  return ctx.request.raw;
}

export function contentLength(ctx: OciContext): number | undefined {
  const header = ctx.request.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,15}$/.test(header)) throw new DomainError('size.invalid', 'invalid Content-Length');
  return Number(header);
}

/** Whether the request carries a body: a non-zero Content-Length or a chunked transfer. */
export function hasBody(ctx: OciContext): boolean {
  const length = contentLength(ctx);
  if (length !== undefined) return length > 0;
  return ctx.request.headers['transfer-encoding'] !== undefined;
}

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes as soon as it is exceeded. */
export async function readSmallBody(
  ctx: OciContext,
  limit: number,
  tooLarge: () => DomainError,
): Promise<Buffer> {
  const declared = contentLength(ctx);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of requestBody(ctx) as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** `n` and `last` of tag and catalog listings (distribution-spec §Listing Tags). */
export interface ListingRequest {
  requested: number | undefined;
  after: string | undefined;
}

export function readListingRequest(query: URLSearchParams): ListingRequest {
  const n = query.get('n');
  const last = query.get('last');
  if (n !== null && n !== '' && !/^\d{1,9}$/.test(n)) {
    throw new DomainError('request.invalid', 'n must be a non-negative integer');
  }
  return {
    requested: n === null || n === '' ? undefined : Number(n),
    after: last === null || last === '' ? undefined : last,
  };
}

/**
 * Runs a listing one item past the requested page to know whether more follow, and then sets
 * `Link: <path?last=..&n=..>; rel="next"`. `n=0` answers an empty list without a Link, as the spec says.
 */
export async function listPage(
  ctx: OciContext,
  path: string,
  listing: ListingRequest,
  list: (page: Page) => Promise<string[]>,
): Promise<string[]> {
  if (listing.requested === 0) return [];
  const page: Page = {};
  if (listing.after !== undefined) page.after = listing.after;
  if (listing.requested !== undefined) page.limit = listing.requested + 1;
  const items = await list(page);
  if (listing.requested === undefined || items.length <= listing.requested) return items;
  const shown = items.slice(0, listing.requested);
  const query = new URLSearchParams({ last: shown.at(-1) ?? '', n: String(listing.requested) });
  ctx.reply.header('Link', `<${path}?${query.toString()}>; rel="next"`);
  return shown;
}
