import { redisTarget } from '../core/net/redis-address.js';
import type * as z from 'zod';
import {
  choice,
  credential,
  duration,
  flag,
  fraction,
  freeMapping,
  hostname,
  integer,
  list,
  nonEmptyText,
  port,
  section,
  size,
  text,
  versionMarker,
} from './config.fields.js';
import { isDuration, parseDurationMs } from './config.units.js';

/**
 * harbor.yml, key for key (make/harbor.yml.tmpl and make/photon/prepare/utils/configs.py), plus Berth's
 * own `berth:` section. Keys and meanings are Harbor's so an operator can bring their file; defaults are
 * Harbor's wherever Harbor has one. Sections that switch a mode on by being present (https,
 * external_database, external_redis, log.external_endpoint, a storage backend, trace, uaa) stay
 * optional: their absence is the information. docs/config.md documents every key; a test keeps it so.
 */

const dbIndex = () => integer({ min: 0 });

const http = section({
  // 0 asks the OS for a free port: Harbor never needs it, Berth's tests do.
  port: integer({ min: 0, max: 65535 }).default(80),
});

const https = section({
  port: port().default(443),
  certificate: nonEmptyText(),
  private_key: nonEmptyText(),
  strong_ssl_ciphers: flag().default(false),
});

const ipFamily = section({
  ipv4: section({ enabled: flag().default(true) }).prefault({}),
  ipv6: section({ enabled: flag().default(false) }).prefault({}),
});

const internalTls = section({
  enabled: flag().default(false),
  dir: nonEmptyText().default('/etc/harbor/tls/internal'),
});

const database = section({
  password: credential().default('root123'),
  max_idle_conns: integer().default(100),
  max_open_conns: integer().default(900),
  conn_max_lifetime: duration().default('5m'),
  conn_max_idle_time: duration().default(0),
});

const STORAGE_BACKENDS = ['filesystem', 'azure', 'gcs', 's3', 'swift', 'oss'] as const;
export type StorageDriver = (typeof STORAGE_BACKENDS)[number];

const storageService = section({
  ca_bundle: text().optional(),
  filesystem: section({
    maxthreads: integer({ min: 1 }).default(100),
    rootdirectory: nonEmptyText().optional(),
  }).optional(),
  // Handed to the driver as distribution's storage parameters; Berth has no such driver yet.
  azure: freeMapping().optional(),
  gcs: freeMapping().optional(),
  s3: freeMapping().optional(),
  swift: freeMapping().optional(),
  oss: freeMapping().optional(),
  redirect: section({ disable: flag().default(false) }).prefault({}),
}).superRefine((value, ctx) => {
  // Harbor silently takes the first backend it finds; two backends is a mistake worth refusing.
  const chosen = STORAGE_BACKENDS.filter((name) => value[name] !== undefined);
  if (chosen.length > 1) {
    ctx.addIssue({ code: 'custom', message: `choose one storage backend, found ${chosen.join(', ')}` });
  }
});

const uploadPurging = section({
  enabled: flag().default(true),
  age: duration().default('168h'),
  interval: duration().default('24h'),
  dryrun: flag().default(false),
}).superRefine((value, ctx) => {
  // An interval of 0 (or less) would purge in a busy loop and an age of 0 would remove uploads in
  // progress, so Berth refuses both while purging is on.
  if (!value.enabled) return;
  for (const key of ['age', 'interval'] as const) {
    // A malformed duration is refused by its own field already.
    if (isDuration(value[key]) && parseDurationMs(value[key]) <= 0) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be greater than 0 while enabled' });
    }
  }
});

const trivy = section({
  ignore_unfixed: flag().default(false),
  skip_update: flag().default(false),
  skip_java_db_update: flag().default(false),
  db_repository: nonEmptyText().optional(),
  java_db_repository: nonEmptyText().optional(),
  offline_scan: flag().default(false),
  security_check: text()
    .regex(/^(vuln|config|secret)(,(vuln|config|secret))*$/, 'expected a comma list of vuln, config, secret')
    .default('vuln'),
  insecure: flag().default(false),
  timeout: duration().default('5m0s'),
  github_token: credential().optional(),
});

const jobservice = section({
  max_job_workers: integer({ min: 1 }).default(10),
  max_job_duration_hours: integer({ min: 1 }).default(24),
  job_loggers: list(choice(['STD_OUTPUT', 'FILE', 'DB'])).default(['STD_OUTPUT', 'FILE']),
  logger_sweeper_duration: integer({ min: 0 }).default(1),
});

const notification = section({
  webhook_job_max_retry: integer({ min: 0 }).default(3),
  webhook_job_http_client_timeout: integer({ min: 1 }).default(3),
});

const log = section({
  level: choice(['debug', 'info', 'warning', 'error', 'fatal']).default('info'),
  local: section({
    rotate_count: integer({ min: 0 }).default(50),
    rotate_size: size().default('200M'),
    location: nonEmptyText().default('/var/log/harbor'),
  }).prefault({}),
  external_endpoint: section({
    protocol: choice(['tcp', 'udp']).default('tcp'),
    host: nonEmptyText(),
    port: port(),
  }).optional(),
});

const externalDatabase = section({
  harbor: section({
    host: nonEmptyText(),
    port: port().default(5432),
    db_name: credential({ nonEmpty: true }),
    username: credential({ nonEmpty: true }),
    password: credential(),
    ssl_mode: choice(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).default(
      'disable',
    ),
    // Harbor's external defaults (configs.py), not the bundled database's 100/900.
    max_idle_conns: integer().default(2),
    max_open_conns: integer().default(0),
    conn_max_lifetime: duration().default('5m'),
    conn_max_idle_time: duration().default(0),
  }),
});

// The bundled Redis's database numbers; core's db 0 is fixed in Harbor and so not a key.
const redis = section({
  registry_db_index: dbIndex().default(1),
  jobservice_db_index: dbIndex().default(2),
  chartmuseum_db_index: dbIndex().default(3),
  trivy_db_index: dbIndex().default(5),
  harbor_db_index: dbIndex().default(0),
  cache_layer_db_index: dbIndex().default(0),
});

const externalRedis = section({
  // `host:port`, or a comma list of sentinels `h1:26379,h2:26379` when sentinel_master_set is set.
  host: nonEmptyText(),
  // Berth's addition, used when `host` carries no port (Harbor's seed files have it).
  port: port().default(6379),
  password: credential().optional(),
  username: credential().optional(),
  sentinel_master_set: text().optional(),
  registry_db_index: dbIndex().default(1),
  jobservice_db_index: dbIndex().default(2),
  chartmuseum_db_index: dbIndex().default(3),
  trivy_db_index: dbIndex().default(5),
  harbor_db_index: dbIndex().default(0),
  cache_layer_db_index: dbIndex().default(0),
  idle_timeout_seconds: integer({ min: 0 }).default(30),
  tlsOptions: section({
    enable: flag().default(false),
    rootCA: text().optional(),
  }).prefault({}),
}).superRefine((value, ctx) => {
  // Refused here rather than at the first connection: `config check` and a starting instance say so.
  try {
    redisTarget(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    ctx.addIssue({ code: 'custom', path: ['host'], message: error.message });
  }
});

const trace = section({
  enabled: flag().default(false),
  sample_rate: fraction().default(1),
  namespace: text().optional(),
  attributes: freeMapping().optional(),
  jaeger: section({
    endpoint: text().optional(),
    username: credential().optional(),
    password: credential().optional(),
    agent_host: text().optional(),
    agent_port: port().optional(),
  }).optional(),
  otel: section({
    endpoint: text().optional(),
    url_path: text().optional(),
    compression: flag().optional(),
    insecure: flag().optional(),
    timeout: integer({ min: 0 }).optional(),
  }).optional(),
});

const berth = section({
  // Minutes a /service/token bearer token lives; Harbor's `token_expiration` system setting, default 30.
  token_expiration: integer({ min: 1 }).default(30),
  // Who may create projects; Harbor's `project_creation_restriction` system setting.
  project_creation_restriction: choice(['adminonly', 'everyone']).default('adminonly'),
  // Whether anyone may sign up; Harbor's `self_registration` system setting.
  self_registration: flag().default(false),
  // Minutes a portal session lives unused; Harbor's `session_timeout` system setting, default 60.
  session_timeout: integer({ min: 1 }).default(60),
  // Seconds between SIGTERM and closing the listener, while /api/v2.0/ping answers 503 so the balancer
  // takes the instance out; longer than the balancer's check interval x fall. In-flight requests then finish.
  drain_seconds: integer({ min: 0, max: 3600 }).default(5),
});

export const berthConfigSchema = section({
  hostname: hostname().default('127.0.0.1'),
  http: http.prefault({}),
  https: https.optional(),
  ip_family: ipFamily.prefault({}),
  internal_tls: internalTls.prefault({}),
  external_url: text()
    .regex(
      /^https?:\/\/[^\s/]+(\/\S*)?$/,
      'expected an http:// or https:// URL such as https://registry.example.com',
    )
    .optional(),
  // No default: without it, the first start generates a strong password (never Harbor's well-known Harbor12345).
  harbor_admin_password: credential({ nonEmpty: true }).optional(),
  database: database.prefault({}),
  data_volume: nonEmptyText().default('/data'),
  storage_service: storageService.prefault({}),
  trivy: trivy.prefault({}),
  jobservice: jobservice.prefault({}),
  notification: notification.prefault({}),
  log: log.prefault({}),
  _version: versionMarker().optional(),
  external_database: externalDatabase.optional(),
  redis: redis.prefault({}),
  external_redis: externalRedis.optional(),
  uaa: section({ ca_file: text().optional() }).optional(),
  proxy: section({
    http_proxy: text().optional(),
    https_proxy: text().optional(),
    no_proxy: text().optional(),
    components: list(choice(['core', 'jobservice', 'trivy', 'registry'])).default([
      'core',
      'jobservice',
      'trivy',
    ]),
  }).prefault({}),
  // Harbor 2.15's SSRF guard for outbound webhooks.
  network: section({ allow_private_network_access: flag().default(true) }).prefault({}),
  metric: section({
    enabled: flag().default(false),
    port: port().default(9090),
    path: text().regex(/^\//, 'must start with /').default('/metrics'),
  }).prefault({}),
  trace: trace.optional(),
  upload_purging: uploadPurging.prefault({}),
  cache: section({
    enabled: flag().default(false),
    expire_hours: integer({ min: 1 }).default(24),
  }).prefault({}),
  core: section({ quota_update_provider: choice(['db', 'redis']).default('db') }).prefault({}),
  berth: berth.prefault({}),
});

/** The fully-defaulted configuration; keys exactly as harbor.yml spells them. */
export type BerthConfig = z.output<typeof berthConfigSchema>;

/** What a file (plus environment) may say before defaults: every key optional. */
export type BerthConfigInput = z.input<typeof berthConfigSchema>;

export const STORAGE_DRIVERS: readonly StorageDriver[] = STORAGE_BACKENDS;
