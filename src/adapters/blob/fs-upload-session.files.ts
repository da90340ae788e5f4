import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadSession } from '../../ports/blob-store.js';
import {
  FsBlobLayout,
  isSessionId,
  SESSION_DATA_SUFFIX,
  SESSION_INFO_SUFFIX,
  sessionIdOfEntry,
  type SessionPaths,
} from './fs-blob.layout.js';
import { errorCode, isNotFound, unlinkIfExists } from './fs-durability.js';
import { readSmallFile, statPath, writeNewFile } from './fs-calls.js';

/**
 * An upload session on disk is two flat files in uploads/:
 *
 * - `<id>.json`, `{"repository","startedAt"}`, created exclusively and written once. Its existence is the
 *   session: an empty or malformed one (a crash cut its write short) is no session at all.
 * - `<id>.data`, the bytes received so far, created by the first chunk (or by a commit of an empty
 *   session). Absent means zero bytes.
 *
 * Every changing fact about a session (that it exists, its size) is read from the volume on every call, so
 * any instance sharing it sees the same session. Only the .json's content, which never changes once
 * written, is remembered per process: with it, checking a session costs a stat instead of an
 * open-read-close. Removal unlinks the .json first, so a session disappears in one step; a .data left
 * without its .json by a crash is an orphan that `sweep` removes.
 */
export interface SessionInfo {
  repository: string;
  startedAt: string;
}

export class FsSessionFiles {
  /** Parsed .json contents by session id; bounded, oldest first out, as abandoned sessions never end. */
  private readonly infos = new Map<string, SessionInfo>();

  constructor(
    private readonly layout: FsBlobLayout,
    private readonly capacity = 10_000,
  ) {}

  /** One exclusive create-and-write: the session exists from the moment its .json does. */
  async create(repository: string, startedAt: string): Promise<UploadSession> {
    const { id, paths } = this.layout.newSession();
    const info: SessionInfo = { repository, startedAt };
    const content = Buffer.from(JSON.stringify(info));
    try {
      await writeNewFile(paths.info, content);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // uploads/ does not exist yet (a fresh volume) or was removed: create it and try once more. Checking
      // only on failure costs nothing on every other start.
      await mkdir(this.layout.uploadsDir, { recursive: true });
      await writeNewFile(paths.info, content);
    }
    this.remember(id, info);
    return { id, repository, sizeBytes: 0, startedAt };
  }

  /** The .json check and the .data stat run side by side: one round trip for the whole session. */
  async read(id: string, paths: SessionPaths): Promise<UploadSession | undefined> {
    const known = this.infos.get(id);
    const [info, sizeBytes] = await Promise.all([
      known === undefined ? readSessionInfo(paths.info) : stillThere(paths.info, known),
      sessionDataSize(paths.data),
    ]);
    if (info === undefined) {
      this.infos.delete(id);
      return undefined;
    }
    if (known === undefined) this.remember(id, info);
    if (sizeBytes === undefined) return undefined;
    return { id, repository: info.repository, sizeBytes, startedAt: info.startedAt };
  }

  /** Unlinks the .json (the session is gone from then on), then the .data. False when there was no session. */
  async remove(id: string, paths: SessionPaths): Promise<boolean> {
    this.infos.delete(id);
    if (!(await unlinkIfExists(paths.info))) return false;
    await unlinkIfExists(paths.data);
    return true;
  }

  /** Ends a session whose data file has become a blob: only the .json is left to remove. */
  async finish(id: string, paths: SessionPaths): Promise<void> {
    this.infos.delete(id);
    await unlinkIfExists(paths.info);
  }

  /** Every well-formed session in uploads/. */
  async *list(): AsyncIterable<UploadSession> {
    for (const name of await listDir(this.layout.uploadsDir)) {
      const id = sessionIdOfEntry(name, SESSION_INFO_SUFFIX);
      const paths = id === undefined ? undefined : this.layout.sessionPaths(id);
      if (id === undefined || paths === undefined) continue;
      const session = await this.read(id, paths);
      if (session !== undefined) yield session;
    }
  }

  /**
   * Removes what crashes left behind, sparing anything modified or renamed since `olderThan` (it may
   * belong to a live operation on some instance):
   *
   * - `uploads/<id>.json` that is empty or malformed: a start cut short, never a session;
   * - `uploads/<id>.data` without a .json: a cancel or discard cut short between its two unlinks, or a
   *   chunk that raced a cancel on another instance;
   * - `uploads/<id>/` directories and everything in `tmp/`: sessions and staging of the earlier layout.
   *
   * Returns how many entries were removed.
   */
  async sweep(olderThan: Date): Promise<number> {
    const { uploadsDir, tmpDir } = this.layout;
    const cutoff = olderThan.getTime();
    let removed = 0;
    const withInfo = new Set<string>();
    const dataIds: string[] = [];
    for (const name of await listDir(uploadsDir)) {
      const path = join(uploadsDir, name);
      const infoId = sessionIdOfEntry(name, SESSION_INFO_SUFFIX);
      if (infoId !== undefined) {
        if ((await readSessionInfo(path)) === undefined && (await removeIfOlder(path, cutoff))) removed += 1;
        else withInfo.add(infoId);
        continue;
      }
      const dataId = sessionIdOfEntry(name, SESSION_DATA_SUFFIX);
      if (dataId !== undefined) dataIds.push(dataId);
      else if (isSessionId(name) && (await removeIfOlder(path, cutoff))) removed += 1;
    }
    for (const id of dataIds) {
      const paths = this.layout.sessionPaths(id);
      if (paths === undefined || withInfo.has(id)) continue;
      // The listing is no snapshot: look again before calling the bytes an orphan.
      if ((await readSessionInfo(paths.info)) !== undefined) continue;
      if (await removeIfOlder(paths.data, cutoff)) removed += 1;
    }
    for (const name of await listDir(tmpDir)) {
      if (await removeIfOlder(join(tmpDir, name), cutoff)) removed += 1;
    }
    return removed;
  }

  private remember(id: string, info: SessionInfo): void {
    this.infos.set(id, info);
    if (this.infos.size > this.capacity) {
      const oldest = this.infos.keys().next();
      if (oldest.done !== true) this.infos.delete(oldest.value);
    }
  }
}

/** The size of the session's bytes: 0 when the data file does not exist yet, undefined when it is no file. */
async function sessionDataSize(dataPath: string): Promise<number | undefined> {
  try {
    const info = await statPath(dataPath);
    return info.isFile() ? info.size : undefined;
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
}

/** undefined when the .json is missing, empty or malformed. */
async function readSessionInfo(infoPath: string): Promise<SessionInfo | undefined> {
  let text: string;
  try {
    text = (await readSmallFile(infoPath)).toString('utf8');
  } catch (error) {
    if (isNotFound(error) || errorCode(error) === 'EISDIR') return undefined;
    throw error;
  }
  return parseSessionInfo(text);
}

/** `known` (the .json's content, read earlier) while the .json still exists. */
async function stillThere(infoPath: string, known: SessionInfo): Promise<SessionInfo | undefined> {
  try {
    return (await statPath(infoPath)).isFile() ? known : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

async function removeIfOlder(path: string, cutoff: number): Promise<boolean> {
  try {
    const info = await lstat(path);
    // ctime moves on rename, so something renamed a moment ago counts as young however old it is.
    if (Math.max(info.mtimeMs, info.ctimeMs) >= cutoff) return false;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  await rm(path, { recursive: true, force: true });
  return true;
}

function parseSessionInfo(text: string): SessionInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { repository, startedAt } = parsed as Partial<Record<keyof SessionInfo, unknown>>;
  if (typeof repository !== 'string' || repository === '') return undefined;
  if (typeof startedAt !== 'string' || Number.isNaN(Date.parse(startedAt))) return undefined;
  return { repository, startedAt };
}
