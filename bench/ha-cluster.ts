/**
 * `npx tsx bench/ha-cluster.ts`: starts the HA topology of the HA test (tests/ha/ha-cluster.ts: HAProxy in
 * front of two `berth serve` processes sharing one data directory, a private PostgreSQL and Redis),
 * prints where it listens, and keeps it up until Ctrl-C, so `npm run bench` can measure it:
 *
 *   npm run bench -- --url <haproxy url> --user admin --password <password> --label ha-2 \
 *     --compare <instance url> --compare-user admin --compare-password <password> --compare-label ha-1
 *
 * Needs `npm run build` first, and Debian's haproxy, postgresql and redis-server.
 */
import { startHaCluster } from '../tests/ha/ha-cluster.js';

const cluster = await startHaCluster({ instances: 2 });
const lines = [
  `haproxy     ${cluster.url}`,
  ...cluster.instances.map(
    (instance) => `${instance.name.padEnd(11)} ${instance.url} (pid ${instance.server.pid})`,
  ),
  `admin password ${cluster.adminPassword}`,
  `postgres    127.0.0.1:${cluster.postgres.port}   redis 127.0.0.1:${cluster.redis.port}`,
  'Ctrl-C stops everything and deletes the data.',
];
process.stdout.write(`${lines.join('\n')}\n`);
const stop = (): void => {
  void cluster.destroy().finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
