import type { FastifyInstance } from 'fastify';

/**
 * Closes the HTTP server and waits for the requests in flight. Fastify closes the connections that are
 * idle when closing starts, but a kept-alive connection whose request finishes later would stay open (and
 * keep the process alive) until the client hangs up; so idle connections are closed every `sweepMs` until
 * the server is closed. A client that sends a new request on such a connection at that very moment sees
 * it reset and retries elsewhere, as after any restart.
 */
export async function closeServer(server: FastifyInstance, sweepMs = 100): Promise<void> {
  const sweep = setInterval(() => server.server.closeIdleConnections(), sweepMs);
  try {
    await server.close();
  } finally {
    clearInterval(sweep);
  }
}
