import type { AuthService } from '../core/iam/auth.service.js';
import type { Credentials } from '../core/iam/user.service.js';
import type { CacheInvalidationBus } from '../ports/cache-invalidation.js';

/**
 * AuthService remembers verified Basic credentials for a few minutes. Forgetting them (a password change,
 * a deleted or disabled user or robot, a new robot secret) must happen on every instance, not only on the
 * one that made the change: in HA each `forget` is also published on the invalidation bus as
 * `auth:<name>` (`auth:*` for everyone) and applied by every instance. While the bus is not live the
 * cache's own TTL bounds what is remembered, and everything is forgotten when the bus is live again.
 *
 * The publication is not awaited (`forget` is synchronous for its callers): another instance forgets a
 * few milliseconds after the change is committed.
 */
const PREFIX = 'auth:';
const EVERYONE = `${PREFIX}*`;

export interface ClusterCredentials extends Credentials {
  /** Stops listening to the bus. */
  close(): void;
}

export function clusterCredentials(
  auth: AuthService,
  bus: CacheInvalidationBus | undefined,
): ClusterCredentials {
  const unsubscribe = bus?.subscribe({
    invalidate: (keys) => {
      for (const key of keys) {
        if (!key.startsWith(PREFIX)) continue;
        if (key === EVERYONE) auth.forget();
        else auth.forget(key.slice(PREFIX.length));
      }
    },
    invalidateAll: () => auth.forget(),
    liveChanged: (live) => {
      if (live) auth.forget();
    },
  });
  return {
    verifyBasic: (username, password) => auth.verifyBasic(username, password),
    forget(username) {
      auth.forget(username);
      void bus?.publish([username === undefined ? EVERYONE : `${PREFIX}${username}`]);
    },
    close: () => unsubscribe?.(),
  };
}
