import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore } from './session-store.js';

/**
 * The behavioural suite every SessionStore must pass (the database adapter on SQLite and PostgreSQL
 * today, Redis in HA later). `open` returns an empty, ready store; `cleanup` closes what it opened.
 * Expiry is asked for with explicit times, so a store with native expiry must honour `nowMs` in `find`.
 */
export interface SessionStoreUnderTest {
  store: SessionStore;
  cleanup: () => Promise<void>;
}

const key = () => randomBytes(32).toString('hex');

export function describeSessionStoreContract(name: string, open: () => Promise<SessionStoreUnderTest>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let underTest: SessionStoreUnderTest | undefined;
    const store = (): SessionStore => {
      if (!underTest) throw new Error('the store under test did not open');
      return underTest.store;
    };
    // Real time, so a store whose expiry is native (Redis) sees the same clock.
    const now = () => Date.now();

    beforeAll(async () => {
      underTest = await open();
    });
    afterAll(async () => {
      await underTest?.cleanup();
    });

    it('keeps a session until its expiry and not a moment past it', async () => {
      const k = key();
      const t = now();
      await store().put(k, '{"a":1}', t + 60_000);
      expect(await store().find(k, t)).toEqual({ data: '{"a":1}', expiresAtMs: t + 60_000 });
      expect(await store().find(k, t + 59_999)).toBeDefined();
      expect(await store().find(k, t + 60_000)).toBeUndefined();
    });

    it('returns undefined for an unknown key', async () => {
      expect(await store().find(key(), now())).toBeUndefined();
    });

    it('replaces a session put again under the same key', async () => {
      const k = key();
      const t = now();
      await store().put(k, 'one', t + 1_000);
      await store().put(k, 'two', t + 2_000);
      expect(await store().find(k, t)).toEqual({ data: 'two', expiresAtMs: t + 2_000 });
    });

    it('slides the expiry with touch', async () => {
      const k = key();
      const t = now();
      await store().put(k, 'slide', t + 1_000);
      expect(await store().touch(k, t + 120_000)).toBe(true);
      expect(await store().find(k, t + 60_000)).toEqual({ data: 'slide', expiresAtMs: t + 120_000 });
      expect(await store().touch(key(), t + 1_000)).toBe(false);
    });

    it('updates the data and keeps the expiry', async () => {
      const k = key();
      const t = now();
      await store().put(k, 'before', t + 60_000);
      expect(await store().update(k, 'after')).toBe(true);
      expect(await store().find(k, t)).toEqual({ data: 'after', expiresAtMs: t + 60_000 });
      expect(await store().update(key(), 'nothing')).toBe(false);
    });

    it('deletes a session, and deleting an unknown one does nothing', async () => {
      const k = key();
      await store().put(k, 'bye', now() + 60_000);
      await store().delete(k);
      expect(await store().find(k, now())).toBeUndefined();
      await store().delete(key());
    });

    it('removes expired sessions and keeps live ones', async () => {
      const expired = key();
      const live = key();
      const t = now();
      await store().put(expired, 'old', t + 10);
      await store().put(live, 'new', t + 60_000);
      expect(await store().deleteExpired(t + 1_000)).toBeGreaterThanOrEqual(1);
      expect(await store().find(live, t + 1_000)).toBeDefined();
      // Gone from the store itself, not only filtered out.
      expect(await store().touch(expired, t + 120_000)).toBe(false);
    });
  });
}
