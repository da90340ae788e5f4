import type { AuditLogService } from '../core/audit/audit-log.service.js';
import type { Authorizer } from '../core/iam/access.policy.js';
import type { HealthService } from '../core/health/health.service.js';
import type { AuthService } from '../core/iam/auth.service.js';
import type { RobotService } from '../core/iam/robot.service.js';
import type { SessionService } from '../core/iam/session.service.js';
import type { TokenService } from '../core/iam/token.service.js';
import type { UserService } from '../core/iam/user.service.js';
import type { SearchService } from '../core/overview/search.service.js';
import type { StatisticsService } from '../core/overview/statistics.service.js';
import type { SystemSettings, VolumeProbe } from '../core/overview/system-info.js';
import type { MemberService } from '../core/projects/member.service.js';
import type { ProjectService } from '../core/projects/project.service.js';
import type { QuotaService } from '../core/quota/quota.service.js';
import type { BlobService } from '../core/registry/blob.service.js';
import type { ArtifactCopier } from '../core/registry/artifact-copy.js';
import type { ArtifactService } from '../core/registry/artifact.service.js';
import type { ManifestService } from '../core/registry/manifest.service.js';
import type { PullRecorder } from '../core/registry/pull.recorder.js';
import type { RepositoryAccess } from '../core/registry/repository.access.js';
import type { RepositoryService } from '../core/registry/repository.service.js';

/** The core services the HTTP edge calls; built by the composition root (src/app). */
export interface HttpDeps {
  auth: AuthService;
  authorizer: Authorizer;
  access: RepositoryAccess;
  blobs: BlobService;
  manifests: ManifestService;
  /** Harbor's repositories (`/api/v2.0/repositories`, `/projects/{p}/repositories/{r}`). */
  repositories: RepositoryService;
  /** Harbor's artifacts, their tags and accessories (`.../repositories/{r}/artifacts`). */
  artifacts: ArtifactService;
  /** `POST .../artifacts?from=` */
  artifactCopier: ArtifactCopier;
  /** Counts manifest GETs (pull_count, pull_time) in memory and writes them in batches. */
  pulls: PullRecorder;
  projects: ProjectService;
  /** Project members (`/api/v2.0/projects/{p}/members`). */
  members: MemberService;
  /** Robot accounts v2 (`/api/v2.0/robots`, `/api/v2.0/permissions`). */
  robots: RobotService;
  tokens: TokenService;
  users: UserService;
  /** Portal sessions (`POST /c/login`), accepted on /api/v2.0/ by apiIdentity. */
  sessions: SessionService;
  /** `GET /api/v2.0/statistics`. */
  statistics: StatisticsService;
  /** `GET /api/v2.0/search`. */
  search: SearchService;
  /** What `GET /api/v2.0/systeminfo` reports, and the data volume `/systeminfo/volumes` measures. */
  system: { settings: SystemSettings; volume: VolumeProbe };
  /** Project storage quotas (`/api/v2.0/quotas`). */
  quotas: QuotaService;
  /** The audit log: recorded by the onResponse hook, listed by `/audit-logs` and `/projects/{p}/logs`. */
  auditLog: AuditLogService;
  /** `/api/v2.0/health` and whether the instance drains for shutdown (`/api/v2.0/ping` answers 503 then). */
  health: HealthService;
  /** The realm of the Basic challenge of /api/v2.0/. */
  realm: string;
  /** Where clients reach Berth: the token realm of /v2/ challenges is `<url>/service/token`. */
  publicUrl: PublicUrl;
}

export interface PublicUrl {
  /** `external_url`, or the URL harbor.yml's hostname and port give (config.derived.ts `externalUrl`). */
  url: string;
  /**
   * True when `external_url` set it: then it is used as it is. Otherwise only its scheme is, with the
   * Host the request came with (what works behind any proxy, and when the port is not the configured one).
   */
  fixed: boolean;
}
