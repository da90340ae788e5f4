import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configFromDocument, loadConfig } from './config.loader.js';
import { allKeys } from './config.shape.js';
import { UNBUILT_FEATURE_KEYS, unbuiltFeatureWarnings } from './config.warnings.js';

const SEED = fileURLToPath(new URL('./fixtures/harbor-seed.yml', import.meta.url));

describe('unbuilt feature warnings', () => {
  it('name the seed’s unbuilt keys once, in one line', async () => {
    const { unbuiltKeys, warnings } = await loadConfig({ file: SEED, env: {} });
    expect(unbuiltKeys).toEqual([
      'https',
      'trivy',
      'jobservice',
      'notification',
      'proxy',
      'metric',
      'external_redis.registry_db_index',
      'external_redis.jobservice_db_index',
      'external_redis.chartmuseum_db_index',
      'log.local',
      'external_database.harbor.max_idle_conns',
    ]);
    expect(warnings).toEqual([
      'accepted but not implemented by Berth yet, so ignored: https, trivy, jobservice, notification, proxy, metric, external_redis.registry_db_index, external_redis.jobservice_db_index, external_redis.chartmuseum_db_index, log.local, external_database.harbor.max_idle_conns',
    ]);
  });

  it('count only keys the file or environment sets, never defaults', () => {
    expect(configFromDocument({}, { env: {} }).unbuiltKeys).toEqual([]);
    expect(
      configFromDocument({ hostname: 'reg.example.com', log: { level: 'debug' } }, { env: {} }).warnings,
    ).toEqual([]);
    expect(configFromDocument({}, { env: { BERTH_TRIVY__INSECURE: 'true' } }).unbuiltKeys).toEqual(['trivy']);
  });

  it('count nested keys and storage backends by their own path', () => {
    expect(
      unbuiltFeatureWarnings({
        log: { level: 'info', external_endpoint: { host: 'syslog', port: 514 } },
        storage_service: { s3: { bucket: 'b' } },
      }),
    ).toEqual(['log.external_endpoint', 'storage_service.s3']);
    expect(unbuiltFeatureWarnings({ storage_service: { filesystem: {} } })).toEqual([]);
    expect(unbuiltFeatureWarnings({ storage_service: { filesystem: { maxthreads: 10 } } })).toEqual([
      'storage_service.filesystem.maxthreads',
    ]);
  });

  it('skip a section that turns its feature off, and empty values', () => {
    expect(unbuiltFeatureWarnings({ trivy: { enabled: false }, metric: { enabled: false } })).toEqual([]);
    expect(unbuiltFeatureWarnings({ trivy: null, https: undefined })).toEqual([]);
    expect(unbuiltFeatureWarnings({ metric: { enabled: true } })).toEqual(['metric']);
  });

  it('list only keys the schema has, so a rename cannot silence a warning', () => {
    const paths = new Set(allKeys().map((key) => key.path.join('.')));
    expect(UNBUILT_FEATURE_KEYS.filter((path) => !paths.has(path))).toEqual([]);
  });
});
