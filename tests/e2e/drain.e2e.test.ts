/**
 * SIGTERM on a real `berth serve` process: the instance drains (ping 503, everything else still served),
 * closes its listener, lets a long upload in flight finish with 201, then exits 0; a second SIGTERM exits
 * at once. Runs src/main.ts through tsx, so no build is needed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startBerth, type BerthInstance } from '../support/berth.js';

const ENTRY = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = { NODE_OPTIONS: '--import tsx' };

let berth: BerthInstance | undefined;

afterEach(async () => {
  await berth?.stop();
  berth = undefined;
});

function basic(instance: BerthInstance): string {
  return `Basic ${Buffer.from(`admin:${instance.adminPassword}`).toString('base64')}`;
}

/** A body that trickles `chunks` chunks of 64 KiB, one every `everyMs`. */
function trickle(chunks: Buffer[], everyMs: number, sent: { bytes: number }): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index === chunks.length) {
        controller.close();
        return;
      }
      if (index > 0) await sleep(everyMs);
      const chunk = chunks[index++] as Buffer;
      sent.bytes += chunk.length;
      controller.enqueue(new Uint8Array(chunk));
    },
  });
}

/** The status of GET /api/v2.0/ping on a new connection, or 'refused'. */
async function ping(instance: BerthInstance): Promise<number | 'refused'> {
  try {
    const response = await fetch(`${instance.url}/api/v2.0/ping`, {
      headers: { connection: 'close' },
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'refused';
  }
}

describe('berth serve on SIGTERM', () => {
  it('drains, finishes an upload in flight, then exits 0', async () => {
    const instance = await startBerth({
      entry: ENTRY,
      env: TSX,
      config: { berth: { drain_seconds: 2 } },
      keepDataDir: false,
    });
    berth = instance;
    const auth = basic(instance);
    const start = await fetch(`${instance.url}/v2/library/drain/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: auth },
    });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location') as string, instance.url);
    // 48 chunks of 64 KiB, one per 100 ms: ~4.8 s, well past the 2 s drain.
    const chunks = Array.from({ length: 48 }, () => randomBytes(64 * 1024));
    const digest = `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`;
    location.searchParams.set('digest', digest);
    const sent = { bytes: 0 };
    const upload = fetch(location, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/octet-stream' },
      body: trickle(chunks, 100, sent),
      duplex: 'half',
    });
    while (sent.bytes < 4 * 64 * 1024) await sleep(20);

    process.kill(instance.server.pid, 'SIGTERM');
    const signalledAt = performance.now();
    // Draining: ping says 503 so the balancer takes the instance out; health says why.
    await sleep(200);
    expect(await ping(instance)).toBe(503);
    const health = await fetch(`${instance.url}/api/v2.0/health`, { headers: { connection: 'close' } });
    const body = (await health.json()) as { components: unknown[] };
    expect(body.components[0]).toEqual({
      name: 'core',
      status: 'unhealthy',
      error: 'shutting down: draining in-flight requests',
    });
    // After the drain the listener is closed: new connections are refused while the upload goes on.
    while (performance.now() - signalledAt < 2_500) await sleep(50);
    expect(await ping(instance)).toBe('refused');
    expect(instance.server.hasExited()).toBe(false);
    expect(sent.bytes).toBeLessThan(48 * 64 * 1024);

    const response = await upload;
    expect(response.status).toBe(201);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(await instance.server.exited).toBe(0);
    const hex = digest.slice('sha256:'.length);
    const blob = await stat(
      join(instance.dataDir, 'data', 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex),
    );
    expect(blob.size).toBe(48 * 64 * 1024);
  }, 60_000);

  it('exits at once on a second SIGTERM', async () => {
    const instance = await startBerth({ entry: ENTRY, env: TSX, config: { berth: { drain_seconds: 60 } } });
    berth = instance;
    process.kill(instance.server.pid, 'SIGTERM');
    await sleep(300);
    expect(await ping(instance)).toBe(503);
    const second = performance.now();
    process.kill(instance.server.pid, 'SIGTERM');
    expect(await instance.server.exited).toBe(1);
    expect(performance.now() - second).toBeLessThan(2_000);
  }, 60_000);
});
