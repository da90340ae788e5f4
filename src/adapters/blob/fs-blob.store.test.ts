import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { digestHex, digestOf, type Digest } from '../../core/oci/digest.js';
import { describeBlobStoreContract } from '../../ports/blob-store.contract.js';
import { fdatasyncFd } from './fs-calls.js';
import { FsBlobStore } from './fs-blob.store.js';

// The real calls, observed: the background writeback of large chunks is counted below.
vi.mock('./fs-calls.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./fs-calls.js')>();
  return { ...actual, fdatasyncFd: vi.fn(actual.fdatasyncFd) };
});

describeBlobStoreContract('FsBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-blob-'));
  return {
    store: new FsBlobStore({ root }),
    reopen: () => Promise.resolve(new FsBlobStore({ root })),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FsBlobStore on disk', () => {
  let root: string;
  let store: FsBlobStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-blob-'));
    store = new FsBlobStore({ root });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lays blobs and sessions out as documented', async () => {
    const clocked = new FsBlobStore({ root, now: () => new Date('2024-05-06T07:08:09.000Z') });
    const session = await clocked.startUpload('library/app');
    const uploads = join(root, 'uploads');
    // One file per fresh session: the data file appears with the first byte.
    expect(await readdir(uploads)).toEqual([`${session.id}.json`]);
    expect(JSON.parse(await readFile(join(uploads, `${session.id}.json`), 'utf8'))).toEqual({
      repository: 'library/app',
      startedAt: '2024-05-06T07:08:09.000Z',
    });
    await clocked.appendUpload(session.id, Readable.from([Buffer.from('layer')]));
    expect((await readdir(uploads)).sort()).toEqual([`${session.id}.data`, `${session.id}.json`]);
    expect(await readFile(join(uploads, `${session.id}.data`), 'utf8')).toBe('layer');
    const digest = digestOf('layer');
    await clocked.commitUpload(session.id, digest);
    const hex = digestHex(digest);
    expect(await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex), 'utf8')).toBe('layer');
    expect(await readdir(uploads)).toEqual([]);
    expect(await entries(join(root, 'tmp'))).toEqual([]);
  });

  it('starts writing a large chunk to disk while it arrives, and commits it intact', async () => {
    const size = 80 * 1024 * 1024;
    const block = 1024 * 1024;
    const blocks = (): Readable =>
      Readable.from(
        (function* () {
          for (let i = 0; i < size / block; i += 1) yield Buffer.alloc(block, i % 251);
        })(),
      );
    const hash = createHash('sha256');
    for await (const chunk of blocks()) hash.update(chunk as Buffer);
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    vi.mocked(fdatasyncFd).mockClear();
    const session = await store.startUpload('library/big');
    // As a final chunk: the descriptor that wrote it is the one the commit fsyncs.
    const committed = await store.commitUpload(session.id, digest, {
      finalChunk: { body: blocks(), options: { expectedLength: size } },
    });
    expect(committed).toEqual({ digest, sizeBytes: size });
    expect(vi.mocked(fdatasyncFd).mock.calls.length).toBeGreaterThanOrEqual(1);
    const read = createHash('sha256');
    for await (const chunk of await store.open(digest)) read.update(chunk as Buffer);
    expect(`sha256:${read.digest('hex')}`).toBe(digest);
  });

  it('creates the root lazily', async () => {
    const lazy = new FsBlobStore({ root: join(root, 'not', 'yet') });
    expect(await lazy.stat(digestOf('x'))).toBeUndefined();
    expect(await collect(lazy.listUploads())).toEqual([]);
    const session = await lazy.startUpload('library/app');
    await lazy.commitUpload(session.id, digestOf(''));
    expect(await lazy.stat(digestOf(''))).toEqual({ digest: digestOf(''), sizeBytes: 0 });
  });

  it('recreates uploads/ and a blob directory removed behind its back', async () => {
    const digest = digestOf('again');
    const first = await store.startUpload('library/app');
    await store.appendUpload(first.id, Readable.from([Buffer.from('again')]));
    await store.commitUpload(first.id, digest);
    await rm(join(root, 'uploads'), { recursive: true });
    await rm(join(root, 'blobs'), { recursive: true });
    const second = await store.startUpload('library/app');
    await store.appendUpload(second.id, Readable.from([Buffer.from('again')]));
    expect(await store.commitUpload(second.id, digest)).toEqual({ digest, sizeBytes: 5 });
    expect(await store.stat(digest)).toEqual({ digest, sizeBytes: 5 });
  });

  it('stamps sessions with the injected clock', async () => {
    const clocked = new FsBlobStore({ root, now: () => new Date('2024-05-06T07:08:09.000Z') });
    const session = await clocked.startUpload('library/app');
    expect(session.startedAt).toBe('2024-05-06T07:08:09.000Z');
    expect((await store.getUpload(session.id))?.startedAt).toBe('2024-05-06T07:08:09.000Z');
  });

  it('leaves nothing but the session files behind after failures', async () => {
    const session = await store.startUpload('library/app');
    const uploads = join(root, 'uploads');
    // A first chunk that fails leaves the session at zero bytes.
    await expect(store.appendUpload(session.id, brokenOnce())).rejects.toThrow('connection reset');
    expect((await store.getUpload(session.id))?.sizeBytes).toBe(0);
    await store.appendUpload(session.id, Readable.from([Buffer.from('abc')]));
    const attempts: Promise<unknown>[] = [
      store.appendUpload(session.id, Readable.from([Buffer.from('x')]), { offset: 9 }),
      store.appendUpload(session.id, Readable.from([Buffer.from('xy')]), { expectedLength: 5 }),
      store.appendUpload(session.id, Readable.from([Buffer.alloc(100)]), { maxLength: 10 }),
      store.appendUpload(session.id, brokenBody()),
      store.commitUpload(session.id, digestOf('wrong')),
    ];
    const outcomes = await Promise.allSettled(attempts);
    expect(outcomes.map((o) => o.status)).toEqual(Array(attempts.length).fill('rejected'));
    expect((await readdir(uploads)).sort()).toEqual([`${session.id}.data`, `${session.id}.json`]);
    expect(await readFile(join(uploads, `${session.id}.data`), 'utf8')).toBe('abc');
    expect(await entries(join(root, 'tmp'))).toEqual([]);

    const cancelled = await store.startUpload('library/app');
    await store.appendUpload(cancelled.id, Readable.from([Buffer.from('gone')]));
    await store.cancelUpload(cancelled.id);
    const empty = await store.startUpload('library/app');
    await store.cancelUpload(empty.id);
    await store.commitUpload(session.id, digestOf('abc'));
    expect(await entries(uploads)).toEqual([]);
    expect(await entries(join(root, 'tmp'))).toEqual([]);
  });

  it('never turns an id into a path outside uploads/', async () => {
    // Files that look like a session, reachable only through a traversal.
    await mkdir(join(root, 'x'), { recursive: true });
    await writeFile(join(root, 'x.data'), 'secret');
    await writeFile(join(root, 'x.json'), JSON.stringify({ repository: 'evil/x', startedAt: new Date() }));
    await writeFile(join(root, 'x', 'data'), 'secret');
    const real = await store.startUpload('library/app');
    for (const id of [
      '../x',
      '../../x',
      `${real.id}/`,
      `${real.id}/../../x`,
      `${real.id}.json`,
      real.id.toUpperCase(),
      ` ${real.id}`,
    ]) {
      expect(await store.getUpload(id)).toBeUndefined();
      const error: unknown = await store.cancelUpload(id).catch((e: unknown) => e);
      expect(isDomainError(error, 'blob.uploadUnknown')).toBe(true);
    }
    expect(await readFile(join(root, 'x.data'), 'utf8')).toBe('secret');
    expect(await readFile(join(root, 'x.json'), 'utf8')).toContain('evil/x');
    expect(await store.getUpload(real.id)).toBeDefined();
  });

  it('treats a session file that a crash cut short as no session, and skips malformed entries', async () => {
    const good = await store.startUpload('library/app');
    const uploads = join(root, 'uploads');
    const startedAt = new Date().toISOString();
    const malformed = {
      '00000000-0000-4000-8000-000000000001': '', // the crash came between create and write
      '00000000-0000-4000-8000-000000000002': '{"repository":"library/ap', // or in the middle of it
      '00000000-0000-4000-8000-000000000003': '{not json',
      '00000000-0000-4000-8000-000000000004': JSON.stringify({ repository: 'library/app' }),
      '00000000-0000-4000-8000-000000000005': JSON.stringify({ repository: '', startedAt }),
      '00000000-0000-4000-8000-000000000006': JSON.stringify({
        repository: 'library/app',
        startedAt: 'soon',
      }),
    };
    for (const [id, text] of Object.entries(malformed)) {
      await writeFile(join(uploads, `${id}.json`), text);
      await writeFile(join(uploads, `${id}.data`), 'bytes');
    }
    const orphan = '00000000-0000-4000-8000-000000000007';
    await writeFile(join(uploads, `${orphan}.data`), 'bytes');
    const dataIsDir = '00000000-0000-4000-8000-000000000008';
    await writeFile(
      join(uploads, `${dataIsDir}.json`),
      JSON.stringify({ repository: 'library/app', startedAt }),
    );
    await mkdir(join(uploads, `${dataIsDir}.data`));
    const jsonIsDir = '00000000-0000-4000-8000-000000000009';
    await mkdir(join(uploads, `${jsonIsDir}.json`));
    // The earlier layout's session directory, and things that are no session at all.
    const legacy = '00000000-0000-4000-8000-00000000000a';
    await mkdir(join(uploads, legacy));
    await writeFile(join(uploads, legacy, 'data'), '');
    await writeFile(join(uploads, legacy, 'info.json'), '{"repository":"library/app"}');
    await writeFile(join(uploads, legacy, 'startedat'), startedAt);
    await mkdir(join(uploads, 'not-a-session.json'));
    await writeFile(join(uploads, 'stray-file'), '');

    expect((await collect(store.listUploads())).map((s) => s.id)).toEqual([good.id]);
    for (const id of [...Object.keys(malformed), orphan, dataIsDir, jsonIsDir, legacy]) {
      expect(await store.getUpload(id)).toBeUndefined();
      for (const attempt of [
        store.appendUpload(id, Readable.from([Buffer.from('x')])),
        store.commitUpload(id, digestOf('bytes')),
        store.cancelUpload(id),
      ]) {
        const error: unknown = await attempt.catch((e: unknown) => e);
        expect(isDomainError(error, 'blob.uploadUnknown'), `${id}: ${String(error)}`).toBe(true);
      }
    }
    expect(await store.stat(digestOf('bytes'))).toBeUndefined();
    expect(await store.stat(digestOf('bytesx'))).toBeUndefined();
  });

  it('notices a session removed behind its back after reading it', async () => {
    const session = await store.startUpload('library/app');
    expect(await store.getUpload(session.id)).toEqual(session);
    await rm(join(root, 'uploads', `${session.id}.json`));
    expect(await store.getUpload(session.id)).toBeUndefined();
    const error: unknown = await store
      .appendUpload(session.id, Readable.from([Buffer.from('x')]))
      .catch((e: unknown) => e);
    expect(isDomainError(error, 'blob.uploadUnknown')).toBe(true);
    expect(await entries(join(root, 'uploads'))).toEqual([]);
  });

  it('re-hashes from disk when another writer changed the session behind its back', async () => {
    const session = await store.startUpload('library/app');
    await store.appendUpload(session.id, Readable.from([Buffer.from('abc')]));
    // Another instance's append, as seen from this one: the file grew, this process's hash did not.
    await writeFile(join(root, 'uploads', `${session.id}.data`), 'def', { flag: 'a' });
    expect((await store.getUpload(session.id))?.sizeBytes).toBe(6);
    await store.appendUpload(session.id, Readable.from([Buffer.from('ghi')]), { offset: 6 });
    expect(await store.commitUpload(session.id, digestOf('abcdefghi'))).toMatchObject({ sizeBytes: 9 });
  });

  it('commits from the hash it computed while the bytes flowed, without re-reading them', async () => {
    const session = await store.startUpload('library/app');
    await store.appendUpload(session.id, Readable.from([Buffer.from('abc')]));
    await store.appendUpload(session.id, Readable.from([Buffer.from('def')]), { offset: 3 });
    // Same size, different bytes: only a commit that trusts its in-memory state accepts the old digest.
    // (Bytes changed in place are outside the model; this is how the fast path shows itself.)
    await writeFile(join(root, 'uploads', `${session.id}.data`), 'XXXXXX');
    expect(await store.commitUpload(session.id, digestOf('abcdef'))).toMatchObject({ sizeBytes: 6 });
  });

  it('sweeps what crashes left behind, sparing young entries and live sessions', async () => {
    const uploads = join(root, 'uploads');
    const tmp = join(root, 'tmp');
    const live = await store.startUpload('library/app');
    await store.appendUpload(live.id, Readable.from([Buffer.from('live')]));
    const empty = await store.startUpload('library/app');
    // A start cut short, a cancel cut short between its two unlinks, and the earlier layout's leftovers.
    const cutShort = '00000000-0000-4000-8000-000000000001';
    await writeFile(join(uploads, `${cutShort}.json`), '');
    const orphan = '00000000-0000-4000-8000-000000000002';
    await writeFile(join(uploads, `${orphan}.data`), 'bytes');
    const legacy = '00000000-0000-4000-8000-000000000003';
    await mkdir(join(uploads, legacy));
    await writeFile(join(uploads, legacy, 'data'), 'leftover');
    await mkdir(join(tmp, 'interrupted-discard', 'nested'), { recursive: true });
    await writeFile(join(tmp, 'interrupted-discard', 'data'), 'leftover');
    // Not ours to judge: left alone whatever their age.
    await writeFile(join(uploads, 'stray-file'), '');

    expect(await store.sweepTemporary(new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.sweepTemporary(new Date(Date.now() + 60_000))).toBe(4);
    expect((await entries(uploads)).sort()).toEqual(
      [`${empty.id}.json`, `${live.id}.data`, `${live.id}.json`, 'stray-file'].sort(),
    );
    expect(await entries(tmp)).toEqual([]);
    expect(await store.getUpload(live.id)).toMatchObject({ sizeBytes: 4 });
    expect(await store.getUpload(empty.id)).toMatchObject({ sizeBytes: 0 });
    expect(await new FsBlobStore({ root: join(root, 'none') }).sweepTemporary(new Date())).toBe(0);
  });
});

function brokenBody(): Readable {
  return new Readable({
    read() {
      this.push(Buffer.from('partial'));
      setImmediate(() => this.destroy(new Error('connection reset')));
    },
  });
}

/** Sends a few bytes once, then fails like a dropped connection. */
function brokenOnce(): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(Buffer.from('partial'));
      setImmediate(() => this.destroy(new Error('connection reset')));
    },
  });
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
