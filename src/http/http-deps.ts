import type { Authorizer } from '../core/iam/access.policy.js';
import type { AuthService } from '../core/iam/auth.service.js';
import type { TokenService } from '../core/iam/token.service.js';
import type { ProjectService } from '../core/projects/project.service.js';
import type { BlobService } from '../core/registry/blob.service.js';
import type { ManifestService } from '../core/registry/manifest.service.js';
import type { RepositoryAccess } from '../core/registry/repository.access.js';

/** The core services the HTTP edge calls; built by the composition root (src/app). */
export interface HttpDeps {
  auth: AuthService;
  authorizer: Authorizer;
  access: RepositoryAccess;
  blobs: BlobService;
  manifests: ManifestService;
  projects: ProjectService;
  tokens: TokenService;
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
