import type { Logger } from 'pino';
import { ThrottledWarning } from '../adapters/throttled-warning.js';
import type { DistributedLock, HeldLock } from '../ports/distributed-lock.js';

/**
 * Work that must run on one instance of the cluster at a time (upload purging today; GC, retention and
 * scan-all later), wherever instances come and go.
 *
 * Every instance campaigns: it tries to take the lease `singleton:<name>` every `retryMs`. The holder
 * starts the work and renews the lease while it lives; when it dies, the lease runs out after `ttlMs` and
 * the next attempt of a surviving instance takes it over (so a takeover takes at most ttlMs + retryMs).
 * A holder that cannot renew (Redis unreachable, the key lost) is told before its lease can have run out
 * anywhere (see lease.ts) and stops the work; it campaigns again afterwards. So two instances never run
 * it at once, provided the work stops within a fifth of the TTL of being asked, and provided the lease is
 * not lost inside Redis itself (docs/adr/0004-cluster-coordination.md).
 *
 * In embedded mode the lock is in-process and the only instance leads at once.
 */
export interface SingletonWork {
  /** Stops the work and waits for what is in flight. */
  stop(): Promise<void>;
}

export interface ClusterSingletonOptions {
  /** Names the lease and the log lines. */
  name: string;
  lock: DistributedLock;
  logger: Logger;
  /** Called on becoming the leader; returns the running work. */
  start: () => SingletonWork;
  /** Lease length: how long a dead leader's work waits for a successor. Default 15 s. */
  ttlMs?: number;
  /** Pause between two attempts to become the leader. Default 5 s. */
  retryMs?: number;
}

export class ClusterSingleton {
  readonly #options: ClusterSingletonOptions;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #warning: ThrottledWarning;
  #held: HeldLock | undefined;
  #work: SingletonWork | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The campaign or demotion in progress, which stop() waits for. */
  #busy: Promise<void> = Promise.resolve();
  #started = false;
  #stopped = false;

  constructor(options: ClusterSingletonOptions) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.#retryMs = options.retryMs ?? 5_000;
    this.#warning = new ThrottledWarning(options.logger);
  }

  /** Whether this instance runs the work now. */
  get leading(): boolean {
    return this.#work !== undefined;
  }

  /** Whether this instance takes part in the election: started and not stopped. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /** Begins campaigning (the first attempt is immediate). Idempotent. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#run(() => this.#campaign());
  }

  /** Stops the work if this instance leads, hands the lease back for a quick takeover, stops campaigning. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#busy;
    const work = this.#work;
    const held = this.#held;
    this.#work = undefined;
    this.#held = undefined;
    await work?.stop();
    await held?.release();
  }

  #run(step: () => Promise<void>): void {
    this.#busy = this.#busy.then(step).catch((error: unknown) => {
      this.#options.logger.error({ err: error }, `${this.#options.name}: leader election failed`);
      this.#arm();
    });
  }

  #arm(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(() => this.#campaign()), this.#retryMs);
    this.#timer.unref();
  }

  async #campaign(): Promise<void> {
    if (this.#stopped || this.#held !== undefined) return;
    const { name, lock, logger } = this.#options;
    let held: HeldLock | undefined;
    try {
      held = await lock.tryAcquire(`singleton:${name}`, { ttlMs: this.#ttlMs });
    } catch (error) {
      this.#warning.warn(error, `${name}: cannot reach the lock service to elect the instance that runs it`);
      this.#arm();
      return;
    }
    if (held === undefined) {
      this.#warning.recovered(`${name}: the lock service answers again`);
      this.#arm();
      return;
    }
    if (this.#stopped) {
      await held.release();
      return;
    }
    try {
      this.#work = this.#options.start();
    } catch (error) {
      logger.error({ err: error }, `${name}: could not start; another attempt in ${this.#retryMs} ms`);
      await held.release();
      this.#arm();
      return;
    }
    this.#held = held;
    logger.info({ singleton: name }, `${name}: this instance runs it for the cluster`);
    held.lost.addEventListener('abort', () => this.#run(() => this.#demote(held)), { once: true });
  }

  async #demote(lost: HeldLock): Promise<void> {
    if (this.#held !== lost) return;
    const { name, logger } = this.#options;
    logger.warn(
      { singleton: name, reason: String((lost.lost.reason as Error | undefined)?.message) },
      `${name}: lost the lease; stopping it here until this instance leads again`,
    );
    const work = this.#work;
    this.#work = undefined;
    this.#held = undefined;
    await work?.stop();
    this.#arm();
  }
}
