/**
 * One keep-alive connection pool per registry, over node:http(s).
 *
 * node:http rather than global fetch: Node 20 ships no importable undici Agent, and node:http lets a
 * request body be a plain Readable piped with backpressure and a response be counted and discarded
 * without copying. Every request carries an overall deadline, so no call can hang a run.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export type RequestBody = Buffer | (() => Readable);

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: RequestBody;
  /** Required with a streamed body: the registry API needs Content-Length, never chunked encoding. */
  readonly bodyLength?: number;
  readonly timeoutMs: number;
  /** 'count' discards the body and only counts its bytes (pulls); 'buffer' keeps it (JSON, manifests). */
  readonly response: 'buffer' | 'count';
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly bytes: number;
}

export interface TransportOptions {
  readonly maxSockets: number;
  readonly insecure: boolean;
}

class StaleSocketError extends Error {
  constructor(cause: Error) {
    super(`keep-alive socket closed by the server: ${cause.message}`, { cause });
  }
}

export class HttpTransport {
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly insecure: boolean;

  constructor(
    readonly base: URL,
    options: TransportOptions,
  ) {
    this.insecure = options.insecure;
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: options.maxSockets,
    };
    if (base.protocol === 'https:') {
      this.#agent = new https.Agent({ ...agentOptions, rejectUnauthorized: !options.insecure });
      this.#request = https.request;
    } else {
      this.#agent = new http.Agent(agentOptions);
      this.#request = http.request;
    }
  }

  resolve(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.base);
  }

  /**
   * One request; retried once when a reused keep-alive socket turns out to be closed by the server
   * before any answer (the server's idle timeout racing our reuse). Bodies are replayable by design.
   */
  async send(spec: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.#sendOnce(spec);
    } catch (error) {
      if (error instanceof StaleSocketError) return this.#sendOnce(spec);
      throw error;
    }
  }

  #sendOnce(spec: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...spec.headers };
      if (spec.body !== undefined) {
        const length = Buffer.isBuffer(spec.body) ? spec.body.length : spec.bodyLength;
        if (length === undefined) throw new Error('a streamed body needs bodyLength');
        headers['content-length'] = String(length);
      } else if (spec.method === 'PUT' || spec.method === 'POST' || spec.method === 'PATCH') {
        headers['content-length'] = '0';
      }

      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new Error(`${spec.method} ${spec.url.pathname}: no answer within ${spec.timeoutMs} ms`)),
        spec.timeoutMs,
      );

      let answered = false;
      const req = this.#request(spec.url, { method: spec.method, headers, agent: this.#agent }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (spec.response === 'buffer') chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const stale =
          req.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        fail(stale ? new StaleSocketError(error) : error);
      });

      const body = spec.body;
      if (body === undefined) {
        req.end();
      } else if (Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        // A registry may answer (e.g. 401, 400) before reading the whole body; the answer wins over
        // the write error that follows, so source errors only fail a request still waiting for one.
        const source = body();
        source.on('error', fail);
        source.pipe(req);
      }
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
