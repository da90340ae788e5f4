import { describe, expect, it } from 'vitest';
import type { ContractFixtures } from './metadata-store.contract.js';
import { CONCURRENT_CALLERS } from './metadata-store-registry.contract.js';
import type { LoginLockSchedule, User } from './metadata-store.js';

/**
 * The MetadataStore contract's user-management half (listing, profiles, the sysadmin flag, Harbor's soft
 * delete) and login throttling, run by describeMetadataStoreContract with its fixtures.
 */
const SCHEDULE: LoginLockSchedule = { threshold: 3, durationsMs: [1_000, 2_000, 4_000] };

export function describeUsersContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createProject, expectDomainError } = fixtures;

  function newUser(username: string, email = `${username}@example.test`): Promise<User> {
    return store().createUser({ username, email, realname: 'R', passwordHash: 'h', sysadmin: false });
  }

  describe('user management', () => {
    it('finds a user by email, and nobody by the empty email', async () => {
      const user = await newUser(uniqueName('mail'));
      expect(await store().findUserByEmail(user.email)).toEqual(user);
      expect(await store().findUserByEmail('nobody@example.test')).toBeUndefined();
      await newUser(uniqueName('noemail'), '');
      expect(await store().findUserByEmail('')).toBeUndefined();
    });

    it('rejects a second user with the same email, but not two without one', async () => {
      const user = await newUser(uniqueName('dupmail'));
      await expectDomainError(newUser(uniqueName('other'), user.email), 'conflict');
      await newUser(uniqueName('blank'), '');
      await newUser(uniqueName('blank'), '');
    });

    it('lists with offset paging, exact and case-insensitive fuzzy filters, and sorting', async () => {
      const prefix = uniqueName('Lst');
      const names = [`${prefix}-b`, `${prefix}-a`, `${prefix}-c%`, `${prefix}-d_`];
      const created = [];
      for (const name of names) created.push(await newUser(name));
      const fuzzy = { value: prefix.toLowerCase(), fuzzy: true };

      const first = await store().listUsers(
        { username: fuzzy, sort: [{ field: 'username', descending: false }] },
        { offset: 0, limit: 2 },
      );
      expect(first.total).toBe(4);
      expect(first.items.map((u) => u.username)).toEqual([`${prefix}-a`, `${prefix}-b`]);
      const second = await store().listUsers(
        { username: fuzzy, sort: [{ field: 'username', descending: false }] },
        { offset: 2, limit: 2 },
      );
      expect(second.items.map((u) => u.username)).toEqual([`${prefix}-c%`, `${prefix}-d_`]);

      const descending = await store().listUsers(
        { username: fuzzy, sort: [{ field: 'username', descending: true }] },
        { offset: 0, limit: 10 },
      );
      expect(descending.items.map((u) => u.username)).toEqual([...names].sort().reverse());

      // Without a sort: by user id, that is creation order.
      const byId = await store().listUsers({ username: fuzzy }, { offset: 0, limit: 10 });
      expect(byId.items.map((u) => u.userId)).toEqual(created.map((u) => u.userId));

      // `%` and `_` are literal in a fuzzy value.
      const percent = await store().listUsers(
        { username: { value: '-c%', fuzzy: true } },
        { offset: 0, limit: 10 },
      );
      expect(percent.items.map((u) => u.username)).toEqual([`${prefix}-c%`]);
      const underscore = await store().listUsers(
        { username: { value: `${prefix}-d_`.toUpperCase(), fuzzy: true } },
        { offset: 0, limit: 10 },
      );
      expect(underscore.items.map((u) => u.username)).toEqual([`${prefix}-d_`]);

      const exact = await store().listUsers(
        { username: { value: `${prefix}-a`, fuzzy: false } },
        { offset: 0, limit: 10 },
      );
      expect(exact.items.map((u) => u.username)).toEqual([`${prefix}-a`]);
      const exactEmail = await store().listUsers(
        { email: { value: `${prefix}-b@example.test`, fuzzy: false } },
        { offset: 0, limit: 10 },
      );
      expect(exactEmail.items.map((u) => u.username)).toEqual([`${prefix}-b`]);

      const excluded = await store().listUsers(
        { username: fuzzy, excludeUserId: created[0]?.userId ?? 0 },
        { offset: 0, limit: 10 },
      );
      expect(excluded.total).toBe(3);
      expect(excluded.items.map((u) => u.username)).not.toContain(`${prefix}-b`);
    });

    it('updates the profile, keeping emails unique', async () => {
      const user = await newUser(uniqueName('profile'));
      const other = await newUser(uniqueName('profile'));
      const profile = { email: `${user.username}.new@example.test`, realname: 'New', comment: 'c' };
      expect(await store().updateUserProfile(user.userId, profile)).toBe(true);
      expect(await store().findUserById(user.userId)).toMatchObject(profile);
      await expectDomainError(
        store().updateUserProfile(other.userId, { ...profile, realname: 'Other' }),
        'conflict',
      );
      expect(await store().updateUserProfile(987_654_321, profile)).toBe(false);
    });

    it('sets and unsets the sysadmin flag', async () => {
      const user = await newUser(uniqueName('admin'));
      expect(await store().setUserSysadmin(user.userId, true)).toBe(true);
      expect((await store().findUserById(user.userId))?.sysadmin).toBe(true);
      expect(await store().setUserSysadmin(user.userId, false)).toBe(true);
      expect((await store().findUserByName(user.username))?.sysadmin).toBe(false);
      expect(await store().setUserSysadmin(987_654_321, true)).toBe(false);
    });

    it('soft-deletes: the user disappears, frees its names, leaves its projects and loses its memberships', async () => {
      const user = await newUser(uniqueName('gone'));
      const owned = await store().createProject({
        name: uniqueName('owned'),
        ownerId: user.userId,
        isPublic: false,
      });
      const joined = await createProject();
      await store().addMember({ projectId: joined.projectId, userId: user.userId, role: 2 });

      expect(await store().deleteUser(user.userId)).toBe(true);
      expect(await store().findUserById(user.userId)).toBeUndefined();
      expect(await store().findUserByName(user.username)).toBeUndefined();
      expect(await store().findUserByEmail(user.email)).toBeUndefined();
      const listed = await store().listUsers(
        { username: { value: user.username, fuzzy: true } },
        { offset: 0, limit: 10 },
      );
      expect(listed.total).toBe(0);
      expect(await store().memberRoles(joined.projectId, user.userId)).toEqual([]);
      expect((await store().findProjectById(owned.projectId))?.ownerId).toBe(user.userId);
      expect(await store().setUserSysadmin(user.userId, true)).toBe(false);
      expect(await store().deleteUser(user.userId)).toBe(false);

      // The names are free again, for a new user with a new id.
      const again = await newUser(user.username);
      expect(again.userId).not.toBe(user.userId);
    });

    it('frees a 255-character username on delete', async () => {
      const long = `${uniqueName('long')}-`.padEnd(255, 'x');
      const user = await newUser(long, '');
      expect(await store().deleteUser(user.userId)).toBe(true);
      expect((await newUser(long, '')).username).toBe(long);
    });

    it('returns false when deleting an unknown user', async () => {
      expect(await store().deleteUser(987_654_321)).toBe(false);
    });
  });

  describe('login attempts', () => {
    it('counts attempts, locks at the threshold, refuses while locked, then locks longer', async () => {
      const name = uniqueName('guess');
      const t = 1_000_000;
      expect(await store().beginLoginAttempt(name, t, SCHEDULE)).toEqual({ attempts: 1 });
      expect(await store().beginLoginAttempt(name, t, SCHEDULE)).toEqual({ attempts: 2 });
      // The third attempt is counted and sets the lock before its password is even checked.
      expect(await store().beginLoginAttempt(name, t, SCHEDULE)).toEqual({ attempts: 3 });
      expect(await store().beginLoginAttempt(name, t + 999, SCHEDULE)).toEqual({ lockedUntilMs: t + 1_000 });
      // Refused attempts are not counted: once the lock passes, the next attempt is the fourth.
      expect(await store().beginLoginAttempt(name, t + 1_000, SCHEDULE)).toEqual({ attempts: 4 });
      expect(await store().beginLoginAttempt(name, t + 1_001, SCHEDULE)).toEqual({
        lockedUntilMs: t + 3_000,
      });
      expect(await store().beginLoginAttempt(name, t + 3_000, SCHEDULE)).toEqual({ attempts: 5 });
      expect(await store().beginLoginAttempt(name, t + 7_000, SCHEDULE)).toEqual({ attempts: 6 });
      // Past the last step, the last duration repeats.
      expect(await store().beginLoginAttempt(name, t + 7_001, SCHEDULE)).toEqual({
        lockedUntilMs: t + 11_000,
      });
    });

    it('clears the count after a success', async () => {
      const name = uniqueName('success');
      for (let i = 0; i < 3; i++) await store().beginLoginAttempt(name, 5_000, SCHEDULE);
      expect(await store().beginLoginAttempt(name, 5_001, SCHEDULE)).toHaveProperty('lockedUntilMs');
      await store().clearLoginAttempts(name);
      expect(await store().beginLoginAttempt(name, 5_002, SCHEDULE)).toEqual({ attempts: 1 });
    });

    it('lets exactly `threshold` of many concurrent attempts through', async () => {
      const name = uniqueName('burst');
      const outcomes = await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, () => store().beginLoginAttempt(name, 9_000, SCHEDULE)),
      );
      const counted = outcomes.filter((outcome) => 'attempts' in outcome);
      expect(counted.map((outcome) => ('attempts' in outcome ? outcome.attempts : 0)).sort()).toEqual([
        1, 2, 3,
      ]);
      expect(outcomes.filter((outcome) => 'lockedUntilMs' in outcome)).toHaveLength(CONCURRENT_CALLERS - 3);
    });

    it('prunes counts that are old and unlocked, and keeps the rest', async () => {
      const old = uniqueName('old');
      const recent = uniqueName('recent');
      const locked = uniqueName('locked');
      const lockedSchedule: LoginLockSchedule = { threshold: 1, durationsMs: [10_000_000] };
      await store().beginLoginAttempt(old, 1_000, SCHEDULE);
      await store().beginLoginAttempt(locked, 1_000, lockedSchedule);
      await store().beginLoginAttempt(recent, 3_000_000, SCHEDULE);
      expect(await store().pruneLoginAttempts(2_000_000)).toBeGreaterThanOrEqual(1);
      // The pruned count starts again from one; the others go on.
      expect(await store().beginLoginAttempt(old, 3_000_000, SCHEDULE)).toEqual({ attempts: 1 });
      expect(await store().beginLoginAttempt(recent, 3_000_000, SCHEDULE)).toEqual({ attempts: 2 });
      expect(await store().beginLoginAttempt(locked, 3_000_000, lockedSchedule)).toEqual({
        lockedUntilMs: 10_001_000,
      });
    });
  });
}
