import { describe, expect, it } from 'vitest';
import { digestOf } from '../oci/digest.js';
import type { PullCount } from '../../ports/artifact-store.js';
import { PullRecorder } from './pull.recorder.js';

/** A store that keeps the batches it is given, and fails while `failing` is set. */
function recordingStore() {
  const batches: PullCount[][] = [];
  const store = {
    failing: false,
    batches,
    recordPulls(pulls: readonly PullCount[]): Promise<void> {
      if (store.failing) return Promise.reject(new Error('database down'));
      batches.push(pulls.map((pull) => ({ ...pull })));
      return Promise.resolve();
    },
  };
  return store;
}

describe('PullRecorder', () => {
  const image = digestOf('image');
  const other = digestOf('other');

  it('adds up pulls in memory and writes one entry per manifest and tag per batch', async () => {
    const store = recordingStore();
    let clock = Date.parse('2030-01-01T00:00:00.000Z');
    const recorder = new PullRecorder({ store, intervalMs: 0, now: () => clock });
    recorder.record(1, image, 'v1');
    clock += 1_000;
    recorder.record(1, image, 'v1');
    recorder.record(1, image);
    recorder.record(2, other);
    expect(store.batches).toEqual([]);
    await recorder.flush();
    expect(store.batches).toEqual([
      [
        { repositoryId: 1, digest: image, tag: 'v1', count: 2, at: '2030-01-01T00:00:01.000Z' },
        { repositoryId: 1, digest: image, count: 1, at: '2030-01-01T00:00:01.000Z' },
        { repositoryId: 2, digest: other, count: 1, at: '2030-01-01T00:00:01.000Z' },
      ],
    ]);
    // Nothing counted since: no write at all.
    await recorder.flush();
    expect(store.batches).toHaveLength(1);
    await recorder.close();
  });

  it('keeps a failed batch and writes it with the next one', async () => {
    const store = recordingStore();
    const errors: unknown[] = [];
    const recorder = new PullRecorder({ store, intervalMs: 0, onError: (error) => errors.push(error) });
    recorder.record(1, image);
    store.failing = true;
    await recorder.flush();
    expect(errors).toHaveLength(1);
    recorder.record(1, image);
    recorder.record(1, other);
    store.failing = false;
    await recorder.flush();
    expect(store.batches).toHaveLength(1);
    expect(store.batches[0]?.map((pull) => [pull.digest, pull.count])).toEqual([
      [image, 2],
      [other, 1],
    ]);
    await recorder.close();
  });

  it('bounds the entries it keeps and stops counting once closed, after a last batch', async () => {
    const store = recordingStore();
    const recorder = new PullRecorder({ store, intervalMs: 0, maxEntries: 2 });
    recorder.record(1, image);
    recorder.record(2, image);
    recorder.record(3, image);
    recorder.record(1, image);
    await recorder.close();
    expect(store.batches).toEqual([
      [
        expect.objectContaining({ repositoryId: 1, count: 2 }),
        expect.objectContaining({ repositoryId: 2, count: 1 }),
      ],
    ]);
    recorder.record(1, image);
    await recorder.flush();
    expect(store.batches).toHaveLength(1);
  });

  it('writes on its own every interval', async () => {
    const store = recordingStore();
    const recorder = new PullRecorder({ store, intervalMs: 20 });
    recorder.record(1, image);
    await expect.poll(() => store.batches.length, { timeout: 2_000 }).toBe(1);
    await recorder.close();
  });
});
