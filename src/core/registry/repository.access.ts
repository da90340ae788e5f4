import { DomainError } from '../errors.js';
import { grants, mustAuthenticate, type Authorizer } from '../iam/access.policy.js';
import type { Principal, RepositoryAction } from '../iam/principal.js';
import { isValidRepositoryName, parseRepositoryName } from '../oci/names.js';
import type { MetadataStore, Project } from '../../ports/metadata-store.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Resolves a repository name for an action by a principal: validates the name, finds its project, checks
 * access. Anonymous callers are told to authenticate (auth.unauthorized) rather than denied, so clients
 * follow the challenge, and so are token bearers whose token lacks the scope (they fetch another);
 * authenticated users without the right get access.denied. A project that does not exist answers only
 * after authorization, so its existence is not revealed to strangers.
 */
export interface RepositoryTarget {
  name: string;
  project: Project;
}

export class RepositoryAccess {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;
  readonly #authorizer: Authorizer;

  constructor(options: { store: MetadataStore; cache: RegistryCache; authorizer: Authorizer }) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#authorizer = options.authorizer;
  }

  #project(name: string): Promise<Project | undefined> {
    return this.#cache.project(name, () => this.#store.findProjectByName(name));
  }

  async authorize(principal: Principal, name: string, action: RepositoryAction): Promise<RepositoryTarget> {
    const parsed = parseRepositoryName(name);
    const project = await this.#project(parsed.project);
    if (project && (await this.#authorizer.canAccessRepository(principal, name, project, action))) {
      return { name, project };
    }
    if (principal.kind === 'token') {
      throw new DomainError('auth.unauthorized', `the token does not grant ${action} on "${name}"`);
    }
    if (mustAuthenticate(principal)) throw new DomainError('auth.unauthorized', 'authentication required');
    if (!project && principal.kind === 'user' && principal.sysadmin) {
      throw new DomainError(
        'project.notFound',
        `project "${parsed.project}" not found: create it first (POST /api/v2.0/projects)`,
      );
    }
    throw new DomainError('access.denied', `requested access to "${name}" is denied`);
  }

  /** Whether the principal may pull from `name`; false (never an error) for invalid names and missing projects. */
  async canPull(principal: Principal, name: string): Promise<boolean> {
    if (!isValidRepositoryName(name) || !name.includes('/')) return false;
    const project = await this.#project(parseRepositoryName(name).project);
    if (project === undefined) return false;
    return this.#authorizer.canAccessRepository(principal, name, project, 'pull');
  }

  /**
   * Whether `from`, the source a client named for a mount, may be read. A token that does not grant pull
   * on it is answered 401 rather than with a plain upload session, as distribution does: the challenge
   * names the source's scope, so the client fetches a token that covers it and tries again. Other callers
   * who may not read it get no mount (a session), as before.
   */
  async mountSource(principal: Principal, from: string): Promise<boolean> {
    if (
      principal.kind === 'token' &&
      isValidRepositoryName(from) &&
      !grants(principal.access, 'repository', from, 'pull')
    ) {
      throw new DomainError(
        'auth.unauthorized',
        `the token does not grant pull on "${from}", the mount source`,
      );
    }
    return this.canPull(principal, from);
  }
}
