import { DomainError } from '../errors.js';
import type { Authorizer } from '../iam/access.policy.js';
import type { Principal } from '../iam/principal.js';
import { isValidProjectName } from '../oci/names.js';
import type { MetadataStore, Project } from '../../ports/metadata-store.js';

/** Projects: the namespaces that own repositories (Harbor's project model). */
export interface ProjectRequest {
  name: string;
  isPublic: boolean;
  metadata: Record<string, string>;
  /** Bytes; -1 is unlimited. */
  storageLimitBytes: number;
}

export class ProjectService {
  readonly #store: MetadataStore;
  readonly #creationRestriction: 'adminonly' | 'everyone';
  readonly #authorizer: Authorizer;

  constructor(options: {
    store: MetadataStore;
    creationRestriction: 'adminonly' | 'everyone';
    authorizer: Authorizer;
  }) {
    this.#store = options.store;
    this.#creationRestriction = options.creationRestriction;
    this.#authorizer = options.authorizer;
  }

  async createProject(principal: Principal, request: ProjectRequest): Promise<Project> {
    // Only a user can own a project; bearer tokens are registry credentials, never accepted here.
    if (principal.kind !== 'user') throw new DomainError('auth.unauthorized', 'authentication required');
    if (!this.#authorizer.canCreateProject(principal, this.#creationRestriction)) {
      throw new DomainError('access.denied', 'only system administrators may create projects');
    }
    if (!isValidProjectName(request.name)) {
      throw new DomainError(
        'project.invalid',
        `invalid project name "${request.name.slice(0, 300)}": lowercase letters, digits and ._- only`,
      );
    }
    return this.#store.createProject({
      name: request.name,
      ownerId: principal.userId,
      isPublic: request.isPublic,
      metadata: { ...request.metadata, public: String(request.isPublic) },
      storageLimitBytes: request.storageLimitBytes,
    });
  }

  findProject(nameOrId: string | number): Promise<Project | undefined> {
    return typeof nameOrId === 'number'
      ? this.#store.findProjectById(nameOrId)
      : this.#store.findProjectByName(nameOrId);
  }
}
