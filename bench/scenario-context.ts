/** What every scenario receives: the registry, the sizes, and where to put its repositories. */
import type { BenchProfile } from './bench-profile.js';
import type { RegistryClient } from './registry-client.js';
import type { RssSampler } from './rss-sampler.js';

export interface ScenarioContext {
  readonly client: RegistryClient;
  readonly profile: BenchProfile;
  /** Random per run: seeds fresh blob content, so no run measures a registry's dedup of the last one. */
  readonly runId: string;
  /** `<project>/<name>` prefix, e.g. `library/bench`; repositories are `<prefix>-<purpose>`. */
  readonly repoPrefix: string;
  readonly rss: RssSampler | undefined;
  readonly log: (message: string) => void;
}

export function repositoryFor(context: ScenarioContext, purpose: string): string {
  return `${context.repoPrefix}-${purpose}`;
}
