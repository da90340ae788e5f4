import type { Logger } from 'pino';

/**
 * A warning that repeats while a dependency is down (every reconnect attempt fails), logged at most once
 * per `everyMs` with the count of the ones held back, so an outage costs a few log lines, not thousands.
 * `recovered()` ends the episode: it logs at info if anything was warned about, and the next failure is
 * logged at once again.
 */
export class ThrottledWarning {
  readonly #logger: Logger;
  readonly #everyMs: number;
  readonly #now: () => number;
  #lastLoggedAt: number | undefined;
  #suppressed = 0;

  constructor(logger: Logger, options: { everyMs?: number; now?: () => number } = {}) {
    this.#logger = logger;
    this.#everyMs = options.everyMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  warn(error: unknown, message: string): void {
    const now = this.#now();
    if (this.#lastLoggedAt !== undefined && now - this.#lastLoggedAt < this.#everyMs) {
      this.#suppressed += 1;
      return;
    }
    const fields = this.#suppressed > 0 ? { err: error, suppressed: this.#suppressed } : { err: error };
    this.#logger.warn(fields, message);
    this.#lastLoggedAt = now;
    this.#suppressed = 0;
  }

  recovered(message: string): void {
    if (this.#lastLoggedAt === undefined) return;
    this.#logger.info({ suppressed: this.#suppressed }, message);
    this.#lastLoggedAt = undefined;
    this.#suppressed = 0;
  }
}
