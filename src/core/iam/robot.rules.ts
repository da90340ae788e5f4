import { DomainError } from '../errors.js';
import type { RobotPermission } from './principal.js';
import { isGrantable } from './robot.permissions.js';

/**
 * Harbor's checks of a robot account request (src/server/v2.0/handler/robot.go `validateName`, `validate`),
 * each failing with 400 and Harbor's wording where it has one.
 */
export const ROBOT_NAME_PREFIX = 'robot$';

/** Lower-case letters and digits in runs joined by single `.`, `_` or `-`: never `+`, which splits project names. */
const NAME_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 255;
/** Days; Harbor's bound is Go's MaxInt32, exclusive. */
const MAX_DURATION = 2 ** 31 - 1;
const DAY_SECONDS = 86_400;
/** Enough for every grantable permission of every scope many times over; bounds the work a request costs. */
const MAX_PERMISSIONS = 100;
const MAX_ACCESS = 200;
export const MAX_DESCRIPTION_LENGTH = 1024;

export type RobotLevel = 'system' | 'project';

function invalid(message: string): DomainError {
  return new DomainError('request.invalid', message);
}

export function checkRobotName(name: string): void {
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw invalid('robot name is not in lower case or contains illegal characters');
  }
}

export function checkLevel(level: string): asserts level is RobotLevel {
  if (level !== 'system' && level !== 'project') {
    throw invalid(`bad request error level input: ${level.slice(0, 40)}`);
  }
}

export function checkDuration(duration: number): void {
  if (!Number.isSafeInteger(duration) || !(duration === -1 || (duration > 0 && duration < MAX_DURATION))) {
    throw invalid(
      `bad request error duration input: ${duration}, duration must be either -1(Never) or a positive integer`,
    );
  }
}

export function checkDescription(description: string): void {
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalid(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
}

/**
 * The permission list's shape: at least one permission, none empty, a project robot's exactly one of kind
 * `project`, namespaces that fit their kind, and every resource/action in the grantable catalog. Whether
 * the projects exist and whether the caller may grant them is the service's business.
 */
export function checkPermissions(level: RobotLevel, permissions: readonly RobotPermission[]): void {
  if (permissions.length === 0) throw invalid('bad request empty permission');
  if (permissions.length > MAX_PERMISSIONS) throw invalid(`at most ${MAX_PERMISSIONS} permissions`);
  // A project robot belongs to one project: its one permission names it.
  if (level === 'project' && (permissions.length > 1 || permissions[0]?.kind !== 'project')) {
    throw invalid('bad request permission: a project robot has exactly one permission, of kind project');
  }
  for (const permission of permissions) {
    if (permission.access.length === 0) throw invalid('bad request empty access');
    if (permission.access.length > MAX_ACCESS) throw invalid(`at most ${MAX_ACCESS} accesses per permission`);
    if (permission.kind === 'system' && permission.namespace !== '/') {
      throw invalid('the namespace of a system permission is "/"');
    }
    if (permission.kind === 'project') {
      if (permission.namespace === '' || permission.namespace === '/') {
        throw invalid('the namespace of a project permission is a project name or "*"');
      }
      if (level === 'project' && permission.namespace === '*') {
        throw invalid('a project robot belongs to one project: its namespace cannot be "*"');
      }
    }
    for (const access of permission.access) {
      if (!isGrantable(permission.kind, access.resource, access.action)) {
        throw invalid(
          `bad request permission: ${access.resource.slice(0, 60)}:${access.action.slice(0, 30)}`,
        );
      }
    }
  }
}

/** Seconds since the epoch when a robot created at `createdAtMs` with `duration` days expires; -1 never. */
export function expiresAtFor(createdAtMs: number, duration: number): number {
  return duration === -1 ? -1 : Math.floor(createdAtMs / 1000) + duration * DAY_SECONDS;
}

export function isExpired(expiresAt: number, nowMs: number): boolean {
  return expiresAt !== -1 && expiresAt * 1000 <= nowMs;
}

/** `robot$` + the stored name. */
export function loginNameOf(storedName: string): string {
  return `${ROBOT_NAME_PREFIX}${storedName}`;
}
