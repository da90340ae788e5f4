/**
 * A closed-loop GET load over raw keep-alive sockets: `connections` sockets, one request in flight on
 * each, until `count` responses or `maxMs` have passed.
 *
 * Why not node:http: its client spends ~90 µs of CPU per request on this machine (more under load),
 * which caps one bench process near 5-7k req/s, below what a fast registry serves: the bench would
 * measure itself. Requests here are pre-rendered bytes and responses are parsed just enough to find
 * their end (Content-Length or chunked encoding): ~15 µs per request, ~40k req/s against a trivial
 * server on the same machine.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface GetLoadOptions {
  readonly base: URL;
  /** Paths (with query) to request, used round-robin. */
  readonly paths: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly count: number;
  readonly maxMs: number;
  readonly insecure: boolean;
  /** Body length each path must answer with, if known; anything else fails the run. */
  readonly expectedBytes?: (pathIndex: number) => number | undefined;
}

export interface GetLoadOutcome {
  readonly done: number;
  readonly elapsedMs: number;
  readonly timedOut: boolean;
  readonly error: Error | undefined;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** A connection silent this long fails the run rather than hanging it. */
const STALL_TIMEOUT_MS = 30_000;
const CRLF = Buffer.from('\r\n');

interface Response {
  readonly status: number;
  readonly bodyBytes: number;
  readonly close: boolean;
}

/** Incremental HTTP/1.1 response framing for one connection (no trailers, no 1xx). */
class ResponseFramer {
  #pending: Buffer = Buffer.alloc(0);
  #status = 0;
  #close = false;
  #bodyBytes = 0;
  /** Bytes left in the current body or chunk; -1 while reading a head or a chunk-size line. */
  #remaining = -1;
  #chunked = false;
  #inHead = true;

  /** Feeds bytes; returns the responses they complete, in order. */
  push(data: Buffer): Response[] {
    this.#pending = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    const done: Response[] = [];
    for (;;) {
      const response = this.#step();
      if (response === 'more') return done;
      if (response) done.push(response);
    }
  }

  /** One parsing step: a finished response, null for progress without one, 'more' to wait for bytes. */
  #step(): Response | null | 'more' {
    if (this.#inHead) {
      const end = this.#pending.indexOf(HEAD_END);
      if (end < 0) return 'more';
      const head = this.#pending.toString('latin1', 0, end);
      this.#pending = this.#pending.subarray(end + 4);
      this.#status = Number(head.slice(9, 12));
      this.#close = /\r\nconnection:\s*close/i.test(head);
      this.#chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      this.#bodyBytes = 0;
      this.#inHead = false;
      this.#remaining = this.#chunked ? -1 : Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      return null;
    }
    if (this.#remaining < 0) {
      // A chunk-size line; a zero size ends the body after its empty trailer line.
      const end = this.#pending.indexOf(CRLF);
      if (end < 0) return 'more';
      const size = parseInt(this.#pending.toString('latin1', 0, end), 16);
      if (size === 0) {
        if (this.#pending.length < end + 4) return 'more';
        this.#pending = this.#pending.subarray(end + 4);
        return this.#finish();
      }
      this.#pending = this.#pending.subarray(end + 2);
      this.#remaining = size + 2; // the chunk and its CRLF
      return null;
    }
    const take = Math.min(this.#remaining, this.#pending.length);
    this.#pending = this.#pending.subarray(take);
    this.#remaining -= take;
    this.#bodyBytes += take;
    if (this.#remaining > 0) return 'more';
    if (this.#chunked) {
      this.#bodyBytes -= 2;
      this.#remaining = -1;
      return null;
    }
    return this.#finish();
  }

  #finish(): Response {
    this.#inHead = true;
    return { status: this.#status, bodyBytes: this.#bodyBytes, close: this.#close };
  }
}

function renderRequests(options: GetLoadOptions): Buffer[] {
  const headers = Object.entries({ host: options.base.host, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return options.paths.map((path) => Buffer.from(`GET ${path} HTTP/1.1\r\n${headers}\r\n`, 'latin1'));
}

export async function runGetLoad(options: GetLoadOptions): Promise<GetLoadOutcome> {
  if (options.paths.length === 0) throw new Error('runGetLoad needs at least one path');
  const requests = renderRequests(options);
  const port = Number(options.base.port || (options.base.protocol === 'https:' ? 443 : 80));
  const host = options.base.hostname;
  const open = (): Socket => {
    const socket =
      options.base.protocol === 'https:'
        ? connectTls({ host, port, servername: host, rejectUnauthorized: !options.insecure })
        : connect({ host, port });
    socket.setNoDelay(true);
    return socket;
  };

  const started = performance.now();
  const deadline = started + options.maxMs;
  let issued = 0;
  let done = 0;
  let timedOut = false;
  let error: Error | undefined;

  const connection = (): Promise<void> =>
    new Promise<void>((resolve) => {
      let socket: Socket | undefined;
      let framer = new ResponseFramer();
      let current = -1;
      let answeredOnSocket = 0;
      let stopped = false;
      const stop = (cause?: Error): void => {
        if (stopped) return;
        stopped = true;
        error ??= cause;
        socket?.destroy();
        resolve();
      };
      const send = (): void => {
        socket?.write(requests[current] ?? Buffer.alloc(0));
      };
      const next = (): void => {
        if (error !== undefined || issued >= options.count) return stop();
        if (performance.now() >= deadline) {
          timedOut = true;
          return stop();
        }
        current = issued++ % requests.length;
        send();
      };
      const onData = (data: Buffer): void => {
        for (const response of framer.push(data)) {
          const path = options.paths[current] ?? '';
          if (response.status !== 200) return stop(new Error(`GET ${path} answered ${response.status}`));
          const expected = options.expectedBytes?.(current);
          if (expected !== undefined && response.bodyBytes !== expected) {
            return stop(new Error(`GET ${path}: ${response.bodyBytes} bytes, expected ${expected}`));
          }
          done++;
          answeredOnSocket++;
          // The server ends keep-alive: reconnect and go on, as a client would.
          if (response.close) reconnect();
          next();
        }
      };
      const onClosed = (cause?: Error): void => {
        if (stopped) return;
        // A keep-alive socket closed by the server after answering at least once (an idle timeout or a
        // request cap): reconnect and resend the GET in flight. A fresh socket closing is an error.
        if (answeredOnSocket > 0) {
          reconnect();
          send();
          return;
        }
        stop(cause ?? new Error('the registry closed a connection before answering'));
      };
      const reconnect = (): void => {
        if (socket) {
          socket.removeAllListeners();
          socket.on('error', () => undefined); // a late reset on the discarded socket is expected
          socket.destroy();
        }
        socket = open();
        framer = new ResponseFramer();
        answeredOnSocket = 0;
        socket.setTimeout(STALL_TIMEOUT_MS, () => stop(new Error(`no answer within ${STALL_TIMEOUT_MS} ms`)));
        socket.on('data', onData);
        socket.on('error', onClosed);
        socket.on('end', () => onClosed());
      };
      reconnect();
      next();
    });

  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.connections, options.count)) }, connection),
  );
  return { done, elapsedMs: performance.now() - started, timedOut, error };
}
