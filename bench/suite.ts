/** Runs the selected scenarios, in a fixed order, against one registry and collects its metrics. */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { BenchProfile } from './bench-profile.js';
import { runBlobPull } from './blob-pull.scenario.js';
import { runBlobPush, type PushedBlobs } from './blob-push.scenario.js';
import { HttpTransport } from './http-transport.js';
import { runListings } from './listing.scenario.js';
import { runManifests } from './manifest.scenario.js';
import { measured, type Metric } from './metric.js';
import { RegistryAuth, type Credentials } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';
import { RssSampler } from './rss-sampler.js';
import type { ScenarioContext } from './scenario-context.js';
import { runSmallBlobs } from './small-blob.scenario.js';

export const SCENARIOS = ['push', 'pull', 'small', 'manifest', 'tags', 'catalog'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchTarget {
  readonly label: string;
  readonly url: string;
  readonly credentials: Credentials | undefined;
  readonly pid: number | undefined;
}

export interface SuiteOptions {
  readonly profile: BenchProfile;
  readonly repoPrefix: string;
  readonly scenarios: ReadonlySet<ScenarioName>;
  readonly insecure: boolean;
  readonly log: (message: string) => void;
}

export interface SuiteResult {
  readonly label: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly auth: string;
  readonly profile: BenchProfile['name'];
  readonly startedAt: string;
  /** 1-minute load average when the suite started: other work on the machine skews every figure. */
  readonly loadAverage: number;
  readonly durationSeconds: number;
  readonly metrics: readonly Metric[];
}

/** Enough sockets for the widest phase (manifest GETs at 64 in flight) plus setup traffic. */
const MAX_SOCKETS = 128;

export async function runSuite(target: BenchTarget, options: SuiteOptions): Promise<SuiteResult> {
  const startedAt = new Date();
  const started = performance.now();
  const transport = new HttpTransport(new URL(target.url), {
    maxSockets: MAX_SOCKETS,
    insecure: options.insecure,
  });
  const auth = new RegistryAuth(transport, target.credentials);
  const rss = target.pid === undefined ? undefined : new RssSampler(target.pid);
  const log = (message: string): void => options.log(`[${target.label}] ${message}`);
  const metrics: Metric[] = [];
  try {
    const authMode = await auth.negotiate();
    const load = loadavg()[0] ?? 0;
    if (load > cpus().length / 2) {
      log(
        `warning: 1-minute load average is ${load.toFixed(1)} on ${cpus().length} CPUs; figures will be noisy`,
      );
    }
    log(`${target.url}: auth ${authMode}${rss ? `, sampling RSS of pid ${rss.pid}` : ''}`);
    rss?.read();
    rss?.start();
    const context: ScenarioContext = {
      client: new RegistryClient(transport, auth),
      profile: options.profile,
      runId: randomBytes(6).toString('hex'),
      repoPrefix: options.repoPrefix,
      rss,
      log,
    };
    const has = (name: ScenarioName): boolean => options.scenarios.has(name);
    let pushed: PushedBlobs | undefined;
    if (has('push')) pushed = await runBlobPush(context, metrics);
    if (has('pull')) await runBlobPull(context, pushed, metrics);
    if (has('small')) await runSmallBlobs(context, metrics);
    if (has('manifest')) await runManifests(context, metrics);
    await runListings(context, metrics, options.scenarios);
    if (rss) {
      // VmHWM is updated lazily by the kernel, so a sampled VmRSS can exceed it: report the larger.
      const sampled = rss.overallPeakMiB();
      const hwm = rss.read().hwmMiB;
      metrics.push(
        measured(
          { id: 'rss.peak', label: 'registry peak RSS over the run', unit: 'MiB', better: 'lower' },
          Math.max(sampled, hwm),
          `sampled VmRSS peak ${sampled.toFixed(1)} MiB, VmHWM ${hwm.toFixed(1)} MiB`,
        ),
      );
    }
    return {
      label: target.label,
      url: target.url,
      pid: target.pid,
      auth: authMode,
      profile: options.profile.name,
      startedAt: startedAt.toISOString(),
      loadAverage: load,
      durationSeconds: (performance.now() - started) / 1000,
      metrics,
    };
  } finally {
    rss?.stop();
    auth.close();
    transport.close();
  }
}
