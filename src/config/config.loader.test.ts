import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { externalUrl, isEmbedded } from './config.derived.js';
import { ConfigError } from './config.error.js';
import { checkConfigFile, configFromDocument, loadConfig, parseConfigText } from './config.loader.js';

const SEED = fileURLToPath(new URL('./fixtures/harbor-seed.yml', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The issues a document is refused with, as `path: message` lines. */
function refusal(document: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    configFromDocument(document, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected the document to be refused');
}

describe('loadConfig with the seed harbor.yml', () => {
  it('loads every key with its meaning', async () => {
    const { config, source } = await loadConfig({ file: SEED, env: {} });
    expect(source).toBe(SEED);
    expect(config.hostname).toBe('registry.serdarcanb.com');
    expect(config.http.port).toBe(80);
    expect(config.https).toEqual({
      port: 443,
      certificate: '/data/cert/registry.serdarcanb.com.cert',
      private_key: '/data/cert/registry.serdarcanb.com.key',
      strong_ssl_ciphers: false,
    });
    expect(config.harbor_admin_password).toBe('Serdarcanb!23');
    expect(config.trivy.ignore_unfixed).toBe(true);
    expect(config.trivy.timeout).toBe('5m0s');
    expect(config.jobservice.job_loggers).toEqual(['STD_OUTPUT', 'FILE']);
    expect(config.jobservice.max_job_duration_hours).toBe(24);
    expect(config.log.local).toEqual({ rotate_count: 50, rotate_size: '200M', location: '/var/log/harbor' });
    expect(config._version).toBe('2.11.0');
    // `http_proxy:` with no value is YAML null, which Harbor reads as unset.
    expect(config.proxy).toEqual({ components: ['core', 'jobservice', 'trivy'] });
    expect(config.metric).toEqual({ enabled: true, port: 9090, path: '/metrics' });
    expect(config.upload_purging).toEqual({ enabled: true, age: '168h', interval: '24h', dryrun: false });
    expect(config.cache).toEqual({ enabled: true, expire_hours: 2 });
    expect(config.external_database?.harbor).toMatchObject({
      host: '192.168.10.121',
      port: 5432,
      db_name: 'harbor',
      username: 'devops',
      password: '1Serdarcan123',
      ssl_mode: 'disable',
      max_idle_conns: 10,
      max_open_conns: 100,
      conn_max_lifetime: '5m',
    });
    expect(config.external_redis).toMatchObject({
      host: '192.168.10.122',
      port: 6379,
      password: '1Serdarcan123',
      registry_db_index: 1,
      jobservice_db_index: 2,
      chartmuseum_db_index: 3,
      trivy_db_index: 5,
      idle_timeout_seconds: 30,
    });
    expect(isEmbedded(config)).toBe(false);
    expect(externalUrl(config)).toBe('https://registry.serdarcanb.com');
  });

  it('passes `berth config check`', async () => {
    const result = await checkConfigFile(SEED, {});
    expect(result.ok).toBe(true);
    expect(result.text).toContain(`${SEED}: OK`);
    expect(result.text).toContain('HA (external PostgreSQL)');
    expect(result.text).toContain('warning: accepted but not implemented by Berth yet');
  });
});

describe('defaults', () => {
  it('are Harbor’s when there is no file', async () => {
    const { config, source, warnings } = await loadConfig({ env: {} });
    expect(source).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(config.http.port).toBe(80);
    expect(config.https).toBeUndefined();
    expect(config.data_volume).toBe('/data');
    // Unset: the first start generates a strong password instead of Harbor's well-known default.
    expect(config.harbor_admin_password).toBeUndefined();
    expect(config.log).toEqual({
      level: 'info',
      local: { rotate_count: 50, rotate_size: '200M', location: '/var/log/harbor' },
    });
    expect(config.cache).toEqual({ enabled: false, expire_hours: 24 });
    expect(config.upload_purging).toEqual({ enabled: true, age: '168h', interval: '24h', dryrun: false });
    expect(config.metric).toEqual({ enabled: false, port: 9090, path: '/metrics' });
    expect(config.database).toEqual({
      password: 'root123',
      max_idle_conns: 100,
      max_open_conns: 900,
      conn_max_lifetime: '5m',
      conn_max_idle_time: 0,
    });
    expect(config.jobservice).toEqual({
      max_job_workers: 10,
      max_job_duration_hours: 24,
      job_loggers: ['STD_OUTPUT', 'FILE'],
      logger_sweeper_duration: 1,
    });
    expect(config.notification).toEqual({ webhook_job_max_retry: 3, webhook_job_http_client_timeout: 3 });
    expect(config.storage_service).toEqual({ redirect: { disable: false } });
    expect(config.core.quota_update_provider).toBe('db');
    expect(config.berth).toEqual({
      token_expiration: 30,
      project_creation_restriction: 'adminonly',
      self_registration: false,
      session_timeout: 60,
      drain_seconds: 5,
    });
    expect(config.external_database).toBeUndefined();
    expect(config.external_redis).toBeUndefined();
    expect(isEmbedded(config)).toBe(true);
  });

  it('fill the keys a section leaves out', () => {
    const { config } = configFromDocument(
      { https: { certificate: '/c', private_key: '/k' }, external_redis: { host: 'redis:6379' } },
      { env: {} },
    );
    expect(config.https?.port).toBe(443);
    expect(config.external_redis?.tlsOptions).toEqual({ enable: false });
    expect(config.external_redis?.trivy_db_index).toBe(5);
  });
});

describe('refusals', () => {
  it('name an unknown key by its path', () => {
    expect(refusal({ hostnmae: 'x' })).toEqual(['hostnmae: unknown key']);
    expect(refusal({ http: { port: 80, prot: 81 } })).toEqual(['http.prot: unknown key']);
    expect(
      refusal({
        external_database: { harbor: { host: 'db', db_name: 'h', username: 'u', password: 'p', hots: 'x' } },
      }),
    ).toEqual(['external_database.harbor.hots: unknown key']);
  });

  it('name an unknown key even when its value is empty', () => {
    expect(refusal({ notary: null })).toEqual(['notary: unknown key']);
  });

  it('name a wrong type by its path', () => {
    expect(refusal({ http: { port: '80' } })).toEqual(['http.port: expected integer, got string']);
    expect(refusal({ cache: { enabled: 'yes please' } })).toEqual([
      'cache.enabled: expected boolean (true or false), got string',
    ]);
    expect(refusal({ http: 80 })).toEqual(['http: expected mapping, got number']);
    expect(refusal({ jobservice: { job_loggers: 'FILE' } })).toEqual([
      'jobservice.job_loggers: expected list, got string',
    ]);
  });

  it('name bad values by their path', () => {
    expect(refusal({ log: { level: 'verbose' } })).toEqual([
      'log.level: expected one of debug, info, warning, error, fatal, got "verbose"',
    ]);
    expect(refusal({ upload_purging: { age: '7d' } })).toEqual([
      'upload_purging.age: expected a Go duration such as 30m, 5m0s or 168h, got "7d"',
    ]);
    expect(refusal({ upload_purging: { age: '0', interval: '-1h' } })).toEqual([
      'upload_purging.age: must be greater than 0 while enabled',
      'upload_purging.interval: must be greater than 0 while enabled',
    ]);
    expect(refusal({ upload_purging: { interval: '0s', age: '7d' } })).toEqual([
      'upload_purging.age: expected a Go duration such as 30m, 5m0s or 168h, got "7d"',
    ]);
    expect(
      configFromDocument({ upload_purging: { enabled: false, interval: 0 } }, { env: {} }).config
        .upload_purging.interval,
    ).toBe(0);
    expect(refusal({ jobservice: { job_loggers: ['FILE', 'SYSLOG'] } })).toEqual([
      'jobservice.job_loggers[1]: expected one of STD_OUTPUT, FILE, DB, got "SYSLOG"',
    ]);
    expect(refusal({ http: { port: 70000 } })).toEqual(['http.port: must be <= 65535']);
    expect(refusal({ https: { port: 443 } })).toEqual([
      'https.certificate: required',
      'https.private_key: required',
    ]);
    expect(refusal({ hostname: 'https://reg.example.com' })[0]).toMatch(/^hostname: expected a host name/);
    expect(refusal({ storage_service: { filesystem: {}, s3: { bucket: 'b' } } })).toEqual([
      'storage_service: choose one storage backend, found filesystem, s3',
    ]);
    expect(refusal({ external_redis: { host: 'redis:6379:1' } })).toEqual([
      'external_redis.host: "redis:6379:1" is not a host or host:port',
    ]);
    expect(refusal({ external_redis: { host: 'redis:99999' } })).toEqual([
      'external_redis.host: "redis:99999": the port must be 1 to 65535',
    ]);
    expect(refusal({ external_redis: { host: 's1:26379,s2:26379' } })).toEqual([
      'external_redis.host: lists several hosts: set sentinel_master_set for Sentinel',
    ]);
    const sentinels = { host: 's1:26379,s2:26379', sentinel_master_set: 'mymaster' };
    expect(configFromDocument({ external_redis: sentinels }, { env: {} }).config.external_redis?.host).toBe(
      sentinels.host,
    );
  });

  it('report every problem at once in a readable message', async () => {
    const file = await writeConfig('many.yml', 'http:\n  port: eighty\nfoo: 1\nlog:\n  level: loud\n');
    const error = await loadConfig({ file, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      [
        `invalid configuration in ${file}:`,
        '  http.port: expected integer, got string',
        '  log.level: expected one of debug, info, warning, error, fatal, got "loud"',
        '  foo: unknown key',
      ].join('\n'),
    );
  });

  it('refuse a missing file, broken YAML, duplicate keys and a non-mapping', async () => {
    await expect(loadConfig({ file: join(dir, 'absent.yml'), env: {} })).rejects.toThrow(
      /cannot read the file \(ENOENT\)/,
    );
    expect(() => parseConfigText('http: [', 'x.yml')).toThrow(ConfigError);
    expect(() => parseConfigText('hostname: a\nhostname: b\n', 'x.yml')).toThrow(/Map keys must be unique/);
    expect(() => parseConfigText('- a\n- b\n', 'x.yml')).toThrow(
      /must be a mapping of harbor.yml keys, got list/,
    );
    const result = await checkConfigFile(await writeConfig('bad.yml', 'http:\n  port: x\n'), {});
    expect(result).toEqual({
      ok: false,
      text: expect.stringContaining('http.port: expected integer, got string') as unknown,
    });
  });
});

describe('YAML reading', () => {
  it('reads YAML 1.1 as Harbor’s PyYAML does', () => {
    const document = parseConfigText(
      'https:\n  certificate: /c\n  private_key: /k\n  strong_ssl_ciphers: yes\n',
      undefined,
    );
    expect(configFromDocument(document, { env: {} }).config.https?.strong_ssl_ciphers).toBe(true);
  });

  it('reads an empty file as all defaults', async () => {
    const file = await writeConfig('empty.yml', '# nothing yet\n');
    const { config } = await loadConfig({ file, env: {} });
    expect(config.http.port).toBe(80);
  });

  it('keeps the seed fixture and deploy/harbor.example.yml the same document', async () => {
    const example = fileURLToPath(new URL('../../deploy/harbor.example.yml', import.meta.url));
    const [seedText, exampleText] = await Promise.all([readFile(SEED, 'utf8'), readFile(example, 'utf8')]);
    expect(parseConfigText(exampleText, example)).toEqual(parseConfigText(seedText, SEED));
  });
});

describe('credentials', () => {
  it('take a password YAML reads as a number as its text, as Harbor does', () => {
    const document = parseConfigText(
      'harbor_admin_password: 12345678\nexternal_database:\n  harbor:\n    host: db\n    db_name: 2024\n    username: u\n    password: 1234\n',
      undefined,
    );
    const { config } = configFromDocument(document, { env: {} });
    expect(config.harbor_admin_password).toBe('12345678');
    expect(config.external_database?.harbor.password).toBe('1234');
    expect(config.external_database?.harbor.db_name).toBe('2024');
  });

  it('still refuse an empty admin password or a wrong type', () => {
    expect(refusal({ harbor_admin_password: '' })).toEqual(['harbor_admin_password: must not be empty']);
    expect(refusal({ harbor_admin_password: true })).toEqual([
      'harbor_admin_password: expected string, got boolean',
    ]);
  });
});
