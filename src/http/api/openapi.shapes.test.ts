import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { PROJECT_ROLES } from '../../core/iam/rbac.js';
import { documentOperations } from './openapi/berth-document.js';
import { BERTH_OPENAPI } from './openapi/openapi.document.js';
import { ShapeValidator, successResponse, type ShapeProblem } from './openapi/swagger-schema.fixture.js';
import type { SwaggerParameter } from './openapi/swagger.types.js';

/**
 * Every GET operation of Berth's API document, called as the admin over seeded data (a project with a
 * pushed image, a user who is a member of it, a robot account when the document has robots), its answer
 * validated against the operation's success schema. The operations come from the document, so a route
 * added and written into the document by scripts/openapi-sync.ts is covered without touching this file.
 * An operation needing a value the seed does not provide is skipped and listed at the end: extend
 * `seedData` when one appears.
 */
const document = BERTH_OPENAPI;
const shapes = new ShapeValidator(document);
const PROJECT = 'shapes';
const REPOSITORY = 'app';
const TAG = 'v1';

interface Seed {
  values: Map<string, string>;
  /** Why a value could not be seeded, by parameter name. */
  failures: Map<string, string>;
}

let app: TestApp;
let seed: Seed;
const notCalled: string[] = [];

async function seedData(target: TestApp): Promise<Seed> {
  const values = new Map<string, string>();
  const failures = new Map<string, string>();
  const created = await injectAsAdmin(target, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: PROJECT, metadata: { public: 'false', auto_scan: 'true' } },
  });
  if (created.statusCode !== 201)
    throw new Error(`seeding the project: ${created.statusCode} ${created.body}`);
  const project = await target.berth.store.findProjectByName(PROJECT);
  if (project === undefined) throw new Error('the seeded project is missing');
  const image = await pushImage(target, `${PROJECT}/${REPOSITORY}`, TAG);
  const user = await target.berth.store.createUser({
    username: 'shapes-user',
    email: 'shapes-user@example.test',
    realname: 'Shapes User',
    passwordHash: await hashPassword('Shapes-Passw0rd'),
    sysadmin: false,
  });
  const member = await target.berth.store.addMember({
    projectId: project.projectId,
    userId: user.userId,
    role: PROJECT_ROLES.developer,
  });

  values.set('project_name_or_id', PROJECT);
  values.set('project_name', PROJECT);
  values.set('project_id', String(project.projectId));
  values.set('repository_name', REPOSITORY);
  values.set('reference', image.digest);
  values.set('digest', image.digest);
  values.set('tag_name', TAG);
  values.set('user_id', String(user.userId));
  values.set('username', user.username);
  values.set('mid', String(member.id));
  values.set('meta_name', 'auto_scan');
  // A required `q` is the search's (Harbor's listings take `q` as an optional filter).
  values.set('q', PROJECT);
  // The artifact additions an image has (Harbor: build_history for images).
  values.set('addition', 'build_history');

  if (document.paths['/quotas']?.get !== undefined) {
    // `/quotas/{id}`: the seeded project's quota, as the quota listing names it.
    const quotas = await injectAsAdmin(target, {
      method: 'GET',
      url: `/api/v2.0/quotas?reference=project&reference_id=${project.projectId}`,
    });
    const [quota] = quotas.statusCode === 200 ? quotas.json<{ id?: number }[]>() : [];
    if (quota?.id !== undefined) values.set('id', String(quota.id));
    else failures.set('id', `GET /quotas answered ${quotas.statusCode} without the project's quota`);
  }

  if (document.paths['/robots']?.post !== undefined) {
    const robot = await injectAsAdmin(target, {
      method: 'POST',
      url: '/api/v2.0/robots',
      payload: {
        name: 'shapes',
        level: 'system',
        duration: -1,
        permissions: [{ kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'list' }] }],
      },
    });
    if (robot.statusCode === 201) values.set('robot_id', String(robot.json<{ id: number }>().id));
    else failures.set('robot_id', `POST /robots answered ${robot.statusCode} ${robot.body}`);
  }
  return { values, failures };
}

function parameterOf(parameter: SwaggerParameter): SwaggerParameter {
  if (typeof parameter.$ref !== 'string') return parameter;
  const name = parameter.$ref.replace(/^#\/parameters\//, '');
  const resolved = document.parameters?.[name];
  if (resolved === undefined) throw new Error(`unresolved ${parameter.$ref}`);
  return resolved;
}

/** The request for an operation from the seed, or the parameters the seed cannot fill. */
function plan(path: string, parameters: SwaggerParameter[]): { url: string } | { missing: string[] } {
  const missing: string[] = [];
  let url = `${document.basePath}${path}`;
  const query = new URLSearchParams();
  for (const parameter of parameters.map(parameterOf)) {
    const name = parameter.name ?? '';
    const value = seed.values.get(name);
    if (parameter.in === 'path') {
      if (value === undefined) missing.push(seed.failures.get(name) ?? `path parameter ${name}`);
      else url = url.replace(`{${name}}`, encodeURIComponent(value));
    } else if (parameter.required === true) {
      if (parameter.in === 'query' && value !== undefined) query.set(name, value);
      else missing.push(seed.failures.get(name) ?? `required ${parameter.in ?? ''} parameter ${name}`);
    }
  }
  if (missing.length > 0) return { missing };
  return { url: query.size > 0 ? `${url}?${query.toString()}` : url };
}

function describeProblems(problems: ShapeProblem[]): string[] {
  return problems.map((problem) => `${problem.path}: ${problem.message}`);
}

const gets = documentOperations(document).filter((entry) => entry.method === 'GET');

beforeAll(async () => {
  app = await startTestApp();
  seed = await seedData(app);
});

afterAll(async () => {
  await app.close();
  // Vitest prints what a test file logs; this is the list of GET operations the seed could not reach.
  if (notCalled.length > 0)
    console.log(`openapi.shapes: operations not called:\n  ${notCalled.join('\n  ')}`);
});

for (const { path, operation } of gets) {
  const success = successResponse(document, operation);
  const schema = success?.response.schema;

  it(`GET ${path} answers ${success?.status ?? '2xx'} with the documented shape`, async (context) => {
    const request = plan(path, operation.parameters ?? []);
    if ('missing' in request) {
      notCalled.push(`GET ${path}: ${request.missing.join('; ')}`);
      context.skip();
      return;
    }
    const response = await app.berth.server.inject({
      method: 'GET',
      url: request.url,
      headers: { authorization: ADMIN_AUTH },
    });
    expect(response.statusCode, `GET ${request.url}: ${response.body.slice(0, 500)}`).toBe(
      success?.status ?? 200,
    );
    if (schema === undefined) return;
    // A `type: string` answer is the raw text (Harbor's additions send JSON documents that way).
    const json =
      schema['type'] !== 'string' &&
      /^application\/json/.test(String(response.headers['content-type'] ?? ''));
    const body: unknown = json ? response.json() : response.body;
    expect(describeProblems(shapes.validate(schema, body, 'lenient')), `GET ${request.url}`).toEqual([]);
    // Harbor's definitions accept any extra field; Berth should send none the definition does not name.
    expect(describeProblems(shapes.validate(schema, body, 'strict')), `GET ${request.url}`).toEqual([]);
  });
}

describe('the shape validator', () => {
  it('tells a conforming answer from a wrong type, a null where none is allowed, and an unnamed field', () => {
    const schema = { $ref: '#/definitions/Statistic' };
    const statistic = {
      private_project_count: 1,
      private_repo_count: 1,
      public_project_count: 1,
      public_repo_count: 1,
      total_project_count: 2,
      total_repo_count: 2,
      total_storage_consumption: 5 * 2 ** 32,
    };
    expect(shapes.validate(schema, statistic, 'strict')).toEqual([]);
    expect(shapes.validate(schema, { ...statistic, total_repo_count: '2' }, 'lenient')).toEqual([
      { path: '/total_repo_count', message: 'must be integer' },
    ]);
    expect(shapes.validate(schema, { ...statistic, total_repo_count: null }, 'lenient')).not.toEqual([]);
    expect(shapes.validate(schema, { ...statistic, total_repo_cuont: 2 }, 'lenient')).toEqual([]);
    expect(shapes.validate(schema, { ...statistic, total_repo_cuont: 2 }, 'strict')).toEqual([
      { path: '/', message: 'has field "total_repo_cuont", which the definition does not name' },
    ]);
    // x-nullable fields of GeneralInfo take null; int64 beyond 2^53 is no exact JSON number.
    expect(
      shapes.validate({ $ref: '#/definitions/GeneralInfo' }, { banner_message: null }, 'strict'),
    ).toEqual([]);
    expect(shapes.validate(schema, { ...statistic, total_repo_count: 2 ** 60 }, 'lenient')).not.toEqual([]);
  });

  it("reads the document as go-swagger does: bare objects are any value, Go's nil slices and maps null", () => {
    const artifact = { $ref: '#/definitions/Artifact' };
    // ExtraAttrs is `additionalProperties: {type: object}`: go-swagger's map[string]interface{}.
    const extra = { extra_attrs: { architecture: 'amd64', config: { Env: [] }, created: 1 } };
    expect(shapes.validate(artifact, extra, 'strict')).toEqual([]);
    expect(shapes.validate(artifact, { labels: null, references: null, tags: null }, 'strict')).toEqual([]);
    expect(shapes.validate(artifact, { labels: {} }, 'strict')).toEqual([
      { path: '/labels', message: 'must be array,null' },
    ]);
    // A map is an object or null, never a list; an object with named properties is never null.
    expect(shapes.validate({ $ref: '#/definitions/Project' }, { metadata: null }, 'lenient')).not.toEqual([]);
    expect(
      shapes.validate({ type: 'object', additionalProperties: { type: 'string' } }, [], 'lenient'),
    ).not.toEqual([]);
  });
});
