import { DomainError } from '../errors.js';

/**
 * Repository names and tags per the OCI distribution spec (§Pulling manifests): a name is
 * path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`; a tag is
 * `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. Berth also requires `<project>/<path>` (Harbor's rule) and caps
 * the name at 255 characters, as Harbor and distribution do.
 */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_REPOSITORY_NAME_LENGTH = 255;

export interface RepositoryName {
  /** The full name, e.g. `library/nginx` or `team/app/api`. */
  readonly full: string;
  /** The first component: the Harbor project. */
  readonly project: string;
}

export function isValidRepositoryName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_REPOSITORY_NAME_LENGTH) return false;
  return name.split('/').every((component) => COMPONENT.test(component));
}

export function parseRepositoryName(name: string): RepositoryName {
  if (!isValidRepositoryName(name)) {
    throw new DomainError('name.invalid', `invalid repository name "${name.slice(0, 300)}"`);
  }
  const slash = name.indexOf('/');
  if (slash < 0) {
    throw new DomainError(
      'name.invalid',
      `repository name "${name}" must be <project>/<repository>, e.g. library/${name}`,
    );
  }
  return { full: name, project: name.slice(0, slash) };
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Project names follow Harbor: lowercase, digits, `._-`, 1 to 255 characters, starting with a letter or digit. */
export function isValidProjectName(name: string): boolean {
  return name.length >= 1 && name.length <= 255 && COMPONENT.test(name);
}
