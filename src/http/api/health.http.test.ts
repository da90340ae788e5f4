import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../app/test-app.fixture.js';

/**
 * GET /api/v2.0/ping and /api/v2.0/health on the composed embedded app: no authentication, Harbor's
 * OverallHealthStatus, a volume that stops working, and the drain that precedes a shutdown.
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});

afterAll(async () => {
  await app.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  app.berth.server.inject({ method: 'GET', url, headers });

describe('GET /api/v2.0/health', () => {
  it('reports every embedded component healthy, to anyone, in Harbor shape', async () => {
    const response = await get('/api/v2.0/health');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({
      status: 'healthy',
      components: [
        { name: 'core', status: 'healthy' },
        { name: 'database', status: 'healthy' },
        { name: 'storage', status: 'healthy' },
        { name: 'jobservice', status: 'healthy' },
      ],
    });
    // Bad credentials do not matter: the route authenticates nobody.
    const withBadAuth = await get('/api/v2.0/health', { authorization: 'Basic Ym9ndXM6Ym9ndXM=' });
    expect(withBadAuth.statusCode).toBe(200);
  });

  it('reports storage unhealthy when the data volume cannot be written', async () => {
    // The probe directory replaced by a file: every write under it fails (also as root).
    await rm(join(app.dataVolume, 'health'), { recursive: true, force: true });
    await writeFile(join(app.dataVolume, 'health'), 'not a directory');
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const body = (await get('/api/v2.0/health')).json<{ status: string; components: { name: string }[] }>();
      expect(body.status).toBe('unhealthy');
      const storage = body.components.find((component) => component.name === 'storage');
      // The socket or file error's code, nothing more (EEXIST from mkdir, ENOTDIR from the write).
      expect(storage).toEqual({
        name: 'storage',
        status: 'unhealthy',
        error: expect.stringMatching(/^E[A-Z]+$/),
      });
      expect(body.components).toContainEqual({ name: 'database', status: 'healthy' });
    } finally {
      await rm(join(app.dataVolume, 'health'), { force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await get('/api/v2.0/health')).json().status).toBe('healthy');
  });
});

describe('GET /api/v2.0/ping', () => {
  it('answers Pong as text to anyone', async () => {
    const response = await get('/api/v2.0/ping');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe('Pong');
  });

  // Last: it leaves the app draining.
  it('answers 503 once the instance drains, and health says why', async () => {
    app.berth.health.drain();
    const ping = await get('/api/v2.0/ping');
    expect(ping.statusCode).toBe(503);
    expect(ping.headers['connection']).toBe('close');
    const body = (await get('/api/v2.0/health')).json();
    expect(body.status).toBe('unhealthy');
    expect(body.components[0]).toEqual({
      name: 'core',
      status: 'unhealthy',
      error: 'shutting down: draining in-flight requests',
    });
    // Everything else is still served while draining.
    expect((await get('/v2/', { authorization: 'Basic YWRtaW46SGFyYm9yMTIzNDU=' })).statusCode).toBe(200);
  });
});
