import type { LightMyRequestResponse } from 'fastify';
import {
  ADMIN_AUTH,
  ADMIN_PASSWORD,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { digestOf, type Digest } from '../../core/oci/digest.js';
import {
  ROLE_IDS,
  ROLES,
  type MatrixPrincipal,
  type ProjectName,
  type RoleName,
} from './authorization-matrix.rules.js';

/**
 * The world of the authorization matrix test: a private project `priv` and a public project `pub`, each
 * with an image `app:v1`; a user of each of Harbor's five roles in both; a user who is a member of
 * nothing; the system admin; anonymous; a project robot in `priv` for every project permission the robot
 * catalog (GET /permissions) offers, holding exactly that one; system robots holding one system permission
 * each. Everything is made through the API, as a client would, except users (straight into the store, one
 * password hash for all: the users API is one of the routes under test).
 *
 * Targets that a case may change or destroy are made fresh per case (`throwaway*`), so that no case
 * depends on what an earlier one did.
 */
export const PASSWORD = 'Matrix-Passw0rd';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** System permissions given to one system robot each: those the routes under test check, and one that none does. */
export const SYSTEM_GRANTS: readonly (readonly [string, string])[] = [
  ['catalog', 'read'],
  ['system-volumes', 'read'],
  ['quota', 'list'],
  ['quota', 'read'],
  ['user', 'list'],
  ['user', 'read'],
  ['user', 'create'],
  ['user', 'update'],
  ['user', 'delete'],
  ['robot', 'list'],
  ['robot', 'read'],
  ['robot', 'create'],
  ['robot', 'update'],
  ['robot', 'delete'],
  ['audit-log', 'list'],
  ['project', 'create'],
  ['project', 'list'],
  ['registry', 'list'],
];

export interface SeedProject {
  name: ProjectName;
  isPublic: boolean;
  id: number;
  /** `<project>/app:v1`. */
  manifest: { digest: Digest; bytes: Buffer; config: Digest; layer: Digest };
  /** The guest's membership: read by the member-read cases, never changed. */
  guestMemberId: number;
  /** A project robot no case logs in as; read and rewritten (unchanged) by the robot cases. */
  targetRobotId: number;
}

/** Someone the walk sends requests as: the oracle's view, and the Authorization header that proves it. */
export interface Caller {
  principal: MatrixPrincipal;
  authorization: string | undefined;
}

export interface MatrixRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** A JSON body (objects) or raw bytes (Buffer, with `contentType`). */
  payload?: unknown;
  contentType?: string;
  /** Puts back what an allowed request changed that later cases rely on (one's own password). */
  undo?: (response: LightMyRequestResponse) => Promise<void>;
}

export class MatrixWorld {
  readonly app: TestApp;
  readonly projects: Record<ProjectName, SeedProject>;
  readonly callers: Caller[];
  /** A user no case logs in as: read, updated and reset by the user cases. */
  readonly targetUserId: number;
  readonly systemTargetRobotId: number;
  readonly #passwordHash: string;
  #sequence = 0;

  constructor(init: {
    app: TestApp;
    projects: Record<ProjectName, SeedProject>;
    callers: Caller[];
    targetUserId: number;
    systemTargetRobotId: number;
    passwordHash: string;
  }) {
    this.app = init.app;
    this.projects = init.projects;
    this.callers = init.callers;
    this.targetUserId = init.targetUserId;
    this.systemTargetRobotId = init.systemTargetRobotId;
    this.#passwordHash = init.passwordHash;
  }

  /** A name no earlier case used. */
  unique(prefix: string): string {
    this.#sequence += 1;
    return `${prefix}${this.#sequence}`;
  }

  send(request: MatrixRequest, authorization: string | undefined): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers['authorization'] = authorization;
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(request.payload)) {
      payload = request.payload;
      headers['content-type'] = request.contentType ?? 'application/octet-stream';
    } else if (request.payload !== undefined) {
      payload = JSON.stringify(request.payload);
      headers['content-type'] = 'application/json';
    }
    return this.app.berth.server.inject({
      method: request.method,
      url: request.url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
  }

  /** A request as the system admin that must succeed (setup). */
  async admin(request: MatrixRequest, expected: number): Promise<LightMyRequestResponse> {
    const response = await this.send(request, ADMIN_AUTH);
    if (response.statusCode !== expected) {
      throw new Error(`setup ${request.method} ${request.url}: ${response.statusCode} ${response.body}`);
    }
    return response;
  }

  /** A user in the store, member of nothing. */
  async throwawayUser(): Promise<{ userId: number; username: string }> {
    const username = this.unique('spare');
    const user = await this.app.berth.store.createUser({
      username,
      email: '',
      realname: username,
      passwordHash: this.#passwordHash,
      sysadmin: false,
    });
    return { userId: user.userId, username };
  }

  /** A new guest of the project; returns the member id. */
  async throwawayMember(project: ProjectName): Promise<number> {
    const { username } = await this.throwawayUser();
    const response = await this.admin(
      {
        method: 'POST',
        url: `/api/v2.0/projects/${project}/members`,
        payload: { role_id: ROLE_IDS.guest, member_user: { username } },
      },
      201,
    );
    return idFromLocation(response);
  }

  /** A robot no case logs in as: a system robot, or a project robot of `project`. */
  async throwawayRobot(scope: ProjectName | 'system'): Promise<number> {
    const [resource, action] = TARGET_ROBOT_GRANT[scope === 'system' ? 'system' : 'project'];
    return (await createRobot(this, this.unique('spare'), scope, resource, action)).id;
  }

  /** A new artifact of `<project>/app` (the v1 config and layer, another annotation), tagged `tag`. */
  async throwawayArtifact(
    project: ProjectName,
    tag = this.unique('gone'),
  ): Promise<{ digest: Digest; tag: string }> {
    const { manifest } = this.projects[project];
    const bytes = manifestBytes(manifest, tag);
    await this.admin(
      {
        method: 'PUT',
        url: `/v2/${project}/app/manifests/${tag}`,
        payload: bytes,
        contentType: OCI_MANIFEST,
      },
      201,
    );
    return { digest: digestOf(bytes), tag };
  }

  /** A new repository `<project>/<name>` holding one image (blobs mounted from app). */
  async throwawayRepository(project: ProjectName): Promise<string> {
    const name = this.unique('gone');
    const { manifest } = this.projects[project];
    for (const digest of [manifest.config, manifest.layer]) {
      await this.admin(
        { method: 'POST', url: `/v2/${project}/${name}/blobs/uploads/?mount=${digest}&from=${project}/app` },
        201,
      );
    }
    await this.admin(
      {
        method: 'PUT',
        url: `/v2/${project}/${name}/manifests/v1`,
        payload: manifestBytes(manifest, name),
        contentType: OCI_MANIFEST,
      },
      201,
    );
    return name;
  }

  /** A new blob in `<project>/app`. */
  async throwawayBlob(project: ProjectName): Promise<Digest> {
    const bytes = Buffer.from(this.unique('blob of the matrix '));
    const digest = digestOf(bytes);
    await this.admin(
      {
        method: 'POST',
        url: `/v2/${project}/app/blobs/uploads/?digest=${digest}`,
        payload: bytes,
      },
      201,
    );
    return digest;
  }

  /** A new upload session in `<project>/app`; returns its location. */
  async throwawayUpload(project: ProjectName): Promise<string> {
    const response = await this.admin({ method: 'POST', url: `/v2/${project}/app/blobs/uploads/` }, 202);
    return String(response.headers['location']);
  }
}

function manifestBytes(manifest: SeedProject['manifest'], annotation: string): Buffer {
  const v1 = JSON.parse(manifest.bytes.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...v1, annotations: { 'org.example.matrix': annotation } }));
}

function idFromLocation(response: LightMyRequestResponse): number {
  const id = Number(/\/(\d+)$/.exec(String(response.headers['location']))?.[1]);
  if (!(id > 0)) throw new Error(`no id in Location: ${String(response.headers['location'])}`);
  return id;
}

/** What target robots hold: nothing any case needs, so no update has to grant anything. */
const TARGET_ROBOT_GRANT = {
  system: ['catalog', 'read'],
  project: ['repository', 'pull'],
} as const;

async function createRobot(
  world: MatrixWorld,
  name: string,
  scope: ProjectName | 'system',
  resource: string,
  action: string,
): Promise<{ id: number; name: string; secret: string }> {
  const response = await world.admin(
    {
      method: 'POST',
      url: '/api/v2.0/robots',
      payload: {
        name,
        level: scope === 'system' ? 'system' : 'project',
        duration: -1,
        permissions: [
          {
            kind: scope === 'system' ? 'system' : 'project',
            namespace: scope === 'system' ? '/' : scope,
            access: [{ resource, action }],
          },
        ],
      },
    },
    201,
  );
  return response.json<{ id: number; name: string; secret: string }>();
}

/** `PUT /robots/{id}`'s body for a target robot: what it is, unchanged. */
export function targetRobotBody(
  scope: ProjectName | 'system',
  id: number,
  name: string,
): Record<string, unknown> {
  const [resource, action] = TARGET_ROBOT_GRANT[scope === 'system' ? 'system' : 'project'];
  return {
    id,
    name,
    description: '',
    level: scope === 'system' ? 'system' : 'project',
    duration: -1,
    disable: false,
    permissions: [
      {
        kind: scope === 'system' ? 'system' : 'project',
        namespace: scope === 'system' ? '/' : scope,
        access: [{ resource, action }],
      },
    ],
  };
}

export const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** Builds the world on a fresh app (project creation open to every user, Harbor's default). */
export async function seedMatrix(): Promise<MatrixWorld> {
  const app = await startTestApp({ BERTH_BERTH__PROJECT_CREATION_RESTRICTION: 'everyone' });
  const passwordHash = await hashPassword(PASSWORD);
  // Only its request helpers serve while seeding; the world returned at the end holds what was made.
  const bootstrap = new MatrixWorld({
    app,
    projects: {} as Record<ProjectName, SeedProject>,
    callers: [],
    targetUserId: 0,
    systemTargetRobotId: 0,
    passwordHash,
  });

  const users = new Map<string, number>();
  for (const username of [...ROLES.map((role) => `m-${role.toLowerCase()}`), 'm-outsider', 'm-target']) {
    const user = await app.berth.store.createUser({
      username,
      email: '',
      realname: username,
      passwordHash,
      sysadmin: false,
    });
    users.set(username, user.userId);
  }

  const projects = {} as Record<ProjectName, SeedProject>;
  for (const [name, isPublic] of [
    ['priv', false],
    ['pub', true],
  ] as const) {
    await bootstrap.admin(
      { method: 'POST', url: '/api/v2.0/projects', payload: { project_name: name, public: isPublic } },
      201,
    );
    const project = await app.berth.store.findProjectByName(name);
    const manifest = await pushImage(app, `${name}/app`, 'v1');
    let guestMemberId = 0;
    for (const role of ROLES) {
      const response = await bootstrap.admin(
        {
          method: 'POST',
          url: `/api/v2.0/projects/${name}/members`,
          payload: { role_id: ROLE_IDS[role], member_user: { username: `m-${role.toLowerCase()}` } },
        },
        201,
      );
      if (role === 'guest') guestMemberId = idFromLocation(response);
    }
    projects[name] = {
      name,
      isPublic,
      id: project!.projectId,
      manifest,
      guestMemberId,
      targetRobotId: (await createRobot(bootstrap, 'target', name, ...TARGET_ROBOT_GRANT.project)).id,
    };
  }

  const callers: Caller[] = [
    { principal: { kind: 'anonymous', label: 'anonymous' }, authorization: undefined },
    {
      principal: {
        kind: 'user',
        label: 'admin',
        username: 'admin',
        password: ADMIN_PASSWORD,
        userId: 1,
        sysadmin: true,
        roles: {},
      },
      authorization: ADMIN_AUTH,
    },
    {
      principal: {
        kind: 'user',
        label: 'outsider',
        username: 'm-outsider',
        password: PASSWORD,
        userId: users.get('m-outsider')!,
        sysadmin: false,
        roles: {},
      },
      authorization: basic('m-outsider', PASSWORD),
    },
  ];
  for (const role of ROLES) {
    const username = `m-${role.toLowerCase()}`;
    const roles: Record<ProjectName, RoleName> = { priv: role, pub: role };
    callers.push({
      principal: {
        kind: 'user',
        label: role,
        username,
        password: PASSWORD,
        userId: users.get(username)!,
        sysadmin: false,
        roles,
      },
      authorization: basic(username, PASSWORD),
    });
  }

  // Every project permission a robot may be granted, as the catalog lists it.
  const catalog = await bootstrap.admin({ method: 'GET', url: '/api/v2.0/permissions' }, 200);
  const grantable = catalog.json<{ project: { resource: string; action: string }[] }>().project;
  for (const { resource, action } of grantable) {
    const robot = await createRobot(bootstrap, `p-${resource}-${action}`, 'priv', resource, action);
    callers.push({
      principal: {
        kind: 'robot',
        label: `robot(priv ${resource}:${action})`,
        level: 'project',
        project: 'priv',
        resource,
        action,
      },
      authorization: basic(robot.name, robot.secret),
    });
  }
  for (const [resource, action] of SYSTEM_GRANTS) {
    const robot = await createRobot(bootstrap, `s-${resource}-${action}`, 'system', resource, action);
    callers.push({
      principal: {
        kind: 'robot',
        label: `robot(system ${resource}:${action})`,
        level: 'system',
        resource,
        action,
      },
      authorization: basic(robot.name, robot.secret),
    });
  }
  const systemTarget = await createRobot(bootstrap, 'target', 'system', ...TARGET_ROBOT_GRANT.system);

  return new MatrixWorld({
    app,
    projects,
    callers,
    targetUserId: users.get('m-target')!,
    systemTargetRobotId: systemTarget.id,
    passwordHash,
  });
}
