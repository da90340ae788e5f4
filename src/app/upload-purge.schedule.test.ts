import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FsBlobStore } from '../adapters/blob/fs-blob.store.js';
import type { BerthConfig } from '../config/config.schema.js';
import type { BlobStore, UploadSession } from '../ports/blob-store.js';
import { injectAsAdmin, startTestApp } from './test-app.fixture.js';
import { startUploadPurgeSchedule, type UploadPurgeSchedule } from './upload-purge.schedule.js';

/**
 * The schedule with small intervals. Waits are bounded polls: nothing here asserts how fast a purge is,
 * only that it happens, does not happen (after stop), or does not overlap.
 */
const LONG_AGO = new Date('2020-01-01T00:00:00.000Z');

type Purging = BerthConfig['upload_purging'];
const config = (overrides: Partial<Purging> = {}): Purging => ({
  enabled: true,
  age: '1h',
  interval: '20ms',
  dryrun: false,
  ...overrides,
});

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines, messages: () => lines.map((line) => line.msg) };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A store whose listing waits at a gate, to hold a purge in flight. */
function gatedBlobs() {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const state = { listings: 0 };
  const blobs: Pick<BlobStore, 'listUploads' | 'cancelUpload'> = {
    async *listUploads(): AsyncIterable<UploadSession> {
      state.listings += 1;
      await gate;
      yield* [];
    },
    cancelUpload: () => Promise.resolve(),
  };
  return {
    blobs,
    state,
    open() {
      release();
      gate = new Promise<void>((resolve) => (release = resolve));
    },
  };
}

describe('upload purge schedule', () => {
  let root: string;
  let store: FsBlobStore;
  let oldClock: FsBlobStore;
  let schedule: UploadPurgeSchedule | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-purge-schedule-'));
    store = new FsBlobStore({ root });
    oldClock = new FsBlobStore({ root, now: () => LONG_AGO });
    schedule = undefined;
  });
  afterEach(async () => {
    vi.useRealTimers();
    await schedule?.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function startOld(bytes = ''): Promise<UploadSession> {
    const session = await oldClock.startUpload('library/app');
    if (bytes !== '') await oldClock.appendUpload(session.id, Readable.from([Buffer.from(bytes)]));
    return session;
  }
  const gone = (id: string) => async () => (await store.getUpload(id)) === undefined;

  it('purges every interval, logs each result, and stops for good', async () => {
    const { logger, messages } = capturingLogger();
    const first = await startOld('abandoned');
    const young = await store.startUpload('library/app');
    schedule = startUploadPurgeSchedule({ config: config(), blobs: store, sweeper: store, logger });
    expect(schedule).toBeDefined();

    await waitFor(gone(first.id), 'the first purge');
    await waitFor(() => messages().includes('upload purge: 1 sessions, 9 bytes'), 'its log line');
    // Runs again: a session abandoned after the first run goes in a later one.
    const second = await startOld();
    await waitFor(gone(second.id), 'a later purge');
    expect(await store.getUpload(young.id)).toBeDefined();

    await schedule?.stop();
    const runs = messages().filter((msg) => msg.startsWith('upload purge:')).length;
    const third = await startOld();
    await sleep(200); // ten intervals
    expect(await store.getUpload(third.id)).toBeDefined();
    expect(messages().filter((msg) => msg.startsWith('upload purge:'))).toHaveLength(runs);
    expect(await schedule?.runNow()).toBeUndefined();
    await schedule?.stop(); // idempotent
  });

  it('in a dry run logs what it would remove and removes nothing', async () => {
    const { logger, lines, messages } = capturingLogger();
    const old = await startOld('abandoned');
    schedule = startUploadPurgeSchedule({
      config: config({ dryrun: true }),
      blobs: store,
      sweeper: store,
      logger,
    });

    await waitFor(
      () => messages().includes('upload purge (dry run): would remove 1 sessions, 9 bytes'),
      'the dry run summary',
    );
    const perSession = lines.find((line) => line.msg === 'upload purge (dry run): would remove session');
    expect(perSession).toMatchObject({ level: 30, id: old.id, repository: 'library/app', sizeBytes: 9 });
    expect(await store.getUpload(old.id)).toMatchObject({ sizeBytes: 9 });
  });

  it('never overlaps itself: a slow purge holds back the next, and runNow joins it', async () => {
    const { logger } = capturingLogger();
    const gated = gatedBlobs();
    schedule = startUploadPurgeSchedule({
      config: config({ interval: '5ms' }),
      blobs: gated.blobs,
      logger,
      firstDelayMs: 0,
    });
    await waitFor(() => gated.state.listings === 1, 'the first purge to start');
    const joined = schedule?.runNow();
    await sleep(100); // twenty intervals
    expect(gated.state.listings).toBe(1);

    gated.open();
    expect(await joined).toEqual({ examined: 0, purged: 0, bytes: 0, swept: 0, failed: 0 });
    await waitFor(() => gated.state.listings === 2, 'the next purge, armed after the first ended');
    gated.open();
  });

  it('stop() waits for the purge in flight, which ends early', async () => {
    const { logger, lines } = capturingLogger();
    const gated = gatedBlobs();
    schedule = startUploadPurgeSchedule({ config: config(), blobs: gated.blobs, logger, firstDelayMs: 0 });
    await waitFor(() => gated.state.listings === 1, 'the purge to start');
    let stopped = false;
    const stopping = schedule?.stop().then(() => (stopped = true));
    await sleep(20);
    expect(stopped).toBe(false);
    gated.open();
    await stopping;
    expect(lines.at(-1)).toMatchObject({ msg: 'upload purge: 0 sessions, 0 bytes', stoppedEarly: true });
  });

  it('logs a failed purge and tries again at the next interval', async () => {
    const { logger, lines } = capturingLogger();
    let listings = 0;
    const failing: Pick<BlobStore, 'listUploads' | 'cancelUpload'> = {
      // eslint-disable-next-line require-yield
      async *listUploads(): AsyncIterable<UploadSession> {
        listings += 1;
        await Promise.resolve();
        throw new Error('EIO: volume unreachable');
      },
      cancelUpload: () => Promise.resolve(),
    };
    schedule = startUploadPurgeSchedule({ config: config(), blobs: failing, logger });
    await waitFor(() => listings >= 2, 'a second attempt');
    const failure = lines.find((line) => line.msg.startsWith('upload purge failed'));
    expect(failure).toMatchObject({ level: 50, err: { message: 'EIO: volume unreachable' } });
  });

  it('starts nothing when disabled', () => {
    const { logger, messages } = capturingLogger();
    schedule = startUploadPurgeSchedule({ config: config({ enabled: false }), blobs: store, logger });
    expect(schedule).toBeUndefined();
    expect(messages()).toEqual(['upload purging is disabled (upload_purging.enabled: false)']);
  });

  it('refuses an interval or age that is not positive', () => {
    const { logger } = capturingLogger();
    expect(() =>
      startUploadPurgeSchedule({ config: config({ interval: '0' }), blobs: store, logger }),
    ).toThrow(RangeError);
    expect(() => startUploadPurgeSchedule({ config: config({ age: '-1h' }), blobs: store, logger })).toThrow(
      RangeError,
    );
  });

  it('first runs shortly after start, then every interval, even one beyond the timer limit', async () => {
    vi.useFakeTimers();
    const { logger } = capturingLogger();
    let listings = 0;
    const counting: Pick<BlobStore, 'listUploads' | 'cancelUpload'> = {
      async *listUploads(): AsyncIterable<UploadSession> {
        listings += 1;
        await Promise.resolve();
        yield* [];
      },
      cancelUpload: () => Promise.resolve(),
    };
    // 30 days: more than setTimeout's ~24.8-day limit, past which Node would fire after 1 ms.
    schedule = startUploadPurgeSchedule({ config: config({ interval: '720h' }), blobs: counting, logger });
    await vi.advanceTimersByTimeAsync(59_000);
    expect(listings).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(listings).toBe(1);
    await vi.advanceTimersByTimeAsync(29 * 24 * 3_600_000);
    expect(listings).toBe(1);
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(listings).toBe(2);
  });
});

describe('upload purging in the composed app', () => {
  it('removes an abandoned session, and berth.close() ends the schedule', async () => {
    const app = await startTestApp({
      BERTH_UPLOAD_PURGING__INTERVAL: '20ms',
      BERTH_UPLOAD_PURGING__AGE: '1ms',
    });
    try {
      const start = await injectAsAdmin(app, { method: 'POST', url: '/v2/library/abandoned/blobs/uploads/' });
      expect(start.statusCode).toBe(202);
      const location = start.headers.location as string;
      await waitFor(
        async () => (await injectAsAdmin(app, { method: 'GET', url: location })).statusCode === 404,
        'the session to be purged',
      );
    } finally {
      await app.close();
    }
  });
});
