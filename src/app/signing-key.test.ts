import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSigningKey, SIGNING_KEY_PATH } from './signing-key.js';

let dataVolume: string;

beforeEach(async () => {
  dataVolume = await mkdtemp(join(tmpdir(), 'berth-signing-key-'));
});
afterEach(async () => {
  await rm(dataVolume, { recursive: true, force: true });
});

const pemOf = (key: { export(options: { type: 'pkcs8'; format: 'pem' }): string | Buffer }) =>
  String(key.export({ type: 'pkcs8', format: 'pem' }));

describe('loadSigningKey', () => {
  it('creates an RSA key once, owner-only, and loads the same one on the next start', async () => {
    const first = await loadSigningKey(dataVolume, { bits: 2048 });
    expect(first.created).toBe(true);
    expect(first.file).toBe(join(dataVolume, ...SIGNING_KEY_PATH));
    expect(first.key.asymmetricKeyType).toBe('rsa');
    expect(first.key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataVolume, 'secret', 'keys'))).mode & 0o777).toBe(0o700);
    expect(await readFile(first.file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const again = await loadSigningKey(dataVolume, { bits: 2048 });
    expect(again.created).toBe(false);
    expect(pemOf(again.key)).toBe(pemOf(first.key));
  });

  it('leaves exactly one key when several instances start at once, and all of them load it', async () => {
    const loaded = await Promise.all([1, 2, 3].map(() => loadSigningKey(dataVolume, { bits: 2048 })));
    expect(loaded.filter((each) => each.created)).toHaveLength(1);
    const pems = new Set(loaded.map((each) => pemOf(each.key)));
    expect(pems.size).toBe(1);
    expect(pemOf(loaded[0]!.key)).toBe(pemOf((await loadSigningKey(dataVolume)).key));
    // No temp file is left behind.
    expect(await readdir(join(dataVolume, 'secret', 'keys'))).toEqual(['token-signing.pem']);
  });

  it("loads a key an operator put there, also Harbor's PKCS#1 private_key.pem", async () => {
    const harborKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await mkdir(join(dataVolume, 'secret', 'keys'), { recursive: true });
    await writeFile(
      join(dataVolume, ...SIGNING_KEY_PATH),
      harborKey.export({ type: 'pkcs1', format: 'pem' }),
      { mode: 0o600 },
    );
    const loaded = await loadSigningKey(dataVolume);
    expect(loaded.created).toBe(false);
    expect(pemOf(loaded.key)).toBe(pemOf(harborKey));
  });

  it('refuses a file that is no RSA key of at least 2048 bits', async () => {
    await mkdir(join(dataVolume, 'secret', 'keys'), { recursive: true });
    const file = join(dataVolume, ...SIGNING_KEY_PATH);
    await writeFile(file, 'not a key');
    await expect(loadSigningKey(dataVolume)).rejects.toThrow(/not a PEM private key/);
    await writeFile(file, pemOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    await expect(loadSigningKey(dataVolume)).rejects.toThrow(/RSA with at least 2048 bits/);
    await writeFile(file, pemOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey));
    await expect(loadSigningKey(dataVolume)).rejects.toThrow(/RSA with at least 2048 bits/);
  });
});
