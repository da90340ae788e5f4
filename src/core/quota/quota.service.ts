import { DomainError } from '../errors.js';
import type { Authorizer } from '../iam/access.policy.js';
import type { Identity } from '../iam/principal.js';
import type { OffsetPage, Paged } from '../../ports/metadata-store.js';
import type { ProjectQuota, QuotaQuery, QuotaStore } from '../../ports/quota-store.js';
import { parseStorageLimit } from './storage-quota.js';
import { refusal } from '../iam/refusal.js';

/**
 * Harbor's `/quotas` (src/server/v2.0/handler/quota.go): system administrators, and system robots granted
 * `quota`, read and change project quotas; project members see their own project's quota through the
 * project summary instead. Anonymous callers are asked to authenticate, others are denied.
 */
export class QuotaService {
  readonly #store: QuotaStore;
  readonly #authorizer: Authorizer;

  constructor(options: { store: QuotaStore; authorizer: Authorizer }) {
    this.#store = options.store;
    this.#authorizer = options.authorizer;
  }

  async listQuotas(identity: Identity, query: QuotaQuery, page: OffsetPage): Promise<Paged<ProjectQuota>> {
    this.authorize(identity, 'list');
    return this.#store.listQuotas(query, page);
  }

  async getQuota(identity: Identity, id: number): Promise<ProjectQuota> {
    this.authorize(identity, 'read');
    const quota = await this.#store.findQuota(id);
    if (quota === undefined) throw new DomainError('resource.notFound', `quota ${id} not found`);
    return quota;
  }

  /** Sets the storage limit from Harbor's `hard` list. Lowering it below the usage is allowed, as in Harbor. */
  async updateQuota(identity: Identity, id: number, hard: unknown): Promise<void> {
    this.authorize(identity, 'update');
    // Harbor's order: a missing body first, then the quota's existence, then the values.
    if (hard === null || typeof hard !== 'object' || Object.keys(hard).length === 0) {
      throw new DomainError('request.invalid', 'hard required in body');
    }
    if ((await this.#store.findQuota(id)) === undefined) {
      throw new DomainError('resource.notFound', `quota ${id} not found`);
    }
    const limit = parseStorageLimit(hard);
    if (!(await this.#store.setStorageLimit(id, limit))) {
      throw new DomainError('resource.notFound', `quota ${id} not found`);
    }
  }

  /** Refuses callers who may not `action` quotas; routes call it before reading the request's values. */
  authorize(identity: Identity, action: 'list' | 'read' | 'update'): void {
    if (this.#authorizer.canSystem(identity, 'quota', action)) return;
    throw refusal(identity, `${action} on quota`);
  }
}
