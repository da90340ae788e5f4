import type { OffsetPage, Paged } from './metadata-store.js';

/**
 * Project storage quotas as Harbor's `/quotas` API shows them: one quota per project, its id the project
 * id. The accounting itself is part of the registry writes (MetadataStore `linkBlob`, `unlinkBlob`,
 * `putManifest`, `deleteManifest`), in the transaction of the change that causes it:
 *
 * - Usage is the sum of the sizes of the distinct digests (blobs and manifests) held by the project's
 *   repositories: a digest counts once per project however many repositories hold it, and again in every
 *   other project. `project_blobs` lists them; `projects.storage_used` is their sum.
 * - A write that makes a digest new to the project adds its size only if usage + size stays within a limit
 *   >= 0; otherwise it throws `quota.exceeded` (Harbor's message) and the transaction rolls back, link
 *   included. Removing the last holder of a digest in the project subtracts its size.
 * - Every such write locks the project's row first (PostgreSQL `FOR UPDATE`; SQLite serialises writers),
 *   so concurrent pushes, mounts and deletes in one project apply one at a time and usage stays exact.
 */
export type QuotaSortField = 'creation_time' | 'update_time' | 'hard.storage' | 'used.storage';

export interface QuotaQuery {
  /** Only this project's quota. */
  projectId?: number;
  /** In this order (an unlimited hard limit sorts above every number, as in Harbor); then by id. */
  sort?: { field: QuotaSortField; descending: boolean }[];
}

export interface ProjectQuota {
  /** The quota id, which is the project id. */
  projectId: number;
  projectName: string;
  ownerName: string;
  /** Bytes; -1 is unlimited. */
  storageLimitBytes: number;
  storageUsedBytes: number;
  createdAt: string;
  /** When the limit or the usage last changed (the project's creation until then). */
  updatedAt: string;
}

export interface QuotaStore {
  /** Quotas, newest project first unless sorted otherwise. */
  listQuotas(query: QuotaQuery, page: OffsetPage): Promise<Paged<ProjectQuota>>;
  findQuota(projectId: number): Promise<ProjectQuota | undefined>;
  /**
   * Sets the hard limit (-1 or > 0). A limit below the current usage is accepted, as in Harbor: later
   * pushes that add storage are refused until usage falls. Returns whether the project exists.
   */
  setStorageLimit(projectId: number, limitBytes: number): Promise<boolean>;
}
