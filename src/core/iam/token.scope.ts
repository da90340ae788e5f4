/**
 * Scopes of a token request, per the Docker token spec (distribution docs/spec/auth/scope.md):
 * `resourcetype:resourcename:action[,action]*`, e.g. `repository:library/nginx:pull,push` or
 * `registry:catalog:*`. The name may itself contain colons (a registry host with a port), so the type ends
 * at the first colon and the actions start after the last one. A request carries several `scope`
 * parameters, and one parameter may hold several scopes separated by spaces (OAuth2 style, and what a
 * client copying a challenge's `scope` sends). Malformed scopes are dropped, not refused: they grant nothing.
 */
export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/** Resource types: lowercase alphanumerics, optionally with a class, e.g. `repository(plugin)`. */
const RESOURCE_TYPE = /^[a-z0-9]+(?:\([a-z0-9]+\))?$/;
const ACTION = /^(?:[a-z0-9-]+|\*)$/;
/** A name longer than any repository name could be is malformed; it also bounds the work per scope. */
const MAX_NAME_LENGTH = 512;

export function parseScope(scope: string): RequestedScope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const actions = [...new Set(scope.slice(last + 1).split(','))];
  if (!RESOURCE_TYPE.test(type) || name === '' || name.length > MAX_NAME_LENGTH) return undefined;
  if (!actions.every((action) => ACTION.test(action))) return undefined;
  return { type, name, actions };
}

/**
 * Every well-formed scope of the given `scope` parameter values, those naming the same resource merged
 * (actions in first-seen order).
 */
export function parseScopes(values: readonly string[]): RequestedScope[] {
  const merged = new Map<string, RequestedScope>();
  for (const value of values) {
    for (const part of value.split(' ')) {
      const scope = part === '' ? undefined : parseScope(part);
      if (scope === undefined) continue;
      const key = `${scope.type}\u0000${scope.name}`;
      const existing = merged.get(key);
      if (existing === undefined) merged.set(key, scope);
      else existing.actions = [...new Set([...existing.actions, ...scope.actions])];
    }
  }
  return [...merged.values()];
}

/** `repository:library/nginx:pull,push`: the form of a challenge's `scope` and of a request's. */
export function formatScope(scope: RequestedScope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}
