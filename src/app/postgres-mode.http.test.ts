import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../core/oci/digest.js';
import { injectAsAdmin, pushImage, startTestApp, type TestApp } from './test-app.fixture.js';

/**
 * `berth serve` with external_database: the same composition on PostgreSQL (127.0.0.1:5432, which CI
 * has). The database is created by Berth on first start and dropped afterwards.
 */
const database = `berth_test_app_${randomBytes(4).toString('hex')}`;
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    BERTH_EXTERNAL_DATABASE__HARBOR__HOST: '127.0.0.1',
    BERTH_EXTERNAL_DATABASE__HARBOR__PORT: '5432',
    BERTH_EXTERNAL_DATABASE__HARBOR__DB_NAME: database,
    BERTH_EXTERNAL_DATABASE__HARBOR__USERNAME: 'postgres',
    BERTH_EXTERNAL_DATABASE__HARBOR__PASSWORD: '',
    BERTH_EXTERNAL_DATABASE__HARBOR__SSL_MODE: 'disable',
  });
});

afterAll(async () => {
  await app.close();
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await client.end();
});

describe('with external_database (PostgreSQL)', () => {
  it('bootstraps admin and library, then pushes, pulls, moves and deletes tags', async () => {
    const first = await pushImage(app, 'library/on-pg', 'v1');
    const pull = () => injectAsAdmin(app, { method: 'GET', url: '/v2/library/on-pg/manifests/v1' });
    expect((await pull()).rawPayload.equals(first.bytes)).toBe(true);
    const second = await pushImage(app, 'library/on-pg', 'v1', { annotations: { n: '2' } });
    expect((await pull()).headers['docker-content-digest']).toBe(second.digest);
    const blob = await injectAsAdmin(app, { method: 'GET', url: `/v2/library/on-pg/blobs/${first.layer}` });
    expect(blob.statusCode).toBe(200);
    expect(digestOf(blob.rawPayload)).toBe(first.layer);
    const tags = await injectAsAdmin(app, { method: 'GET', url: '/v2/library/on-pg/tags/list' });
    expect(tags.json()).toEqual({ name: 'library/on-pg', tags: ['v1'] });
    await injectAsAdmin(app, { method: 'DELETE', url: `/v2/library/on-pg/manifests/${second.digest}` });
    expect((await pull()).statusCode).toBe(404);
  });
});
