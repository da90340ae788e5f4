import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/**
 * `berth serve`'s answer to SIGTERM (and SIGINT), for an instance behind a load balancer:
 *
 * 1. drain: /api/v2.0/ping answers 503 and /health reports core unhealthy, while every request is still
 *    served, for `drainMs` (harbor.yml `berth.drain_seconds`), so the balancer's health check takes the
 *    instance out before it stops accepting connections;
 * 2. close: the listener closes, kept-alive idle connections are closed, requests in flight (a long upload)
 *    run to their end, requests arriving on busy kept-alive connections get 503; scheduled work stops and
 *    hands its lease to another instance; the database and Redis connections close;
 * 3. exit 0 (1 if closing failed).
 *
 * A second signal during any of it exits at once with status 1.
 */
export interface ShutdownTarget {
  health: { drain(): void };
  close(): Promise<void>;
}

export interface GracefulShutdownOptions {
  berth: ShutdownTarget;
  drainMs: number;
  logger: Logger;
  exit: (code: number) => void;
}

/** Returns the signal handler: call it with the signal's name. */
export function gracefulShutdown(options: GracefulShutdownOptions): (signal: string) => void {
  const { berth, drainMs, logger, exit } = options;
  let stopping = false;
  return (signal) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now, without waiting for requests in flight');
      exit(1);
      return;
    }
    stopping = true;
    berth.health.drain();
    logger.info({ signal, drainMs }, `draining: /api/v2.0/ping answers 503 for ${drainMs} ms before closing`);
    void (async () => {
      try {
        await sleep(drainMs);
        logger.info('closing: no new connections; finishing requests in flight');
        await berth.close();
        logger.info('stopped');
        exit(0);
      } catch (error) {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      }
    })();
  };
}
