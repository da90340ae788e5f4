import { describe, expect, it } from 'vitest';
import { externalUrl, isEmbedded, storageDriver } from './config.derived.js';
import { configFromDocument } from './config.loader.js';

const configOf = (document: Record<string, unknown>) => configFromDocument(document, { env: {} }).config;
const TLS = { certificate: '/c', private_key: '/k' };

describe('externalUrl', () => {
  it.each([
    [{ hostname: 'reg.example.com' }, 'http://reg.example.com'],
    [{ hostname: 'reg.example.com', http: { port: 5000 } }, 'http://reg.example.com:5000'],
    [{ hostname: 'reg.example.com', https: TLS }, 'https://reg.example.com'],
    [
      { hostname: 'reg.example.com', http: { port: 8080 }, https: { ...TLS, port: 8443 } },
      'https://reg.example.com:8443',
    ],
    [{ hostname: '::1', http: { port: 5000 } }, 'http://[::1]:5000'],
    [
      { hostname: 'node1', external_url: 'https://registry.example.com:8433/' },
      'https://registry.example.com:8433',
    ],
  ])('%j → %s', (document, url) => {
    expect(externalUrl(configOf(document))).toBe(url);
  });
});

describe('isEmbedded and storageDriver', () => {
  it('is embedded without external_database', () => {
    expect(isEmbedded(configOf({}))).toBe(true);
    const ha = configOf({
      external_database: { harbor: { host: 'db', db_name: 'harbor', username: 'u', password: 'p' } },
    });
    expect(isEmbedded(ha)).toBe(false);
  });

  it('uses the filesystem unless another backend is configured', () => {
    expect(storageDriver(configOf({}))).toBe('filesystem');
    expect(storageDriver(configOf({ storage_service: { filesystem: { maxthreads: 50 } } }))).toBe(
      'filesystem',
    );
    expect(storageDriver(configOf({ storage_service: { s3: { bucket: 'b' } } }))).toBe('s3');
  });
});
