/**
 * The virtual IP really failing over (issue: high availability, item 7): two balancer network namespaces
 * run HAProxy and Keepalived with the files `berth ha-config` wrote for the lab's addresses, in front of
 * two `berth serve` processes that share a private PostgreSQL, a private Redis and one data directory.
 * From a client namespace it pushes an image through the VIP, probes the VIP every 0.1 s, kills -9 lb1's
 * HAProxy, and measures the seconds until lb2 answers and the probes lost; then restarts it and measures
 * the failback; then kills -9 one Berth instance and checks HAProxy takes it out while requests keep
 * succeeding. The image pushed at the start is pulled, digests checked, after each fault.
 *
 * Needs root and `ip netns` (it skips, saying why, otherwise), `npm run build`, and Debian's iproute2,
 * haproxy, keepalived, curl, postgresql and redis-server. tests/ha/vip-lab.ts draws the topology.
 */
import { cpus, hostname, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUnavailable } from './netns.js';
import {
  curlIn,
  failureKinds,
  pullImage,
  pushImage,
  startProbes,
  type Probe,
  type ProbeLoop,
} from './vip-client.js';
import { INSTANCE_NAME, startVipLab, VIP, waitUntil, type VipLab } from './vip-lab.js';

const skipReason = await labUnavailable();
if (skipReason !== undefined) console.warn(`tests/ha/vip-failover.e2e.test.ts skipped: ${skipReason}`);

/** A functional bound, not a benchmark: the generated FAULT check moves the VIP in about 2 s. */
const FAILOVER_BOUND_S = 10;
const PROBE_INTERVAL_S = 0.1;
const PROBE_TIMEOUT_S = 0.5;

let vip: VipLab | undefined;
let probes: ProbeLoop | undefined;

function lab(): VipLab {
  if (vip === undefined) throw new Error('the VIP lab did not start');
  return vip;
}

function failedBetween(all: readonly Probe[], from: number, to: number): Probe[] {
  return all.filter((probe) => probe.at >= from && probe.at < to && probe.status !== 200);
}

/** Waits for the first probe started after `since` that got 200 through the balancer with `mac`. */
async function firstSuccessVia(
  loop: ProbeLoop,
  mac: string,
  since: number,
  timeoutMs: number,
): Promise<Probe> {
  let found: Probe | undefined;
  await waitUntil(
    `a probe answered through ${mac}`,
    timeoutMs,
    async () => {
      found = (await loop.read()).find(
        (probe) => probe.at >= since && probe.status === 200 && probe.mac === mac,
      );
      return found !== undefined;
    },
    async () =>
      `VIP holders: ${(await lab().vipHolders()).join() || 'none'}; last probes:\n${JSON.stringify((await loop.read()).slice(-10))}`,
  );
  return found as Probe;
}

describe.skipIf(skipReason !== undefined)(
  'HA: VIP failover between two Keepalived + HAProxy namespaces',
  () => {
    beforeAll(async () => {
      vip = await startVipLab((line) => console.log(`[vip-lab] ${line}`));
    }, 180_000);

    afterAll(async () => {
      await probes?.stop();
      await vip?.destroy();
    }, 60_000);

    it('moves the VIP to lb2 when lb1’s HAProxy dies and back when it returns, without losing the image', async () => {
      const { lab: net, dir } = lab();
      const auth = { username: 'admin', password: lab().adminPassword };
      const base = `http://${VIP}`;
      const pull = async () => {
        const pulled = await pullImage(net, 'cli', dir, base, auth, image);
        expect(pulled.manifestDigest).toBe(image.manifestDigest);
        expect(pulled.blobDigests).toEqual(image.blobDigests);
      };

      // Through the VIP, held by lb1: a project and an image.
      const created = await curlIn(net, 'cli', dir, {
        method: 'POST',
        url: `${base}/api/v2.0/projects`,
        auth,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ project_name: 'vip', public: false })),
      });
      expect(created.status).toBe(201);
      const image = await pushImage(net, 'cli', dir, base, auth, 'vip/app', 'v1');

      const lb1Mac = await net.mac('lb1');
      const lb2Mac = await net.mac('lb2');
      const loop = startProbes(net, 'cli', dir, {
        url: `${base}/api/v2.0/ping`,
        vip: VIP,
        maxProbes: 1500,
        intervalS: PROBE_INTERVAL_S,
        timeoutS: PROBE_TIMEOUT_S,
      });
      probes = loop;
      const steadyFrom = Date.now();
      await firstSuccessVia(loop, lb1Mac, steadyFrom, 10_000);
      await sleep(1_500);

      // 1. kill -9 of lb1's HAProxy: its check fails, lb1 goes FAULT, lb2 takes the VIP.
      const failedAt = Date.now();
      await lab().haproxy.lb1.kill();
      const failoverProbe = await firstSuccessVia(loop, lb2Mac, failedAt, 30_000);
      const failoverSeconds = (failoverProbe.at - failedAt) / 1000;
      expect(await lab().vipHolders()).toEqual(['lb2']);
      await pull();

      // 2. lb1's HAProxy comes back: its check passes `rise` times and lb1 preempts.
      await sleep(2_000);
      const restoredAt = Date.now();
      await lab().startHaproxy('lb1');
      const failbackProbe = await firstSuccessVia(loop, lb1Mac, restoredAt, 30_000);
      const failbackSeconds = (failbackProbe.at - restoredAt) / 1000;
      await waitUntil(
        'lb1 holds the VIP alone',
        5_000,
        async () => (await lab().vipHolders()).join() === 'lb1',
      );
      await pull();

      // 3. kill -9 of one Berth instance: both balancers' health checks take it out; requests go on.
      await sleep(2_000);
      const killedAt = Date.now();
      await lab().berth.be1.kill();
      const markedDown: Record<string, number> = {};
      await waitUntil('both balancers mark berth1 DOWN', 15_000, () => {
        for (const lb of ['lb1', 'lb2'] as const) {
          if (
            markedDown[lb] === undefined &&
            lab().haproxy[lb].logTail().includes(`${INSTANCE_NAME.be1} is DOWN`)
          ) {
            markedDown[lb] = (Date.now() - killedAt) / 1000;
          }
        }
        return Promise.resolve(Object.keys(markedDown).length === 2);
      });
      await sleep(2_000);
      const killWindowEnd = Date.now();
      await pull();

      await loop.stop();
      const all = await loop.read();
      const failoverFailed = failedBetween(all, failedAt, failoverProbe.at);
      const failbackFailed = failedBetween(all, restoredAt, failbackProbe.at);
      const instanceFailed = failedBetween(all, killedAt, killWindowEnd);
      const afterDown = all.filter(
        (probe) => probe.at >= killedAt + Math.max(...Object.values(markedDown)) * 1000,
      );
      const figures = {
        date: new Date().toISOString(),
        machine: `${hostname()}, ${cpus().length} CPUs, Linux ${release()}`,
        probe: { interval_s: PROBE_INTERVAL_S, timeout_s: PROBE_TIMEOUT_S, total: all.length },
        vip_elected_seconds: Number(lab().vipElectedSeconds.toFixed(2)),
        failover: {
          fault: 'kill -9 of lb1 haproxy',
          seconds_to_first_success_via_lb2: Number(failoverSeconds.toFixed(2)),
          failed_probes: failoverFailed.length,
          failure_kinds: failureKinds(failoverFailed),
        },
        failback: {
          restore: 'lb1 haproxy started again',
          seconds_to_first_success_via_lb1: Number(failbackSeconds.toFixed(2)),
          failed_probes: failbackFailed.length,
          failure_kinds: failureKinds(failbackFailed),
        },
        instance_kill: {
          fault: 'kill -9 of berth1',
          seconds_until_marked_down: markedDown,
          failed_probes: instanceFailed.length,
          failure_kinds: failureKinds(instanceFailed),
          // A request that HAProxy sent to berth1 before marking it down is retried after a turn-around.
          slowest_probe_ms: Math.max(
            0,
            ...all.filter((p) => p.at >= killedAt && p.at < killWindowEnd).map((p) => p.ms),
          ),
          probes_after_marked_down: afterDown.length,
        },
      };
      console.log(`VIP figures:\n${JSON.stringify(figures, null, 2)}`);

      expect(failoverSeconds).toBeLessThan(FAILOVER_BOUND_S);
      expect(failbackSeconds).toBeLessThan(30);
      // lb2 serves until lb1 has taken the VIP back: a failback loses (almost) nothing.
      expect(failbackFailed.length).toBeLessThanOrEqual(2);
      // Before the fault the VIP is steady on lb1. In CI this file runs beside the whole suite on two
      // cores, and once a starved run lost one probe (an empty reply, curl exit 52) in that phase; more
      // than one would be a flapping VIP.
      expect(failedBetween(all, steadyFrom, failedAt).length).toBeLessThanOrEqual(1);
      // HAProxy redispatches a refused connection to the live instance. Only a request caught between
      // berth1's death and its DOWN mark (~0.6 s) can fail or be slow: one probe in 7 runs outlived its
      // 0.5 s timeout there (HAProxy waits up to 1 s before retrying the same server). None after the mark.
      expect(instanceFailed.length).toBeLessThanOrEqual(2);
      expect(afterDown.length).toBeGreaterThan(5);
      expect(afterDown.every((probe) => probe.status === 200)).toBe(true);
    }, 240_000);
  },
);
