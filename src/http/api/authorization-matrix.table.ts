import { ACCOUNT_ROUTES } from './authorization-matrix.accounts.js';
import type { RouteEntry } from './authorization-matrix.entries.js';
import { PROJECT_ROUTES } from './authorization-matrix.projects.js';
import { REGISTRY_ROUTES } from './authorization-matrix.registry.js';

/**
 * The specification of the authorization matrix test: for every /api/v2.0/ operation and every /v2/
 * endpoint, the permission it needs, as Harbor's handlers ask it (src/server/v2.0/handler/*.go:
 * RequireProjectAccess, RequireSystemAccess, RequireAuthenticated; src/server/middleware/v2auth for /v2/),
 * and a valid request for it built from the seed. Where Berth's rule is not Harbor's, an entry's `berth`
 * quotes the docs/api.md statement that makes it so; nothing else may differ.
 */
export type { RouteEntry, Variant } from './authorization-matrix.entries.js';

export const ROUTES: readonly RouteEntry[] = [...ACCOUNT_ROUTES, ...PROJECT_ROUTES, ...REGISTRY_ROUTES];
