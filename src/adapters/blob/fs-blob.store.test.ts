import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { digestHex, digestOf } from '../../core/oci/digest.js';
import { describeBlobStoreContract } from '../../ports/blob-store.contract.js';
import { FsBlobStore } from './fs-blob.store.js';

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
    const session = await store.startUpload('library/app');
    expect((await readdir(join(root, 'uploads', session.id))).sort()).toEqual([
      'data',
      'info.json',
      'startedat',
    ]);
    expect(JSON.parse(await readFile(join(root, 'uploads', session.id, 'info.json'), 'utf8'))).toEqual({
      repository: 'library/app',
    });
    await store.appendUpload(session.id, Readable.from([Buffer.from('layer')]));
    expect(await readFile(join(root, 'uploads', session.id, 'data'), 'utf8')).toBe('layer');
    const digest = digestOf('layer');
    await store.commitUpload(session.id, digest);
    const hex = digestHex(digest);
    expect(await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex), 'utf8')).toBe('layer');
    expect(await readdir(join(root, 'uploads'))).toEqual([]);
  });

  it('creates the root lazily', async () => {
    const lazy = new FsBlobStore({ root: join(root, 'not', 'yet') });
    expect(await lazy.stat(digestOf('x'))).toBeUndefined();
    expect(await collect(lazy.listUploads())).toEqual([]);
    const session = await lazy.startUpload('library/app');
    await lazy.commitUpload(session.id, digestOf(''));
    expect(await lazy.stat(digestOf(''))).toEqual({ digest: digestOf(''), sizeBytes: 0 });
  });

  it('stamps sessions with the injected clock', async () => {
    const clocked = new FsBlobStore({ root, now: () => new Date('2024-05-06T07:08:09.000Z') });
    const session = await clocked.startUpload('library/app');
    expect(session.startedAt).toBe('2024-05-06T07:08:09.000Z');
    expect((await store.getUpload(session.id))?.startedAt).toBe('2024-05-06T07:08:09.000Z');
  });

  it('leaves no temporary files behind after failures', async () => {
    const session = await store.startUpload('library/app');
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
    expect((await readdir(join(root, 'uploads', session.id))).sort()).toEqual([
      'data',
      'info.json',
      'startedat',
    ]);
    expect(await readFile(join(root, 'uploads', session.id, 'data'), 'utf8')).toBe('abc');
    expect(await entries(join(root, 'tmp'))).toEqual([]);

    const cancelled = await store.startUpload('library/app');
    await store.cancelUpload(cancelled.id);
    await store.commitUpload(session.id, digestOf('abc'));
    expect(await entries(join(root, 'uploads'))).toEqual([]);
    expect(await entries(join(root, 'tmp'))).toEqual([]);
  });

  it('never turns an id into a path outside uploads/', async () => {
    // A directory that looks like a session, reachable only through a traversal.
    await mkdir(join(root, 'x'), { recursive: true });
    await writeFile(join(root, 'x', 'data'), 'secret');
    await writeFile(join(root, 'x', 'info.json'), '{"repository":"evil/x"}');
    await writeFile(join(root, 'x', 'startedat'), new Date().toISOString());
    const real = await store.startUpload('library/app');
    for (const id of [
      '../x',
      '../../x',
      `${real.id}/`,
      `${real.id}/../../x`,
      real.id.toUpperCase(),
      ` ${real.id}`,
    ]) {
      expect(await store.getUpload(id)).toBeUndefined();
      const error: unknown = await store.cancelUpload(id).catch((e: unknown) => e);
      expect(isDomainError(error, 'blob.uploadUnknown')).toBe(true);
    }
    expect(await readFile(join(root, 'x', 'data'), 'utf8')).toBe('secret');
    expect(await store.getUpload(real.id)).toBeDefined();
  });

  it('skips malformed session directories when listing', async () => {
    const good = await store.startUpload('library/app');
    const uploads = join(root, 'uploads');
    const noInfo = '00000000-0000-4000-8000-000000000001';
    const badJson = '00000000-0000-4000-8000-000000000002';
    const noData = '00000000-0000-4000-8000-000000000003';
    await mkdir(join(uploads, 'not-a-session'));
    await writeFile(join(uploads, 'stray-file'), '');
    await mkdir(join(uploads, noInfo));
    await writeFile(join(uploads, noInfo, 'data'), '');
    await writeFile(join(uploads, noInfo, 'startedat'), new Date().toISOString());
    await mkdir(join(uploads, badJson));
    await writeFile(join(uploads, badJson, 'data'), '');
    await writeFile(join(uploads, badJson, 'info.json'), '{not json');
    await writeFile(join(uploads, badJson, 'startedat'), new Date().toISOString());
    await mkdir(join(uploads, noData));
    await writeFile(join(uploads, noData, 'info.json'), '{"repository":"library/app"}');
    await writeFile(join(uploads, noData, 'startedat'), new Date().toISOString());
    expect((await collect(store.listUploads())).map((s) => s.id)).toEqual([good.id]);
    expect(await store.getUpload(noData)).toBeUndefined();
  });

  it('re-hashes from disk when another writer changed the session behind its back', async () => {
    const session = await store.startUpload('library/app');
    await store.appendUpload(session.id, Readable.from([Buffer.from('abc')]));
    // Another instance's append, as seen from this one: the file grew, this process's hash did not.
    await writeFile(join(root, 'uploads', session.id, 'data'), 'def', { flag: 'a' });
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
    await writeFile(join(root, 'uploads', session.id, 'data'), 'XXXXXX');
    expect(await store.commitUpload(session.id, digestOf('abcdef'))).toMatchObject({ sizeBytes: 6 });
  });

  it('sweeps what a crash left in tmp/, sparing young entries', async () => {
    const tmp = join(root, 'tmp');
    await mkdir(join(tmp, 'interrupted-discard', 'nested'), { recursive: true });
    await writeFile(join(tmp, 'interrupted-discard', 'data'), 'leftover');
    expect(await store.sweepTemporary(new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.sweepTemporary(new Date(Date.now() + 60_000))).toBe(1);
    expect(await entries(tmp)).toEqual([]);
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

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
