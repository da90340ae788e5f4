import { DomainError } from '../errors.js';
import type { Authorizer } from '../iam/access.policy.js';
import type { Identity, Principal } from '../iam/principal.js';
import { PROJECT_ROLES, type RoleId } from '../iam/rbac.js';
import { isValidProjectName } from '../oci/names.js';
import type { RegistryCache } from '../registry/registry.cache.js';
import type {
  MetadataStore,
  OffsetPage,
  Paged,
  Project,
  ProjectDetail,
  ProjectQuery,
  ProjectUpdate,
} from '../../ports/metadata-store.js';
import { cveAllowlistFromRequest } from './cve-allowlist.js';
import { metadataApiEntry, metadataApiValue, projectRequestMetadata } from './project-metadata.js';

/** The quota of a new project unless a system admin sets one: unlimited (Harbor's storage_per_project default). */
const DEFAULT_STORAGE_LIMIT = -1;

/**
 * Projects: the namespaces that own repositories (Harbor's project model). Who may call what is decided
 * at the HTTP edge with the Authorizer; this service keeps the rules of the data: visibility in listings,
 * metadata validation, the creator's membership, deletion only when empty, and the pull path's cache
 * entry dropped on every change, so a project made private stops anonymous pulls at once.
 */
export interface ProjectRequest {
  name: string;
  /** The deprecated top-level `public` of ProjectReq; `metadata.public` wins when both are given. */
  isPublic?: boolean;
  /** ProjectReq `metadata`, unvalidated. */
  metadata?: Record<string, unknown>;
  /** ProjectReq `cve_allowlist`, unvalidated. */
  cveAllowlist?: unknown;
  /** Bytes; -1 is unlimited, 0 the default. Applied for system admins only. */
  storageLimitBytes: number;
}

/** The changes of a ProjectReq on update (Harbor's UpdateProject applies metadata and cve_allowlist). */
export interface ProjectChangeRequest {
  isPublic?: boolean;
  metadata?: Record<string, unknown>;
  cveAllowlist?: unknown;
}

/** A project as the API shows it to one caller: its details and the roles the caller holds in it. */
export interface ProjectView {
  project: Project;
  detail: ProjectDetail;
  roles: RoleId[];
}

export interface Deletable {
  deletable: boolean;
  message: string;
}

export class ProjectService {
  readonly #store: MetadataStore;
  readonly #creationRestriction: 'adminonly' | 'everyone';
  readonly #authorizer: Authorizer;
  readonly #cache: RegistryCache;

  constructor(options: {
    store: MetadataStore;
    creationRestriction: 'adminonly' | 'everyone';
    authorizer: Authorizer;
    cache: RegistryCache;
  }) {
    this.#store = options.store;
    this.#creationRestriction = options.creationRestriction;
    this.#authorizer = options.authorizer;
    this.#cache = options.cache;
  }

  /** Creates the project with the creator as its ProjectAdmin member, as Harbor does, in one transaction. */
  async createProject(principal: Principal, request: ProjectRequest): Promise<Project> {
    // Only a user can own a project; bearer tokens are registry credentials, never accepted here.
    if (principal.kind === 'robot') {
      throw new DomainError('access.denied', 'robot accounts cannot create projects in Berth yet');
    }
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
    const metadata = projectRequestMetadata(request.metadata);
    const isPublic =
      metadata['public'] === undefined ? (request.isPublic ?? false) : metadata['public'] === 'true';
    // Validated before anything is written. Its project_id cannot name a project that does not exist yet,
    // so it is not checked (Harbor ignores the allowlist on create altogether; Berth keeps it).
    const given = request.cveAllowlist;
    const cveAllowlist =
      given === undefined || given === null
        ? undefined
        : cveAllowlistFromRequest(
            typeof given === 'object' && !Array.isArray(given) ? { ...given, project_id: 0 } : given,
            0,
          );
    return this.#store.transaction(async (tx) => {
      const project = await tx.createProject({
        name: request.name,
        ownerId: principal.userId,
        isPublic,
        metadata: { ...metadata, public: String(isPublic) },
        // Harbor: only a system admin chooses the quota, and 0 means the default; anyone else gets the
        // default, so that no user can give their project more room than the registry grants.
        storageLimitBytes:
          principal.sysadmin && request.storageLimitBytes !== 0
            ? request.storageLimitBytes
            : DEFAULT_STORAGE_LIMIT,
      });
      await tx.addMember({
        projectId: project.projectId,
        userId: principal.userId,
        role: PROJECT_ROLES.projectAdmin,
      });
      if (cveAllowlist === undefined) return project;
      return (await tx.updateProject(project.projectId, { cveAllowlist })) ?? project;
    });
  }

  findProject(nameOrId: string | number): Promise<Project | undefined> {
    return typeof nameOrId === 'number'
      ? this.#store.findProjectById(nameOrId)
      : this.#store.findProjectByName(nameOrId);
  }

  /**
   * Harbor's listing visibility (handler/project.go ListProjects): whoever may list projects system-wide
   * sees all; a user sees the public ones and those they are a member of (only the latter when asking for
   * `public=false`); a robot its permissions' projects and the public ones; anonymous callers only public
   * projects, and nothing when asking for private ones.
   */
  listProjects(identity: Identity, query: ProjectQuery, page: OffsetPage): Promise<Paged<Project>> {
    const visible = { ...query };
    delete visible.visibleTo;
    if (this.#authorizer.canSystem(identity, 'project', 'list')) {
      return this.#store.listProjects(visible, page);
    }
    const withPublic = query.isPublic !== false;
    switch (identity.kind) {
      case 'anonymous':
        if (query.isPublic === false) return Promise.resolve({ items: [], total: 0 });
        return this.#store.listProjects({ ...visible, isPublic: true }, page);
      case 'user':
        return this.#store.listProjects(
          { ...visible, visibleTo: { memberUserId: identity.userId, withPublic } },
          page,
        );
      case 'robot': {
        const namespaces = identity.permissions
          .filter((permission) => permission.kind === 'project')
          .map((permission) => permission.namespace);
        if (namespaces.includes('*')) return this.#store.listProjects(visible, page);
        return this.#store.listProjects({ ...visible, visibleTo: { names: namespaces, withPublic } }, page);
      }
    }
  }

  /** The projects with their details and the caller's roles, in the order given. */
  async views(identity: Identity, projects: readonly Project[]): Promise<ProjectView[]> {
    const details = await this.#store.projectDetails(projects.map((project) => project.projectId));
    return Promise.all(
      projects.map(async (project) => ({
        project,
        detail: details.get(project.projectId) ?? {
          // Deleted between the two reads: shown as it was, with nothing in it.
          ownerName: '',
          repositoryCount: 0,
          cveAllowlist: { items: [], expiresAt: null, updatedAt: project.updatedAt },
        },
        roles:
          identity.kind === 'user' ? await this.#store.memberRoles(project.projectId, identity.userId) : [],
      })),
    );
  }

  /** ProjectReq on update: metadata entries merge into the map, cve_allowlist replaces the list. */
  async updateProject(project: Project, request: ProjectChangeRequest): Promise<Project> {
    const setMetadata = projectRequestMetadata(request.metadata, {
      currentRetentionId: project.metadata['retention_id'],
    });
    if (request.isPublic !== undefined && setMetadata['public'] === undefined) {
      setMetadata['public'] = String(request.isPublic);
    }
    const update: ProjectUpdate = { setMetadata };
    if (request.cveAllowlist !== undefined && request.cveAllowlist !== null) {
      update.cveAllowlist = cveAllowlistFromRequest(request.cveAllowlist, project.projectId);
    }
    return this.#change(project, update);
  }

  async deletable(project: Project): Promise<Deletable> {
    const detail = (await this.#store.projectDetails([project.projectId])).get(project.projectId);
    if (detail === undefined) throw new DomainError('project.notFound', `project ${project.name} not found`);
    return detail.repositoryCount > 0
      ? { deletable: false, message: 'the project contains repositories, can not be deleted' }
      : { deletable: true, message: '' };
  }

  /** Deletes an empty project (412 `precondition.failed` otherwise) with its members and robot accounts. */
  async deleteProject(project: Project): Promise<void> {
    this.#cache.beforeWrite();
    const existed = await this.#store.deleteProject(project.projectId);
    this.#cache.forgetProject(project.name);
    await this.#cache.settled();
    if (!existed) throw new DomainError('project.notFound', `project ${project.name} not found`);
  }

  async repositoryCount(project: Project): Promise<number> {
    return (
      (await this.#store.projectDetails([project.projectId])).get(project.projectId)?.repositoryCount ?? 0
    );
  }

  memberCounts(project: Project): Promise<Record<RoleId, number>> {
    return this.#store.countMembersByRole(project.projectId);
  }

  /** POST metadatas: one new entry; 409 `conflict` when the key exists. */
  addMetadata(project: Project, body: Record<string, unknown>): Promise<Project> {
    const [key, value] = metadataApiEntry(body);
    return this.#change(project, { setMetadata: { [key]: value }, addOnly: true });
  }

  /** PUT metadatas/{name}: the body's value for that name, written whether or not it existed. */
  setMetadata(project: Project, name: string, body: Record<string, unknown>): Promise<Project> {
    return this.#change(project, { setMetadata: { [name]: metadataApiValue(name, body[name]) } });
  }

  /** DELETE metadatas/{name}; deleting `public` makes the project private, as in Harbor. */
  deleteMetadata(project: Project, name: string): Promise<Project> {
    return this.#change(project, { removeMetadata: [name] });
  }

  async #change(project: Project, update: ProjectUpdate): Promise<Project> {
    this.#cache.beforeWrite();
    const updated = await this.#store.updateProject(project.projectId, update);
    // Dropped whatever happened: a stale entry must never outlive a change of visibility.
    this.#cache.forgetProject(project.name);
    await this.#cache.settled();
    if (updated === undefined) throw new DomainError('project.notFound', `project ${project.name} not found`);
    return updated;
  }
}
