import { describeCacheInvalidationContract } from '../../ports/cache-invalidation.contract.js';
import { describeDistributedLockContract } from '../../ports/distributed-lock.contract.js';
import { InProcessInvalidationBus } from './in-process-invalidation.bus.js';
import { InProcessLock } from './in-process.lock.js';

/** Embedded mode's lock and bus against the ports' contracts; `client()`/`endpoint()` play second instances. */
describeDistributedLockContract('in-process', () => {
  const first = new InProcessLock();
  return Promise.resolve({ first, second: first.client(), cleanup: () => Promise.resolve() });
});

describeCacheInvalidationContract('in-process', () => {
  const first = new InProcessInvalidationBus();
  return Promise.resolve({
    first,
    second: first.endpoint(),
    isolated: new InProcessInvalidationBus(),
    cleanup: () => Promise.resolve(),
  });
});
