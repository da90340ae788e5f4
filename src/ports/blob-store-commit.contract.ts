import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../core/oci/digest.js';
import type { BlobStore } from './blob-store.js';
import { body, expectCode, failing, readAll } from './blob-store-streams.fixture.js';

/** Part of the BlobStore contract: `commitUpload` with a final chunk (one call for the closing PUT). */
export function describeFinalChunkCommit(currentStore: () => BlobStore): void {
  describe('final chunk with the commit', () => {
    let store: BlobStore;
    beforeEach(() => {
      store = currentStore();
    });
    it('appends the final chunk, then commits', async () => {
      const session = await store.startUpload('library/app');
      await store.appendUpload(session.id, body(Buffer.from('abc')));
      const all = Buffer.from('abcdef');
      const committed = await store.commitUpload(session.id, digestOf(all), {
        expectedRepository: 'library/app',
        finalChunk: { body: body(Buffer.from('def')), options: { offset: 3, expectedLength: 3 } },
      });
      expect(committed).toEqual({ digest: digestOf(all), sizeBytes: 6 });
      expect(await store.getUpload(session.id)).toBeUndefined();
      expect(await readAll(await store.open(digestOf(all)))).toEqual(all);
    });

    it('commits a whole blob sent as the only chunk, and an empty final chunk', async () => {
      const content = Buffer.from('monolithic');
      const whole = await store.startUpload('library/app');
      expect(
        await store.commitUpload(whole.id, digestOf(content), { finalChunk: { body: body(content) } }),
      ).toEqual({ digest: digestOf(content), sizeBytes: content.length });
      const empty = await store.startUpload('library/app');
      expect(
        await store.commitUpload(empty.id, digestOf(''), { finalChunk: { body: body(Buffer.alloc(0)) } }),
      ).toEqual({ digest: digestOf(''), sizeBytes: 0 });
      expect(await readAll(await store.open(digestOf(content)))).toEqual(content);
      expect(await store.stat(digestOf(''))).toEqual({ digest: digestOf(''), sizeBytes: 0 });
    });

    it('commits with sha512 after a final chunk', async () => {
      const content = Buffer.from('sha512 final chunk');
      const session = await store.startUpload('library/app');
      const digest = digestOf(content, 'sha512');
      expect(await store.commitUpload(session.id, digest, { finalChunk: { body: body(content) } })).toEqual({
        digest,
        sizeBytes: content.length,
      });
      expect(await readAll(await store.open(digest))).toEqual(content);
    });

    it('keeps the session with the final chunk appended on a digest mismatch', async () => {
      const session = await store.startUpload('library/app');
      const wrong = digestOf('claimed');
      await expectCode(
        store.commitUpload(session.id, wrong, { finalChunk: { body: body(Buffer.from('actual')) } }),
        'digest.mismatch',
      );
      expect(await store.getUpload(session.id)).toMatchObject({ sizeBytes: 6 });
      expect(await store.stat(wrong)).toBeUndefined();
      expect(await store.stat(digestOf('actual'))).toBeUndefined();
      expect(await store.commitUpload(session.id, digestOf('actual'))).toMatchObject({ sizeBytes: 6 });
    });

    it('rolls back a final chunk that breaks a rule and commits nothing', async () => {
      const session = await store.startUpload('library/app');
      await store.appendUpload(session.id, body(Buffer.from('abc')));
      await expectCode(
        store.commitUpload(session.id, digestOf('abcx'), {
          finalChunk: { body: body(Buffer.from('x')), options: { offset: 0 } },
        }),
        'blob.rangeInvalid',
      );
      await expectCode(
        store.commitUpload(session.id, digestOf('abcxy'), {
          finalChunk: { body: body(Buffer.from('xy')), options: { expectedLength: 5 } },
        }),
        'size.invalid',
      );
      await expect(
        store.commitUpload(session.id, digestOf('abcxy'), {
          finalChunk: { body: failing(Buffer.from('xy'), 1, new Error('client gone')) },
        }),
      ).rejects.toThrow('client gone');
      expect(await store.getUpload(session.id)).toMatchObject({ sizeBytes: 3 });
      expect(await store.stat(digestOf('abcxy'))).toBeUndefined();
      expect(await store.commitUpload(session.id, digestOf('abc'))).toMatchObject({ sizeBytes: 3 });
    });

    it('treats a session of another repository as unknown and changes nothing', async () => {
      const session = await store.startUpload('library/app');
      await store.appendUpload(session.id, body(Buffer.from('abc')), { expectedRepository: 'library/app' });
      await expectCode(
        store.appendUpload(session.id, body(Buffer.from('x')), { expectedRepository: 'library/other' }),
        'blob.uploadUnknown',
      );
      await expectCode(
        store.commitUpload(session.id, digestOf('abc'), { expectedRepository: 'library/other' }),
        'blob.uploadUnknown',
      );
      await expectCode(
        store.commitUpload(session.id, digestOf('abcx'), {
          expectedRepository: 'library/other',
          finalChunk: { body: body(Buffer.from('x')) },
        }),
        'blob.uploadUnknown',
      );
      expect(await store.getUpload(session.id)).toMatchObject({ sizeBytes: 3 });
      expect(await store.stat(digestOf('abc'))).toBeUndefined();
      await expectCode(
        store.commitUpload(randomUUID(), digestOf('x'), { finalChunk: { body: body(Buffer.from('x')) } }),
        'blob.uploadUnknown',
      );
    });
  });
}
