/**
 * Runs up to `count` tasks with `concurrency` in flight, and stops starting new ones at `maxMs`: every
 * loop in the benchmark is bounded in count and in time. The first failure stops the pool too, since a
 * rate computed over failing requests would measure the error path.
 */
export interface PoolOptions {
  readonly count: number;
  readonly concurrency: number;
  readonly maxMs: number;
  readonly task: (index: number) => Promise<void>;
}

export interface PoolOutcome {
  readonly done: number;
  readonly elapsedMs: number;
  /** True when the time bound, not the count, ended the run. */
  readonly timedOut: boolean;
  readonly error: Error | undefined;
}

export async function runPool(options: PoolOptions): Promise<PoolOutcome> {
  const started = performance.now();
  const deadline = started + options.maxMs;
  let next = 0;
  let done = 0;
  let timedOut = false;
  let error: Error | undefined;

  const worker = async (): Promise<void> => {
    while (error === undefined && next < options.count) {
      if (performance.now() >= deadline) {
        timedOut = true;
        return;
      }
      const index = next++;
      try {
        await options.task(index);
        done++;
      } catch (cause) {
        error ??= cause instanceof Error ? cause : new Error(String(cause));
      }
    }
  };

  const workers = Math.max(1, Math.min(options.concurrency, options.count));
  await Promise.all(Array.from({ length: workers }, worker));
  return { done, elapsedMs: performance.now() - started, timedOut, error };
}
