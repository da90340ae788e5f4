import { isMapping } from './config.shape.js';

/**
 * harbor.yml keys Berth accepts but does not act on yet. They load, so an operator's Harbor file works
 * unchanged, and they are named once at startup, so nobody believes a setting is in force when it is
 * not. Remove a key from this list in the change that implements it.
 */
export const UNBUILT_FEATURE_KEYS = [
  'https', // TLS termination: end TLS at HAProxy (or a proxy) for now
  'trivy',
  'jobservice',
  'notification',
  'proxy',
  'metric',
  // external_redis itself is built (locks, cache invalidation, leases in harbor_db_index); these are not:
  'external_redis.registry_db_index', // Berth keeps everything in harbor_db_index
  'external_redis.jobservice_db_index', // the job queue
  'external_redis.chartmuseum_db_index',
  'external_redis.trivy_db_index',
  'external_redis.cache_layer_db_index', // the cache is in-process, invalidated through harbor_db_index's channel
  'external_redis.idle_timeout_seconds', // Berth holds two long-lived connections, never idle (heartbeats)
  'log.external_endpoint',
  'storage_service.azure',
  'storage_service.gcs',
  'storage_service.s3',
  'storage_service.swift',
  'storage_service.oss',
  'internal_tls',
  'uaa',
  'trace',
  // Harbor settings for components Berth has no counterpart of, or behaviour it does not have yet.
  'database', // the bundled PostgreSQL; embedded Berth uses SQLite, HA uses external_database
  'redis', // the bundled Redis's db numbers
  'ip_family',
  'core', // quota_update_provider
  'network', // outbound webhook SSRF guard
  'log.local', // file logs with rotation; Berth logs to stdout
  'storage_service.ca_bundle',
  'storage_service.redirect',
  'storage_service.filesystem.maxthreads',
  'storage_service.filesystem.rootdirectory', // blobs live under data_volume until the blob store takes a root
  'external_database.harbor.max_idle_conns', // pg's pool closes idle connections by age, not by count
] as const;

export type UnbuiltFeatureKey = (typeof UNBUILT_FEATURE_KEYS)[number];

function valueAt(document: Record<string, unknown>, path: string): unknown {
  let node: unknown = document;
  for (const segment of path.split('.')) {
    if (!isMapping(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/**
 * The keys of UNBUILT_FEATURE_KEYS that `document` sets, in list order. `document` is what the file and
 * environment said before defaults (LoadedConfig carries the result): a default never counts, since
 * the operator asked for nothing. A section with `enabled: false` turns its feature off, so it does not
 * count either.
 */
export function unbuiltFeatureWarnings(document: Readonly<Record<string, unknown>>): UnbuiltFeatureKey[] {
  return UNBUILT_FEATURE_KEYS.filter((path) => {
    const value = valueAt(document, path);
    if (value === undefined || value === null) return false;
    return !(isMapping(value) && value['enabled'] === false);
  });
}

/** The one startup line naming every unbuilt key that is set. */
export function unbuiltFeatureMessage(keys: readonly string[]): string {
  return `accepted but not implemented by Berth yet, so ignored: ${keys.join(', ')}`;
}
