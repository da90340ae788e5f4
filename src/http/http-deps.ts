import type { AuthService } from '../core/iam/auth.service.js';
import type { ProjectService } from '../core/projects/project.service.js';
import type { BlobService } from '../core/registry/blob.service.js';
import type { ManifestService } from '../core/registry/manifest.service.js';
import type { RepositoryAccess } from '../core/registry/repository.access.js';

/** The core services the HTTP edge calls; built by the composition root (src/app). */
export interface HttpDeps {
  auth: AuthService;
  access: RepositoryAccess;
  blobs: BlobService;
  manifests: ManifestService;
  projects: ProjectService;
  /** The realm of the Basic challenge. */
  realm: string;
}
