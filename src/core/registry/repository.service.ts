import { DomainError } from '../errors.js';
import type { RepositoryDetail, RepositoryQuery } from '../../ports/artifact-store.js';
import type { MetadataStore, OffsetPage, Paged } from '../../ports/metadata-store.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Harbor's repositories (src/controller/repository): listing with artifact counts, reading, the
 * description, and deletion of a repository with everything in it. Callers have authorized the request.
 */
export const MAX_DESCRIPTION_LENGTH = 1024 * 1024;

export class RepositoryService {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;

  constructor(options: { store: MetadataStore; cache: RegistryCache }) {
    this.#store = options.store;
    this.#cache = options.cache;
  }

  list(query: RepositoryQuery, page: OffsetPage): Promise<Paged<RepositoryDetail>> {
    return this.#store.listRepositoryDetails(query, page);
  }

  /** The repository `name` (full) of the project, or 404. */
  async get(projectId: number, name: string): Promise<RepositoryDetail> {
    const repository = await this.#store.findRepositoryDetail(name);
    if (repository === undefined || repository.projectId !== projectId) {
      throw new DomainError('name.unknown', `repository ${name.slice(0, 300)} not found`);
    }
    return repository;
  }

  async updateDescription(projectId: number, name: string, description: string): Promise<void> {
    if (description.length > MAX_DESCRIPTION_LENGTH) {
      throw new DomainError(
        'request.invalid',
        `description is longer than ${MAX_DESCRIPTION_LENGTH} characters`,
      );
    }
    const repository = await this.get(projectId, name);
    if (!(await this.#store.updateRepositoryDescription(repository.repositoryId, description))) {
      throw new DomainError('name.unknown', `repository ${name.slice(0, 300)} not found`);
    }
  }

  /**
   * Deletes the repository, its artifacts, tags and blob links in one store call (one transaction); the
   * blobs' bytes go with garbage collection. The pull cache forgets all of it.
   */
  async delete(projectId: number, name: string): Promise<void> {
    const repository = await this.get(projectId, name);
    this.#cache.beforeWrite();
    const deleted = await this.#store.deleteRepository(repository.repositoryId);
    this.#cache.forgetRepository(name, repository.repositoryId);
    await this.#cache.settled();
    if (deleted === undefined)
      throw new DomainError('name.unknown', `repository ${name.slice(0, 300)} not found`);
  }
}
