import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadSession } from '../../ports/blob-store.js';
import { errorCode, isNotFound } from './fs-durability.js';
import { FsBlobLayout, SESSION_DATA, SESSION_INFO, SESSION_STARTED_AT } from './fs-blob.layout.js';

/**
 * An upload session on disk: `uploads/<id>/{data,startedat,info.json}`. Every fact about a session is read
 * from the volume, never cached, so any instance sharing it sees the same session.
 */

/** Creates the session in tmp/ and renames the whole directory into uploads/, so it appears complete. */
export async function createSessionFiles(
  layout: FsBlobLayout,
  repository: string,
  startedAt: string,
): Promise<UploadSession> {
  const id = randomUUID();
  const staging = layout.tmpPath();
  await mkdir(staging, { recursive: true });
  try {
    await Promise.all([
      writeFile(join(staging, SESSION_DATA), new Uint8Array(0), { flag: 'wx' }),
      writeFile(join(staging, SESSION_STARTED_AT), startedAt, { flag: 'wx' }),
      writeFile(join(staging, SESSION_INFO), JSON.stringify({ repository }), { flag: 'wx' }),
    ]);
    await mkdir(layout.uploadsDir, { recursive: true });
    await rename(staging, join(layout.uploadsDir, id));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return { id, repository, sizeBytes: 0, startedAt };
}

/** The size of the session's data file, or undefined when the session is gone. */
export async function sessionDataSize(dataPath: string): Promise<number | undefined> {
  try {
    const info = await stat(dataPath);
    return info.isFile() ? info.size : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** undefined when the directory is missing or malformed (a half-removed or foreign directory). */
export async function readSessionFiles(id: string, dir: string): Promise<UploadSession | undefined> {
  let infoText: string;
  let startedAtText: string;
  let sizeBytes: number | undefined;
  try {
    [infoText, startedAtText, sizeBytes] = await Promise.all([
      readFile(join(dir, SESSION_INFO), 'utf8'),
      readFile(join(dir, SESSION_STARTED_AT), 'utf8'),
      sessionDataSize(join(dir, SESSION_DATA)),
    ]);
  } catch (error) {
    if (isNotFound(error) || errorCode(error) === 'EISDIR') return undefined;
    throw error;
  }
  const repository = parseRepository(infoText);
  const startedAt = startedAtText.trim();
  if (sizeBytes === undefined || repository === undefined || Number.isNaN(Date.parse(startedAt))) {
    return undefined;
  }
  return { id, repository, sizeBytes, startedAt };
}

function parseRepository(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('repository' in parsed)) return undefined;
    const { repository } = parsed;
    return typeof repository === 'string' && repository !== '' ? repository : undefined;
  } catch {
    return undefined;
  }
}
