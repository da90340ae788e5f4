import { DomainError } from '../errors.js';
import type { Identity } from '../iam/principal.js';
import type {
  OverviewStore,
  Project,
  ProjectQuery,
  ProjectScope,
  ProjectStore,
  RepositorySearchHit,
} from '../../ports/metadata-store.js';

/**
 * Harbor lists every match (src/server/v2.0/handler/search.go); Berth stops at this many of each kind, by
 * name, so a one-letter query cannot make one request read a whole registry.
 */
export const SEARCH_LIMIT = 100;
/** Longer than any project or repository name Harbor accepts (255): nothing longer can match. */
const MAX_QUERY_LENGTH = 512;

export interface SearchResult {
  projects: Project[];
  repositories: RepositorySearchHit[];
}

/**
 * GET /search: projects and repositories whose names contain the text (literally; repositories by their
 * full `project/path` name), among those the caller may see. System administrators see all; a user the
 * public projects and those they are a member of; anyone else (anonymous callers, and robot accounts, as
 * in Harbor) the public ones.
 */
export class SearchService {
  readonly #store: OverviewStore & Pick<ProjectStore, 'listProjects'>;

  constructor(options: { store: OverviewStore & Pick<ProjectStore, 'listProjects'> }) {
    this.#store = options.store;
  }

  async search(identity: Identity, text: string): Promise<SearchResult> {
    if (text === '') throw new DomainError('request.invalid', 'q is required');
    if (text.length > MAX_QUERY_LENGTH) {
      throw new DomainError('request.invalid', `q must be at most ${MAX_QUERY_LENGTH} characters`);
    }
    const scope = scopeOf(identity);
    const [projects, repositories] = await Promise.all([
      this.#store.listProjects(
        { ...projectQueryOf(scope), name: { value: text, fuzzy: true } },
        { offset: 0, limit: SEARCH_LIMIT },
      ),
      this.#store.searchRepositories(scope, text, SEARCH_LIMIT),
    ]);
    return { projects: projects.items, repositories };
  }
}

function scopeOf(identity: Identity): ProjectScope {
  if (identity.kind !== 'user') return { kind: 'public' };
  return identity.sysadmin ? { kind: 'all' } : { kind: 'visibleTo', userId: identity.userId };
}

/** The same scope as a project listing's filter. */
function projectQueryOf(scope: ProjectScope): ProjectQuery {
  switch (scope.kind) {
    case 'all':
      return {};
    case 'public':
      return { isPublic: true };
    case 'visibleTo':
      return { visibleTo: { memberUserId: scope.userId, withPublic: true } };
    case 'privateMember':
      return { isPublic: false, visibleTo: { memberUserId: scope.userId, withPublic: false } };
  }
}
