import { isIP } from 'node:net';
import { STORAGE_DRIVERS, type BerthConfig, type StorageDriver } from './config.schema.js';

/**
 * Values Harbor derives from harbor.yml rather than reads from it, computed the way prepare computes
 * them (make/photon/prepare/utils/configs.py), so Berth and Harbor agree on them for the same file.
 */

/**
 * The URL clients use: token realm, Location headers, portal links. `external_url` when set (behind a
 * load balancer it must be the balancer's URL); otherwise https://hostname when https is configured,
 * else http://hostname, with the port only when it is not the scheme's default.
 */
export function externalUrl(config: BerthConfig): string {
  if (config.external_url !== undefined) return config.external_url.replace(/\/+$/, '');
  const host = isIP(config.hostname) === 6 ? `[${config.hostname}]` : config.hostname;
  if (config.https !== undefined) {
    return config.https.port === 443 ? `https://${host}` : `https://${host}:${config.https.port}`;
  }
  return config.http.port === 80 ? `http://${host}` : `http://${host}:${config.http.port}`;
}

/**
 * Embedded mode (SQLite, local directory, in-process queue) unless an external database is
 * configured; Harbor likewise switches from its bundled PostgreSQL on `external_database`.
 */
export function isEmbedded(config: BerthConfig): boolean {
  return config.external_database === undefined;
}

/** The storage backend in use: the one configured, else filesystem (Harbor's default). */
export function storageDriver(config: BerthConfig): StorageDriver {
  return STORAGE_DRIVERS.find((name) => config.storage_service[name] !== undefined) ?? 'filesystem';
}
