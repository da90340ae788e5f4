import type { AuditEvent } from '../../core/audit/audit-recorder.js';
import { decodePathSegment } from '../request-url.js';

/**
 * Which successful requests are audited, and as what (Harbor's audit events, src/controller/event/
 * topic.go): pushes (`create artifact`), pulls (`pull artifact`), deletes of manifests, tags,
 * artifacts, repositories and projects, and creates of projects, users, robots, members and tags.
 * Pure: it reads what the request and the answer say, so each case is tested without a server.
 *
 * Resources are named as Harbor names them: `<repository>:<tag>` or `<repository>@<digest>` for artifacts
 * and tags, the full repository name, the project, user or robot name.
 */
export interface AuditedExchange {
  method: string;
  /** The raw (undecoded) URL path, without the query. */
  path: string;
  query: URLSearchParams;
  statusCode: number;
  /** The parsed JSON request body of /api/v2.0/ requests; undefined on /v2/. */
  body: unknown;
  /** The answer's Location header. */
  location: string | undefined;
  /** `X-Is-Resource-Name: true`: a numeric `{project_name_or_id}` is a name. */
  isResourceName: boolean;
  /** The operator as the log shows it. */
  operator: string;
  opTime: string;
  /** A project about to be deleted, looked up before the handler ran (see audit.hook.ts). */
  deletedProject?: { projectId: number; name: string };
  /** The `name` of the answer's JSON body (a created robot's login name). */
  answerName?: string;
}

const API = '/api/v2.0';

/** An event before the operator and the time are added. */
type Described = Omit<AuditEvent, 'username' | 'opTime'>;

type Describe = (exchange: AuditedExchange, segments: readonly string[]) => Described | undefined;

interface ApiRoute {
  method: string;
  /** Path segments after /api/v2.0/; `*` matches any one segment. */
  pattern: readonly string[];
  describe: Describe;
}

/** A `{project_name_or_id}` segment: a number is an id unless X-Is-Resource-Name says otherwise. */
function projectRef(exchange: AuditedExchange, segment: string): NonNullable<AuditEvent['project']> {
  return /^\d{1,10}$/.test(segment) && !exchange.isResourceName ? { id: Number(segment) } : { name: segment };
}

/**
 * Harbor's `{repository_name}` is URL-encoded twice when it contains `/` (`a%252Fb`); the segment arrives
 * decoded once. A second decoding that fails leaves it as it is (the route will have refused it anyway).
 */
function repositoryOf(project: string, segment: string): string {
  try {
    return `${project}/${decodeURIComponent(segment)}`;
  } catch {
    return `${project}/${segment}`;
  }
}

/** `<repository>@<digest>` for a digest reference, `<repository>:<tag>` for a tag. */
function artifactResource(repository: string, reference: string): string {
  return reference.includes(':') ? `${repository}@${reference}` : `${repository}:${reference}`;
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'POST',
    pattern: ['projects'],
    describe: (exchange) => {
      const name = text(field(exchange.body, 'project_name'));
      if (name === undefined) return undefined;
      // Location names the new project by id (or by name with X-Resource-Name-In-Location).
      const id = /\/projects\/(\d+)$/.exec(exchange.location ?? '')?.[1];
      return {
        operation: 'create',
        resourceType: 'project',
        resource: name,
        project: id === undefined ? { name } : { id: Number(id) },
      };
    },
  },
  {
    method: 'DELETE',
    pattern: ['projects', '*'],
    describe: ({ deletedProject }) =>
      deletedProject && {
        operation: 'delete',
        resourceType: 'project',
        resource: deletedProject.name,
        project: { id: deletedProject.projectId },
      },
  },
  {
    method: 'POST',
    pattern: ['projects', '*', 'members'],
    describe: (exchange, [, ref = '']) => {
      const user = field(exchange.body, 'member_user');
      const username = text(field(user, 'username'));
      const userId = field(user, 'user_id');
      const group = text(field(field(exchange.body, 'member_group'), 'group_name'));
      const base = { operation: 'create', resourceType: 'member', project: projectRef(exchange, ref) };
      if (username !== undefined) return { ...base, resource: username };
      if (typeof userId === 'number') return { ...base, resource: '', resourceUserId: userId };
      return group === undefined ? undefined : { ...base, resource: group };
    },
  },
  {
    method: 'DELETE',
    pattern: ['projects', '*', 'repositories', '*'],
    describe: (_exchange, [, project = '', , repository = '']) => ({
      operation: 'delete',
      resourceType: 'repository',
      resource: repositoryOf(project, repository),
      project: { name: project },
    }),
  },
  {
    method: 'DELETE',
    pattern: ['projects', '*', 'repositories', '*', 'artifacts', '*'],
    describe: (_exchange, [, project = '', , repository = '', , reference = '']) => ({
      operation: 'delete',
      resourceType: 'artifact',
      resource: artifactResource(repositoryOf(project, repository), reference),
      project: { name: project },
    }),
  },
  {
    method: 'POST',
    pattern: ['projects', '*', 'repositories', '*', 'artifacts', '*', 'tags'],
    describe: (exchange, [, project = '', , repository = '']) => {
      const tag = text(field(exchange.body, 'name'));
      return tag === undefined
        ? undefined
        : {
            operation: 'create',
            resourceType: 'tag',
            resource: `${repositoryOf(project, repository)}:${tag}`,
            project: { name: project },
          };
    },
  },
  {
    method: 'DELETE',
    pattern: ['projects', '*', 'repositories', '*', 'artifacts', '*', 'tags', '*'],
    describe: (_exchange, [, project = '', , repository = '', , , , tag = '']) => ({
      operation: 'delete',
      resourceType: 'tag',
      resource: `${repositoryOf(project, repository)}:${tag}`,
      project: { name: project },
    }),
  },
  {
    method: 'POST',
    pattern: ['users'],
    describe: (exchange) => {
      const username = text(field(exchange.body, 'username'));
      return username === undefined
        ? undefined
        : { operation: 'create', resourceType: 'user', resource: username };
    },
  },
  {
    method: 'POST',
    pattern: ['robots'],
    describe: (exchange) => {
      const name = exchange.answerName ?? text(field(exchange.body, 'name'));
      if (name === undefined) return undefined;
      // A project robot's permissions name its project; a system robot belongs to none.
      const permissions = field(exchange.body, 'permissions');
      const first: unknown = Array.isArray(permissions) ? permissions[0] : undefined;
      const namespace = text(field(first, 'namespace'));
      const projectLevel = field(exchange.body, 'level') === 'project' && namespace !== undefined;
      return {
        operation: 'create',
        resourceType: 'robot',
        resource: name,
        ...(projectLevel ? { project: { name: namespace } } : {}),
      };
    },
  },
];

/** The segments after /api/v2.0/, decoded; undefined for other paths or a malformed encoding. */
function apiSegments(path: string): string[] | undefined {
  if (!path.startsWith(`${API}/`)) return undefined;
  try {
    return path
      .slice(API.length + 1)
      .replace(/\/$/, '')
      .split('/')
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  return (
    pattern.length === segments.length && pattern.every((part, i) => part === '*' || part === segments[i])
  );
}

/**
 * `<name>` and `<reference>` of a `/v2/<name>/manifests/<reference>` path, decoded, as matchOciRoute reads
 * them (the last `/manifests/` decides); undefined for any other path or a malformed encoding. Cut out
 * directly: this runs on every pull.
 */
function manifestPath(path: string): { name: string; reference: string } | undefined {
  const at = path.lastIndexOf('/manifests/');
  if (at <= 4 || !path.startsWith('/v2/')) return undefined;
  const reference = path.slice(at + '/manifests/'.length);
  if (reference === '' || reference.includes('/')) return undefined;
  try {
    return { name: decodePathSegment(path.slice(4, at)), reference: decodePathSegment(reference) };
  } catch {
    return undefined;
  }
}

/** The manifest a path names and its repository's project; undefined for a name without a project. */
function manifestTarget(
  path: string,
): { name: string; reference: string; project: { name: string } } | undefined {
  const manifest = manifestPath(path);
  if (manifest === undefined) return undefined;
  const slash = manifest.name.indexOf('/');
  return slash > 0 ? { ...manifest, project: { name: manifest.name.slice(0, slash) } } : undefined;
}

/** Harbor's `pull` of an artifact, named by tag or digest. */
function pullOf(name: string, reference: string, project: { name: string }): Described {
  return {
    operation: 'pull',
    resourceType: 'artifact',
    resource: artifactResource(name, reference),
    project,
  };
}

/**
 * A successful manifest GET, the bulk of audited traffic (every pull is an entry), described straight from
 * its path: what describeAuditEvent makes of it, without building the whole exchange.
 */
export function describePull(path: string, operator: string, opTime: string): AuditEvent | undefined {
  const target = manifestTarget(path);
  return target && { ...pullOf(target.name, target.reference, target.project), username: operator, opTime };
}

function describeOci(exchange: AuditedExchange): Described | undefined {
  const target = manifestTarget(exchange.path);
  if (target === undefined) return undefined;
  const { name, reference, project } = target;
  const isDigest = reference.includes(':');
  switch (exchange.method) {
    case 'GET':
      return pullOf(name, reference, project);
    case 'PUT': {
      // A push by digest with `?tag=` is named by its first tag, as Harbor names a push by its tag.
      const tag = isDigest ? exchange.query.getAll('tag')[0] : reference;
      return {
        operation: 'create',
        resourceType: 'artifact',
        resource: tag === undefined ? `${name}@${reference}` : `${name}:${tag}`,
        project,
      };
    }
    case 'DELETE':
      // By digest the manifest (the artifact) goes; by tag only the tag.
      return {
        operation: 'delete',
        resourceType: isDigest ? 'artifact' : 'tag',
        resource: artifactResource(name, reference),
        project,
      };
    default:
      return undefined;
  }
}

/** The audit event a successful request makes, or undefined for requests that are not audited. */
export function describeAuditEvent(exchange: AuditedExchange): AuditEvent | undefined {
  if (exchange.statusCode < 200 || exchange.statusCode > 299) return undefined;
  let described: Described | undefined;
  if (exchange.path.startsWith('/v2/')) {
    described = describeOci(exchange);
  } else if (exchange.method === 'POST' || exchange.method === 'DELETE') {
    const segments = apiSegments(exchange.path);
    const route =
      segments &&
      API_ROUTES.find(
        (candidate) => candidate.method === exchange.method && matches(candidate.pattern, segments),
      );
    described = route && segments && route.describe(exchange, segments);
  }
  return described && { ...described, username: exchange.operator, opTime: exchange.opTime };
}

/**
 * The cheap test the hook runs on every answer before building anything: only manifest requests on /v2/
 * and creates and deletes on /api/v2.0/ can be audited.
 */
export function mayBeAudited(method: string, path: string): boolean {
  if (path.startsWith('/v2/')) {
    return (method === 'GET' || method === 'PUT' || method === 'DELETE') && path.includes('/manifests/');
  }
  return (method === 'POST' || method === 'DELETE') && path.startsWith(`${API}/`);
}

/** Whether a DELETE of this path deletes a project, so the hook must look the project up beforehand. */
export function deletedProjectRef(method: string, path: string): string | undefined {
  if (method !== 'DELETE') return undefined;
  const segments = apiSegments(path);
  return segments && matches(['projects', '*'], segments) ? segments[1] : undefined;
}

/** Whether the answer's body names what was created (a robot's login name). */
export function wantsAnswerName(method: string, path: string): boolean {
  return method === 'POST' && (path === `${API}/robots` || path === `${API}/robots/`);
}
