/**
 * Berth's performance targets, as ratios over the reference registry (docker-registry 2.8) on the same
 * machine. A ratio is "how many times better": throughput A/B, latency and memory B/A.
 */
import type { Metric } from './metric.js';

export const TARGET_RATIOS: Readonly<Record<string, number>> = {
  'push.monolithic.single': 2,
  'push.monolithic.parallel': 2,
  'push.chunked': 2,
  'pull.single': 1.5,
  'pull.parallel': 1.5,
  'push.small': 5,
  'manifest.get': 10,
  'catalog.p50': 10,
};

export function ratio(metric: Metric, baseline: Metric | undefined): number | null {
  if (metric.value === null || baseline?.value == null || metric.value <= 0 || baseline.value <= 0)
    return null;
  return metric.better === 'higher' ? metric.value / baseline.value : baseline.value / metric.value;
}

export interface TargetVerdict {
  readonly target: number;
  readonly met: boolean | null;
}

export function verdict(id: string, achieved: number | null): TargetVerdict | undefined {
  const target = TARGET_RATIOS[id];
  if (target === undefined) return undefined;
  return { target, met: achieved === null ? null : achieved >= target };
}
