import { DomainError } from '../../core/errors.js';
import { parseDigest, isDigestAlgorithm, type Digest } from '../../core/oci/digest.js';
import type { ChunkOptions } from '../../core/registry/blob.service.js';
import type { UploadSession } from '../../ports/blob-store.js';
import { contentLength, hasBody, requestBody, type OciContext } from './oci-context.js';
import { sendBlobBody } from './blob-body.js';
import { multipartRanges } from './multipart-ranges.js';
import { parseContentRange, parseRangeHeader } from './range.js';

/** Blob pulls, deletes and uploads (distribution-spec §Pulling blobs, §Pushing blobs, §Deleting blobs). */

function blobLocation(name: string, digest: Digest): string {
  return `/v2/${name}/blobs/${digest}`;
}

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

/** `Range: 0-<end>` of an upload: the last byte received; `0-0` for an empty session, like distribution. */
function uploadRange(session: UploadSession): string {
  return `0-${Math.max(0, session.sizeBytes - 1)}`;
}

function sendUploadState(ctx: OciContext, name: string, session: UploadSession, status: number): void {
  ctx.reply
    .code(status)
    .header('Location', uploadLocation(name, session.id))
    .header('Range', uploadRange(session))
    .header('Docker-Upload-UUID', session.id)
    .header('Content-Length', '0')
    .send();
}

function sendBlobCreated(ctx: OciContext, name: string, digest: Digest): void {
  ctx.reply
    .code(201)
    .header('Location', blobLocation(name, digest))
    .header('Docker-Content-Digest', digest)
    .header('Content-Length', '0')
    .send();
}

/** Chunk options from Content-Range and Content-Length; their lengths must agree. */
function chunkOptions(ctx: OciContext): ChunkOptions {
  const options: ChunkOptions = {};
  const length = contentLength(ctx);
  const rangeHeader = ctx.request.headers['content-range'];
  if (rangeHeader !== undefined) {
    const range = parseContentRange(rangeHeader);
    const rangeLength = range.end - range.start + 1;
    if (length !== undefined && length !== rangeLength) {
      throw new DomainError(
        'size.invalid',
        `Content-Length ${length} does not match Content-Range ${rangeHeader}`,
      );
    }
    options.offset = range.start;
    options.expectedLength = rangeLength;
  } else if (length !== undefined) {
    options.expectedLength = length;
  }
  return options;
}

export async function getBlob(
  ctx: OciContext,
  name: string,
  rawDigest: string,
  head: boolean,
): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'pull');
  const digest = parseDigest(rawDigest);
  const blob = await ctx.deps.blobs.statBlob(name, digest);
  const range = parseRangeHeader(ctx.request.headers.range, blob.sizeBytes);
  const reply = ctx.reply
    .header('Docker-Content-Digest', digest)
    .header('ETag', `"${digest}"`)
    .header('Accept-Ranges', 'bytes')
    .header('Cache-Control', 'max-age=31536000')
    .header('Content-Type', 'application/octet-stream');
  if (range.kind === 'unsatisfiable') {
    reply.code(416).header('Content-Range', `bytes */${blob.sizeBytes}`).header('Content-Length', '0').send();
    return;
  }
  if (range.kind === 'ranges') {
    const multipart = multipartRanges(range.ranges, blob.sizeBytes, (part) =>
      ctx.deps.blobs.openBlob(digest, part),
    );
    reply
      .code(206)
      .header('Content-Type', multipart.contentType)
      .header('Content-Length', String(multipart.lengthBytes));
    if (head) {
      multipart.body.destroy();
      reply.send();
      return;
    }
    reply.send(multipart.body);
    return;
  }
  const byteRange = range.kind === 'range' ? range.range : undefined;
  const length = byteRange ? byteRange.end - byteRange.start + 1 : blob.sizeBytes;
  reply.header('Content-Length', String(length));
  if (byteRange) {
    reply.code(206).header('Content-Range', `bytes ${byteRange.start}-${byteRange.end}/${blob.sizeBytes}`);
  }
  if (head || length === 0) {
    reply.send();
    return;
  }
  // Opened before anything is sent: a blob missing from the volume is still an ordinary BLOB_UNKNOWN.
  const opened = await ctx.deps.blobs.openBlobForReads(digest);
  await sendBlobBody(reply, opened, byteRange?.start ?? 0, length);
}

export async function deleteBlob(ctx: OciContext, name: string, rawDigest: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'delete');
  await ctx.deps.blobs.deleteBlob(name, parseDigest(rawDigest));
  ctx.reply.code(202).header('Content-Length', '0').send();
}

/** Source repositories a mount may link from: `from` if readable, else every readable holder of the blob. */
async function mountCandidates(ctx: OciContext, name: string, digest: Digest): Promise<string[]> {
  const from = ctx.query.get('from');
  if (from !== null) {
    if (from === name) return [from];
    // An invalid or unreadable `from` cannot be mounted from; the client gets a normal upload session.
    return (await ctx.deps.access.mountSource(ctx.principal, from)) ? [from] : [];
  }
  const holders = await ctx.deps.blobs.listRepositoriesWithBlob(digest);
  const readable: string[] = [];
  for (const holder of holders) {
    if (holder === name) return [holder];
    if (await ctx.deps.access.canPull(ctx.principal, holder)) readable.push(holder);
  }
  return readable;
}

export async function startUpload(ctx: OciContext, name: string): Promise<void> {
  const { project } = await ctx.deps.access.authorize(ctx.principal, name, 'push');
  const algorithm = ctx.query.get('digest-algorithm');
  if (algorithm !== null && !isDigestAlgorithm(algorithm)) {
    throw new DomainError('digest.invalid', `unsupported digest algorithm "${algorithm.slice(0, 40)}"`);
  }
  const mount = ctx.query.get('mount');
  if (mount !== null) {
    const digest = parseDigest(mount);
    const mounted = await ctx.deps.blobs.mountBlob(
      project.projectId,
      name,
      digest,
      await mountCandidates(ctx, name, digest),
    );
    if (mounted) {
      sendBlobCreated(ctx, name, digest);
      return;
    }
  }
  const monolithic = ctx.query.get('digest');
  if (monolithic !== null) {
    const digest = parseDigest(monolithic);
    await ctx.deps.blobs.uploadWhole(project.projectId, name, digest, requestBody(ctx), chunkOptions(ctx));
    sendBlobCreated(ctx, name, digest);
    return;
  }
  const session = await ctx.deps.blobs.startUpload(name);
  sendUploadState(ctx, name, session, 202);
}

export async function getUploadStatus(ctx: OciContext, name: string, id: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'push');
  const session = await ctx.deps.blobs.getUpload(name, id);
  sendUploadState(ctx, name, session, 204);
}

export async function patchUpload(ctx: OciContext, name: string, id: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'push');
  const session = await ctx.deps.blobs.appendChunk(name, id, requestBody(ctx), chunkOptions(ctx));
  sendUploadState(ctx, name, session, 202);
}

export async function putUpload(ctx: OciContext, name: string, id: string): Promise<void> {
  const { project } = await ctx.deps.access.authorize(ctx.principal, name, 'push');
  const rawDigest = ctx.query.get('digest');
  if (rawDigest === null) throw new DomainError('digest.invalid', 'the digest query parameter is required');
  const digest = parseDigest(rawDigest);
  const finalChunk = hasBody(ctx) ? { body: requestBody(ctx), options: chunkOptions(ctx) } : undefined;
  await ctx.deps.blobs.completeUpload(project.projectId, name, id, digest, finalChunk);
  sendBlobCreated(ctx, name, digest);
}

export async function cancelUpload(ctx: OciContext, name: string, id: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'push');
  await ctx.deps.blobs.cancelUpload(name, id);
  ctx.reply.code(204).header('Content-Length', '0').send();
}
