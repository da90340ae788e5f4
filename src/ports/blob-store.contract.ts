import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import { digestOf, type Digest } from '../core/oci/digest.js';
import type { BlobStore } from './blob-store.js';
import { describeFinalChunkCommit } from './blob-store-commit.contract.js';
import {
  body,
  collect,
  digestOfStream,
  endless,
  expectCode,
  failing,
  generated,
  readAll,
  trickle,
} from './blob-store-streams.fixture.js';

/**
 * The contract every BlobStore adapter (and the fake) passes. `reopen`, when the adapter can offer it,
 * returns a second, independent store over the same backing data: the other instance of an HA pair.
 */
export interface BlobStoreFixture {
  store: BlobStore;
  reopen?: () => Promise<BlobStore>;
  cleanup: () => Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    async function push(content: Buffer, repository = 'library/app'): Promise<Digest> {
      const session = await store.startUpload(repository);
      await store.appendUpload(session.id, body(content));
      const digest = digestOf(content);
      await store.commitUpload(session.id, digest);
      return digest;
    }

    async function secondInstance(skip: TestContext['skip']): Promise<BlobStore> {
      if (fixture.reopen === undefined) skip('the adapter offers no second instance');
      return fixture.reopen();
    }

    describe('blobs', () => {
      it('commits a monolithic upload and reads it back', async () => {
        const content = Buffer.from('hello, berth');
        const session = await store.startUpload('library/app');
        const appended = await store.appendUpload(session.id, body(content), {
          expectedLength: content.length,
        });
        expect(appended).toMatchObject({
          id: session.id,
          repository: 'library/app',
          sizeBytes: content.length,
        });
        const digest = digestOf(content);
        expect(await store.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: content.length });
        expect(await store.stat(digest)).toEqual({ digest, sizeBytes: content.length });
        expect(await readAll(await store.open(digest))).toEqual(content);
        expect(await store.getUpload(session.id)).toBeUndefined();
      });

      it('reads inclusive ranges', async () => {
        const content = Buffer.from('0123456789abcdef');
        const digest = await push(content);
        expect((await readAll(await store.open(digest, { start: 2, end: 5 }))).toString()).toBe('2345');
        expect((await readAll(await store.open(digest, { start: 0, end: 0 }))).toString()).toBe('0');
        expect((await readAll(await store.open(digest, { start: 15, end: 15 }))).toString()).toBe('f');
        expect(await readAll(await store.open(digest, { start: 0, end: 15 }))).toEqual(content);
      });

      it('reads at positions into the caller buffer, stays readable after a delete, closes once', async () => {
        const content = Buffer.from('0123456789abcdef');
        const digest = await push(content);
        const opened = await store.openForReads(digest);
        const buffer = Buffer.alloc(8, '.');
        expect(await opened.read(buffer, 2, 4, 10)).toBe(4);
        expect(buffer.toString()).toBe('..abcd..');
        // Past the end: what is left, then nothing.
        expect(await opened.read(buffer, 0, 8, 12)).toBe(4);
        expect(buffer.subarray(0, 4).toString()).toBe('cdef');
        expect(await opened.read(buffer, 0, 8, 16)).toBe(0);
        await store.delete(digest);
        expect(await opened.read(buffer, 0, 8, 0)).toBe(8);
        expect(buffer.toString()).toBe('01234567');
        await opened.close();
        await opened.close();
      });

      it('reports unknown blobs', async () => {
        const digest = digestOf('never pushed');
        expect(await store.stat(digest)).toBeUndefined();
        await expectCode(store.open(digest), 'blob.unknown');
        await expectCode(store.open(digest, { start: 0, end: 1 }), 'blob.unknown');
        await expectCode(store.openForReads(digest), 'blob.unknown');
      });

      it('deletes idempotently', async () => {
        const digest = await push(Buffer.from('to be collected'));
        await store.delete(digest);
        expect(await store.stat(digest)).toBeUndefined();
        await expectCode(store.open(digest), 'blob.unknown');
        await store.delete(digest);
        await store.delete(digestOf('never pushed'));
      });

      it('stores a zero-byte blob, with or without an empty chunk', async () => {
        const empty = digestOf('');
        const bare = await store.startUpload('library/app');
        expect(await store.commitUpload(bare.id, empty)).toEqual({ digest: empty, sizeBytes: 0 });
        const chunked = await store.startUpload('library/app');
        expect(
          await store.appendUpload(chunked.id, body(Buffer.alloc(0)), { expectedLength: 0 }),
        ).toMatchObject({
          sizeBytes: 0,
        });
        expect(await store.commitUpload(chunked.id, empty)).toEqual({ digest: empty, sizeBytes: 0 });
        expect(await store.stat(empty)).toEqual({ digest: empty, sizeBytes: 0 });
        expect(await readAll(await store.open(empty))).toEqual(Buffer.alloc(0));
      });

      it('commits with sha512', async () => {
        const content = Buffer.from('sha512 content');
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(content));
        const digest = digestOf(content, 'sha512');
        expect(await store.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: content.length });
        expect(await readAll(await store.open(digest))).toEqual(content);
        expect(await store.stat(digestOf(content))).toBeUndefined();
      });

      it('commits a digest that already exists and discards the upload', async () => {
        const content = Buffer.from('twice');
        const digest = await push(content);
        const session = await store.startUpload('library/other');
        await store.appendUpload(session.id, body(content));
        expect(await store.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: content.length });
        expect(await store.getUpload(session.id)).toBeUndefined();
        expect(await readAll(await store.open(digest))).toEqual(content);
      });

      it('lets concurrent commits of the same digest both succeed', async () => {
        const content = Buffer.from('same layer pushed twice at once');
        const digest = digestOf(content);
        const sessions = await Promise.all([store.startUpload('a/one'), store.startUpload('b/two')]);
        await Promise.all(sessions.map((s) => store.appendUpload(s.id, body(content))));
        const results = await Promise.all(sessions.map((s) => store.commitUpload(s.id, digest)));
        expect(results).toEqual([
          { digest, sizeBytes: content.length },
          { digest, sizeBytes: content.length },
        ]);
        expect(await readAll(await store.open(digest))).toEqual(content);
        for (const s of sessions) expect(await store.getUpload(s.id)).toBeUndefined();
      });

      it('streams a large blob without materialising it', async () => {
        const size = 64 * 1024 * 1024;
        const session = await store.startUpload('library/big');
        await store.appendUpload(session.id, generated(size), { expectedLength: size });
        const digest = await digestOfStream(generated(size));
        expect(await store.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: size });
        expect(await digestOfStream(await store.open(digest))).toBe(digest);
      });
    });

    describe('upload sessions', () => {
      it('starts a session with a UUID id, the repository and a start time', async () => {
        const before = Date.now();
        const session = await store.startUpload('team/app/api');
        expect(session.id).toMatch(UUID);
        expect(session).toMatchObject({ repository: 'team/app/api', sizeBytes: 0 });
        expect(Date.parse(session.startedAt)).toBeGreaterThanOrEqual(before - 1000);
        expect(await store.getUpload(session.id)).toEqual(session);
      });

      it('treats unknown and malformed ids as unknown', async () => {
        for (const id of [randomUUID(), '../x', '', 'not-a-uuid', `${randomUUID()}/..`]) {
          expect(await store.getUpload(id)).toBeUndefined();
          await expectCode(store.appendUpload(id, body(Buffer.from('x'))), 'blob.uploadUnknown');
          await expectCode(store.commitUpload(id, digestOf('x')), 'blob.uploadUnknown');
          await expectCode(store.cancelUpload(id), 'blob.uploadUnknown');
        }
      });

      it('appends chunks at the announced offsets', async () => {
        const chunks = ['first chunk|', 'second|', 'third and last'].map((s) => Buffer.from(s));
        const session = await store.startUpload('library/app');
        let offset = 0;
        for (const chunk of chunks) {
          const after = await store.appendUpload(session.id, body(chunk), {
            offset,
            expectedLength: chunk.length,
          });
          offset += chunk.length;
          expect(after.sizeBytes).toBe(offset);
          expect((await store.getUpload(session.id))?.sizeBytes).toBe(offset);
        }
        const all = Buffer.concat(chunks);
        expect(await store.commitUpload(session.id, digestOf(all))).toEqual({
          digest: digestOf(all),
          sizeBytes: all.length,
        });
        expect(await readAll(await store.open(digestOf(all)))).toEqual(all);
      });

      it('rejects a chunk at the wrong offset and writes nothing', async () => {
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('abc')));
        await expectCode(
          store.appendUpload(session.id, body(Buffer.from('zzz')), { offset: 1 }),
          'blob.rangeInvalid',
        );
        await expectCode(
          store.appendUpload(session.id, body(Buffer.from('zzz')), { offset: 4 }),
          'blob.rangeInvalid',
        );
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(3);
        await store.appendUpload(session.id, body(Buffer.from('def')), { offset: 3 });
        await store.commitUpload(session.id, digestOf('abcdef'));
      });

      it('serialises concurrent chunks of one session', async () => {
        const session = await store.startUpload('library/app');
        const a = Buffer.alloc(256 * 1024, 'a');
        const b = Buffer.alloc(256 * 1024, 'b');
        await Promise.all([
          store.appendUpload(session.id, trickle(a)),
          store.appendUpload(session.id, trickle(b)),
        ]);
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(a.length + b.length);
        const ab = digestOf(Buffer.concat([a, b]));
        const ba = digestOf(Buffer.concat([b, a]));
        const committed = await store
          .commitUpload(session.id, ab)
          .catch(() => store.commitUpload(session.id, ba));
        expect([ab, ba]).toContain(committed.digest);
      });

      it('rolls back a chunk whose length differs from the announced one', async () => {
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('keep')));
        await expectCode(
          store.appendUpload(session.id, body(Buffer.from('short')), { expectedLength: 10 }),
          'size.invalid',
        );
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(4);
        await expectCode(
          store.appendUpload(session.id, body(Buffer.from('too long')), { expectedLength: 3 }),
          'size.invalid',
        );
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(4);
        // An endless body must be cut off, not read to its end.
        await expectCode(store.appendUpload(session.id, endless(), { expectedLength: 1024 }), 'size.invalid');
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(4);
        await store.appendUpload(session.id, body(Buffer.from('-more')), { offset: 4, expectedLength: 5 });
        await store.commitUpload(session.id, digestOf('keep-more'));
      });

      it('rolls back a chunk over the maximum length, cutting the body off', async () => {
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('head')));
        await expectCode(
          store.appendUpload(session.id, endless(), { maxLength: 1024 * 1024 }),
          'size.invalid',
        );
        await expectCode(
          store.appendUpload(session.id, body(Buffer.alloc(11)), { maxLength: 10, expectedLength: 11 }),
          'size.invalid',
        );
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(4);
        await store.appendUpload(session.id, body(Buffer.from('tail')), { maxLength: 4 });
        await store.commitUpload(session.id, digestOf('headtail'));
      });

      it('rolls back a chunk whose body fails midway, and accepts the retry', async () => {
        const session = await store.startUpload('library/app');
        const first = Buffer.alloc(100_000, 1);
        const second = Buffer.alloc(300_000, 2);
        await store.appendUpload(session.id, body(first));
        const disconnect = new Error('client went away');
        await expect(store.appendUpload(session.id, failing(second, 150_000, disconnect))).rejects.toBe(
          disconnect,
        );
        expect((await store.getUpload(session.id))?.sizeBytes).toBe(first.length);
        await store.appendUpload(session.id, body(second), { offset: first.length });
        const all = Buffer.concat([first, second]);
        expect(await store.commitUpload(session.id, digestOf(all))).toEqual({
          digest: digestOf(all),
          sizeBytes: all.length,
        });
      });

      it('keeps the session on a digest mismatch and shows no blob', async () => {
        const content = Buffer.from('actual bytes');
        const wrong = digestOf('claimed bytes');
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(content));
        await expectCode(store.commitUpload(session.id, wrong), 'digest.mismatch');
        await expectCode(
          store.commitUpload(session.id, digestOf('claimed bytes', 'sha512')),
          'digest.mismatch',
        );
        expect(await store.getUpload(session.id)).toMatchObject({ sizeBytes: content.length });
        expect(await store.stat(wrong)).toBeUndefined();
        expect(await store.stat(digestOf(content))).toBeUndefined();
        await store.appendUpload(session.id, body(Buffer.from('!')), { offset: content.length });
        const all = Buffer.concat([content, Buffer.from('!')]);
        await store.commitUpload(session.id, digestOf(all));
        expect(await readAll(await store.open(digestOf(all)))).toEqual(all);
      });

      it('cancels a session', async () => {
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('abandoned')));
        await store.cancelUpload(session.id);
        expect(await store.getUpload(session.id)).toBeUndefined();
        await expectCode(store.appendUpload(session.id, body(Buffer.from('x'))), 'blob.uploadUnknown');
        await expectCode(store.commitUpload(session.id, digestOf('abandoned')), 'blob.uploadUnknown');
        await expectCode(store.cancelUpload(session.id), 'blob.uploadUnknown');
        expect(await store.stat(digestOf('abandoned'))).toBeUndefined();
      });

      it('cancels a session that never received a byte', async () => {
        const session = await store.startUpload('library/app');
        await store.cancelUpload(session.id);
        expect(await store.getUpload(session.id)).toBeUndefined();
        expect(await collect(store.listUploads())).toEqual([]);
        await expectCode(store.commitUpload(session.id, digestOf('')), 'blob.uploadUnknown');
        await expectCode(store.cancelUpload(session.id), 'blob.uploadUnknown');
      });

      it('answers every call with the session as it stands after the last one', async () => {
        const session = await store.startUpload('library/app');
        const first = await store.appendUpload(session.id, body(Buffer.from('12')));
        expect(first).toEqual({ ...session, sizeBytes: 2 });
        const second = await store.appendUpload(session.id, body(Buffer.alloc(0)), { offset: 2 });
        expect(second).toEqual({ ...session, sizeBytes: 2 });
        const third = await store.appendUpload(session.id, body(Buffer.from('345')), { offset: 2 });
        expect(third).toEqual({ ...session, sizeBytes: 5 });
        expect(await store.getUpload(session.id)).toEqual(third);
        expect(await collect(store.listUploads())).toEqual([third]);
      });

      it('lists the sessions on the volume', async () => {
        const one = await store.startUpload('library/one');
        const two = await store.startUpload('team/two');
        const done = await store.startUpload('library/done');
        await store.appendUpload(two.id, body(Buffer.from('12345')));
        await store.commitUpload(done.id, digestOf(''));
        const listed = await collect(store.listUploads());
        expect(listed.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          [
            { ...one, sizeBytes: 0 },
            { ...two, sizeBytes: 5 },
          ].sort((x, y) => x.id.localeCompare(y.id)),
        );
        await store.cancelUpload(one.id);
        expect((await collect(store.listUploads())).map((s) => s.id)).toEqual([two.id]);
      });
    });

    describeFinalChunkCommit(() => store);

    describe('across instances', () => {
      it('sees sessions started by the other instance', async ({ skip }) => {
        const other = await secondInstance(skip);
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('abc')));
        expect(await other.getUpload(session.id)).toEqual({ ...session, sizeBytes: 3 });
        expect((await collect(other.listUploads())).map((s) => s.id)).toEqual([session.id]);
        await other.cancelUpload(session.id);
        expect(await store.getUpload(session.id)).toBeUndefined();
      });

      it('continues on the other instance and commits there', async ({ skip }) => {
        const other = await secondInstance(skip);
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('from A;')), { offset: 0 });
        await other.appendUpload(session.id, body(Buffer.from('from B')), { offset: 7 });
        const digest = digestOf('from A;from B');
        expect(await other.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: 13 });
        expect(await readAll(await store.open(digest))).toEqual(Buffer.from('from A;from B'));
      });

      it('commits on the first instance after the other appended', async ({ skip }) => {
        const other = await secondInstance(skip);
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('one,')));
        await other.appendUpload(session.id, body(Buffer.from('two,')), { offset: 4 });
        await store.appendUpload(session.id, body(Buffer.from('three')), { offset: 8 });
        await expectCode(store.commitUpload(session.id, digestOf('one,three')), 'digest.mismatch');
        const digest = digestOf('one,two,three');
        expect(await store.commitUpload(session.id, digest)).toEqual({ digest, sizeBytes: 13 });
        expect(await other.stat(digest)).toEqual({ digest, sizeBytes: 13 });
      });

      it('commits on the other instance a session that never received a byte', async ({ skip }) => {
        const other = await secondInstance(skip);
        const session = await store.startUpload('library/app');
        expect(await other.getUpload(session.id)).toEqual(session);
        const empty = digestOf('');
        expect(await other.commitUpload(session.id, empty)).toEqual({ digest: empty, sizeBytes: 0 });
        expect(await store.stat(empty)).toEqual({ digest: empty, sizeBytes: 0 });
        expect(await store.getUpload(session.id)).toBeUndefined();
      });

      it('treats a session the other instance ended as unknown', async ({ skip }) => {
        const other = await secondInstance(skip);
        const committed = await store.startUpload('library/app');
        await store.appendUpload(committed.id, body(Buffer.from('done')));
        const cancelled = await store.startUpload('library/app');
        await store.appendUpload(cancelled.id, body(Buffer.from('dropped')));
        const cancelledEmpty = await store.startUpload('library/app');
        expect(await store.getUpload(cancelledEmpty.id)).toMatchObject({ sizeBytes: 0 });
        await other.commitUpload(committed.id, digestOf('done'));
        await other.cancelUpload(cancelled.id);
        await other.cancelUpload(cancelledEmpty.id);
        for (const session of [committed, cancelled, cancelledEmpty]) {
          expect(await store.getUpload(session.id)).toBeUndefined();
          await expectCode(store.appendUpload(session.id, body(Buffer.from('x'))), 'blob.uploadUnknown');
          await expectCode(store.commitUpload(session.id, digestOf('done')), 'blob.uploadUnknown');
          await expectCode(store.cancelUpload(session.id), 'blob.uploadUnknown');
        }
        expect(await collect(store.listUploads())).toEqual([]);
        expect(await readAll(await store.open(digestOf('done')))).toEqual(Buffer.from('done'));
      });

      it('rejects a stale offset sent to the other instance', async ({ skip }) => {
        const other = await secondInstance(skip);
        const session = await store.startUpload('library/app');
        await store.appendUpload(session.id, body(Buffer.from('abc')));
        await expectCode(
          other.appendUpload(session.id, body(Buffer.from('x')), { offset: 0 }),
          'blob.rangeInvalid',
        );
        await expectCode(other.commitUpload(session.id, digestOf('x')), 'digest.mismatch');
        expect(await other.commitUpload(session.id, digestOf('abc'))).toMatchObject({ sizeBytes: 3 });
        await expectCode(store.commitUpload(session.id, digestOf('abc')), 'blob.uploadUnknown');
      });
    });
  });
}
