import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describeSessionStoreContract } from '../../ports/session-store.contract.js';
import { ensurePostgresDatabase, openMetadataStore } from './kysely-metadata.store.js';

/** The PostgreSQL every developer machine and CI runner has: loopback, trust auth. */
const POSTGRES_SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

describeSessionStoreContract('KyselySessionStore on SQLite', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'berth-sessions-'));
  const metadata = await openMetadataStore({ kind: 'sqlite', file: join(directory, 'registry.db') });
  return {
    store: metadata.sessionStore(),
    cleanup: async () => {
      await metadata.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});

describeSessionStoreContract('KyselySessionStore on PostgreSQL', async () => {
  const options = { ...POSTGRES_SERVER, database: `berth_test_${randomBytes(6).toString('hex')}` };
  await ensurePostgresDatabase(options);
  const metadata = await openMetadataStore({ kind: 'postgres', ...options });
  return {
    store: metadata.sessionStore(),
    cleanup: async () => {
      await metadata.close();
      const client = new pg.Client({ ...POSTGRES_SERVER, database: 'postgres' });
      await client.connect();
      try {
        await client.query(`drop database if exists ${pg.escapeIdentifier(options.database)} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
});
