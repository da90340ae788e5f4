import type { Logger } from 'pino';
import { VolumeHealthCheck } from '../adapters/blob/volume-health.js';
import { ThrottledWarning } from '../adapters/throttled-warning.js';
import { DomainError } from '../core/errors.js';
import { HealthService, type ComponentCheck } from '../core/health/health.service.js';
import type { ClusterSingleton } from './cluster-singleton.js';
import type { Coordination } from './coordination.js';

/**
 * The components of `/api/v2.0/health`, in Harbor's names: database (a `select 1`), redis (when
 * configured: PING, and whether cache invalidations arrive), storage (write, read and remove a file on the
 * data volume) and jobservice. Berth has no separate job service: scheduled work runs inside each
 * instance (upload purging, elected once per cluster), so `jobservice` reports whether this instance's
 * scheduler takes part. Failures are logged at warn, at most every 30 s per component.
 */
export function buildHealth(options: {
  database: { ping(): Promise<void> };
  coordination: Coordination;
  dataVolume: string;
  scheduled: readonly ClusterSingleton[];
  logger: Logger;
}): HealthService {
  const { coordination, logger } = options;
  const checks: ComponentCheck[] = [
    { name: 'database', check: () => options.database.ping() },
    ...(coordination.redisCheck ? [coordination.redisCheck] : []),
    new VolumeHealthCheck(options.dataVolume),
    {
      name: 'jobservice',
      check: () =>
        options.scheduled.every((singleton) => singleton.running)
          ? Promise.resolve()
          : Promise.reject(new DomainError('unavailable', 'the scheduler of this instance has stopped')),
    },
  ];
  const warnings = new Map<string, ThrottledWarning>();
  return new HealthService({
    checks,
    onFailure: (name, error) => {
      let warning = warnings.get(name);
      if (warning === undefined) {
        warning = new ThrottledWarning(logger.child({ component: name }));
        warnings.set(name, warning);
      }
      warning.warn(error, `health: ${name} is unhealthy`);
    },
  });
}
