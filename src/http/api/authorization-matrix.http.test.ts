import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  publicProjectAllows,
  roleAllows,
  rolePermissions,
  type Action,
  type ProjectResource,
} from '../../core/iam/rbac.js';
import {
  seedMatrix,
  type Caller,
  type MatrixRequest,
  type MatrixWorld,
} from './authorization-matrix.fixture.js';
import {
  allows,
  describeRule,
  harborAllows,
  matrixPermissions,
  ROLE_IDS,
  ROLES,
  type Rule,
} from './authorization-matrix.rules.js';
import { ROUTES, type RouteEntry, type Variant } from './authorization-matrix.table.js';
import { apiRoutes, operationKey } from './openapi/api-routes.js';

/**
 * Every principal against every route: the system admin, anonymous, a user who is a member of nothing,
 * a user of each of Harbor's five roles (in a private and a public project), a project robot for each
 * grantable project permission and system robots with one system permission each, on every /api/v2.0/
 * operation the app registers and every /v2/ endpoint. The expected answer comes from Harbor's matrix
 * (authorization-matrix.rules.ts, authorization-matrix.table.ts), never from Berth's code: allowed means
 * neither 401 nor 403; refused means 401 with the challenge for anonymous callers, 403 for the others, in
 * Harbor's envelope (`UNAUTHORIZED`/`FORBIDDEN`) or the OCI one (`UNAUTHORIZED`/`DENIED`).
 */
let world: MatrixWorld;

beforeAll(async () => {
  world = await seedMatrix();
}, 120_000);

afterAll(async () => {
  await world?.app.close();
});

interface Outcome {
  caller: Caller;
  entry: RouteEntry;
  variant: Variant;
  rule: Rule;
  allowed: boolean;
  request: MatrixRequest;
  response: LightMyRequestResponse;
}

/**
 * Where Berth is known to answer otherwise than Harbor, reported and awaiting a fix outside the route
 * files: each is matched precisely, and the test fails once one no longer happens, so the entry goes
 * with the fix.
 */
interface KnownMismatch {
  reason: string;
  matches(outcome: Outcome): boolean;
}

const KNOWN_MISMATCHES: readonly KnownMismatch[] = [];

function errorCode(response: LightMyRequestResponse): string | undefined {
  try {
    return response.json<{ errors?: { code?: string }[] }>().errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** What is wrong with an answer, or undefined when it is the one the matrix expects. */
function problemOf(outcome: Outcome): string | undefined {
  const { caller, entry, allowed, request, response } = outcome;
  const status = response.statusCode;
  const refused = status === 401 || status === 403;
  if (allowed) {
    if (refused)
      return `refused (${status} ${errorCode(response) ?? ''}) though ${describeRule(outcome.rule)} allows it`;
    if (status >= 500) return `answered ${status}: ${response.body.slice(0, 200)}`;
    const admin = caller.principal.kind === 'user' && caller.principal.sysadmin;
    // The system admin may do everything: anything but success means the request itself is wrong.
    if (admin && (status < 200 || status > 299) && !(entry.adminStatuses ?? []).includes(status)) {
      return `the system admin got ${status}: ${response.body.slice(0, 200)}`;
    }
    return undefined;
  }
  const anonymous = caller.principal.kind === 'anonymous';
  const expected = anonymous ? 401 : 403;
  if (status !== expected)
    return `answered ${status}, expected ${expected} (${describeRule(outcome.rule)} refuses it)`;
  if (request.method !== 'HEAD') {
    const code = errorCode(response);
    const want = anonymous ? 'UNAUTHORIZED' : entry.surface === 'oci' ? 'DENIED' : 'FORBIDDEN';
    if (code !== want) return `error code ${code}, expected ${want}`;
  }
  if (anonymous) {
    const challenge = String(response.headers['www-authenticate'] ?? '');
    const pattern =
      entry.surface === 'oci'
        ? /^Bearer realm="[^"]+\/service\/token",service="harbor-registry"/
        : /^Basic realm="[^"]+"$/;
    if (!pattern.test(challenge)) return `challenge ${JSON.stringify(challenge)}`;
  }
  return undefined;
}

function describeOutcome(outcome: Outcome, problem: string): string {
  return `${outcome.caller.principal.label}: ${outcome.request.method} ${outcome.request.url} [${outcome.entry.method} ${outcome.entry.path}]: ${problem}`;
}

describe('the authorization matrix', () => {
  it('has an entry for every /api/v2.0 operation the app registers, and none for an operation it does not', () => {
    const registered = new Set(
      apiRoutes(world.app.berth.server).map((route) => operationKey(route.method, route.path)),
    );
    const specified = ROUTES.filter((entry) => entry.surface === 'api').map((entry) =>
      operationKey(entry.method, entry.path),
    );
    expect(
      specified.filter((key, index) => specified.indexOf(key) !== index),
      'specified twice',
    ).toEqual([]);
    expect(
      [...registered].filter((key) => !specified.includes(key)),
      'routes without a permission in authorization-matrix.table.ts',
    ).toEqual([]);
    expect(
      specified.filter((key) => !registered.has(key)),
      'entries for routes that do not exist',
    ).toEqual([]);
  });

  it("transcribes Harbor's role matrix as rbac.ts does", () => {
    const every = new Map<string, { resource: string; action: string }>();
    for (const permission of matrixPermissions())
      every.set(`${permission.resource} ${permission.action}`, permission);
    for (const role of ROLES) {
      for (const permission of rolePermissions(ROLE_IDS[role])) {
        every.set(`${permission.resource} ${permission.action}`, permission);
      }
    }
    const differences: string[] = [];
    for (const { resource, action } of every.values()) {
      for (const role of ROLES) {
        const berth = roleAllows(ROLE_IDS[role], resource as ProjectResource, action as Action);
        if (berth !== harborAllows(role, resource, action))
          differences.push(`${role} ${resource} ${action}: ${berth}`);
      }
      const berth = publicProjectAllows(resource as ProjectResource, action as Action);
      if (berth !== harborAllows('public', resource, action))
        differences.push(`public ${resource} ${action}: ${berth}`);
    }
    expect(differences).toEqual([]);
  });

  it('answers every principal on every route as Harbor does', async () => {
    const started = Date.now();
    const outcomes: Outcome[] = [];
    for (const entry of ROUTES) {
      for (const variant of entry.variants) {
        const rule = entry.rule(world, variant);
        for (const caller of world.callers) {
          // One's own user exists only for users.
          if (variant === 'self' && caller.principal.kind !== 'user') continue;
          const request = await entry.request(world, variant, caller);
          const response = await world.send(request, caller.authorization);
          await request.undo?.(response);
          outcomes.push({
            caller,
            entry,
            variant,
            rule,
            allowed: allows(rule, caller.principal),
            request,
            response,
          });
        }
      }
    }

    const unexpected: string[] = [];
    const seen = new Map<KnownMismatch, number>();
    for (const outcome of outcomes) {
      const problem = problemOf(outcome);
      if (problem === undefined) continue;
      const known = KNOWN_MISMATCHES.find((mismatch) => mismatch.matches(outcome));
      if (known) seen.set(known, (seen.get(known) ?? 0) + 1);
      else unexpected.push(describeOutcome(outcome, problem));
    }

    const allowed = outcomes.filter((outcome) => outcome.allowed).length;
    const apiOperations = ROUTES.filter((entry) => entry.surface === 'api').length;
    const ociEndpoints = ROUTES.length - apiOperations;
    const cases = new Set(
      outcomes.map((outcome) => `${outcome.entry.method} ${outcome.entry.path} ${outcome.variant}`),
    );
    console.log(
      [
        `authorization matrix: ${world.callers.length} principals x ${cases.size} route cases ` +
          `(${apiOperations} /api/v2.0 operations + ${ociEndpoints} /v2/ endpoints, per project/target) = ` +
          `${outcomes.length} requests checked in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  expected allowed ${allowed}, refused ${outcomes.length - allowed}; unexpected answers ${unexpected.length}`,
        ...[...new Set(ROUTES.flatMap((entry) => (entry.berth === undefined ? [] : [entry.berth])))].map(
          (note) => `  Berth's documented rule, not Harbor's: ${note}`,
        ),
        ...KNOWN_MISMATCHES.map(
          (mismatch) => `  known mismatch (${seen.get(mismatch) ?? 0} answers): ${mismatch.reason}`,
        ),
      ].join('\n'),
    );
    expect(unexpected.slice(0, 60), `${unexpected.length} answers differ from the matrix`).toEqual([]);
    expect(
      KNOWN_MISMATCHES.filter((mismatch) => !seen.has(mismatch)).map((mismatch) => mismatch.reason),
      'known mismatches that no longer happen: remove them',
    ).toEqual([]);
  }, 180_000);
});
