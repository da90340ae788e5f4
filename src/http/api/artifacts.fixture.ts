import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { hashPassword } from '../../core/iam/password.js';
import type { RoleId } from '../../core/iam/rbac.js';
import { digestOf, type Digest } from '../../core/oci/digest.js';
import { ADMIN_AUTH, injectAsAdmin, pushBlob, type TestApp } from '../../app/test-app.fixture.js';

/** Builders for the repository/artifact/tag HTTP tests: projects, members and manifests pushed over /v2/. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const COSIGN_SIGNATURE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

export async function createProject(app: TestApp, name: string, isPublic: boolean): Promise<number> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, public: isPublic },
  });
  expect(response.statusCode, response.body).toBe(201);
  const project = await app.berth.store.findProjectByName(name);
  if (project === undefined) throw new Error(`project ${name} was not created`);
  return project.projectId;
}

/** A user with `role` in the project (none if undefined); returns its Basic authorization header. */
export async function createUser(
  app: TestApp,
  username: string,
  membership?: { projectId: number; role: RoleId },
) {
  const password = 'Passw0rd-for-tests';
  const user = await app.berth.store.createUser({
    username,
    email: `${username}@example.test`,
    realname: username,
    passwordHash: await hashPassword(password),
    sysadmin: false,
  });
  if (membership) await app.berth.store.addMember({ ...membership, userId: user.userId });
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** PUTs `manifest` under `reference` (a tag, or `digest` to push by digest); returns its digest and size. */
export async function putManifest(
  app: TestApp,
  repository: string,
  /** A tag, or `digest` to push by digest. */
  reference: string,
  manifest: Record<string, unknown>,
  mediaType = OCI_MANIFEST,
): Promise<{ digest: Digest; bytes: number }> {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, ...manifest }));
  const digest = digestOf(body);
  const response = await app.berth.server.inject({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${reference === 'digest' ? digest : reference}`,
    headers: { authorization: ADMIN_AUTH, 'content-type': mediaType },
    payload: body,
  });
  expect(response.statusCode, response.body).toBe(201);
  return { digest, bytes: body.length };
}

export interface PushedImage {
  digest: Digest;
  /** Harbor's size: manifest + config + layer. */
  size: number;
  config: Digest;
}

/** An image for one platform, pushed by digest (untagged), as a multi-arch build pushes its children. */
export async function pushPlatformImage(
  app: TestApp,
  repository: string,
  architecture: string,
  reference = 'digest',
): Promise<PushedImage> {
  const configText = JSON.stringify({
    architecture,
    os: 'linux',
    author: 'berth tests',
    config: { Env: ['PATH=/bin'], Labels: { maintainer: 'ignored when author is set' } },
    history: [{ created_by: `build ${architecture}` }],
  });
  const layerText = `layer for ${architecture} ${repository}`;
  const config = await pushBlob(app, repository, configText);
  const layer = await pushBlob(app, repository, layerText);
  const pushed = await putManifest(app, repository, reference, {
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: config,
      size: Buffer.byteLength(configText),
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: layer,
        size: Buffer.byteLength(layerText),
      },
    ],
  });
  return {
    digest: pushed.digest,
    size: pushed.bytes + Buffer.byteLength(configText) + Buffer.byteLength(layerText),
    config,
  };
}

/** An OCI index over `children` (amd64, arm64 ...) tagged `tag`. */
export async function pushIndex(
  app: TestApp,
  repository: string,
  tag: string,
  children: { image: PushedImage; architecture: string }[],
): Promise<{ digest: Digest; size: number }> {
  const pushed = await putManifest(
    app,
    repository,
    tag,
    {
      manifests: children.map(({ image, architecture }) => ({
        mediaType: OCI_MANIFEST,
        digest: image.digest,
        size: 1,
        platform: { architecture, os: 'linux', ...(architecture === 'arm64' ? { variant: 'v8' } : {}) },
        annotations: { 'org.example.arch': architecture },
      })),
    },
    OCI_INDEX,
  );
  return {
    digest: pushed.digest,
    size: pushed.bytes + children.reduce((sum, child) => sum + child.image.size, 0),
  };
}

/** An OCI 1.1 referrer of `subject` (a cosign signature unless another artifactType is given). */
export async function pushReferrer(
  app: TestApp,
  repository: string,
  subject: { digest: Digest },
  artifactType = COSIGN_SIGNATURE,
): Promise<{ digest: Digest; size: number }> {
  const empty = await pushBlob(app, repository, '{}');
  const payload = `payload of ${artifactType} for ${subject.digest}`;
  const layer = await pushBlob(app, repository, payload);
  const pushed = await putManifest(app, repository, 'digest', {
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
    layers: [{ mediaType: 'application/octet-stream', digest: layer, size: Buffer.byteLength(payload) }],
    subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: 1 },
  });
  return { digest: pushed.digest, size: pushed.bytes + 2 + Buffer.byteLength(payload) };
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

export function errorCode(response: LightMyRequestResponse): string | undefined {
  return json<{ errors?: { code: string }[] }>(response).errors?.[0]?.code;
}
