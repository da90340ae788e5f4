import { DomainError } from '../errors.js';
import { canAccessRepository } from '../iam/access.policy.js';
import type { Principal, RepositoryAction } from '../iam/principal.js';
import { parseRepositoryName } from '../oci/names.js';
import type { MetadataStore, Project } from '../../ports/metadata-store.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Resolves a repository name for an action by a principal: validates the name, finds its project, checks
 * access. Anonymous callers are told to authenticate (auth.unauthorized) rather than denied, so clients
 * follow the challenge; authenticated callers without the right get access.denied. A project that does not
 * exist answers only after authorization, so its existence is not revealed to strangers.
 */
export interface RepositoryTarget {
  name: string;
  project: Project;
}

export class RepositoryAccess {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;

  constructor(options: { store: MetadataStore; cache: RegistryCache }) {
    this.#store = options.store;
    this.#cache = options.cache;
  }

  async authorize(principal: Principal, name: string, action: RepositoryAction): Promise<RepositoryTarget> {
    const parsed = parseRepositoryName(name);
    const project = await this.#cache.project(parsed.project, () =>
      this.#store.findProjectByName(parsed.project),
    );
    if (!project || !canAccessRepository(principal, project, action)) {
      if (principal.kind === 'anonymous') {
        throw new DomainError('auth.unauthorized', 'authentication required');
      }
      if (!project && principal.sysadmin) {
        throw new DomainError(
          'project.notFound',
          `project "${parsed.project}" not found: create it first (POST /api/v2.0/projects)`,
        );
      }
      throw new DomainError('access.denied', `requested access to "${name}" is denied`);
    }
    return { name, project };
  }
}
