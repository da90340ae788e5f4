import type { Identity } from '../iam/principal.js';
import type { OverviewStore } from '../../ports/metadata-store.js';
import { requireAuthenticated } from '../iam/refusal.js';

/** Harbor's `Statistic`: counts of projects and repositories, and the storage they take. */
export interface Statistic {
  privateProjectCount: number;
  privateRepoCount: number;
  publicProjectCount: number;
  publicRepoCount: number;
  totalProjectCount: number;
  totalRepoCount: number;
  totalStorageConsumption: number;
}

/**
 * GET /statistics as Harbor computes it (src/server/v2.0/handler/statistic.go): everyone authenticated
 * sees the public counts; a system administrator also every private project and the totals; a user the
 * private projects they are a member of, with the totals left at 0. A robot account is no user: it sees
 * the public counts only, as in Harbor, whose robot security context is not a local user's.
 */
export class StatisticsService {
  readonly #store: OverviewStore;

  constructor(options: { store: OverviewStore }) {
    this.#store = options.store;
  }

  async statistic(identity: Identity): Promise<Statistic> {
    requireAuthenticated(identity);
    const visible = await this.#store.countProjects({ kind: 'public' });
    const statistic: Statistic = {
      privateProjectCount: 0,
      privateRepoCount: 0,
      publicProjectCount: visible.projects,
      publicRepoCount: visible.repositories,
      totalProjectCount: 0,
      totalRepoCount: 0,
      totalStorageConsumption: 0,
    };
    if (identity.kind !== 'user') return statistic;
    if (identity.sysadmin) {
      const all = await this.#store.countProjects({ kind: 'all' });
      statistic.totalProjectCount = all.projects;
      statistic.totalRepoCount = all.repositories;
      // Two reads: a project made public between them must not make a count negative.
      statistic.privateProjectCount = Math.max(0, all.projects - visible.projects);
      statistic.privateRepoCount = Math.max(0, all.repositories - visible.repositories);
      statistic.totalStorageConsumption = await this.#store.totalStorageBytes();
      return statistic;
    }
    const own = await this.#store.countProjects({ kind: 'privateMember', userId: identity.userId });
    statistic.privateProjectCount = own.projects;
    statistic.privateRepoCount = own.repositories;
    return statistic;
  }
}
