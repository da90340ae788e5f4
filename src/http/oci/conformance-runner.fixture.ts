import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Digest } from '../../core/oci/digest.js';
import { MT } from './conformance-data.fixture.js';
import { expectStatus, resolveLocation, withQuery, type SuiteClient } from './conformance.fixture.js';

/**
 * The requests of the rewritten OCI conformance runner (conformance/api.go) and the checks it makes on each
 * answer, at its strictest configuration (OCI_VERSION=1.1+dev: Docker-Content-Digest required, upload
 * cancel and `?tag=` tested). Where the runner accepts an answer only as "unsupported" (a 202 fallback to
 * POST+PUT for a mount or a POST with a body, 400/405 on deletes) these helpers insist on the supported one.
 */
export type BlobApi = 'post+put' | 'post only' | 'stream' | 'chunked';
const BLOB_APIS: BlobApi[] = ['post+put', 'post only', 'stream', 'chunked'];
const CHUNK_MIN = 1024;
const OCTET = { 'content-type': MT.octet };
const ACCEPT = { accept: [MT.index, MT.image] };

export interface ChunkFlags {
  putLastChunk?: boolean;
  outOfOrder?: boolean;
  bad?: boolean;
}

/** The mediaType field of a manifest, the image manifest type when it has none (api.go detectMediaType). */
export function detectMediaType(body: Buffer): string {
  const mediaType = parseFields(body).mediaType;
  return typeof mediaType === 'string' ? mediaType : MT.image;
}

function detectSubject(body: Buffer): string | undefined {
  const subject = parseFields(body).subject as { digest?: unknown } | undefined;
  return typeof subject?.digest === 'string' ? subject.digest : undefined;
}

function parseFields(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export class RunnerApi {
  /** APIs used so far, overall and per algorithm, for the runner's choice of upload API. */
  readonly #tested = new Set<BlobApi>();
  readonly #testedByAlgo = new Map<string, Set<BlobApi>>();

  constructor(readonly client: SuiteClient) {}

  send = (...args: Parameters<SuiteClient['send']>) => this.client.send(...args);

  expectDigestHeader(response: LightMyRequestResponse, digest: Digest): void {
    expect(response.headers['docker-content-digest'], 'Docker-Content-Digest').toBe(digest);
  }

  async blobVerifyLocation(base: string, location: string | undefined, bytes: Buffer): Promise<void> {
    const response = await this.send({ method: 'GET', url: resolveLocation(location, base) });
    expectStatus(response, 200);
    expect(response.rawPayload.equals(bytes), 'GET Location returns the blob').toBe(true);
  }

  async blobPostPut(repo: string, digest: Digest, bytes: Buffer, bad = false): Promise<void> {
    const base = `/v2/${repo}/blobs/uploads/`;
    const post = await this.send({ method: 'POST', url: base });
    expectStatus(post, 202);
    const url = withQuery(resolveLocation(post.headers.location, base), 'digest', digest);
    const put = await this.send({
      method: 'PUT',
      url,
      headers: { ...OCTET, 'content-length': String(bytes.length) },
      body: bytes,
    });
    if (bad) return expectStatus(put, 400);
    expectStatus(put, 201);
    this.expectDigestHeader(put, digest);
    await this.blobVerifyLocation(url, put.headers.location, bytes);
  }

  async blobPostOnly(repo: string, digest: Digest, bytes: Buffer, bad = false): Promise<void> {
    const url = withQuery(`/v2/${repo}/blobs/uploads/`, 'digest', digest);
    const post = await this.send({
      method: 'POST',
      url,
      headers: { ...OCTET, 'content-length': String(bytes.length) },
      body: bytes,
    });
    // 202 would be a fallback to PUT, which the runner reports as unsupported.
    if (bad) return expectStatus(post, 400);
    expectStatus(post, 201);
    this.expectDigestHeader(post, digest);
    await this.blobVerifyLocation(url, post.headers.location, bytes);
  }

  async blobPatchStream(repo: string, digest: Digest, bytes: Buffer, bad = false): Promise<void> {
    const base = `/v2/${repo}/blobs/uploads/`;
    const post = await this.send({ method: 'POST', url: base, headers: { 'content-length': '0' } });
    expectStatus(post, 202);
    const patchUrl = resolveLocation(post.headers.location, base);
    // No length: Go streams the body with Transfer-Encoding: chunked.
    const patch = await this.send({
      method: 'PATCH',
      url: patchUrl,
      headers: OCTET,
      body: bytes,
      chunked: true,
    });
    expectStatus(patch, 202);
    const url = withQuery(resolveLocation(patch.headers.location, patchUrl), 'digest', digest);
    const put = await this.send({ method: 'PUT', url, headers: { ...OCTET, 'content-length': '0' } });
    if (bad) return expectStatus(put, 400);
    expectStatus(put, 201);
    expect(put.headers.location).toBeTruthy();
    this.expectDigestHeader(put, digest);
    await this.blobVerifyLocation(url, put.headers.location, bytes);
  }

  /** Chunks of a third of the blob (at least 1024 bytes), optionally preceded by a rejected out-of-order one. */
  async blobPatchChunked(repo: string, digest: Digest, bytes: Buffer, flags: ChunkFlags = {}): Promise<void> {
    let url = `/v2/${repo}/blobs/uploads/`;
    const post = await this.send({ method: 'POST', url, headers: { 'content-length': '0' } });
    expectStatus(post, 202);
    let location = post.headers.location;
    const minimum = Number(post.headers['oci-chunk-min-length'] ?? 0);
    const chunkSize = Math.min(Math.max(Math.floor(bytes.length / 3) + 1, minimum, CHUNK_MIN), bytes.length);
    const chunk = (start: number, last: number) => ({
      headers: { ...OCTET, 'content-length': String(last - start + 1), 'content-range': `${start}-${last}` },
      body: bytes.subarray(start, last + 1),
    });
    let lastByte = -1;
    let final: LightMyRequestResponse | undefined;
    while (lastByte < bytes.length - 1) {
      if (flags.outOfOrder) {
        url = resolveLocation(location, url);
        let badStart = lastByte + 1 + chunkSize;
        if (badStart >= bytes.length) badStart = 0;
        const badLast = Math.min(badStart + chunkSize - 1, bytes.length - 1);
        const asPut = flags.putLastChunk && badLast === bytes.length - 1;
        const rejected = await this.send({
          method: asPut ? 'PUT' : 'PATCH',
          url: asPut ? withQuery(url, 'digest', digest) : url,
          ...chunk(badStart, badLast),
        });
        expectStatus(rejected, 416);
        const status = await this.send({ method: 'GET', url });
        expectStatus(status, 204);
        location = status.headers.location ?? location;
        const range = String(status.headers.range ?? '');
        expect(range.startsWith('0-'), `Range ${range}`).toBe(true);
        if (lastByte >= 0) expect(range).toBe(`0-${lastByte}`);
      }
      url = resolveLocation(location, url);
      const start = lastByte + 1;
      lastByte = Math.min(start + chunkSize - 1, bytes.length - 1);
      if (flags.putLastChunk && lastByte === bytes.length - 1) {
        url = withQuery(url, 'digest', digest);
        final = await this.send({ method: 'PUT', url, ...chunk(start, lastByte) });
        if (flags.bad) return expectStatus(final, 400);
        expectStatus(final, 201);
      } else {
        const patch = await this.send({ method: 'PATCH', url, ...chunk(start, lastByte) });
        expectStatus(patch, 202);
        location = patch.headers.location ?? location;
      }
    }
    if (!flags.putLastChunk) {
      url = withQuery(resolveLocation(location, url), 'digest', digest);
      final = await this.send({ method: 'PUT', url, headers: { ...OCTET, 'content-length': '0' } });
      if (flags.bad) return expectStatus(final, 400);
      expectStatus(final, 201);
    }
    if (!final) throw new Error('no final request');
    this.expectDigestHeader(final, digest);
    await this.blobVerifyLocation(url, final.headers.location, bytes);
  }

  async blobPostCancel(repo: string): Promise<void> {
    const base = `/v2/${repo}/blobs/uploads/`;
    const post = await this.send({ method: 'POST', url: base });
    expectStatus(post, 202);
    const url = resolveLocation(post.headers.location, base);
    expectStatus(await this.send({ method: 'DELETE', url, headers: { 'content-length': '0' } }), 204);
  }

  /** POST ?mount= (&from=): 201 when `expectMount`, else 202 and the runner's fallback PUT. */
  async blobMount(repo: string, source: string, digest: Digest, bytes: Buffer, expectMount: boolean) {
    let url = withQuery(`/v2/${repo}/blobs/uploads/`, 'mount', digest);
    if (source !== '') url = withQuery(url, 'from', source);
    const post = await this.send({ method: 'POST', url });
    expectStatus(post, expectMount ? 201 : 202);
    let last = post;
    if (!expectMount) {
      url = withQuery(resolveLocation(post.headers.location, url), 'digest', digest);
      last = await this.send({
        method: 'PUT',
        url,
        headers: { ...OCTET, 'content-length': String(bytes.length) },
        body: bytes,
      });
      expectStatus(last, 201);
    }
    this.expectDigestHeader(last, digest);
    await this.blobVerifyLocation(url, last.headers.location, bytes);
  }

  async pushWith(api: BlobApi, repo: string, digest: Digest, bytes: Buffer, bad = false): Promise<void> {
    this.#tested.add(api);
    const algo = digest.slice(0, digest.indexOf(':'));
    this.#testedByAlgo.set(algo, (this.#testedByAlgo.get(algo) ?? new Set()).add(api));
    switch (api) {
      case 'post+put':
        return this.blobPostPut(repo, digest, bytes, bad);
      case 'post only':
        return this.blobPostOnly(repo, digest, bytes, bad);
      case 'stream':
        return this.blobPatchStream(repo, digest, bytes, bad);
      case 'chunked':
        return this.blobPatchChunked(repo, digest, bytes, { bad });
    }
  }

  /** TestPushBlobAny: an API not used yet (overall, then for this algorithm), else the first one. */
  pushBlobAny(repo: string, digest: Digest, bytes: Buffer): Promise<void> {
    const byAlgo = this.#testedByAlgo.get(digest.slice(0, digest.indexOf(':'))) ?? new Set();
    const api =
      BLOB_APIS.find((a) => !this.#tested.has(a)) ?? BLOB_APIS.find((a) => !byAlgo.has(a)) ?? 'post+put';
    return this.pushWith(api, repo, digest, bytes);
  }

  async blobHeadExists(repo: string, digest: Digest, bytes?: Buffer): Promise<void> {
    const response = await this.send({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}` });
    expectStatus(response, 200);
    expect(response.body).toBe('');
    if (bytes) expect(response.headers['content-length']).toBe(String(bytes.length));
    this.expectDigestHeader(response, digest);
  }

  async blobGetExistsFull(repo: string, digest: Digest, bytes?: Buffer): Promise<void> {
    const response = await this.send({ method: 'GET', url: `/v2/${repo}/blobs/${digest}` });
    expectStatus(response, 200);
    if (bytes) {
      expect(response.rawPayload.equals(bytes), 'blob body').toBe(true);
      expect(response.headers['content-length']).toBe(String(bytes.length));
    }
    this.expectDigestHeader(response, digest);
  }

  /** DELETE (202, or 404 when it was never there), then HEAD must already answer 404. */
  async blobDelete(repo: string, digest: Digest): Promise<void> {
    expectStatus(await this.send({ method: 'DELETE', url: `/v2/${repo}/blobs/${digest}` }), 202, 404);
    expectStatus(await this.send({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}` }), 404);
  }

  async manifestPut(
    repo: string,
    reference: string,
    digest: Digest,
    body: Buffer,
    options: { tags?: string[]; bad?: boolean } = {},
  ) {
    let url = `/v2/${repo}/manifests/${reference}`;
    for (const tag of options.tags ?? []) url += `${url.includes('?') ? '&' : '?'}tag=${tag}`;
    const mediaType = detectMediaType(body);
    const put = await this.send({
      method: 'PUT',
      url,
      headers: { 'content-type': mediaType },
      body,
      chunked: true,
    });
    if (options.bad) return expectStatus(put, 400);
    expectStatus(put, 201);
    const subject = detectSubject(body);
    if (subject) expect(put.headers['oci-subject'], 'OCI-Subject').toBe(subject);
    this.expectDigestHeader(put, digest);
    const tagged = String(put.headers['oci-tag'] ?? '')
      .split(',')
      .map((tag) => tag.trim());
    for (const tag of options.tags ?? []) expect(tagged, 'OCI-Tag').toContain(tag);
    const get = await this.send({
      method: 'GET',
      url: resolveLocation(put.headers.location, url),
      headers: ACCEPT,
    });
    expectStatus(get, 200);
    expect(get.headers['content-type']).toBe(mediaType);
    expect(get.headers['content-length']).toBe(String(body.length));
    expect(get.rawPayload.equals(body), 'manifest at Location').toBe(true);
  }

  async manifestExists(
    method: 'GET' | 'HEAD',
    repo: string,
    reference: string,
    digest: Digest,
    body: Buffer,
  ) {
    const response = await this.send({ method, url: `/v2/${repo}/manifests/${reference}`, headers: ACCEPT });
    expectStatus(response, 200);
    expect(response.headers['content-type']).toBe(detectMediaType(body));
    expect(response.headers['content-length']).toBe(String(body.length));
    if (method === 'HEAD') expect(response.body).toBe('');
    else expect(response.rawPayload.equals(body), 'manifest body').toBe(true);
    this.expectDigestHeader(response, digest);
  }

  /** DELETE by tag or digest (202, or 404), then HEAD must already answer 404. */
  async manifestDelete(repo: string, reference: string): Promise<void> {
    const url = `/v2/${repo}/manifests/${reference}`;
    expectStatus(await this.send({ method: 'DELETE', url }), 202, 404);
    expectStatus(await this.send({ method: 'HEAD', url, headers: ACCEPT }), 404);
  }

  /** Tags, or undefined for a 404 (which the runner accepts for a repository without tags). */
  async tagList(repo: string, last?: string): Promise<string[] | undefined> {
    const url = `/v2/${repo}/tags/list${last !== undefined ? `?last=${encodeURIComponent(last)}` : ''}`;
    const response = await this.send({ method: 'GET', url });
    expectStatus(response, 200, 404);
    return response.statusCode === 200 ? (JSON.parse(response.body).tags as string[]) : undefined;
  }

  async referrers(repo: string, subject: Digest, artifactType?: string) {
    const query = artifactType !== undefined ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const response = await this.send({ method: 'GET', url: `/v2/${repo}/referrers/${subject}${query}` });
    expectStatus(response, 200);
    expect(response.headers['content-type']).toBe(MT.index);
    const index = JSON.parse(response.body);
    expect(index.mediaType).toBe(MT.index);
    expect(index.schemaVersion).toBe(2);
    const filters = String(response.headers['oci-filters-applied'] ?? '')
      .split(',')
      .map((filter) => filter.trim());
    return { manifests: index.manifests as Record<string, unknown>[], filters };
  }
}
