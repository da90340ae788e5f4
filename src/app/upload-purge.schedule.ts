import type { Logger } from 'pino';
import type { BerthConfig } from '../config/config.schema.js';
import { parseDurationMs } from '../config/config.units.js';
import { UploadPurgeService, type UploadPurgeResult } from '../core/registry/upload-purge.service.js';
import type { BlobStore, TemporarySweeper } from '../ports/blob-store.js';

/**
 * Runs upload purging (harbor.yml `upload_purging`) inside `berth serve`.
 *
 * Timing: the first purge runs shortly after start (STARTUP_DELAY_MS, or one interval if that is
 * shorter), not one interval after it: restarts (deploys, crashes) more frequent than the interval would
 * otherwise postpone purging indefinitely. After that, each purge is armed `interval` after the previous
 * one ended, which is distribution's loop (purge, sleep interval). Chained timers rather than setInterval:
 * runs cannot overlap by construction (a manual runNow joins the one in flight), and an interval beyond
 * setTimeout's limit (~24.8 days) still works, where Node would fire such a setInterval after 1 ms. The
 * timers are unref'd, so they never keep the process alive; stop() (called by berth.close()) ends them.
 *
 * HA: the composition root runs the schedule inside a ClusterSingleton (cluster-singleton.ts), so one
 * instance of the cluster purges and another takes over when it dies. Purging stays safe if two ever ran
 * at once (a lease lost inside Redis): cancelling is idempotent, a session another instance purged first
 * is skipped as a race, and the sweep is safe on every instance at once. stop() ends a purge between two
 * sessions, well within the lease's safety margin.
 */
export const STARTUP_DELAY_MS = 60_000;

/** Node's largest timer delay; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface UploadPurgeScheduleOptions {
  config: BerthConfig['upload_purging'];
  blobs: Pick<BlobStore, 'listUploads' | 'cancelUpload'>;
  /** The store's crash-leftover cleanup, swept with the same age as sessions. */
  sweeper?: TemporarySweeper | undefined;
  logger: Logger;
  /** Clock for the age cutoff; the system clock by default. */
  now?: () => Date;
  /** Delay before the first purge; default min(interval, STARTUP_DELAY_MS). */
  firstDelayMs?: number;
}

export interface UploadPurgeSchedule {
  /** Purges now, or joins the purge in flight. undefined once stopped, or when the purge failed (logged). */
  runNow(): Promise<UploadPurgeResult | undefined>;
  /** Stops the timer, asks a running purge to end after its current session, and waits for it. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the schedule, or returns undefined (and starts nothing) when upload purging is disabled. */
export function startUploadPurgeSchedule(
  options: UploadPurgeScheduleOptions,
): UploadPurgeSchedule | undefined {
  const { config, logger } = options;
  if (!config.enabled) {
    logger.info('upload purging is disabled (upload_purging.enabled: false)');
    return undefined;
  }
  const intervalMs = parseDurationMs(config.interval);
  const ageMs = parseDurationMs(config.age);
  // The schema refuses these when enabled; a direct caller gets the same answer.
  if (!(intervalMs > 0 && ageMs > 0)) {
    throw new RangeError('upload_purging.age and upload_purging.interval must be greater than 0');
  }
  const firstDelayMs = options.firstDelayMs ?? Math.min(intervalMs, STARTUP_DELAY_MS);
  const schedule = new Schedule({
    ...options,
    service: new UploadPurgeService({ blobs: options.blobs, sweeper: options.sweeper }),
    intervalMs,
    ageMs,
  });
  logger.info(
    { interval: config.interval, age: config.age, dryRun: config.dryrun, firstRunInMs: firstDelayMs },
    `upload purging: every ${String(config.interval)}, sessions older than ${String(config.age)}${config.dryrun ? ' (dry run)' : ''}`,
  );
  schedule.arm(firstDelayMs);
  return schedule;
}

class Schedule implements UploadPurgeSchedule {
  readonly #service: UploadPurgeService;
  readonly #logger: Logger;
  readonly #now: () => Date;
  readonly #intervalMs: number;
  readonly #ageMs: number;
  readonly #dryRun: boolean;
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<UploadPurgeResult | undefined> | undefined;

  constructor(
    options: UploadPurgeScheduleOptions & { service: UploadPurgeService; intervalMs: number; ageMs: number },
  ) {
    this.#service = options.service;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#intervalMs = options.intervalMs;
    this.#ageMs = options.ageMs;
    this.#dryRun = options.config.dryrun;
  }

  arm(delayMs: number): void {
    if (this.#stopping.signal.aborted) return;
    const step = Math.min(Math.max(delayMs, 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (delayMs > step) {
        this.arm(delayMs - step);
        return;
      }
      // runNow never rejects: failures are logged there, and the schedule goes on.
      void this.runNow().then(() => this.arm(this.#intervalMs));
    }, step);
    this.#timer.unref();
  }

  runNow(): Promise<UploadPurgeResult | undefined> {
    if (this.#stopping.signal.aborted) return Promise.resolve(undefined);
    this.#running ??= this.#purge().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #purge(): Promise<UploadPurgeResult | undefined> {
    const logger = this.#logger;
    const dryRun = this.#dryRun;
    const olderThan = new Date(this.#now().getTime() - this.#ageMs);
    const started = performance.now();
    try {
      const result = await this.#service.purgeUploads({
        olderThan,
        dryRun,
        signal: this.#stopping.signal,
        onSession: (session) => {
          const fields = {
            id: session.id,
            repository: session.repository,
            startedAt: session.startedAt,
            sizeBytes: session.sizeBytes,
          };
          // A dry run exists to show what would go, so each session is worth an info line there.
          if (dryRun) logger.info(fields, 'upload purge (dry run): would remove session');
          else logger.debug(fields, 'upload purge: removed session');
        },
        onError: (error, session) => {
          logger.warn(
            { err: error, id: session?.id },
            session === undefined
              ? 'upload purge: sweeping leftovers failed'
              : 'upload purge: could not remove session',
          );
        },
      });
      const fields = {
        ...result,
        dryRun,
        olderThan: olderThan.toISOString(),
        durationMs: Math.round(performance.now() - started),
        ...(this.#stopping.signal.aborted ? { stoppedEarly: true } : {}),
      };
      logger.info(
        fields,
        dryRun
          ? `upload purge (dry run): would remove ${result.purged} sessions, ${result.bytes} bytes`
          : `upload purge: ${result.purged} sessions, ${result.bytes} bytes`,
      );
      return result;
    } catch (error) {
      logger.error({ err: error }, 'upload purge failed; trying again at the next interval');
      return undefined;
    }
  }
}
