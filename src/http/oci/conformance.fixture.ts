import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ADMIN_AUTH, type TestApp } from '../../app/test-app.fixture.js';
import { digestOf, type Digest } from '../../core/oci/digest.js';

/**
 * The HTTP side of the OCI distribution-spec conformance suite (opencontainers/distribution-spec,
 * conformance/), rebuilt from reading it, for the in-process walk-throughs in conformance*.http.test.ts:
 * how its clients send requests (Go's net/http: which requests carry Content-Length, which go chunked; the
 * auth retry of the rewritten runner) and the data of the ginkgo suite of the v1.1 releases (setup.go).
 */

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface SuiteRequest {
  method: Method;
  /** Path and query, as the suite resolves the Location it was given. */
  url: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer;
  /**
   * Go sends a body of unknown length with `Transfer-Encoding: chunked` and no Content-Length: the runner's
   * streamed PATCH and its manifest PUTs set the body without a length.
   */
  chunked?: boolean;
}

/** Every error code the suite accepts in an error envelope (setup.go `errorCodes`). */
export const SUITE_ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
];

/** The repository of a /v2/ path, as the runner's auth cache extracts it (api.go `reRepo`). */
const REPO_IN_PATH = /\/v2\/(.+?)\/(?:blobs|manifests|tags|referrers)\//;

/**
 * Sends requests as the suite's clients do. Both send every request anonymous first and answer a 401 as
 * its challenge says, with OCI_USERNAME/OCI_PASSWORD (here the admin's): a `Basic` challenge by sending the
 * request again with them; a `Bearer` one (Berth's, on /v2/) by a GET to the realm with `service` and the
 * challenge's `scope`, authenticated with them, then sending the request again with `Bearer <token>`
 * (reggie's retryRequestWithAuth; the runner's getAuthHeader).
 * - `reggie` (the ginkgo suite's client, over resty): no credential cache, so every push and delete meets
 *   the challenge; bodies are set as readers, so Go sends them chunked and drops the Content-Length header
 *   the suite sets; a POST, PUT or PATCH without a body goes with `Content-Length: 0`.
 * - `runner` (the rewritten runner, api.go): the Authorization it got cached per repository and
 *   pull/push/delete, and sent first from then on; a body goes chunked only where the request says so (the
 *   runner sets explicit lengths elsewhere).
 */
export class SuiteClient {
  readonly #authCache = new Map<string, string>();
  /** Every 401 challenge the client answered, for assertions on the auth flow. */
  readonly challenges: string[] = [];

  constructor(
    readonly app: TestApp,
    readonly mode: 'reggie' | 'runner',
  ) {}

  async send(request: SuiteRequest): Promise<LightMyRequestResponse> {
    const key = cacheKey(request);
    const first = await this.#inject(request, this.#authCache.get(key));
    if (first.statusCode !== 401) return first;
    const challenge = String(first.headers['www-authenticate'] ?? '');
    this.challenges.push(challenge);
    const authorization = await this.#answer(challenge);
    if (this.mode === 'runner') this.#authCache.set(key, authorization);
    return this.#inject(request, authorization);
  }

  /** The Authorization a challenge asks for: the credentials themselves, or a token bought with them. */
  async #answer(challenge: string): Promise<string> {
    expect(challenge, 'a 401 carries a challenge the suite can answer').toMatch(/^(basic|bearer) /i);
    if (/^basic /i.test(challenge)) return ADMIN_AUTH;
    const params = new Map(
      [...challenge.matchAll(/([a-zA-Z]+)="(.+?)"/g)].map((match) => [match[1]!.toLowerCase(), match[2]!]),
    );
    const realm = new URL(params.get('realm') ?? '');
    const query = new URLSearchParams({ service: params.get('service') ?? '' });
    if (params.has('scope')) query.set('scope', params.get('scope')!);
    const response = await this.app.berth.server.inject({
      method: 'GET',
      url: `${realm.pathname}?${query.toString()}`,
      headers: { authorization: ADMIN_AUTH, accept: 'application/json' },
    });
    expect(response.statusCode, `token request: ${response.body.slice(0, 300)}`).toBe(200);
    const body = response.json<{ token?: string; access_token?: string }>();
    return `Bearer ${body.access_token || body.token}`;
  }

  #inject(request: SuiteRequest, authorization: string | undefined): Promise<LightMyRequestResponse> {
    const headers: Record<string, string | string[]> = { ...request.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    let payload: Buffer | Readable | undefined = request.body;
    if (request.body !== undefined && (request.chunked || this.mode === 'reggie')) {
      delete headers['content-length'];
      headers['transfer-encoding'] = 'chunked';
      payload = Readable.from([request.body]);
    } else if (request.body === undefined && ['POST', 'PUT', 'PATCH'].includes(request.method)) {
      // Go's transport sends `Content-Length: 0` on a POST, PUT or PATCH without a body.
      headers['content-length'] = '0';
    }
    return this.app.berth.server.inject({
      method: request.method,
      url: request.url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
  }
}

function cacheKey(request: SuiteRequest): string {
  const path = request.url.split('?')[0] ?? '';
  const repository = REPO_IN_PATH.exec(path)?.[1] ?? '';
  const method =
    request.method === 'GET' || request.method === 'HEAD'
      ? 'pull'
      : request.method === 'DELETE'
        ? 'delete'
        : 'push';
  return `${repository}:${method}`;
}

/** Resolves a Location against the request URL (Go's `url.Parse`) and returns path and query. */
export function resolveLocation(location: string | undefined, base: string): string {
  expect(location, 'Location header').toBeTruthy();
  const url = new URL(location ?? '', new URL(base, 'http://registry.test'));
  return `${url.pathname}${url.search}`;
}

/** Sets one query parameter on a path, as Go's `q.Set` followed by `u.RawQuery = q.Encode()`. */
export function withQuery(path: string, key: string, value: string): string {
  const url = new URL(path, 'http://registry.test');
  url.searchParams.set(key, value);
  return `${url.pathname}${url.search}`;
}

export function expectStatus(response: LightMyRequestResponse, ...allowed: number[]): void {
  expect(allowed, `${response.statusCode} ${response.body.slice(0, 300)}`).toContain(response.statusCode);
}

export function expectSuccess(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBeGreaterThanOrEqual(200);
  expect(response.statusCode, response.body.slice(0, 300)).toBeLessThan(300);
}

/** The error envelope's first code, which must be one the suite knows. */
export function expectOciError(response: LightMyRequestResponse): string {
  const body = JSON.parse(response.body);
  expect(body.errors).toBeInstanceOf(Array);
  expect(body.errors.length).toBeGreaterThan(0);
  expect(SUITE_ERROR_CODES).toContain(body.errors[0].code);
  return body.errors[0].code as string;
}

// ---- Data of the ginkgo suite (v1.1 releases, setup.go) ----

export interface ClassicBlob {
  content: Buffer;
  digest: Digest;
  length: string;
}

function blob(content: Buffer | string): ClassicBlob {
  const bytes = Buffer.from(content);
  return { content: bytes, digest: digestOf(bytes), length: String(bytes.length) };
}

/** Go marshals a nil []byte as null: every descriptor carries `"newUnspecifiedField": null`. */
function descriptor(mediaType: string, target: ClassicBlob, extra: Record<string, unknown> = {}) {
  return {
    mediaType,
    digest: target.digest,
    size: target.content.length,
    newUnspecifiedField: null,
    ...extra,
  };
}

/** json.MarshalIndent(v, "", "\t"). */
function marshal(value: unknown): ClassicBlob {
  return blob(JSON.stringify(value, null, '\t'));
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
export const ARTIFACT_TYPE_A = 'application/vnd.nhl.peanut.butter.bagel';
export const ARTIFACT_TYPE_B = 'application/vnd.nba.strawberry.jam.croissant';

export function classicData() {
  // One config and one image manifest per workflow (pull, push, discovery, management, and one spare),
  // unique through a random author.
  const configs = Array.from({ length: 5 }, () =>
    marshal({
      author: randomBytes(12).toString('base64url').slice(0, 16),
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  // Any small gzip stands in for the suite's tarball: a registry never looks inside a layer.
  const layer = blob(gzipSync(Buffer.from('you bothered to find out what was in here\n')));
  const configDescriptor = (config: ClassicBlob) =>
    descriptor(OCI_CONFIG, config, {
      data: config.content.toString('base64'),
      newUnspecifiedField: Buffer.from('hello world').toString('base64'),
    });
  const manifests = configs.map((config) =>
    marshal({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configDescriptor(config),
      layers: [descriptor('application/vnd.oci.image.layer.v1.tar+gzip', layer)],
    }),
  );
  const at = (i: number): ClassicBlob => manifests[i] as ClassicBlob;
  // No mediaType in the body: the Content-Type header names it.
  const emptyLayerManifest = marshal({
    schemaVersion: 2,
    config: configDescriptor(configs[1] as ClassicBlob),
    layers: [],
  });
  const testBlobA = blob(randomBytes(42));
  const testBlobB = blob(randomBytes(42));
  const chunk1 = testBlobB.content.subarray(0, 22);
  const chunk2 = testBlobB.content.subarray(22);
  const emptyJson = blob('{}');
  const refBlobA = blob('NHL Peanut Butter on my NHL bagel');
  const refBlobB = blob('NBA Strawberry Jam on my NBA croissant');
  const subject4 = descriptor(OCI_MANIFEST, at(4));
  const emptyJsonDescriptor = descriptor(OCI_EMPTY, emptyJson);
  const configArtifact = (type: string, config: ClassicBlob, note: string) =>
    marshal({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(type, config),
      layers: [emptyJsonDescriptor],
      subject: subject4,
      annotations: { [ANNOTATION_KEY]: note },
    });
  const layerArtifact = (type: string, layerBlob: ClassicBlob, subject: unknown, note?: string) =>
    marshal({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: type,
      config: emptyJsonDescriptor,
      layers: [descriptor(type, layerBlob)],
      subject,
      ...(note !== undefined ? { annotations: { [ANNOTATION_KEY]: note } } : {}),
    });
  const refsAConfig = configArtifact(ARTIFACT_TYPE_A, refBlobA, 'test config a');
  const refsBConfig = configArtifact(ARTIFACT_TYPE_B, refBlobB, 'test config b');
  const refsALayer = layerArtifact(ARTIFACT_TYPE_A, refBlobA, subject4, 'test layer a');
  const refsBLayer = layerArtifact(ARTIFACT_TYPE_B, refBlobB, subject4, 'test layer b');
  // Same as B, on manifests[3], which is never pushed while it is the subject.
  const refsCLayer = layerArtifact(ARTIFACT_TYPE_B, refBlobB, descriptor(OCI_MANIFEST, at(3)));
  const refsIndex = marshal({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    artifactType: 'application/vnd.food.stand',
    manifests: [descriptor(OCI_MANIFEST, refsAConfig), descriptor(OCI_MANIFEST, refsALayer)],
    subject: subject4,
    annotations: { [ANNOTATION_KEY]: 'test index' },
  });
  const annotationOf = new Map<string, string>([
    [refsAConfig.digest, 'test config a'],
    [refsBConfig.digest, 'test config b'],
    [refsALayer.digest, 'test layer a'],
    [refsBLayer.digest, 'test layer b'],
    [refsIndex.digest, 'test index'],
  ]);
  return {
    configs,
    layer,
    manifests,
    emptyLayerManifest,
    testBlobA,
    testBlobB,
    chunk1,
    chunk2,
    chunk1Range: `0-${chunk1.length - 1}`,
    chunk2Range: `${chunk1.length}-${testBlobB.content.length - 1}`,
    dummyDigest: digestOf('hello world'),
    nonexistentManifest: '.INVALID_MANIFEST_NAME',
    invalidManifestContent: Buffer.from('blablabla'),
    emptyJson,
    refBlobA,
    refBlobB,
    refsAConfig,
    refsBConfig,
    refsALayer,
    refsBLayer,
    refsCLayer,
    refsIndex,
    annotationOf,
  };
}
