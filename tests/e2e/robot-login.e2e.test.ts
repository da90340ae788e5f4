/**
 * Robot accounts and a plain project member with real clients (skopeo, podman) against a real Berth
 * process: a project robot pushes and inspects with `--dest-creds 'robot$library+ci:<secret>'`, a pull-only
 * robot is refused a push, a disabled robot and a refreshed secret stop working, podman logs in as a robot,
 * and a Developer member (made through the API) pushes and inspects with the user's own password.
 * Needs `npm run build` first (dist/main.js) and the Debian packages skopeo, podman and busybox-static.
 * The tests run in order and share one server.
 */
import { describe, expect, it } from 'vitest';
import { strongPassword } from '../support/berth.js';
import { useClientSuite } from '../support/client-suite.js';
import { credsArg, skopeoDigest, type Credentials } from '../support/skopeo.js';

const TIMEOUT = 180_000;

// Only busybox is pushed here; the large fixture is kept as small as it goes.
const suite = useClientSuite('robots', { largeLayers: 1, largeLayerMiB: 1 }, TIMEOUT);
const { server, client, admin, image } = suite;

/** A call to Berth's API as `creds` (the admin by default); the parsed JSON answer when there is one. */
async function api(
  method: string,
  path: string,
  body?: unknown,
  creds: Credentials = admin(),
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${server().url}/api/v2.0${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(credsArg(creds)).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

interface Robot {
  id: number;
  creds: Credentials;
}

async function createRobot(name: string, actions: string[]): Promise<Robot> {
  const created = await api('POST', '/robots', {
    name,
    level: 'project',
    duration: 1,
    permissions: [
      {
        kind: 'project',
        namespace: 'library',
        access: actions.map((action) => ({ resource: 'repository', action })),
      },
    ],
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const { id, name: login, secret } = created.json as { id: number; name: string; secret: string };
  expect(login).toBe(`robot$library+${name}`);
  return { id, creds: { username: login, password: secret } };
}

async function pushWith(creds: Credentials, repository: string): Promise<{ code: number; stderr: string }> {
  const busybox = suite.fixtures().get('busybox');
  const result = await client().run('skopeo', [
    'copy',
    '--preserve-digests',
    '--dest-tls-verify=false',
    '--dest-creds',
    credsArg(creds),
    busybox.src,
    image(repository, busybox.tag),
  ]);
  return { code: result.code ?? -1, stderr: result.stderr };
}

describe('robot accounts with real clients', () => {
  let ci: Robot;

  it(
    "skopeo pushes with --dest-creds 'robot$library+ci:<secret>' and inspects with the robot's creds",
    async () => {
      ci = await createRobot('ci', ['pull', 'push']);
      const pushed = await pushWith(ci.creds, 'library/robot-busybox');
      expect(pushed.code, pushed.stderr).toBe(0);
      const busybox = suite.fixtures().get('busybox');
      const ref = image('library/robot-busybox', busybox.tag);
      expect(await skopeoDigest(ref, ci.creds, client())).toBe(busybox.digest);
      expect(await skopeoDigest(ref, admin(), client())).toBe(busybox.digest);
    },
    TIMEOUT,
  );

  it(
    'a pull-only robot inspects but cannot push, nor read another project',
    async () => {
      const reader = await createRobot('reader', ['pull']);
      const ref = image('library/robot-busybox', suite.fixtures().get('busybox').tag);
      expect(await skopeoDigest(ref, reader.creds, client())).toBe(suite.fixtures().get('busybox').digest);
      const pushed = await pushWith(reader.creds, 'library/reader-busybox');
      expect(pushed.code).not.toBe(0);
      expect(pushed.stderr).toMatch(/denied|unauthorized|forbidden/i);

      expect((await api('POST', '/projects', { project_name: 'elsewhere', public: false })).status).toBe(201);
      expect((await pushWith(admin(), 'elsewhere/busybox')).code).toBe(0);
      await expect(
        skopeoDigest(image('elsewhere/busybox', suite.fixtures().get('busybox').tag), reader.creds, client()),
      ).rejects.toThrow(/denied|unauthorized|forbidden/i);
    },
    TIMEOUT,
  );

  it(
    'podman logs in as the robot and pulls with the stored login',
    async () => {
      const registry = server().hostPort;
      const login = await client().run(
        'podman',
        ['login', '--tls-verify=false', '--username', ci.creds.username, '--password-stdin', registry],
        { input: ci.creds.password },
      );
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toMatch(/Login Succeeded/i);
      const name = `${registry}/library/robot-busybox:${suite.fixtures().get('busybox').tag}`;
      const pulled = await client().run('podman', ['pull', '--quiet', '--tls-verify=false', name]);
      expect(pulled.code, pulled.stderr).toBe(0);
      await client().runOrThrow('podman', ['rmi', name]);
      await client().runOrThrow('podman', ['logout', registry]);

      const wrong = await client().run(
        'podman',
        ['login', '--tls-verify=false', '--username', ci.creds.username, '--password-stdin', registry],
        { input: `${ci.creds.password}x` },
      );
      expect(wrong.code).not.toBe(0);
    },
    TIMEOUT,
  );

  it(
    'a refreshed secret replaces the old one; a disabled robot is refused',
    async () => {
      const ref = image('library/robot-busybox', suite.fixtures().get('busybox').tag);
      const refreshed = await api('PATCH', `/robots/${ci.id}`, {});
      expect(refreshed.status).toBe(200);
      const secret = (refreshed.json as { secret: string }).secret;
      await expect(skopeoDigest(ref, ci.creds, client())).rejects.toThrow(/unauthorized|authentication/i);
      ci = { ...ci, creds: { ...ci.creds, password: secret } };
      expect(await skopeoDigest(ref, ci.creds, client())).toBe(suite.fixtures().get('busybox').digest);

      const current = await api('GET', `/robots/${ci.id}`);
      expect(
        (await api('PUT', `/robots/${ci.id}`, { ...(current.json as object), disable: true })).status,
      ).toBe(200);
      await expect(skopeoDigest(ref, ci.creds, client())).rejects.toThrow(/unauthorized|authentication/i);
    },
    TIMEOUT,
  );
});

describe('a Developer member with real clients', () => {
  it(
    'pushes and inspects with the user password once made a member through the API',
    async () => {
      const dev: Credentials = { username: 'dev-user', password: strongPassword() };
      const user = await api('POST', '/users', {
        username: dev.username,
        password: dev.password,
        email: 'dev-user@example.com',
        realname: 'Dev User',
      });
      expect(user.status, JSON.stringify(user.json)).toBe(201);
      // Not a member yet: the push is refused.
      expect((await pushWith(dev, 'library/dev-busybox')).code).not.toBe(0);

      const member = await api('POST', '/projects/library/members', {
        role_id: 2,
        member_user: { username: dev.username },
      });
      expect(member.status, JSON.stringify(member.json)).toBe(201);
      const pushed = await pushWith(dev, 'library/dev-busybox');
      expect(pushed.code, pushed.stderr).toBe(0);
      const busybox = suite.fixtures().get('busybox');
      expect(await skopeoDigest(image('library/dev-busybox', busybox.tag), dev, client())).toBe(
        busybox.digest,
      );
      // A developer may not delete: Harbor's matrix gives developers no repository delete.
      const removed = await client().run('skopeo', [
        'delete',
        '--tls-verify=false',
        '--creds',
        credsArg(dev),
        image('library/dev-busybox', busybox.tag),
      ]);
      expect(removed.code).not.toBe(0);

      // podman logs in as the user through the token service and pulls with the stored login.
      const registry = server().hostPort;
      const login = await client().run(
        'podman',
        ['login', '--tls-verify=false', '--username', dev.username, '--password-stdin', registry],
        { input: dev.password },
      );
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toMatch(/Login Succeeded/i);
      const name = `${registry}/library/dev-busybox:${busybox.tag}`;
      const pulled = await client().run('podman', ['pull', '--quiet', '--tls-verify=false', name]);
      expect(pulled.code, pulled.stderr).toBe(0);
      await client().runOrThrow('podman', ['rmi', name]);
      await client().runOrThrow('podman', ['logout', registry]);
    },
    TIMEOUT,
  );
});
