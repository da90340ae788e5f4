import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure } from '../support/processes.js';
import type { ServerProcess } from '../support/server-process.js';
import type { NetnsLab } from './netns.js';

/**
 * The client side of the VIP test. The test process lives in the root network namespace, which cannot
 * reach the lab's bridge, so every request is a curl run inside the client namespace: a registry push and
 * pull (blobs and manifest by hand, digests checked), and a bounded probe loop whose every line says
 * when it ran, what it got, and which balancer's MAC the VIP resolved to at that moment.
 */

export interface HttpResult {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

export interface Credentials {
  username: string;
  password: string;
}

let counter = 0;

/** One HTTP request with curl inside `node`'s namespace; the body goes through a file, never the argv. */
export async function curlIn(
  lab: NetnsLab,
  node: string,
  workDir: string,
  request: {
    method: string;
    url: string;
    auth?: Credentials;
    headers?: Record<string, string>;
    body?: Buffer;
  },
): Promise<HttpResult> {
  const id = `${process.pid}-${++counter}`;
  const bodyFile = join(workDir, `curl-${id}.body`);
  const headerFile = join(workDir, `curl-${id}.headers`);
  const outFile = join(workDir, `curl-${id}.out`);
  const args = [
    '-sS',
    '-m',
    '10',
    '-X',
    request.method,
    '-D',
    headerFile,
    '-o',
    outFile,
    '-w',
    '%{http_code}',
  ];
  for (const [name, value] of Object.entries(request.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (request.body !== undefined) {
    await writeFile(bodyFile, request.body);
    args.push('--data-binary', `@${bodyFile}`);
  }
  if (request.auth !== undefined) args.push('-u', `${request.auth.username}:${request.auth.password}`);
  args.push(request.url);
  const result = await lab.exec(node, 'curl', args, { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(describeFailure('curl', args, result));
  const headers = new Map<string, string>();
  for (const line of (await readFile(headerFile, 'utf8')).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return {
    status: Number(result.stdout.trim()),
    headers,
    body: await readFile(outFile).catch(() => Buffer.alloc(0)),
  };
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export interface PushedImage {
  repository: string;
  tag: string;
  manifestDigest: string;
  blobDigests: string[];
}

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** Pushes a small OCI image (config + two random layers, monolithic uploads, then the manifest). */
export async function pushImage(
  lab: NetnsLab,
  node: string,
  workDir: string,
  base: string,
  auth: Credentials,
  repository: string,
  tag: string,
): Promise<PushedImage> {
  const layers = [randomBytes(64 * 1024), randomBytes(300 * 1024)];
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
      config: {},
    }),
  );
  for (const blob of [config, ...layers]) {
    const digest = sha256(blob);
    const sent = await curlIn(lab, node, workDir, {
      method: 'POST',
      url: `${base}/v2/${repository}/blobs/uploads/?digest=${digest}`,
      auth,
      headers: { 'content-type': 'application/octet-stream' },
      body: blob,
    });
    if (sent.status !== 201) throw new Error(`blob upload: ${sent.status} ${sent.body.toString('utf8')}`);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((layer) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: sha256(layer),
        size: layer.length,
      })),
    }),
  );
  const put = await curlIn(lab, node, workDir, {
    method: 'PUT',
    url: `${base}/v2/${repository}/manifests/${tag}`,
    auth,
    headers: { 'content-type': MANIFEST_TYPE },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest PUT: ${put.status} ${put.body.toString('utf8')}`);
  const manifestDigest = sha256(manifest);
  if (put.headers.get('docker-content-digest') !== manifestDigest) {
    throw new Error(
      `manifest PUT answered digest ${put.headers.get('docker-content-digest')}, sent ${manifestDigest}`,
    );
  }
  return { repository, tag, manifestDigest, blobDigests: [config, ...layers].map(sha256) };
}

/**
 * Pulls the tag and every blob it names, and checks each digest against the bytes received. Returns
 * the manifest digest the registry served for the tag (the caller compares it with the pushed one).
 */
export async function pullImage(
  lab: NetnsLab,
  node: string,
  workDir: string,
  base: string,
  auth: Credentials,
  image: PushedImage,
): Promise<{ manifestDigest: string; blobDigests: string[] }> {
  const got = await curlIn(lab, node, workDir, {
    method: 'GET',
    url: `${base}/v2/${image.repository}/manifests/${image.tag}`,
    auth,
    headers: { accept: MANIFEST_TYPE },
  });
  if (got.status !== 200) throw new Error(`manifest GET: ${got.status} ${got.body.toString('utf8')}`);
  const manifest = JSON.parse(got.body.toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const blobDigests: string[] = [];
  for (const digest of [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]) {
    const blob = await curlIn(lab, node, workDir, {
      method: 'GET',
      url: `${base}/v2/${image.repository}/blobs/${digest}`,
      auth,
    });
    if (blob.status !== 200) throw new Error(`blob GET ${digest}: ${blob.status}`);
    // The digest of what arrived, not the one asked for: a torn or wrong blob shows here.
    blobDigests.push(sha256(blob.body));
  }
  return { manifestDigest: sha256(got.body), blobDigests };
}

export interface Probe {
  /** Start of the request, ms since the epoch. */
  at: number;
  /** HTTP status, 0 when there was no answer. */
  status: number;
  /** curl's exit status: 7 refused, 28 timed out, 52 empty reply, 56 reset. */
  curlExit: number;
  /** The MAC the client's ARP cache held for the VIP right after the request: which balancer it reached. */
  mac: string;
  /** How long the request took, ms. */
  ms: number;
}

export interface ProbeLoop {
  readonly process: ServerProcess;
  read(): Promise<Probe[]>;
  /** Asks the loop to end after the current probe and waits for it. */
  stop(): Promise<void>;
}

/**
 * Probes `url` from the client namespace every `intervalS` seconds (each probe at most `timeoutS`), at
 * most `maxProbes` times, until stopped. A bash loop in the namespace starts each curl, so the pace does
 * not depend on the test process. Lines: `<epoch> <status> <seconds> <curl exit> <mac>`.
 */
export function startProbes(
  lab: NetnsLab,
  node: string,
  workDir: string,
  options: { url: string; vip: string; maxProbes: number; intervalS: number; timeoutS: number },
): ProbeLoop {
  const stopFile = join(workDir, 'probes.stop');
  const logFile = join(workDir, 'probes.log');
  const script = `
    export LC_ALL=C
    for ((i = 0; i < $1; i++)); do
      [ -e "$2" ] && break
      t=$EPOCHREALTIME
      out=$(curl -s -o /dev/null -m "$5" -w '%{http_code} %{time_total}' "$3"); rc=$?
      mac=$(ip -o neigh show "$4" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
      echo "$t \${out:-000 0} $rc \${mac:--}"
      sleep "$6"
    done`;
  const loop = lab.spawn(
    node,
    'bash',
    [
      '-c',
      script,
      'probe',
      String(options.maxProbes),
      stopFile,
      options.url,
      options.vip,
      String(options.timeoutS),
      String(options.intervalS),
    ],
    logFile,
  );
  return {
    process: loop,
    async read() {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields.length === 5 && /^\d+\.\d+$/.test(fields[0] ?? ''))
        .map(([at, status, seconds, curlExit, mac]) => ({
          at: Number(at) * 1000,
          status: Number(status),
          curlExit: Number(curlExit),
          mac: mac ?? '-',
          ms: Math.round(Number(seconds) * 1000),
        }));
    },
    async stop() {
      await writeFile(stopFile, '');
      await Promise.race([loop.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await loop.kill();
    },
  };
}

/** How failed probes failed, e.g. `{ "refused": 13, "timeout": 1 }`. */
export function failureKinds(probes: readonly Probe[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const probe of probes) {
    if (probe.status === 200) continue;
    const kind =
      probe.status !== 0
        ? `http-${probe.status}`
        : probe.curlExit === 7
          ? 'refused'
          : probe.curlExit === 28
            ? 'timeout'
            : `curl-exit-${probe.curlExit}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}
