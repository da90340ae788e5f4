import type { Caller, MatrixRequest, MatrixWorld } from './authorization-matrix.fixture.js';
import type { ProjectName, Rule } from './authorization-matrix.rules.js';

/**
 * The shape of the authorization matrix's specification (authorization-matrix.table.ts) and the helpers
 * its entries are written with. A route's variants are the targets it is tried on: the private and the
 * public project, a system or a project robot, one's own user or another.
 */
export type Variant = 'none' | ProjectName | 'system' | 'self' | 'other';

export interface RouteEntry {
  surface: 'api' | 'oci';
  method: MatrixRequest['method'];
  /** Harbor's path: relative to /api/v2.0 for the API (as in its swagger), `/v2/<name>/...` for the registry. */
  path: string;
  variants: readonly Variant[];
  rule(world: MatrixWorld, variant: Variant): Rule;
  request(world: MatrixWorld, variant: Variant, caller: Caller): Promise<MatrixRequest>;
  /** Statuses other than 2xx a valid request may get from the system admin (412: a project with repositories). */
  adminStatuses?: readonly number[];
  /** Where Berth's rule departs from Harbor's: the docs/api.md statement. */
  berth?: string;
}

export const NONE: readonly Variant[] = ['none'];
export const PROJECTS: readonly Variant[] = ['priv', 'pub'];
export const ROBOT_SCOPES: readonly Variant[] = ['system', 'priv', 'pub'];

export function projectOf(variant: Variant): ProjectName {
  if (variant !== 'priv' && variant !== 'pub') throw new Error(`variant ${variant} names no project`);
  return variant;
}

export const anyone = (): Rule => ({ kind: 'anyone' });
export const authenticated = (): Rule => ({ kind: 'authenticated' });
export const system = (resource: string, action: string) => (): Rule => ({
  kind: 'system',
  resource,
  action,
});
export const project =
  (resource: string, action: string) =>
  (world: MatrixWorld, variant: Variant): Rule => {
    const { name, isPublic } = world.projects[projectOf(variant)];
    return { kind: 'project', project: { name, isPublic }, resource, action };
  };
/** Own user → the caller must be that user; another → the system permission. */
export const selfOr =
  (resource: string, action: string) =>
  (_world: MatrixWorld, variant: Variant): Rule =>
    variant === 'self' ? { kind: 'self' } : { kind: 'system', resource, action };
/** A robot target: a system robot needs the system `robot` permission, a project robot its project's. */
export const robotRule =
  (action: string) =>
  (world: MatrixWorld, variant: Variant): Rule =>
    variant === 'system'
      ? { kind: 'system', resource: 'robot', action }
      : project('robot', action)(world, variant);

export const get = (url: string): Promise<MatrixRequest> => Promise.resolve({ method: 'GET', url });

/** `/projects/{project}/repositories/app` and below. */
export const repo = (variant: Variant, rest = ''): string =>
  `/api/v2.0/projects/${projectOf(variant)}/repositories/app${rest}`;

export function userIdOf(world: MatrixWorld, variant: Variant, caller: Caller): number {
  if (variant === 'self') {
    if (caller.principal.kind !== 'user') throw new Error('self is a user variant');
    return caller.principal.userId;
  }
  return world.targetUserId;
}

export function robotTarget(world: MatrixWorld, variant: Variant): { id: number; name: string } {
  return variant === 'system'
    ? { id: world.systemTargetRobotId, name: 'robot$target' }
    : { id: world.projects[projectOf(variant)].targetRobotId, name: `robot$${projectOf(variant)}+target` };
}

export const api = (entry: Omit<RouteEntry, 'surface'>): RouteEntry => ({ surface: 'api', ...entry });
export const oci = (entry: Omit<RouteEntry, 'surface'>): RouteEntry => ({ surface: 'oci', ...entry });
