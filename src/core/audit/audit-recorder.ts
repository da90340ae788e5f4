import type { AuditLogStore, NewAuditLog } from '../../ports/audit-log-store.js';

/**
 * Collects audit events without slowing the requests that cause them: `record` only appends to a bounded
 * in-memory buffer; batches are written every `intervalMs`, as soon as `batchSize` events wait, on
 * `flush()` and when the recorder closes. Project names and member user ids are resolved to what the log
 * stores when a batch is written, once per distinct value, so the request path does no lookup.
 *
 * A batch that fails (the database is down) goes back to the front of the buffer and is retried with the
 * next one. Beyond `capacity` waiting events, new ones are dropped and counted (`onDropped`), never
 * blocking or failing the request they describe.
 */
export interface AuditEvent {
  operation: string;
  resourceType: string;
  /** The resource as the log shows it; empty when `resourceUserId` names it instead. */
  resource: string;
  username: string;
  /** ISO 8601 UTC: when the operation happened, not when it was written. */
  opTime: string;
  /** The project the operation belongs to: by id, by name (resolved when written), or none (id 0). */
  project?: { id: number } | { name: string };
  /** A member added by user id only: the log shows that user's name. */
  resourceUserId?: number;
}

export interface AuditLookups {
  findProjectByName(name: string): Promise<{ projectId: number } | undefined>;
  findUserById(userId: number): Promise<{ username: string } | undefined>;
}

export interface AuditRecorderOptions {
  store: Pick<AuditLogStore, 'appendAuditLogs'>;
  lookups: AuditLookups;
  /** 0 disables the timer (tests flush by hand). */
  intervalMs?: number;
  batchSize?: number;
  capacity?: number;
  /** A batch failed; its events stay buffered. */
  onError?: (error: unknown) => void;
  /** Events were dropped because the buffer was full (reported with the next write). */
  onDropped?: (count: number) => void;
}

const DEFAULT_INTERVAL_MS = 1_000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_CAPACITY = 10_000;

export class AuditRecorder {
  readonly #store: Pick<AuditLogStore, 'appendAuditLogs'>;
  readonly #lookups: AuditLookups;
  readonly #batchSize: number;
  readonly #capacity: number;
  readonly #onError: (error: unknown) => void;
  readonly #onDropped: (count: number) => void;
  #buffer: AuditEvent[] = [];
  #dropped = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: AuditRecorderOptions) {
    this.#store = options.store;
    this.#lookups = options.lookups;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#onError = options.onError ?? (() => undefined);
    this.#onDropped = options.onDropped ?? (() => undefined);
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), intervalMs);
      // The audit timer must never keep the process alive.
      this.#timer.unref();
    }
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** O(1), no I/O. */
  record(event: AuditEvent): void {
    if (this.#closed) return;
    if (this.#buffer.length >= this.#capacity) {
      this.#dropped += 1;
      return;
    }
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#batchSize && this.#flushing === undefined) void this.flush();
  }

  /**
   * Writes everything recorded before the call. Writes never overlap: a call during a write waits for it
   * and then writes what came meanwhile.
   */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (this.#buffer.length === 0 && this.#dropped === 0) return;
    this.#flushing = this.#write().finally(() => {
      this.#flushing = undefined;
    });
    await this.#flushing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#dropped > 0) {
      this.#onDropped(this.#dropped);
      this.#dropped = 0;
    }
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      try {
        await this.#store.appendAuditLogs(await this.#resolve(batch));
      } catch (error) {
        // Back to the front, so the log keeps its order; what no longer fits is dropped and counted.
        const room = Math.max(0, this.#capacity - this.#buffer.length);
        this.#dropped += Math.max(0, batch.length - room);
        this.#buffer.unshift(...batch.slice(0, room));
        this.#onError(error);
        return;
      }
    }
  }

  async #resolve(batch: readonly AuditEvent[]): Promise<NewAuditLog[]> {
    const projectIds = new Map<string, number>();
    const usernames = new Map<number, string>();
    for (const event of batch) {
      if (event.project !== undefined && 'name' in event.project && !projectIds.has(event.project.name)) {
        const project = await this.#lookups.findProjectByName(event.project.name);
        // Gone already (deleted within the batch interval): the entry stays, outside any project.
        projectIds.set(event.project.name, project?.projectId ?? 0);
      }
      if (event.resourceUserId !== undefined && !usernames.has(event.resourceUserId)) {
        const user = await this.#lookups.findUserById(event.resourceUserId);
        usernames.set(event.resourceUserId, user?.username ?? `user ${event.resourceUserId}`);
      }
    }
    return batch.map((event) => ({
      projectId:
        event.project === undefined
          ? 0
          : 'id' in event.project
            ? event.project.id
            : (projectIds.get(event.project.name) ?? 0),
      operation: event.operation,
      resourceType: event.resourceType,
      resource:
        event.resourceUserId !== undefined ? (usernames.get(event.resourceUserId) ?? '') : event.resource,
      username: event.username,
      opTime: event.opTime,
    }));
  }
}
