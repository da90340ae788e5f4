import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Statistic } from '../../core/overview/statistics.service.js';
import type { HttpDeps } from '../http-deps.js';
import { clientFacingUrl } from '../oci/oci-challenge.js';
import { apiIdentity, requireSystemPermission } from './api-access.js';

/**
 * Harbor's system endpoints: GET /systeminfo (swagger `GeneralInfo`), GET /systeminfo/volumes
 * (`SystemInfo`) and GET /statistics (`Statistic`), as src/server/v2.0/handler/systeminfo.go and
 * statistic.go answer them.
 */

/**
 * `harbor_version`: Harbor sends `v<release>-<git commit>`; Berth its own version with `-berth` in the
 * commit's place, so a client can tell the two apart (and no client mistakes Berth for a Harbor release).
 */
export function harborVersion(version: string): string {
  return `v${version}-berth`;
}

/**
 * What GET /systeminfo tells. Anonymous callers get the fields the login page needs; authenticated ones
 * also the protected set (Harbor's `WithProtectedInfo`). Berth authenticates users against its own
 * database (`db_auth`, never a primary external mode), has no root CA to download, no read-only mode, no
 * webhooks, no banner and no OIDC provider: those fields say so.
 */
function generalInfo(
  deps: HttpDeps,
  request: FastifyRequest,
  authenticated: boolean,
): Record<string, unknown> {
  const { settings } = deps.system;
  const info: Record<string, unknown> = {
    auth_mode: 'db_auth',
    primary_auth_mode: false,
    self_registration: settings.selfRegistration,
    harbor_version: harborVersion(settings.version),
    banner_message: '',
    oidc_provider_name: '',
  };
  if (!authenticated) return info;
  const externalUrl = clientFacingUrl(request, deps.publicUrl);
  return {
    ...info,
    current_time: new Date().toISOString(),
    has_ca_root: false,
    project_creation_restriction: settings.projectCreationRestriction,
    external_url: externalUrl,
    // What `docker login` takes: the external URL without its scheme.
    registry_url: externalUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''),
    read_only: false,
    registry_storage_provider_name: settings.storageProvider,
    notification_enable: false,
  };
}

function toHarborStatistic(statistic: Statistic): Record<string, number> {
  return {
    private_project_count: statistic.privateProjectCount,
    private_repo_count: statistic.privateRepoCount,
    public_project_count: statistic.publicProjectCount,
    public_repo_count: statistic.publicRepoCount,
    total_project_count: statistic.totalProjectCount,
    total_repo_count: statistic.totalRepoCount,
    total_storage_consumption: statistic.totalStorageConsumption,
  };
}

export function registerSystemRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/systeminfo', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(generalInfo(deps, request, identity.kind !== 'anonymous'));
  });

  app.get('/api/v2.0/systeminfo/volumes', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    requireSystemPermission(deps, identity, 'system-volumes', 'read');
    const { total, free } = await deps.system.volume.capacity();
    reply.send({ storage: [{ total, free }] });
  });

  app.get('/api/v2.0/statistics', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(toHarborStatistic(await deps.statistics.statistic(identity)));
  });
}
