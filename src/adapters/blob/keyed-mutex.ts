/**
 * Runs tasks one at a time per key, in call order, inside this process. Tasks for different keys run
 * concurrently. The entry for a key is dropped when its queue drains, so idle keys cost nothing.
 *
 * `run` registers the task synchronously, so two calls made in the same tick run in that order.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    // `current` never rejects, so neither does any tail: a failed task never blocks the next one.
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
