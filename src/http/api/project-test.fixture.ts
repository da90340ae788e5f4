import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ADMIN_AUTH, type TestApp } from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { PROJECT_ROLES, type RoleId } from '../../core/iam/rbac.js';

/** Helpers of the project, member and metadata HTTP tests: users by role, and requests with Basic. */
export const PASSWORD = 'Passw0rd-Of-Tests';

export function basic(username: string, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export function call(
  app: TestApp,
  method: Method,
  url: string,
  authorization?: string,
  payload?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.berth.server.inject({
    method,
    url,
    headers: {
      ...(authorization === undefined ? {} : { authorization }),
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
}

export const asAdmin = (app: TestApp, method: Method, url: string, payload?: unknown) =>
  call(app, method, url, ADMIN_AUTH, payload);

/** A user of each of Harbor's five roles in one project, and one who is no member. */
export interface RoleUsers {
  projectAdmin: string;
  maintainer: string;
  developer: string;
  guest: string;
  limitedGuest: string;
  stranger: string;
}

export const ROLE_OF: Readonly<Record<Exclude<keyof RoleUsers, 'stranger'>, RoleId>> = {
  projectAdmin: PROJECT_ROLES.projectAdmin,
  maintainer: PROJECT_ROLES.maintainer,
  developer: PROJECT_ROLES.developer,
  guest: PROJECT_ROLES.guest,
  limitedGuest: PROJECT_ROLES.limitedGuest,
};

let passwordHash: Promise<string> | undefined;

/** Creates users directly in the store (one scrypt hash shared by all: the password is the same). */
export async function createUsers(app: TestApp, names: readonly string[]): Promise<void> {
  passwordHash ??= hashPassword(PASSWORD);
  const hash = await passwordHash;
  for (const username of names) {
    await app.berth.store.createUser({
      username,
      email: `${username}@example.test`,
      realname: username,
      passwordHash: hash,
      sysadmin: false,
    });
  }
}

/** Creates `project` (as the admin) with one member per role, users named `<prefix>-<role>`. */
export async function projectWithRoles(
  app: TestApp,
  project: string,
  options: { isPublic?: boolean; prefix?: string } = {},
): Promise<{ projectId: number; users: RoleUsers }> {
  const prefix = options.prefix ?? project;
  const users: RoleUsers = {
    projectAdmin: `${prefix}-admin`,
    maintainer: `${prefix}-maintainer`,
    developer: `${prefix}-developer`,
    guest: `${prefix}-guest`,
    limitedGuest: `${prefix}-limited`,
    stranger: `${prefix}-stranger`,
  };
  await createUsers(app, Object.values(users));
  const created = await asAdmin(app, 'POST', '/api/v2.0/projects', {
    project_name: project,
    metadata: { public: String(options.isPublic ?? false) },
  });
  expect(created.statusCode, created.body).toBe(201);
  const projectId = Number(String(created.headers.location).split('/').pop());
  for (const [role, roleId] of Object.entries(ROLE_OF)) {
    const added = await asAdmin(app, 'POST', `/api/v2.0/projects/${projectId}/members`, {
      role_id: roleId,
      member_user: { username: users[role as keyof typeof ROLE_OF] },
    });
    expect(added.statusCode, added.body).toBe(201);
  }
  return { projectId, users };
}
