import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { envName } from './config.env.js';
import { ConfigError } from './config.error.js';
import { configFromDocument, loadConfig } from './config.loader.js';

const SEED = fileURLToPath(new URL('./fixtures/harbor-seed.yml', import.meta.url));

function refusal(env: NodeJS.ProcessEnv, document: Record<string, unknown> = {}): string[] {
  try {
    configFromDocument(document, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected the environment to be refused');
}

describe('environment overrides', () => {
  it('win over the file, which wins over defaults', async () => {
    const { config } = await loadConfig({
      file: SEED,
      env: {
        BERTH_HTTP__PORT: '5001',
        BERTH_EXTERNAL_DATABASE__HARBOR__HOST: 'pg.internal',
        BERTH_HARBOR_ADMIN_PASSWORD: 'from-env',
        BERTH_DATA_VOLUME: '/srv/berth',
      },
    });
    expect(config.http.port).toBe(5001);
    expect(config.external_database?.harbor.host).toBe('pg.internal');
    expect(config.external_database?.harbor.db_name).toBe('harbor');
    expect(config.harbor_admin_password).toBe('from-env');
    expect(config.data_volume).toBe('/srv/berth');
    expect(config.hostname).toBe('registry.serdarcanb.com');
  });

  it('coerce text to the key’s type', () => {
    const { config } = configFromDocument(
      {},
      {
        env: {
          BERTH_CACHE__ENABLED: 'true',
          BERTH_CACHE__EXPIRE_HOURS: '2',
          BERTH_UPLOAD_PURGING__DRYRUN: 'yes',
          BERTH_METRIC__ENABLED: '0',
          BERTH_JOBSERVICE__JOB_LOGGERS: 'STD_OUTPUT, DB',
          BERTH_PROXY__COMPONENTS: 'core,registry',
          BERTH_UPLOAD_PURGING__AGE: '72h',
          BERTH_LOG__LOCAL__ROTATE_SIZE: '100',
        },
      },
    );
    expect(config.cache).toEqual({ enabled: true, expire_hours: 2 });
    expect(config.upload_purging.dryrun).toBe(true);
    expect(config.metric.enabled).toBe(false);
    expect(config.jobservice.job_loggers).toEqual(['STD_OUTPUT', 'DB']);
    expect(config.proxy.components).toEqual(['core', 'registry']);
    expect(config.upload_purging.age).toBe('72h');
    expect(config.log.local.rotate_size).toBe('100');
  });

  it('reach camelCase keys, _version and storage driver parameters', () => {
    const { config } = configFromDocument(
      {},
      {
        env: {
          BERTH_EXTERNAL_REDIS__HOST: 'redis:6379',
          BERTH_EXTERNAL_REDIS__TLSOPTIONS__ENABLE: 'true',
          BERTH_EXTERNAL_REDIS__TLSOPTIONS__ROOTCA: '/etc/ca.pem',
          BERTH__VERSION: '2.11.0',
          BERTH_STORAGE_SERVICE__S3__BUCKET: 'images',
          BERTH_STORAGE_SERVICE__S3__SECURE: 'true',
          BERTH_STORAGE_SERVICE__S3__CHUNKSIZE: '5242880',
        },
      },
    );
    expect(config.external_redis?.tlsOptions).toEqual({ enable: true, rootCA: '/etc/ca.pem' });
    expect(config._version).toBe('2.11.0');
    expect(config.storage_service.s3).toEqual({ bucket: 'images', secure: true, chunksize: 5242880 });
  });

  it('ignore other variables and the config file’s own BERTH_CONFIG', () => {
    const { config } = configFromDocument(
      {},
      { env: { PATH: '/bin', BERTH_CONFIG: '/etc/berth.yml', HTTP_PORT: 'x' } },
    );
    expect(config.http.port).toBe(80);
  });

  it('refuse a variable that names no key, by its name', () => {
    expect(refusal({ BERTH_HTTP__PROT: '5001' })).toEqual([
      'BERTH_HTTP__PROT: unknown configuration key (BERTH_<KEY> with __ between levels)',
    ]);
    expect(refusal({ BERTH_HTTP_PORT: '5001' })[0]).toMatch(/^BERTH_HTTP_PORT: unknown configuration key/);
    expect(refusal({ BERTH_HTTP__PORT__X: '1' })[0]).toMatch(
      /^BERTH_HTTP__PORT__X: unknown configuration key/,
    );
    expect(refusal({ BERTH_HTTP: '5001' })).toEqual([
      'BERTH_HTTP: names a section, not a key; set its keys instead',
    ]);
  });

  it('refuse text that is not the key’s type, by the variable’s name', () => {
    expect(refusal({ BERTH_HTTP__PORT: 'eighty' })).toEqual([
      'BERTH_HTTP__PORT: expected integer, got "eighty"',
    ]);
    expect(refusal({ BERTH_CACHE__ENABLED: 'maybe' })).toEqual([
      'BERTH_CACHE__ENABLED: expected boolean (true or false), got "maybe"',
    ]);
  });

  it('name the variable when the schema refuses its value', () => {
    expect(refusal({ BERTH_HTTP__PORT: '70000' })).toEqual([
      'http.port: must be <= 65535 (from BERTH_HTTP__PORT)',
    ]);
    expect(refusal({ BERTH_JOBSERVICE__JOB_LOGGERS: 'FILE,SYSLOG' })).toEqual([
      'jobservice.job_loggers[1]: expected one of STD_OUTPUT, FILE, DB, got "SYSLOG" (from BERTH_JOBSERVICE__JOB_LOGGERS)',
    ]);
  });

  it('derive names from key paths', () => {
    expect(envName(['external_database', 'harbor', 'host'])).toBe('BERTH_EXTERNAL_DATABASE__HARBOR__HOST');
    expect(envName(['_version'])).toBe('BERTH__VERSION');
  });
});
