import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CacheInvalidationBus, InvalidationListener } from '../../ports/cache-invalidation.js';
import { ThrottledWarning } from '../throttled-warning.js';

/**
 * CacheInvalidationBus on a Redis pub/sub channel: two connections, one publishing (shared with other
 * commands), one subscribed.
 *
 * When is the bus live? Only while this instance hears its own heartbeat: every `heartbeatMs` it publishes
 * one, and when none has come back for HEARTBEAT_MISSES beats it declares itself not live. That proves the
 * whole path (our publisher, the server, our subscriber) and also catches a connection that died without
 * a TCP reset, which no socket event would report. After the subscriber reconnects, the bus is live again
 * only once the subscription is confirmed *and* a heartbeat came back through it; listeners then drop
 * everything (liveChanged(true)), since what was published meanwhile is lost. So a cache on this bus serves
 * nothing older than the last moment it knew it was hearing every invalidation, give or take
 * HEARTBEAT_MISSES × heartbeatMs for a silent network failure.
 *
 * Delivery is acknowledged: every instance that receives an invalidation applies it, then publishes an
 * acknowledgement to its sender, and publish() resolves once as many instances acknowledged as Redis
 * says received it (PUBLISH returns that count), or after ACK_WAIT_MS. So when a write that awaited its
 * publish answers its client, every other instance has already dropped the entries: a pull through any of
 * them sees the change. An instance that is subscribed but not live acknowledges too: it serves nothing
 * from its cache, and drops everything before it does again.
 *
 * Publishing while Redis is unreachable keeps the keys (at most MAX_PENDING_KEYS, then "drop everything")
 * and sends them when the publisher is back, for the instances whose subscription outlived the outage.
 *
 * Messages are JSON, `i` the sender: `{"i","s":<seq>,"k":[keys]}` or `{"i","s","a":1}` (everything),
 * `{"i","ack":<seq>,"to":<sender>}`, `{"i","h":<n>}` (heartbeat). Pub/sub channels are global to a Redis
 * server, not per database, so the channel name carries the namespace (database index) itself.
 */
const HEARTBEAT_MISSES = 3;
const MAX_PENDING_KEYS = 10_000;
/** How long publish() waits for acknowledgements before resolving anyway (an instance stalled or gone). */
const ACK_WAIT_MS = 1_000;

interface Message {
  i?: unknown;
  s?: unknown;
  k?: unknown;
  a?: unknown;
  h?: unknown;
  ack?: unknown;
  to?: unknown;
}

interface Awaited {
  /** Instances that must acknowledge (the receivers Redis counted, this one included). */
  expected: number;
  received: number;
  done: () => void;
}

export interface RedisInvalidationBusOptions {
  publisher: Redis;
  /** A connection of its own: a subscribed connection can run no other command. */
  subscriber: Redis;
  channel: string;
  logger: Logger;
  /** Default 1 s. */
  heartbeatMs?: number;
}

export class RedisInvalidationBus implements CacheInvalidationBus {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #heartbeatMs: number;
  readonly #id = randomUUID();
  readonly #listeners = new Set<InvalidationListener>();
  readonly #warning: ThrottledWarning;
  readonly #pending = new Set<string>();
  readonly #awaiting = new Map<number, Awaited>();
  #pendingAll = false;
  #subscribed = false;
  #live = false;
  #closed = false;
  #lastHeartbeatAt = 0;
  #beat = 0;
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #detach: (() => void)[] = [];

  constructor(options: RedisInvalidationBusOptions) {
    this.#publisher = options.publisher;
    this.#subscriber = options.subscriber;
    this.#channel = options.channel;
    this.#heartbeatMs = options.heartbeatMs ?? 1_000;
    this.#warning = new ThrottledWarning(options.logger.child({ redis: 'invalidation' }));
    this.#on(this.#subscriber, 'ready', () => void this.#subscribe());
    for (const event of ['close', 'end', 'reconnecting']) {
      this.#on(this.#subscriber, event, () => {
        this.#subscribed = false;
        this.#setLive(false);
      });
    }
    this.#on(this.#subscriber, 'message', (channel: string, text: string) => this.#receive(channel, text));
    this.#on(this.#publisher, 'ready', () => void this.#flushPending());
    if (this.#subscriber.status === 'ready') void this.#subscribe();
    this.#timer = setInterval(() => this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
  }

  get live(): boolean {
    return this.#live;
  }

  /** Resolves once every instance subscribed now has applied the keys (see the class comment). */
  async publish(keys: readonly string[]): Promise<void> {
    if (keys.length === 0 || this.#closed) return;
    if (!(await this.#sendAcknowledged({ i: this.#id, k: keys }))) this.#keep(keys);
  }

  async publishAll(): Promise<void> {
    if (this.#closed) return;
    if (!(await this.#sendAcknowledged({ i: this.#id, a: 1 }))) this.#pendingAll = true;
  }

  subscribe(listener: InvalidationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#setLive(false);
    for (const detach of this.#detach) detach();
    this.#listeners.clear();
    for (const awaited of this.#awaiting.values()) awaited.done();
    if (this.#subscribed) await this.#subscriber.unsubscribe(this.#channel).catch(() => undefined);
  }

  #on(emitter: Redis, event: string, handler: (...args: string[]) => void): void {
    emitter.on(event, handler);
    this.#detach.push(() => emitter.off(event, handler));
  }

  async #subscribe(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#subscriber.subscribe(this.#channel);
    } catch (error) {
      // The connection dropped again; its next 'ready' retries.
      this.#warning.warn(error, 'redis (invalidation): subscribing failed');
      return;
    }
    this.#subscribed = true;
    // Live once a heartbeat comes back through the new subscription: send one now rather than wait a beat.
    this.#heartbeat();
  }

  #tick(): void {
    if (this.#live && performance.now() - this.#lastHeartbeatAt > HEARTBEAT_MISSES * this.#heartbeatMs) {
      this.#warning.warn(
        undefined,
        'redis (invalidation): heartbeats stopped arriving; cache off until they do',
      );
      this.#setLive(false);
    }
    this.#heartbeat();
  }

  #heartbeat(): void {
    this.#beat += 1;
    void this.#send({ i: this.#id, h: this.#beat });
  }

  /** Sends, then waits for the acknowledgements; false when Redis did not take the message. */
  async #sendAcknowledged(message: Message): Promise<boolean> {
    this.#sequence += 1;
    const sequence = this.#sequence;
    let timer: NodeJS.Timeout | undefined;
    let awaited: Awaited | undefined;
    const acknowledged = new Promise<void>((resolve) => {
      awaited = { expected: Infinity, received: 0, done: resolve };
      this.#awaiting.set(sequence, awaited);
      timer = setTimeout(resolve, ACK_WAIT_MS);
      timer.unref();
    });
    try {
      const receivers = await this.#send({ ...message, s: sequence });
      if (receivers === undefined) return false;
      // Without a live subscription of its own, this instance cannot hear the acknowledgements.
      if (!this.#live || awaited === undefined) return true;
      awaited.expected = receivers;
      if (awaited.received >= receivers) return true;
      await acknowledged;
      return true;
    } finally {
      clearTimeout(timer);
      this.#awaiting.delete(sequence);
    }
  }

  /** The number of subscribers Redis delivered to, or undefined when Redis did not take the message. */
  async #send(message: Message): Promise<number | undefined> {
    try {
      return await this.#publisher.publish(this.#channel, JSON.stringify(message));
    } catch {
      // Disconnected (no offline queue) or timed out; the connection's own error events are logged.
      return undefined;
    }
  }

  #keep(keys: readonly string[]): void {
    if (this.#pendingAll) return;
    for (const key of keys) this.#pending.add(key);
    if (this.#pending.size > MAX_PENDING_KEYS) {
      this.#pending.clear();
      this.#pendingAll = true;
    }
  }

  async #flushPending(): Promise<void> {
    if (this.#pendingAll) {
      this.#pendingAll = false;
      this.#pending.clear();
      await this.publishAll();
      return;
    }
    if (this.#pending.size === 0) return;
    const keys = [...this.#pending];
    this.#pending.clear();
    await this.publish(keys);
  }

  #receive(channel: string, text: string): void {
    if (channel !== this.#channel) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch (error) {
      this.#warning.warn(error, 'redis (invalidation): ignored a message that is not JSON');
      return;
    }
    if (typeof message.h === 'number') {
      if (message.i !== this.#id) return;
      this.#lastHeartbeatAt = performance.now();
      if (this.#subscribed) this.#setLive(true);
      return;
    }
    if (typeof message.ack === 'number') {
      if (message.to === this.#id) this.#acknowledged(message.ack);
      return;
    }
    const all = message.a === 1;
    const keys =
      Array.isArray(message.k) && message.k.every((key) => typeof key === 'string') ? message.k : undefined;
    if (!all && keys === undefined) {
      this.#warning.warn(undefined, 'redis (invalidation): ignored a message of unknown shape');
      return;
    }
    // Until live again, everything is dropped on the way back anyway; nothing to do per key.
    if (this.#live) {
      for (const listener of [...this.#listeners]) {
        if (all) listener.invalidateAll();
        else listener.invalidate(keys ?? []);
      }
    }
    if (typeof message.s !== 'number') return;
    if (message.i === this.#id) this.#acknowledged(message.s);
    else void this.#send({ i: this.#id, ack: message.s, to: message.i });
  }

  #acknowledged(sequence: number): void {
    const awaited = this.#awaiting.get(sequence);
    if (awaited === undefined) return;
    awaited.received += 1;
    if (awaited.received >= awaited.expected) awaited.done();
  }

  #setLive(live: boolean): void {
    if (this.#live === live) return;
    this.#live = live;
    for (const listener of [...this.#listeners]) listener.liveChanged(live);
  }
}
