import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ADMIN_AUTH, injectAsAdmin, type TestApp } from '../../app/test-app.fixture.js';

/** Helpers of the /api/v2.0/users tests: requests that keep every answer, users made through the API. */
export const PASSWORD = 'Passw0rdOne';

export const basic = (username: string, password = PASSWORD) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface UserApi {
  call: (
    method: Method,
    url: string,
    authorization: string | undefined,
    payload?: unknown,
  ) => Promise<LightMyRequestResponse>;
  asAdmin: (method: Method, url: string, payload?: unknown) => Promise<LightMyRequestResponse>;
  unique: (prefix: string) => string;
  newUser: (
    prefix?: string,
    extra?: Record<string, unknown>,
  ) => Promise<{ id: number; username: string; auth: string }>;
  /** Shows that no answer so far carried the admin's password hash or any password field. */
  expectNoPasswordHashes: () => Promise<void>;
}

export function userApi(app: () => TestApp): UserApi {
  let sequence = 0;
  const answers: LightMyRequestResponse[] = [];

  async function call(
    method: Method,
    url: string,
    authorization: string | undefined,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await app().berth.server.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    answers.push(response);
    return response;
  }

  const asAdmin = (method: Method, url: string, payload?: unknown) => call(method, url, ADMIN_AUTH, payload);

  function unique(prefix: string): string {
    sequence += 1;
    return `${prefix}${sequence}`;
  }

  async function newUser(prefix = 'user', extra: Record<string, unknown> = {}) {
    const username = unique(prefix);
    const response = await asAdmin('POST', '/api/v2.0/users', {
      username,
      password: PASSWORD,
      email: `${username}@example.com`,
      realname: `Real ${username}`,
      ...extra,
    });
    expect(response.statusCode, response.body).toBe(201);
    const id = Number(/^\/api\/v2\.0\/users\/(\d+)$/.exec(String(response.headers.location))?.[1]);
    expect(id).toBeGreaterThan(1);
    return { id, username, auth: basic(username) };
  }

  async function expectNoPasswordHashes(): Promise<void> {
    const admin = await app().berth.store.findUserByName('admin');
    const hash = admin!.passwordHash;
    // One more read of every user, as the admin, so the listing and reads are covered whatever ran.
    answers.push(await injectAsAdmin(app(), { method: 'GET', url: '/api/v2.0/users?page_size=100' }));
    answers.push(await injectAsAdmin(app(), { method: 'GET', url: '/api/v2.0/users/1' }));
    answers.push(await injectAsAdmin(app(), { method: 'GET', url: '/api/v2.0/users/current' }));
    expect(answers.length).toBeGreaterThan(20);
    for (const response of answers) {
      expect(response.body).not.toContain(hash);
      expect(response.body).not.toContain('scrypt$');
      expect(response.body).not.toMatch(/"password[a-z_]*"\s*:/);
    }
  }

  return { call, asAdmin, unique, newUser, expectNoPasswordHashes };
}

export function errorOf(response: LightMyRequestResponse): { code: string; message: string } {
  return (JSON.parse(response.body) as { errors: { code: string; message: string }[] }).errors[0]!;
}
