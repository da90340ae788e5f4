/**
 * The OCI distribution calls the benchmark makes, and nothing registry-specific: the same calls work on
 * Berth, Harbor and the reference registry (distribution spec v1.1 §"Pushing blobs", "Pulling blobs",
 * "Pushing manifests", "Content discovery").
 *
 * Uploads always open with `POST /v2/<name>/blobs/uploads/` and close with `PUT <location>?digest=`:
 * the reference registry (2.8) does not implement the single-request `POST ?digest=` push.
 */
import type { BlobContent } from './blob-content.js';
import type { HttpResponse, HttpTransport, RequestBody } from './http-transport.js';
import type { RegistryAuth } from './registry-auth.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const SMALL_TIMEOUT_MS = 30_000;
/** Large bodies: generous but finite, so a stalled registry fails the run instead of hanging it. */
const BULK_TIMEOUT_MS = 600_000;

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    what: string,
    body: Buffer,
  ) {
    super(`${what} answered ${status}${body.length ? `: ${body.toString('utf8', 0, 300)}` : ''}`);
    this.name = 'RegistryError';
  }
}

interface Call {
  readonly method: string;
  readonly url: URL;
  readonly scope: string;
  readonly expect: readonly number[];
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  readonly bodyLength?: number;
  readonly timeoutMs?: number;
  readonly response?: 'buffer' | 'count';
}

function repositoryScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

/** Follows an RFC 5988 `Link: <...>; rel="next"` header, as the spec's pagination does. */
function nextLink(response: HttpResponse): string | undefined {
  const link = response.headers.link;
  if (!link) return undefined;
  return /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(link))?.[1];
}

export class RegistryClient {
  constructor(
    readonly transport: HttpTransport,
    private readonly auth: RegistryAuth,
  ) {}

  async #call(call: Call): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.auth.header(call.scope);
      const response = await this.transport.send({
        method: call.method,
        url: call.url,
        headers: { ...call.headers, ...(authorization ? { authorization } : {}) },
        timeoutMs: call.timeoutMs ?? SMALL_TIMEOUT_MS,
        response: call.response ?? 'buffer',
        ...(call.body !== undefined ? { body: call.body } : {}),
        ...(call.bodyLength !== undefined ? { bodyLength: call.bodyLength } : {}),
      });
      if (response.status === 401 && attempt === 0 && this.auth.invalidate(call.scope)) continue;
      if (!call.expect.includes(response.status)) {
        throw new RegistryError(response.status, `${call.method} ${call.url.pathname}`, response.body);
      }
      return response;
    }
  }

  /** Headers for requests made outside this client (the raw GET load) on `repository`. */
  async authorization(repository: string): Promise<Record<string, string>> {
    const authorization = await this.auth.header(repositoryScope(repository));
    return authorization ? { authorization } : {};
  }

  #location(response: HttpResponse, what: string): URL {
    const location = response.headers.location;
    if (!location) throw new Error(`${what}: answer carries no Location`);
    return this.transport.resolve(location);
  }

  /** `POST .../blobs/uploads/`, or a cross-repository mount when `mountFrom` is given. */
  async startUpload(
    repository: string,
    mountFrom?: { digest: string; from: string },
  ): Promise<URL | 'mounted'> {
    const url = this.transport.resolve(`/v2/${repository}/blobs/uploads/`);
    if (mountFrom) {
      url.searchParams.set('mount', mountFrom.digest);
      url.searchParams.set('from', mountFrom.from);
    }
    const response = await this.#call({
      method: 'POST',
      url,
      scope: repositoryScope(repository),
      expect: [201, 202],
    });
    if (response.status === 201) return 'mounted';
    return this.#location(response, `POST ${url.pathname}`);
  }

  /** POST, then one PUT carrying the whole body and the digest. */
  async pushBlob(repository: string, blob: BlobContent, mountFrom?: string): Promise<void> {
    const started = await this.startUpload(
      repository,
      mountFrom ? { digest: blob.digest, from: mountFrom } : undefined,
    );
    if (started === 'mounted') return;
    await this.#call({
      method: 'PUT',
      url: withDigest(started, blob.digest),
      scope: repositoryScope(repository),
      expect: [201],
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.bytes ?? (() => blob.open()),
      bodyLength: blob.size,
      timeoutMs: BULK_TIMEOUT_MS,
    });
  }

  /** POST, one PATCH per chunk (following each new Location), then an empty PUT with the digest. */
  async pushBlobChunked(
    repository: string,
    blob: BlobContent,
    chunkBytes: number,
    maxMs: number,
  ): Promise<number> {
    const deadline = performance.now() + maxMs;
    const scope = repositoryScope(repository);
    const started = await this.startUpload(repository);
    if (started === 'mounted') throw new Error('unexpected mount');
    let location = started;
    let patches = 0;
    for (let start = 0; start < blob.size; start += chunkBytes) {
      if (performance.now() > deadline) throw new Error(`chunked push exceeded ${maxMs} ms`);
      const end = Math.min(start + chunkBytes, blob.size);
      const response = await this.#call({
        method: 'PATCH',
        url: location,
        scope,
        expect: [202],
        // Spec §"Pushing a blob in chunks": Content-Range is `<start>-<end>`, end inclusive.
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}` },
        body: () => blob.open(start, end),
        bodyLength: end - start,
        timeoutMs: BULK_TIMEOUT_MS,
      });
      location = this.#location(response, 'PATCH');
      patches++;
    }
    await this.#call({ method: 'PUT', url: withDigest(location, blob.digest), scope, expect: [201] });
    return patches;
  }

  /** Streams the blob and discards it; throws unless exactly `size` bytes arrive. */
  async pullBlob(repository: string, digest: string, size: number): Promise<void> {
    const response = await this.#call({
      method: 'GET',
      url: this.transport.resolve(`/v2/${repository}/blobs/${digest}`),
      scope: repositoryScope(repository),
      expect: [200],
      response: 'count',
      timeoutMs: BULK_TIMEOUT_MS,
    });
    if (response.bytes !== size)
      throw new Error(`pulled ${response.bytes} bytes of ${digest}, expected ${size}`);
    const served = response.headers['docker-content-digest'];
    if (served && served !== digest)
      throw new Error(`pulled ${digest} but Docker-Content-Digest says ${String(served)}`);
  }

  async putManifest(
    repository: string,
    reference: string,
    manifest: Buffer,
    mediaType = OCI_MANIFEST,
  ): Promise<void> {
    await this.#call({
      method: 'PUT',
      url: this.transport.resolve(`/v2/${repository}/manifests/${reference}`),
      scope: repositoryScope(repository),
      expect: [201],
      headers: { 'content-type': mediaType },
      body: manifest,
    });
  }

  async getManifest(repository: string, reference: string): Promise<number> {
    const response = await this.#call({
      method: 'GET',
      url: this.transport.resolve(`/v2/${repository}/manifests/${reference}`),
      scope: repositoryScope(repository),
      expect: [200],
      headers: { accept: MANIFEST_ACCEPT },
      response: 'count',
    });
    if (response.bytes === 0)
      throw new Error(`GET manifest ${repository}:${reference} returned an empty body`);
    return response.bytes;
  }

  /** Every tag, following `Link` pages (at most `maxPages`); a repository not known yet has none. */
  async listTags(repository: string, maxPages = 100): Promise<{ tags: string[]; pages: number }> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list`;
    let pages = 0;
    while (next !== undefined && pages < maxPages) {
      const response = await this.#call({
        method: 'GET',
        url: this.transport.resolve(next),
        scope: repositoryScope(repository),
        expect: [200, 404],
      });
      if (response.status === 404) {
        if (pages === 0) return { tags, pages: 0 };
        throw new RegistryError(404, `GET ${next}`, response.body);
      }
      const page = JSON.parse(response.body.toString('utf8')) as { tags?: string[] | null };
      tags.push(...(page.tags ?? []));
      next = nextLink(response);
      pages++;
    }
    return { tags, pages };
  }

  /** One page of `GET /v2/_catalog?n=` (and the next page's link, if any). */
  async catalogPage(pathOrLink: string): Promise<{ repositories: string[]; next: string | undefined }> {
    const response = await this.#call({
      method: 'GET',
      url: this.transport.resolve(pathOrLink),
      scope: 'registry:catalog:*',
      expect: [200],
    });
    const page = JSON.parse(response.body.toString('utf8')) as { repositories?: string[] | null };
    return { repositories: page.repositories ?? [], next: nextLink(response) };
  }
}
