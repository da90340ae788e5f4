/**
 * The HA topology really running (issue: high availability): HAProxy in front of two `berth serve`
 * processes sharing one data directory, a private PostgreSQL and a private Redis. Under a steady, bounded
 * load of pushes and pulls (a load generator and skopeo) it kills -9 one instance, restarts Redis and
 * restarts PostgreSQL, then checks that every push acknowledged with 201 is pullable with the right
 * digests through each instance, that an upload in flight on the killed instance is finished through the
 * other one, and that the service came back by itself. It prints the figures (docs/ha.md) and writes them
 * to $HA_TEST_REPORT when set.
 *
 * Needs `npm run build`, and Debian's haproxy, postgresql, redis-server and skopeo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.js';
import { createClientEnv, type ClientEnv } from '../support/containers-env.js';
import { credsArg, skopeoDigest } from '../support/skopeo.js';
import { startHaCluster, type HaCluster } from './ha-cluster.js';
import {
  failures,
  secondsToFirstSuccess,
  startLoad,
  throughput,
  verifyPull,
  type Outcome,
  type RunningLoad,
} from './registry-load.js';

const TIMEOUT = 300_000;
let cluster: HaCluster | undefined;
let workDir: string | undefined;
let fixtures: FixtureSet;
let clients: ClientEnv | undefined;

function ha(): HaCluster {
  if (cluster === undefined) throw new Error('the HA cluster did not start');
  return cluster;
}
function basic(): string {
  return `Basic ${Buffer.from(`admin:${ha().adminPassword}`).toString('base64')}`;
}
function proxyHost(): string {
  return ha().url.replace('http://', '');
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'berth-ha-test-'));
  fixtures = await buildFixtures(join(workDir, 'fixtures'), { largeLayers: 1, largeLayerMiB: 1 });
  cluster = await startHaCluster({ instances: 2 });
  clients = await createClientEnv({ insecureRegistries: [proxyHost()], parentDir: workDir });
  const created = await fetch(`${ha().url}/api/v2.0/projects`, {
    method: 'POST',
    headers: { authorization: basic(), 'content-type': 'application/json' },
    body: JSON.stringify({ project_name: 'ha', public: false }),
  });
  expect(created.status).toBe(201);
}, TIMEOUT);

afterAll(async () => {
  await clients?.dispose();
  await cluster?.destroy();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}, TIMEOUT);

interface Window {
  name: string;
  at: number;
  /** When the broken piece was back (instance restarted, server started); the outage is [at, restoredAt). */
  restoredAt: number;
}

function summarize(outcomes: readonly Outcome[], window: Window, steadyBefore: number) {
  const outage = failures(outcomes, window.at, window.restoredAt + 5_000);
  const statuses = [...new Set(outage.map((outcome) => outcome.status ?? 0))].sort();
  const slowestFailureMs = Math.max(0, ...outage.map((outcome) => outcome.endedAt - outcome.startedAt));
  return {
    scenario: window.name,
    seconds_to_first_success: secondsToFirstSuccess(outcomes, window.at),
    seconds_from_restore_to_first_success: secondsToFirstSuccess(outcomes, window.restoredAt),
    failed_requests: outage.length,
    failure_statuses: statuses,
    failure_samples: [...new Set(outage.map((outcome) => outcome.error ?? ''))].slice(0, 4),
    slowest_failure_ms: slowestFailureMs,
    ops_per_second_before: Number(throughput(outcomes, steadyBefore, window.at).toFixed(1)),
    ops_per_second_during: Number(throughput(outcomes, window.at, window.restoredAt).toFixed(1)),
    ops_per_second_after: Number(
      throughput(outcomes, window.restoredAt + 1_000, window.restoredAt + 4_000).toFixed(1),
    ),
  };
}

async function waitUntilServing(deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await fetch(`${ha().url}/v2/`, {
      headers: { authorization: basic() },
      signal: AbortSignal.timeout(2_000),
    })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the cluster did not come back');
    await sleep(100);
  }
}

describe('HA: two instances behind HAProxy, private PostgreSQL and Redis', () => {
  it(
    'loses no acknowledged push when an instance is killed and Redis and PostgreSQL restart',
    async () => {
      const [first, second] = ha().instances;
      if (first === undefined || second === undefined) throw new Error('two instances expected');
      const busybox = fixtures.get('busybox');
      const skopeoPush = (dest: string) =>
        clients!.runOrThrow('skopeo', [
          'copy',
          '--all',
          '--preserve-digests',
          '--dest-tls-verify=false',
          '--dest-creds',
          credsArg({ username: 'admin', password: ha().adminPassword }),
          busybox.src,
          dest,
        ]);

      const load: RunningLoad = startLoad({
        url: ha().url,
        authorization: basic(),
        repository: 'ha/load',
        pushWorkers: 3,
        pullWorkers: 3,
        maxOperations: 50_000,
        maxDurationMs: 120_000,
      });
      const windows: Window[] = [];
      try {
        await sleep(3_000);
        const steadyFrom = Date.now() - 2_000;
        // A real client pushes through the balancer while the load runs.
        await skopeoPush(`docker://${proxyHost()}/ha/busybox:before`);

        // An upload in flight on the instance about to die: started and half sent there directly.
        const part1 = randomBytes(512 * 1024);
        const part2 = randomBytes(512 * 1024);
        const whole = Buffer.concat([part1, part2]);
        const wholeDigest = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
        const started = await fetch(`${first.url}/v2/ha/inflight/blobs/uploads/`, {
          method: 'POST',
          headers: { authorization: basic() },
        });
        expect(started.status).toBe(202);
        let location = started.headers.get('location') ?? '';
        const sent1 = await fetch(`${first.url}${location}`, {
          method: 'PATCH',
          headers: {
            authorization: basic(),
            'content-type': 'application/octet-stream',
            'content-range': `0-${part1.length - 1}`,
          },
          body: part1,
        });
        expect(sent1.status).toBe(202);
        location = sent1.headers.get('location') ?? location;

        // 1. kill -9 one instance.
        const killedAt = Date.now();
        await ha().killInstance(first);
        // The rest of the upload goes through the balancer, which now has only the other instance.
        const sent2 = await fetch(`${ha().url}${location}`, {
          method: 'PATCH',
          headers: {
            authorization: basic(),
            'content-type': 'application/octet-stream',
            'content-range': `${part1.length}-${whole.length - 1}`,
          },
          body: part2,
        });
        expect(sent2.status, await sent2.clone().text()).toBe(202);
        location = sent2.headers.get('location') ?? location;
        const closed = await fetch(
          `${ha().url}${location}${location.includes('?') ? '&' : '?'}digest=${wholeDigest}`,
          {
            method: 'PUT',
            headers: { authorization: basic() },
          },
        );
        expect(closed.status, await closed.clone().text()).toBe(201);
        await sleep(3_000);
        await ha().restartInstance(first);
        windows.push({ name: 'kill -9 of one instance', at: killedAt, restoredAt: Date.now() });
        await sleep(3_000);

        // 2. Redis dies and comes back empty.
        const redisAt = Date.now();
        await ha().redis.kill();
        await sleep(3_000);
        await ha().redis.start();
        windows.push({ name: 'Redis killed and restarted', at: redisAt, restoredAt: Date.now() });
        await sleep(4_000);

        // 3. PostgreSQL restarts (fast shutdown, as a failover or a maintenance restart does).
        const postgresAt = Date.now();
        await ha().postgres.stop();
        await sleep(3_000);
        await ha().postgres.start();
        windows.push({ name: 'PostgreSQL restarted', at: postgresAt, restoredAt: Date.now() });
        await waitUntilServing(30_000);
        await sleep(4_000);

        await skopeoPush(`docker://${proxyHost()}/ha/busybox:after`);
        await load.stop();

        const report = {
          date: new Date().toISOString(),
          requests: load.outcomes.length,
          acknowledged_pushes: load.acked.length,
          failed_requests_total: load.outcomes.filter((outcome) => !outcome.ok).length,
          scenarios: windows.map((window) => summarize(load.outcomes, window, steadyFrom)),
        };
        console.log(`HA figures:\n${JSON.stringify(report, null, 2)}`);
        const reportFile = process.env['HA_TEST_REPORT'];
        if (reportFile !== undefined) await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);

        // The service came back by itself after each scenario.
        for (const scenario of report.scenarios) {
          expect(scenario.seconds_from_restore_to_first_success, scenario.scenario).not.toBeNull();
        }
        // Requests failed during the PostgreSQL outage failed fast rather than hanging.
        const postgresScenario = report.scenarios[2];
        expect(postgresScenario?.slowest_failure_ms ?? 0).toBeLessThan(10_000);

        // Every acknowledged push is there, whole, through each instance.
        expect(load.acked.length).toBeGreaterThan(20);
        for (const instance of ha().instances) {
          for (const push of load.acked) await verifyPull(instance.url, basic(), push);
        }
        // The upload begun on the killed instance is a whole blob.
        const blob = await fetch(`${second.url}/v2/ha/inflight/blobs/${wholeDigest}`, {
          headers: { authorization: basic() },
        });
        expect(blob.status).toBe(200);
        expect(
          createHash('sha256')
            .update(Buffer.from(await blob.arrayBuffer()))
            .digest('hex'),
        ).toBe(wholeDigest.slice('sha256:'.length));
        // What skopeo pushed before and after is served with the digest it has locally.
        const local = await skopeoDigest(busybox.src, undefined, clients);
        for (const tag of ['before', 'after']) {
          expect(
            await skopeoDigest(
              `docker://${proxyHost()}/ha/busybox:${tag}`,
              { username: 'admin', password: ha().adminPassword },
              clients,
            ),
          ).toBe(local);
        }
      } finally {
        await load.stop();
      }
    },
    TIMEOUT,
  );
});
