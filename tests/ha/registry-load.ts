import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A steady, bounded load of pushes and pulls through the registry's front door, recording every request's
 * start, end and outcome, and every push the registry acknowledged (201 on the manifest). Pushes are
 * whole images: a config and a layer blob (monolithic POST with `digest`), then the manifest under a tag.
 * Pulls fetch an acknowledged tag and its layer and check both digests, so a torn or wrong blob is a
 * failure, not a success.
 */
export interface Outcome {
  kind: 'push' | 'pull';
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** HTTP status of the failing request, or 0 for a transport error. */
  status?: number;
  error?: string;
}

export interface AckedPush {
  repository: string;
  tag: string;
  manifestDigest: string;
  layerDigest: string;
}

export interface LoadOptions {
  url: string;
  authorization: string;
  repository: string;
  pushWorkers: number;
  pullWorkers: number;
  /** Hard bounds: the load stops at whichever comes first (or at stop()). */
  maxOperations: number;
  maxDurationMs: number;
  layerBytes?: number;
  requestTimeoutMs?: number;
}

export interface RunningLoad {
  readonly outcomes: Outcome[];
  readonly acked: AckedPush[];
  stop(): Promise<void>;
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

class RequestFailed extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function startLoad(options: LoadOptions): RunningLoad {
  const outcomes: Outcome[] = [];
  const acked: AckedPush[] = [];
  const deadline = Date.now() + options.maxDurationMs;
  const timeout = options.requestTimeoutMs ?? 10_000;
  let operations = 0;
  let stopped = false;
  let sequence = 0;

  const request = async (path: string, init: RequestInit, expected: number): Promise<Response> => {
    const response = await fetch(`${options.url}${path}`, {
      ...init,
      headers: { authorization: options.authorization, ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(timeout),
    });
    if (response.status !== expected) {
      const body = await response.text().catch(() => '');
      throw new RequestFailed(
        response.status,
        `${init.method ?? 'GET'} ${path}: ${response.status} ${body.slice(0, 200)}`,
      );
    }
    return response;
  };

  const pushBlob = async (bytes: Uint8Array): Promise<string> => {
    const digest = sha256(bytes);
    const response = await request(
      `/v2/${options.repository}/blobs/uploads/?digest=${digest}`,
      { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } },
      201,
    );
    await response.body?.cancel();
    return digest;
  };

  const pushImage = async (): Promise<void> => {
    const n = sequence++;
    const layer = randomBytes(options.layerBytes ?? 16 * 1024);
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', n, nonce: randomBytes(8).toString('hex') }),
    );
    const configDigest = await pushBlob(config);
    const layerDigest = await pushBlob(layer);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: configDigest,
          size: config.length,
        },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
        ],
      }),
    );
    const tag = `t${n}`;
    const response = await request(
      `/v2/${options.repository}/manifests/${tag}`,
      {
        method: 'PUT',
        body: manifest,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      },
      201,
    );
    await response.body?.cancel();
    acked.push({ repository: options.repository, tag, manifestDigest: sha256(manifest), layerDigest });
  };

  const pullImage = async (): Promise<void> => {
    const pick = acked[Math.floor(Math.random() * acked.length)];
    if (pick === undefined) {
      await sleep(20);
      throw new Error('nothing pushed yet');
    }
    await verifyPull(options.url, options.authorization, pick, timeout);
  };

  const worker = async (kind: 'push' | 'pull'): Promise<void> => {
    while (!stopped && Date.now() < deadline && operations < options.maxOperations) {
      if (kind === 'pull' && acked.length === 0) {
        await sleep(20);
        continue;
      }
      operations++;
      const startedAt = Date.now();
      try {
        await (kind === 'push' ? pushImage() : pullImage());
        outcomes.push({ kind, startedAt, endedAt: Date.now(), ok: true });
      } catch (error) {
        outcomes.push({
          kind,
          startedAt,
          endedAt: Date.now(),
          ok: false,
          status: error instanceof RequestFailed ? error.status : 0,
          error: error instanceof Error ? error.message.slice(0, 300) : String(error),
        });
        // A failing registry is not hammered in a tight loop.
        await sleep(50);
      }
    }
  };

  const workers = [
    ...Array.from({ length: options.pushWorkers }, () => worker('push')),
    ...Array.from({ length: options.pullWorkers }, () => worker('pull')),
  ];
  return {
    outcomes,
    acked,
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };
}

/** Pulls an acknowledged push by tag and checks the manifest's and the layer's digests. */
export async function verifyPull(
  url: string,
  authorization: string,
  push: AckedPush,
  timeoutMs = 10_000,
): Promise<void> {
  const get = async (path: string, accept?: string): Promise<Buffer> => {
    const response = await fetch(`${url}${path}`, {
      headers: { authorization, ...(accept ? { accept } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) {
      throw new RequestFailed(
        response.status,
        `GET ${path}: ${response.status} ${(await response.text()).slice(0, 200)}`,
      );
    }
    return Buffer.from(await response.arrayBuffer());
  };
  const manifest = await get(
    `/v2/${push.repository}/manifests/${push.tag}`,
    'application/vnd.oci.image.manifest.v1+json',
  );
  if (sha256(manifest) !== push.manifestDigest) {
    throw new Error(
      `${push.repository}:${push.tag} has manifest ${sha256(manifest)}, pushed ${push.manifestDigest}`,
    );
  }
  const layer = await get(`/v2/${push.repository}/blobs/${push.layerDigest}`);
  if (sha256(layer) !== push.layerDigest) {
    throw new Error(
      `blob ${push.layerDigest} of ${push.repository}:${push.tag} is torn: got ${sha256(layer)}`,
    );
  }
}

/** Requests per second over [from, to) among outcomes that ended then. */
export function throughput(outcomes: readonly Outcome[], from: number, to: number): number {
  if (to <= from) return 0;
  const done = outcomes.filter((outcome) => outcome.ok && outcome.endedAt >= from && outcome.endedAt < to);
  return done.length / ((to - from) / 1000);
}

/** Failures among requests that ended in [from, to). */
export function failures(outcomes: readonly Outcome[], from: number, to: number): Outcome[] {
  return outcomes.filter((outcome) => !outcome.ok && outcome.endedAt >= from && outcome.endedAt < to);
}

/** Seconds from `since` to the end of the first successful request started at or after it. */
export function secondsToFirstSuccess(
  outcomes: readonly Outcome[],
  since: number,
  kind?: Outcome['kind'],
): number | null {
  const first = outcomes
    .filter(
      (outcome) => outcome.ok && outcome.startedAt >= since && (kind === undefined || outcome.kind === kind),
    )
    .sort((a, b) => a.endedAt - b.endedAt)[0];
  return first === undefined ? null : (first.endedAt - since) / 1000;
}
