import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../core/oci/digest.js';
import { UploadPurgeService } from '../../core/registry/upload-purge.service.js';
import type { BlobStore, UploadSession } from '../../ports/blob-store.js';
import { FsBlobStore } from './fs-blob.store.js';

/**
 * UploadPurgeService over the real FsBlobStore. "Long ago" sessions are started through a store whose
 * clock says 2020; "young" ones through the system clock. The cutoff is an hour ago.
 */
const LONG_AGO = new Date('2020-01-01T00:00:00.000Z');
const hourAgo = () => new Date(Date.now() - 3_600_000);

describe('UploadPurgeService over FsBlobStore', () => {
  let root: string;
  let store: FsBlobStore;
  let oldClock: FsBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-purge-'));
    store = new FsBlobStore({ root });
    oldClock = new FsBlobStore({ root, now: () => LONG_AGO });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function startOld(bytes?: string): Promise<UploadSession> {
    const session = await oldClock.startUpload('library/app');
    if (bytes !== undefined) await oldClock.appendUpload(session.id, Readable.from([Buffer.from(bytes)]));
    return session;
  }

  async function sessionIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const session of store.listUploads()) ids.push(session.id);
    return ids.sort();
  }

  it('removes sessions started before the cutoff, with their bytes, and keeps younger ones', async () => {
    const withBytes = await startOld('abandoned');
    await startOld();
    const young = await store.startUpload('library/app');
    await store.appendUpload(young.id, Readable.from([Buffer.from('in progress')]));
    const seen: string[] = [];
    const service = new UploadPurgeService({ blobs: store, sweeper: store });

    const result = await service.purgeUploads({
      olderThan: hourAgo(),
      dryRun: false,
      onSession: (session) => seen.push(session.id),
    });

    expect(result).toEqual({ examined: 3, purged: 2, bytes: 9, swept: 0, failed: 0 });
    expect(seen).toHaveLength(2);
    expect(seen).toContain(withBytes.id);
    expect(await sessionIds()).toEqual([young.id]);
    expect((await readdir(join(root, 'uploads'))).sort()).toEqual([`${young.id}.data`, `${young.id}.json`]);
    expect(await store.getUpload(young.id)).toMatchObject({ sizeBytes: 11 });
  });

  it('keeps a session started exactly at the cutoff (only older ones go)', async () => {
    await startOld();
    const result = await new UploadPurgeService({ blobs: store }).purgeUploads({
      olderThan: LONG_AGO,
      dryRun: false,
    });
    expect(result).toMatchObject({ examined: 1, purged: 0 });
    expect(await sessionIds()).toHaveLength(1);
  });

  it('in a dry run removes nothing, sweeps nothing, and reports what it would remove', async () => {
    const old = await startOld('abandoned');
    const young = await store.startUpload('library/app');
    const orphan = join(root, 'uploads', '00000000-0000-4000-8000-000000000002.data');
    await writeFile(orphan, 'crash leftover');
    const seen: UploadSession[] = [];
    const service = new UploadPurgeService({ blobs: store, sweeper: store });

    // A cutoff in the future makes everything old, the orphan included.
    const result = await service.purgeUploads({
      olderThan: new Date(Date.now() + 60_000),
      dryRun: true,
      onSession: (session) => seen.push(session),
    });

    expect(result).toEqual({ examined: 2, purged: 2, bytes: 9, swept: 0, failed: 0 });
    expect(seen.map((session) => session.id).sort()).toEqual([old.id, young.id].sort());
    expect(await sessionIds()).toEqual([old.id, young.id].sort());
    expect(await store.getUpload(old.id)).toMatchObject({ sizeBytes: 9 });
    expect(await readdir(join(root, 'uploads'))).toContain('00000000-0000-4000-8000-000000000002.data');
  });

  it('sweeps crash leftovers with the same cutoff when not a dry run', async () => {
    await startOld();
    await writeFile(join(root, 'uploads', '00000000-0000-4000-8000-000000000002.data'), 'crash leftover');
    const service = new UploadPurgeService({ blobs: store, sweeper: store });

    // Written just now: younger than an hour-old cutoff, so spared.
    expect(await service.purgeUploads({ olderThan: hourAgo(), dryRun: false })).toMatchObject({
      purged: 1,
      swept: 0,
    });
    expect(await readdir(join(root, 'uploads'))).toEqual(['00000000-0000-4000-8000-000000000002.data']);
    expect(await service.purgeUploads({ olderThan: new Date(Date.now() + 60_000), dryRun: false })).toEqual({
      examined: 0,
      purged: 0,
      bytes: 0,
      swept: 1,
      failed: 0,
    });
    expect(await readdir(join(root, 'uploads'))).toEqual([]);
  });

  it('treats a session finished or cancelled by another instance meanwhile as no error', async () => {
    const finished = await startOld('pushed');
    const cancelled = await startOld();
    const purgeable = await startOld('abandoned');
    // A second instance on the same volume acts between this instance's listing and its cancel.
    const other = new FsBlobStore({ root });
    const racing: Pick<BlobStore, 'listUploads' | 'cancelUpload'> = {
      async *listUploads() {
        for await (const session of store.listUploads()) {
          if (session.id === finished.id) await other.commitUpload(session.id, digestOf('pushed'));
          if (session.id === cancelled.id) await other.cancelUpload(session.id);
          yield session;
        }
      },
      cancelUpload: (id) => store.cancelUpload(id),
    };
    const errors: unknown[] = [];

    const result = await new UploadPurgeService({ blobs: racing, sweeper: store }).purgeUploads({
      olderThan: hourAgo(),
      dryRun: false,
      onError: (error) => errors.push(error),
    });

    expect(errors).toEqual([]);
    expect(result).toEqual({ examined: 3, purged: 1, bytes: 9, swept: 0, failed: 0 });
    expect(await sessionIds()).toEqual([]);
    expect(await store.stat(digestOf('pushed'))).toEqual({ digest: digestOf('pushed'), sizeBytes: 6 });
    expect(await store.getUpload(purgeable.id)).toBeUndefined();
  });

  it('goes on past a session it cannot remove, and reports the failure', async () => {
    const stuck = await startOld('stuck');
    const other = await startOld('other');
    const failure = new Error('EACCES: permission denied');
    const flaky: Pick<BlobStore, 'listUploads' | 'cancelUpload'> = {
      listUploads: () => store.listUploads(),
      cancelUpload: (id) => (id === stuck.id ? Promise.reject(failure) : store.cancelUpload(id)),
    };
    const errors: [unknown, string | undefined][] = [];

    const result = await new UploadPurgeService({ blobs: flaky }).purgeUploads({
      olderThan: hourAgo(),
      dryRun: false,
      onError: (error, session) => errors.push([error, session?.id]),
    });

    expect(result).toEqual({ examined: 2, purged: 1, bytes: 5, swept: 0, failed: 1 });
    expect(errors).toEqual([[failure, stuck.id]]);
    expect(await sessionIds()).toEqual([stuck.id]);
    expect(await store.getUpload(other.id)).toBeUndefined();
  });

  it('reports a failing sweep without losing the sessions result', async () => {
    await startOld();
    const failure = new Error('EIO');
    const errors: unknown[] = [];
    const result = await new UploadPurgeService({
      blobs: store,
      sweeper: { sweepTemporary: () => Promise.reject(failure) },
    }).purgeUploads({ olderThan: hourAgo(), dryRun: false, onError: (error) => errors.push(error) });
    expect(result).toEqual({ examined: 1, purged: 1, bytes: 0, swept: 0, failed: 1 });
    expect(errors).toEqual([failure]);
  });

  it('stops between sessions once its signal is aborted, and skips the sweep', async () => {
    await startOld();
    await startOld();
    const controller = new AbortController();
    let sweeps = 0;
    const result = await new UploadPurgeService({
      blobs: store,
      sweeper: { sweepTemporary: () => Promise.resolve((sweeps += 1)) },
    }).purgeUploads({
      olderThan: hourAgo(),
      dryRun: false,
      signal: controller.signal,
      onSession: () => controller.abort(),
    });
    expect(result).toMatchObject({ examined: 1, purged: 1 });
    expect(sweeps).toBe(0);
    expect(await sessionIds()).toHaveLength(1);
  });
});
