import type { FastifyInstance } from 'fastify';
import type { ProjectQuota, QuotaSortField } from '../../ports/quota-store.js';
import type { HttpDeps } from '../http-deps.js';
import { apiIdentity } from './api-access.js';
import { offsetPage, readPaging, readSort, setPageHeaders } from './api-query.js';
import { positiveId } from './api-input.js';
import { objectBody } from './project-ref.js';

/**
 * Harbor's `/quotas` (swagger tag `quota`): list, read and set project storage quotas. The quota id is the
 * project id; `reference` is always `project`. Who may call them is QuotaService's rule.
 */
const SORT_FIELDS: readonly QuotaSortField[] = [
  'creation_time',
  'update_time',
  'hard.storage',
  'used.storage',
];

/** Harbor's `Quota` model (swagger definitions/Quota). */
function toHarborQuota(quota: ProjectQuota): Record<string, unknown> {
  return {
    id: quota.projectId,
    ref: { id: quota.projectId, name: quota.projectName, owner_name: quota.ownerName },
    hard: { storage: quota.storageLimitBytes },
    used: { storage: quota.storageUsedBytes },
    creation_time: quota.createdAt,
    update_time: quota.updatedAt,
  };
}

export function registerQuotaRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/quotas', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    deps.quotas.authorize(identity, 'list');
    const listing = readPaging(request);
    const sort = readSort(listing.query, SORT_FIELDS).map((key) => ({
      field: key.field as QuotaSortField,
      descending: key.descending,
    }));
    const reference = listing.query.get('reference');
    const referenceId = listing.query.get('reference_id');
    // Harbor compares both as strings: another reference type or a non-numeric id matches no quota.
    const projectId =
      referenceId === null || referenceId === ''
        ? undefined
        : /^\d{1,10}$/.test(referenceId)
          ? Number(referenceId)
          : -1;
    const matchesNothing =
      (reference !== null && reference !== '' && reference !== 'project') || projectId === -1;
    const page = await deps.quotas.listQuotas(
      identity,
      { sort, ...(matchesNothing ? { projectId: -1 } : projectId === undefined ? {} : { projectId }) },
      offsetPage(listing),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborQuota));
  });

  app.get<{ Params: { id: string } }>('/api/v2.0/quotas/:id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    deps.quotas.authorize(identity, 'read');
    const id = positiveId(request.params.id, 'id');
    reply.send(toHarborQuota(await deps.quotas.getQuota(identity, id)));
  });

  app.put<{ Params: { id: string } }>('/api/v2.0/quotas/:id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    deps.quotas.authorize(identity, 'update');
    const id = positiveId(request.params.id, 'id');
    const body = objectBody(request, 'QuotaUpdateReq');
    await deps.quotas.updateQuota(identity, id, body['hard']);
    reply.code(200).send();
  });
}
